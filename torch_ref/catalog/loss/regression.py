"""MSELoss, L1Loss, HuberLoss and SmoothL1Loss: N-D and 0-D inputs, their options, and their kinks."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from scratch import nn

from ..case import Case, Make, fresh, loss_case
from ..data import normal
from . import MakeLoss, per_reduction


def _pair(criterion: nn.Module, *shape: int, scale: float = 1.0) -> Make:
    """``criterion`` on a normal input and target of ``shape``."""
    return lambda d, r: (fresh(criterion), normal(r, d, *shape, scale=scale), normal(r, d, *shape, scale=scale))


def _sized(cls: Callable[..., nn.Module], *shape: int, scale: float = 1.0) -> MakeLoss:
    """``cls(reduction)`` on a normal input and target of ``shape`` (``_pair``)."""
    return lambda d, r, red: _pair(cls(reduction=red), *shape, scale=scale)(d, r)


def _at(cls: type, input: list[float], target: list[float], **options: float) -> MakeLoss:
    """``cls(reduction, **options)`` at a fixed input and target: the kinks, where torch picks a subgradient."""
    return lambda d, r, red: (cls(reduction=red, **options), np.array(input, dtype=d), np.array(target, dtype=d))


def _cases() -> list[Case]:
    cases: list[Case] = []
    for cls in (nn.MSELoss, nn.L1Loss, nn.HuberLoss, nn.SmoothL1Loss):
        name = cls.__name__
        cases += per_reduction(name, _sized(cls, 8, 5, scale=2))
        cases += per_reduction(f"{name}(3-D)", _sized(cls, 2, 3, 4))
    for cls in (nn.MSELoss, nn.L1Loss):
        cases += per_reduction(f"{cls.__name__}(0-D)", _sized(cls))
    cases += [
        loss_case("HuberLoss(delta=0.5)", _pair(nn.HuberLoss(delta=0.5), 8, 5, scale=2)),
        loss_case("SmoothL1Loss(beta=0.5)", _pair(nn.SmoothL1Loss(beta=0.5), 8, 5, scale=2)),
        loss_case("SmoothL1Loss(beta=0)", _pair(nn.SmoothL1Loss(beta=0.0), 8, 5, scale=2)),
        *per_reduction("HuberLoss(delta=0.4,3-D)",
                       lambda d, r, red: _pair(nn.HuberLoss(reduction=red, delta=0.4), 4, 3, 2)(d, r)),
        *per_reduction("SmoothL1Loss(beta=0.3)",
                       lambda d, r, red: _pair(nn.SmoothL1Loss(reduction=red, beta=0.3), 8, 5)(d, r)),
        *per_reduction("SmoothL1Loss(beta=0)",
                       lambda d, r, red: _pair(nn.SmoothL1Loss(reduction=red, beta=0.0), 8, 5)(d, r)),
        *per_reduction("L1Loss(at kink)", _at(nn.L1Loss, [1.0, 2.0, -3.0, 0.5], [1.0, 1.0, -3.0, 2.0]), tags=("kink",)),
        *per_reduction("HuberLoss(at kink)", _at(nn.HuberLoss, [0.5, -0.5, 0.25, 2.0], [0.0] * 4, delta=0.5),
                       tags=("kink",)),
        *per_reduction("SmoothL1Loss(at kink)", _at(nn.SmoothL1Loss, [0.5, -0.5, 0.25], [0.0] * 3, beta=0.5),
                       tags=("kink",)),
    ]
    return cases


CASES: list[Case] = _cases()
