"""Pooling: MaxPool1d/2d/3d, AvgPool1d/2d/3d and LPPool1d/2d/3d, with their options, ties and unbatched inputs
(the adaptive pools: ``pooling_adaptive``; the fractional pools and unpooling: ``pooling_fractional``)."""

from __future__ import annotations

import numpy as np

from scratch import nn

from .case import Case, Make, fresh, module_case
from .data import normal, positive


def _ties(rng: np.random.Generator, dtype: np.dtype, *shape: int) -> np.ndarray:
    """Small integers in float: nearly every window holds several equal maxima."""
    return rng.integers(-2, 3, size=shape).astype(dtype)


def on(module: nn.Module, *shape: int, ties: bool = False) -> Make:
    """``make`` applying ``module`` to a normal (or tie-filled) input of ``shape``."""
    return lambda dtype, rng: (fresh(module), [_ties(rng, dtype, *shape) if ties else normal(rng, dtype, *shape)])


def on_positive(module: nn.Module, *shape: int) -> Make:
    """``make`` applying ``module`` to a positive input (a fractional power of a negative number is NaN)."""
    return lambda dtype, rng: (fresh(module), [positive(rng, dtype, *shape)])


def _cases() -> list[Case]:
    m1, m2, av = nn.MaxPool1d, nn.MaxPool2d, nn.AvgPool2d
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
        *_more_cases(),
    ]


def _more_cases() -> list[Case]:
    """MaxPool3d, AvgPool1d, AvgPool3d and the LP pools."""
    m3, a1, a3 = nn.MaxPool3d, nn.AvgPool1d, nn.AvgPool3d
    lp1, lp2, lp3 = nn.LPPool1d, nn.LPPool2d, nn.LPPool3d
    return [
        module_case("MaxPool3d", on(m3(2), 2, 3, 4, 6, 5)),
        module_case("MaxPool3d(stride,padding,dilation,ceil_mode)",
                    on(m3((3, 2, 3), (2, 1, 2), (1, 1, 0), (1, 2, 1), ceil_mode=True), 2, 2, 7, 6, 8)),
        module_case("MaxPool3d(unbatched,return_indices)", on(m3(3, 2, 1, return_indices=True), 2, 5, 6, 7)),
        module_case("MaxPool3d(ties)", on(m3(2, 1), 2, 2, 4, 5, 4, ties=True)),
        module_case("AvgPool1d", on(a1(3), 4, 3, 16)),
        module_case("AvgPool1d(stride,padding,ceil_mode)", on(a1(3, 2, 1, ceil_mode=True), 2, 3, 10)),
        module_case("AvgPool1d(count_include_pad=False,ceil_mode)",
                    on(a1(4, 3, 2, ceil_mode=True, count_include_pad=False), 2, 3, 12)),
        module_case("AvgPool1d(unbatched,overlapping)", on(a1(3, 1, 1), 3, 9)),
        module_case("AvgPool3d", on(a3(2), 2, 3, 4, 6, 4)),
        module_case("AvgPool3d(stride,padding,ceil_mode)", on(a3((3, 2, 3), (2, 1, 2), (1, 1, 0), ceil_mode=True),
                                                             2, 2, 7, 5, 8)),
        module_case("AvgPool3d(count_include_pad=False,ceil_mode)",
                    on(a3(3, 2, 1, ceil_mode=True, count_include_pad=False), 2, 2, 6, 7, 5)),
        module_case("AvgPool3d(divisor_override)", on(a3(2, 1, 1, divisor_override=3), 2, 2, 4, 3, 5)),
        module_case("AvgPool3d(unbatched)", on(a3(3, 2, 1), 3, 5, 6, 7)),
        module_case("LPPool1d(p=2)", on(lp1(2, 3), 2, 3, 12)),
        module_case("LPPool1d(p=1.5,stride,ceil_mode)", on_positive(lp1(1.5, 3, 2, ceil_mode=True), 2, 3, 10)),
        module_case("LPPool1d(p=1,negative values)", on(lp1(1, 2, 1), 2, 3, 9)),
        module_case("LPPool1d(p=3)", on_positive(lp1(3, 2, 1), 2, 3, 9)),
        module_case("LPPool1d(p=inf,unbatched)", on(lp1(float("inf"), 3, 2), 3, 11)),
        module_case("LPPool2d(p=2)", on(lp2(2, 2), 2, 3, 6, 8)),
        module_case("LPPool2d(p=1.5,tuples,ceil_mode)", on_positive(lp2(1.5, (3, 2), (2, 1), ceil_mode=True),
                                                                     2, 3, 8, 5)),
        module_case("LPPool2d(p=-inf,unbatched)", on(lp2(float("-inf"), 2, 1), 3, 5, 6)),
        module_case("LPPool3d(p=2)", on(lp3(2, 2), 2, 2, 4, 6, 4)),
        module_case("LPPool3d(p=4,stride,ceil_mode,unbatched)", on(lp3(4, (2, 3, 2), 2, ceil_mode=True), 3, 5, 7, 5)),
    ]


CASES: list[Case] = _cases()
