"""Rows for Pooling: MaxPool1d, MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, and Unflatten."""

from __future__ import annotations

import numpy as np

from scratch import nn

from .kit import Check, Make, module_check, normal


def _ties(rng: np.random.Generator, dtype: np.dtype, *shape: int) -> np.ndarray:
    """Small integers in float: nearly every window holds several equal maxima."""
    return rng.integers(-2, 3, size=shape).astype(dtype)


def on(module: nn.Module, *shape: int, ties: bool = False) -> Make:
    """``make`` applying ``module`` to a normal (or tie-filled) input of ``shape``."""
    return lambda dtype, rng: (module, [_ties(rng, dtype, *shape) if ties else normal(rng, dtype, *shape)])


CHECKS: list[Check] = [
    module_check("MaxPool1d", on(nn.MaxPool1d(3), 4, 3, 16)),
    module_check("MaxPool1d(stride,padding,dilation,ceil_mode)",
                 on(nn.MaxPool1d(3, stride=2, padding=1, dilation=2, ceil_mode=True), 4, 3, 16)),
    module_check("MaxPool1d(unbatched,return_indices)", on(nn.MaxPool1d(4, 3, 2, return_indices=True), 3, 17)),
    module_check("MaxPool1d(ties)", on(nn.MaxPool1d(3, 1, 1), 4, 3, 16, ties=True)),
    module_check("MaxPool2d", on(nn.MaxPool2d(2), 4, 3, 8, 8)),
    module_check("MaxPool2d(stride,padding)", on(nn.MaxPool2d(3, stride=2, padding=1), 4, 3, 9, 10)),
    module_check("MaxPool2d(tuples,dilation,ceil_mode)",
                 on(nn.MaxPool2d((3, 2), (2, 1), (1, 1), (2, 3), ceil_mode=True), 2, 3, 11, 10)),
    module_check("MaxPool2d(unbatched,return_indices)", on(nn.MaxPool2d(3, 2, 1, return_indices=True), 3, 9, 8)),
    module_check("MaxPool2d(ties)", on(nn.MaxPool2d(3, 1, 1), 2, 3, 8, 8, ties=True)),
    module_check("AvgPool2d", on(nn.AvgPool2d(2), 4, 3, 8, 8)),
    module_check("AvgPool2d(stride,padding,ceil_mode)", on(nn.AvgPool2d(3, 2, 1, ceil_mode=True), 2, 3, 10, 9)),
    module_check("AvgPool2d(count_include_pad=False,ceil_mode)",
                 on(nn.AvgPool2d((3, 2), (2, 3), (1, 1), ceil_mode=True, count_include_pad=False), 2, 3, 10, 9)),
    module_check("AvgPool2d(divisor_override)", on(nn.AvgPool2d(3, 2, 1, divisor_override=5), 2, 3, 9, 9)),
    module_check("AvgPool2d(unbatched)", on(nn.AvgPool2d(3, 1, 1), 3, 7, 6)),
    module_check("AdaptiveAvgPool2d(divides)", on(nn.AdaptiveAvgPool2d((4, 3)), 2, 3, 8, 9)),
    module_check("AdaptiveAvgPool2d(does not divide)", on(nn.AdaptiveAvgPool2d(3), 2, 3, 7, 8)),
    module_check("AdaptiveAvgPool2d(larger,None)", on(nn.AdaptiveAvgPool2d((9, None)), 2, 3, 5, 6)),
    module_check("AdaptiveAvgPool2d(unbatched)", on(nn.AdaptiveAvgPool2d(1), 3, 5, 7)),
    module_check("Unflatten", on(nn.Unflatten(1, (3, 4)), 5, 12, 2)),
    module_check("Unflatten(-1 size,last dim)", on(nn.Unflatten(-1, (2, -1, 3)), 5, 2, 12)),
]
