"""Adaptive pooling: AdaptiveAvgPool1d/2d/3d and AdaptiveMaxPool1d/2d/3d, output sizes that divide the input,
that do not, larger than it, None entries, global pooling, ties and unbatched inputs."""

from __future__ import annotations

from scratch import nn

from .case import Case, module_case
from .pooling import on


def _cases() -> list[Case]:
    ad1, ad, ad3 = nn.AdaptiveAvgPool1d, nn.AdaptiveAvgPool2d, nn.AdaptiveAvgPool3d
    am1, am2, am3 = nn.AdaptiveMaxPool1d, nn.AdaptiveMaxPool2d, nn.AdaptiveMaxPool3d
    return [
        module_case("AdaptiveAvgPool1d(does not divide)", on(ad1(4), 2, 3, 11)),
        module_case("AdaptiveAvgPool1d(larger than input,unbatched)", on(ad1(7), 3, 5)),
        module_case("AdaptiveAvgPool1d(global)", on(ad1(1), 4, 5, 9)),
        module_case("AdaptiveAvgPool2d(divides)", on(ad((4, 3)), 2, 3, 8, 9)),
        module_case("AdaptiveAvgPool2d(does not divide)", on(ad(3), 2, 3, 7, 8)),
        module_case("AdaptiveAvgPool2d(larger than input)", on(ad((9, 7)), 2, 3, 5, 6)),
        module_case("AdaptiveAvgPool2d(larger,None)", on(ad((9, None)), 2, 3, 5, 6)),
        module_case("AdaptiveAvgPool2d(None keeps the size)", on(ad((None, 4)), 2, 3, 5, 10)),
        module_case("AdaptiveAvgPool2d(global)", on(ad(1), 4, 5, 6, 7)),
        module_case("AdaptiveAvgPool2d(unbatched)", on(ad(1), 3, 5, 7)),
        module_case("AdaptiveAvgPool2d(unbatched,(2,5))", on(ad((2, 5)), 3, 7, 11)),
        module_case("AdaptiveAvgPool3d(does not divide)", on(ad3((3, 2, 4)), 2, 3, 7, 5, 9)),
        module_case("AdaptiveAvgPool3d(None,larger)", on(ad3((None, 6, 2)), 2, 2, 4, 5, 6)),
        module_case("AdaptiveAvgPool3d(unbatched,global)", on(ad3(1), 3, 4, 5, 6)),
        module_case("AdaptiveMaxPool1d(does not divide)", on(am1(4), 2, 3, 11)),
        module_case("AdaptiveMaxPool1d(larger than input,unbatched,return_indices)",
                    on(am1(7, return_indices=True), 3, 5)),
        module_case("AdaptiveMaxPool1d(ties)", on(am1(3), 2, 3, 10, ties=True)),
        module_case("AdaptiveMaxPool2d(does not divide)", on(am2((3, 4)), 2, 3, 7, 9)),
        module_case("AdaptiveMaxPool2d(None,return_indices)", on(am2((None, 3), return_indices=True), 2, 3, 5, 8)),
        module_case("AdaptiveMaxPool2d(larger than input,unbatched)", on(am2((6, 7)), 3, 4, 5)),
        module_case("AdaptiveMaxPool2d(ties)", on(am2(3), 2, 3, 7, 8, ties=True)),
        module_case("AdaptiveMaxPool3d(None,unbatched)", on(am3((2, None, 3)), 3, 5, 4, 7)),
        module_case("AdaptiveMaxPool3d(does not divide,return_indices)",
                    on(am3((3, 2, 4), return_indices=True), 2, 3, 7, 5, 9)),
        module_case("AdaptiveMaxPool3d(global,ties)", on(am3(1), 2, 2, 3, 4, 5, ties=True)),
    ]


CASES: list[Case] = _cases()
