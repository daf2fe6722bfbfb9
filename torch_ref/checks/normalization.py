"""Rows for Normalization: BatchNorm1d, BatchNorm2d, LayerNorm, GroupNorm."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from scratch import nn

from .kit import Check, Make, module_check, normal


def randomized(module: nn.Module, rng: np.random.Generator, *, eval: bool = False) -> nn.Module:
    """``module`` with random affine parameters and running statistics (the defaults 1 and 0 hide bugs)."""
    for param in module.parameters():
        param.data[...] = rng.uniform(0.5, 1.5, param.shape) * rng.choice([-1, 1], param.shape)
    if getattr(module, "running_mean", None) is not None:
        module.running_mean[...] = rng.standard_normal(module.running_mean.shape)
        module.running_var[...] = rng.uniform(0.5, 2.0, module.running_var.shape)
    return module.eval() if eval else module


def norm(build: Callable[..., nn.Module], *shape: int, eval: bool = False) -> Make:
    """``make`` for ``build(dtype)`` (randomized) on a normal input of ``shape``, shifted off zero mean."""
    return lambda dtype, rng: (randomized(build(dtype), rng, eval=eval), [normal(rng, dtype, *shape, scale=2) + 1])


CHECKS: list[Check] = [
    module_check("BatchNorm1d", norm(lambda d: nn.BatchNorm1d(6, dtype=d), 16, 6)),
    module_check("BatchNorm1d(N,C,L)", norm(lambda d: nn.BatchNorm1d(6, dtype=d), 8, 6, 10)),
    module_check("BatchNorm1d(momentum=None)", norm(lambda d: nn.BatchNorm1d(6, momentum=None, dtype=d), 16, 6)),
    module_check("BatchNorm1d(affine=False)", norm(lambda d: nn.BatchNorm1d(6, affine=False, dtype=d), 16, 6)),
    module_check("BatchNorm1d(track_running_stats=False)",
                 norm(lambda d: nn.BatchNorm1d(6, track_running_stats=False, dtype=d), 16, 6)),
    module_check("BatchNorm1d(eval)", norm(lambda d: nn.BatchNorm1d(6, dtype=d), 8, 6, 10, eval=True)),
    module_check("BatchNorm2d", norm(lambda d: nn.BatchNorm2d(4, dtype=d), 8, 4, 5, 6)),
    module_check("BatchNorm2d(momentum=0.3,eps=1e-3)",
                 norm(lambda d: nn.BatchNorm2d(4, eps=1e-3, momentum=0.3, dtype=d), 8, 4, 5, 6)),
    module_check("BatchNorm2d(eval)", norm(lambda d: nn.BatchNorm2d(4, dtype=d), 8, 4, 5, 6, eval=True)),
    module_check("LayerNorm", norm(lambda d: nn.LayerNorm(12, dtype=d), 8, 12)),
    module_check("LayerNorm((5,6),4-D input)", norm(lambda d: nn.LayerNorm((5, 6), dtype=d), 2, 3, 5, 6)),
    module_check("LayerNorm(elementwise_affine=False)",
                 norm(lambda d: nn.LayerNorm(12, elementwise_affine=False, dtype=d), 4, 3, 12)),
    module_check("LayerNorm(bias=False)", norm(lambda d: nn.LayerNorm(12, bias=False, dtype=d), 8, 12)),
    module_check("GroupNorm(3,6)", norm(lambda d: nn.GroupNorm(3, 6, dtype=d), 4, 6, 5, 4)),
    module_check("GroupNorm(1,6)", norm(lambda d: nn.GroupNorm(1, 6, dtype=d), 4, 6, 7)),
    module_check("GroupNorm(6,6)", norm(lambda d: nn.GroupNorm(6, 6, dtype=d), 4, 6, 7)),
    module_check("GroupNorm(affine=False)", norm(lambda d: nn.GroupNorm(2, 6, affine=False, dtype=d), 4, 6, 3, 3)),
]
