"""Normalization: BatchNorm1d/2d/3d (and their lazy forms), LayerNorm, GroupNorm and RMSNorm, in train and eval mode."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from scratch import nn

from .case import Case, Make, module_case
from .data import normal


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


def lazy_norm(build: Callable[..., nn.Module], *shape: int, eval: bool = False) -> Make:
    """``make`` for a lazy normalization ``build(dtype)``: its first call, on a normal input of ``shape``, infers
    num_features and makes it the plain class; then ``norm``'s randomization and a fresh input."""
    def make(dtype: np.dtype, rng: np.random.Generator) -> tuple[nn.Module, list]:
        module = build(dtype)
        module(normal(rng, dtype, *shape))
        return randomized(module, rng, eval=eval), [normal(rng, dtype, *shape, scale=2) + 1]
    return make


def _lazy_batch_norm() -> list[Case]:
    return [
        module_case("LazyBatchNorm1d", lazy_norm(lambda d: nn.LazyBatchNorm1d(dtype=d), 8, 5)),
        module_case("LazyBatchNorm1d(N,C,L,momentum=None,eval)",
                    lazy_norm(lambda d: nn.LazyBatchNorm1d(momentum=None, dtype=d), 4, 5, 6, eval=True)),
        module_case("LazyBatchNorm1d(affine=False,track_running_stats=False)",
                    lazy_norm(lambda d: nn.LazyBatchNorm1d(affine=False, track_running_stats=False, dtype=d), 6, 3)),
        module_case("LazyBatchNorm2d(bias=False)", lazy_norm(lambda d: nn.LazyBatchNorm2d(dtype=d, bias=False),
                                                             4, 3, 5, 4)),
        module_case("LazyBatchNorm2d(eps=1e-3,momentum=0.3,eval)",
                    lazy_norm(lambda d: nn.LazyBatchNorm2d(1e-3, 0.3, dtype=d), 4, 3, 5, 4, eval=True)),
        module_case("LazyBatchNorm3d", lazy_norm(lambda d: nn.LazyBatchNorm3d(dtype=d), 2, 3, 4, 3, 2)),
        module_case("LazyBatchNorm3d(affine=False)", lazy_norm(lambda d: nn.LazyBatchNorm3d(affine=False, dtype=d),
                                                               2, 3, 2, 3, 4)),
    ]


def _batch_norm() -> list[Case]:
    bn1, bn2 = nn.BatchNorm1d, nn.BatchNorm2d
    return [
        module_case("BatchNorm1d", norm(lambda d: bn1(6, dtype=d), 16, 6)),
        module_case("BatchNorm1d(N,C,L)", norm(lambda d: bn1(6, dtype=d), 8, 6, 10)),
        module_case("BatchNorm1d(batch of 1,length 5)", norm(lambda d: bn1(6, dtype=d), 1, 6, 5)),
        module_case("BatchNorm1d(momentum=None)", norm(lambda d: bn1(6, momentum=None, dtype=d), 16, 6)),
        module_case("BatchNorm1d(momentum=0.5,eps=1e-3)", norm(lambda d: bn1(6, eps=1e-3, momentum=0.5, dtype=d),
                                                               8, 6, 3)),
        module_case("BatchNorm1d(affine=False)", norm(lambda d: bn1(6, affine=False, dtype=d), 16, 6)),
        module_case("BatchNorm1d(bias=False)", norm(lambda d: bn1(6, bias=False, dtype=d), 16, 6)),
        module_case("BatchNorm1d(track_running_stats=False)",
                    norm(lambda d: bn1(6, track_running_stats=False, dtype=d), 16, 6)),
        module_case("BatchNorm1d(track_running_stats=False,eval)",
                    norm(lambda d: bn1(6, track_running_stats=False, dtype=d), 8, 6, 4, eval=True)),
        module_case("BatchNorm1d(eval)", norm(lambda d: bn1(6, dtype=d), 8, 6, 10, eval=True)),
        module_case("BatchNorm1d(eval,(N,C))", norm(lambda d: bn1(6, dtype=d), 16, 6, eval=True)),
        module_case("BatchNorm1d(eval,affine=False)", norm(lambda d: bn1(6, affine=False, dtype=d), 8, 6, 10,
                                                           eval=True)),
        module_case("BatchNorm2d", norm(lambda d: bn2(4, dtype=d), 8, 4, 5, 6)),
        module_case("BatchNorm2d(batch of 1)", norm(lambda d: bn2(4, dtype=d), 1, 4, 5, 6)),
        module_case("BatchNorm2d(momentum=0.3,eps=1e-3)", norm(lambda d: bn2(4, eps=1e-3, momentum=0.3, dtype=d),
                                                               8, 4, 5, 6)),
        module_case("BatchNorm2d(momentum=None)", norm(lambda d: bn2(4, momentum=None, dtype=d), 4, 4, 3, 3)),
        module_case("BatchNorm2d(affine=False)", norm(lambda d: bn2(4, affine=False, dtype=d), 4, 4, 3, 3)),
        module_case("BatchNorm2d(track_running_stats=False)",
                    norm(lambda d: bn2(4, track_running_stats=False, dtype=d), 4, 4, 3, 3)),
        module_case("BatchNorm2d(eval)", norm(lambda d: bn2(4, dtype=d), 8, 4, 5, 6, eval=True)),
        module_case("BatchNorm2d(16 channels,wide)", norm(lambda d: bn2(16, dtype=d), 32, 16, 8, 8), ("large",)),
        *_batch_norm_3d(),
    ]


def _batch_norm_3d() -> list[Case]:
    bn3 = nn.BatchNorm3d
    return [
        module_case("BatchNorm3d", norm(lambda d: bn3(3, dtype=d), 4, 3, 3, 4, 5)),
        module_case("BatchNorm3d(momentum=None,eps=1e-3)", norm(lambda d: bn3(3, 1e-3, None, dtype=d), 2, 3, 4, 4, 4)),
        module_case("BatchNorm3d(affine=False)", norm(lambda d: bn3(3, affine=False, dtype=d), 2, 3, 4, 2, 3)),
        module_case("BatchNorm3d(bias=False)", norm(lambda d: bn3(3, bias=False, dtype=d), 2, 3, 4, 2, 3)),
        module_case("BatchNorm3d(track_running_stats=False)",
                    norm(lambda d: bn3(3, track_running_stats=False, dtype=d), 2, 3, 2, 3, 4)),
        module_case("BatchNorm3d(eval)", norm(lambda d: bn3(3, dtype=d), 2, 3, 4, 4, 4, eval=True)),
    ]


def _layer_and_group_norm() -> list[Case]:
    ln, gn = nn.LayerNorm, nn.GroupNorm
    return [
        module_case("LayerNorm", norm(lambda d: ln(12, dtype=d), 8, 12)),
        module_case("LayerNorm(1-D input)", norm(lambda d: ln(12, dtype=d), 12)),
        module_case("LayerNorm(3-D input)", norm(lambda d: ln(12, dtype=d), 4, 3, 12)),
        module_case("LayerNorm((5,6),4-D input)", norm(lambda d: ln((5, 6), dtype=d), 2, 3, 5, 6)),
        module_case("LayerNorm([3,4,5])", norm(lambda d: ln([3, 4, 5], dtype=d), 2, 3, 4, 5)),
        module_case("LayerNorm(elementwise_affine=False)", norm(lambda d: ln(12, elementwise_affine=False, dtype=d),
                                                                4, 3, 12)),
        module_case("LayerNorm(bias=False)", norm(lambda d: ln(12, bias=False, dtype=d), 8, 12)),
        module_case("LayerNorm(eps=0.1,eval)", norm(lambda d: ln(12, eps=0.1, dtype=d), 8, 12, eval=True)),
        module_case("LayerNorm(512,wide)", norm(lambda d: ln(512, dtype=d), 16, 512), ("large",)),
        module_case("GroupNorm(2,6,(N,C))", norm(lambda d: gn(2, 6, dtype=d), 8, 6)),
        module_case("GroupNorm(3,6,(N,C,L))", norm(lambda d: gn(3, 6, dtype=d), 4, 6, 7)),
        module_case("GroupNorm(3,6)", norm(lambda d: gn(3, 6, dtype=d), 4, 6, 5, 4)),
        module_case("GroupNorm(1,6)", norm(lambda d: gn(1, 6, dtype=d), 4, 6, 7)),
        module_case("GroupNorm(6,6)", norm(lambda d: gn(6, 6, dtype=d), 4, 6, 7)),
        module_case("GroupNorm(affine=False)", norm(lambda d: gn(2, 6, affine=False, dtype=d), 4, 6, 3, 3)),
        module_case("GroupNorm(bias=False,eval)", norm(lambda d: gn(2, 6, bias=False, dtype=d), 4, 6, 3, 3, eval=True)),
        module_case("GroupNorm(batch of 1)", norm(lambda d: gn(2, 6, dtype=d), 1, 6, 5)),
        module_case("RMSNorm", norm(lambda d: nn.RMSNorm(6, dtype=d), 4, 6)),
        module_case("RMSNorm((3,4),eps=1e-3)", norm(lambda d: nn.RMSNorm((3, 4), eps=1e-3, dtype=d), 2, 5, 3, 4)),
    ]


CASES: list[Case] = [*_batch_norm(), *_lazy_batch_norm(), *_layer_and_group_norm()]
