"""Twins of FractionalMaxPool2d and FractionalMaxPool3d.

Their windows are random, and the two engines' generators differ, so parity is checked with identical
samples: without ``_random_samples`` the scratch module draws (N, C, dims) uniform samples from its own
generator at each forward and keeps them in ``module.samples``; its twin is a subclass of torch's class
(so isinstance checks, repr and state_dict match) that hands those samples to torch's kernel through
torch's own ``_random_samples`` argument of ``F.fractional_max_pool2d/3d``. The scratch forward must
therefore run first, on the same input, as ``module_parity`` does; the twin raises otherwise. A module
built with ``_random_samples`` keeps them as a buffer in both engines, and its twin uses them as torch's.
``from_torch`` is the generic one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import numpy as np
import torch

from scratch import nn

from .registry import Twin

T = torch.nn
F = torch.nn.functional


def _samples(twin: T.Module, input: torch.Tensor, samples: np.ndarray | None, dims: int) -> torch.Tensor:
    """The buffer if the module has one, else the scratch module's last draw, checked against the input."""
    buffer = twin._random_samples  # a registered buffer: a tensor or None
    if isinstance(buffer, torch.Tensor):
        return buffer
    batch = input.shape[0] if input.dim() == dims + 2 else 1
    expected = (batch, input.shape[-dims - 1], dims)
    if samples is None or tuple(samples.shape) != expected:
        got = None if samples is None else samples.shape
        raise RuntimeError(f"{type(twin).__name__} twin: run the scratch module's forward on the same input first; "
                           f"its last samples have shape {got}, expected {expected}")
    return torch.from_numpy(np.array(samples)).to(input.dtype)


class ReplayedFractionalMaxPool2d(T.FractionalMaxPool2d):
    """``torch.nn.FractionalMaxPool2d`` that pools with a scratch module's samples (see the module docstring)."""

    def __init__(self, module: nn.FractionalMaxPool2d, samples: Callable[[], np.ndarray | None]) -> None:
        # scratch keeps 2-tuples, typed tuple[int, ...]: torch's stubs spell out the length
        super().__init__(cast("tuple[int, int]", module.kernel_size),
                         cast("tuple[int, int] | None", module.output_size),
                         cast("tuple[float, float] | None", module.output_ratio), module.return_indices)
        self._samples = samples

    def _get_name(self) -> str:
        return "FractionalMaxPool2d"

    def forward(self, input: torch.Tensor) -> Any:  # a tensor, or with return_indices a pair
        # return_indices is a bool known at run time only, and torch's overloads want a Literal
        samples = _samples(self, input, self._samples(), 2)
        return F.fractional_max_pool2d(input, self.kernel_size, self.output_size,  # type: ignore[call-overload]
                                       self.output_ratio, self.return_indices, _random_samples=samples)


class ReplayedFractionalMaxPool3d(T.FractionalMaxPool3d):
    """``torch.nn.FractionalMaxPool3d`` that pools with a scratch module's samples."""

    def __init__(self, module: nn.FractionalMaxPool3d, samples: Callable[[], np.ndarray | None]) -> None:
        # scratch keeps 3-tuples, typed tuple[int, ...]: torch's stubs spell out the length
        super().__init__(cast("tuple[int, int, int]", module.kernel_size),
                         cast("tuple[int, int, int] | None", module.output_size),
                         cast("tuple[float, float, float] | None", module.output_ratio), module.return_indices)
        self._samples = samples

    def _get_name(self) -> str:
        return "FractionalMaxPool3d"

    def forward(self, input: torch.Tensor) -> Any:
        # return_indices is a bool known at run time only, and torch's overloads want a Literal
        samples = _samples(self, input, self._samples(), 3)
        return F.fractional_max_pool3d(input, self.kernel_size, self.output_size,  # type: ignore[call-overload]
                                       self.output_ratio, self.return_indices, _random_samples=samples)


def _twin(cls: type) -> Callable[[nn.Module], T.Module]:
    def build(m: nn.Module) -> T.Module:
        twin = cls(m, lambda: m.samples)
        if m._random_samples is not None:  # a buffer: the converter copies its values by key
            twin.register_buffer("_random_samples", torch.tensor(np.array(m._random_samples)))
        return twin
    return build


TWINS = [
    Twin(nn.FractionalMaxPool2d, T.FractionalMaxPool2d, _twin(ReplayedFractionalMaxPool2d)),
    Twin(nn.FractionalMaxPool3d, T.FractionalMaxPool3d, _twin(ReplayedFractionalMaxPool3d)),
]
