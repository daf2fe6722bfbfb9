"""Pooling: MaxPool1d, MaxPool2d, AvgPool2d and AdaptiveAvgPool2d, with their options, ties and unbatched inputs."""

from __future__ import annotations

import numpy as np

from scratch import nn

from .case import Case, Make, fresh, module_case
from .data import normal


def _ties(rng: np.random.Generator, dtype: np.dtype, *shape: int) -> np.ndarray:
    """Small integers in float: nearly every window holds several equal maxima."""
    return rng.integers(-2, 3, size=shape).astype(dtype)


def on(module: nn.Module, *shape: int, ties: bool = False) -> Make:
    """``make`` applying ``module`` to a normal (or tie-filled) input of ``shape``."""
    return lambda dtype, rng: (fresh(module), [_ties(rng, dtype, *shape) if ties else normal(rng, dtype, *shape)])


def _cases() -> list[Case]:
    m1, m2, av, ad = nn.MaxPool1d, nn.MaxPool2d, nn.AvgPool2d, nn.AdaptiveAvgPool2d
    return [
        module_case("MaxPool1d", on(m1(3), 4, 3, 16)),
        module_case("MaxPool1d(stride=2,padding=1)", on(m1(3, 2, 1), 4, 3, 15)),
        module_case("MaxPool1d(stride,padding,dilation,ceil_mode)",
                    on(m1(3, stride=2, padding=1, dilation=2, ceil_mode=True), 4, 3, 16)),
        module_case("MaxPool1d(ceil_mode,last window dropped)", on(m1(2, 3, 1, ceil_mode=True), 2, 3, 4)),
        module_case("MaxPool1d(overlapping,stride=1)", on(m1(4, 1, 2), 2, 3, 9)),
        module_case("MaxPool1d(unbatched,return_indices)", on(m1(4, 3, 2, return_indices=True), 3, 17)),
        module_case("MaxPool1d(ties)", on(m1(3, 1, 1), 4, 3, 16, ties=True)),
        module_case("MaxPool2d", on(m2(2), 4, 3, 8, 8)),
        module_case("MaxPool2d(odd size)", on(m2(2), 2, 3, 7, 9)),
        module_case("MaxPool2d(stride,padding)", on(m2(3, stride=2, padding=1), 4, 3, 9, 10)),
        module_case("MaxPool2d(tuples,dilation,ceil_mode)", on(m2((3, 2), (2, 1), (1, 1), (2, 3), ceil_mode=True),
                                                               2, 3, 11, 10)),
        module_case("MaxPool2d(ceil_mode,padding)", on(m2(3, 2, 1, ceil_mode=True), 2, 3, 8, 7)),
        module_case("MaxPool2d(overlapping,stride=1)", on(m2(3, 1, 1), 2, 3, 7, 6)),
        module_case("MaxPool2d(kernel equals input)", on(m2((5, 4)), 2, 3, 5, 4)),
        module_case("MaxPool2d(unbatched,return_indices)", on(m2(3, 2, 1, return_indices=True), 3, 9, 8)),
        module_case("MaxPool2d(ties)", on(m2(3, 1, 1), 2, 3, 8, 8, ties=True)),
        module_case("AvgPool2d", on(av(2), 4, 3, 8, 8)),
        module_case("AvgPool2d(stride,padding)", on(av(3, 2, 1), 2, 3, 9, 10)),
        module_case("AvgPool2d(stride,padding,ceil_mode)", on(av(3, 2, 1, ceil_mode=True), 2, 3, 10, 9)),
        module_case("AvgPool2d(count_include_pad=False,ceil_mode)",
                    on(av((3, 2), (2, 3), (1, 1), ceil_mode=True, count_include_pad=False), 2, 3, 10, 9)),
        module_case("AvgPool2d(ceil_mode,no padding)", on(av(2, ceil_mode=True), 2, 3, 5, 7)),
        module_case("AvgPool2d(count_include_pad=False,overlapping)", on(av(3, 1, 1, count_include_pad=False),
                                                                         2, 3, 6, 7)),
        module_case("AvgPool2d(divisor_override)", on(av(3, 2, 1, divisor_override=5), 2, 3, 9, 9)),
        module_case("AvgPool2d(divisor_override,ceil_mode)", on(av(2, 2, 1, divisor_override=3, ceil_mode=True),
                                                                2, 3, 8, 7)),
        module_case("AvgPool2d(unbatched)", on(av(3, 1, 1), 3, 7, 6)),
        module_case("AdaptiveAvgPool2d(divides)", on(ad((4, 3)), 2, 3, 8, 9)),
        module_case("AdaptiveAvgPool2d(does not divide)", on(ad(3), 2, 3, 7, 8)),
        module_case("AdaptiveAvgPool2d(larger than input)", on(ad((9, 7)), 2, 3, 5, 6)),
        module_case("AdaptiveAvgPool2d(larger,None)", on(ad((9, None)), 2, 3, 5, 6)),
        module_case("AdaptiveAvgPool2d(None keeps the size)", on(ad((None, 4)), 2, 3, 5, 10)),
        module_case("AdaptiveAvgPool2d(global)", on(ad(1), 4, 5, 6, 7)),
        module_case("AdaptiveAvgPool2d(unbatched)", on(ad(1), 3, 5, 7)),
        module_case("AdaptiveAvgPool2d(unbatched,(2,5))", on(ad((2, 5)), 3, 7, 11)),
    ]


CASES: list[Case] = _cases()
