"""Fold and Unfold: overlapping blocks (summed by fold), padding, dilation, strides, tuples, unbatched inputs."""

from __future__ import annotations

from scratch import nn

from .case import Case, module_case
from .data import normal

CASES: list[Case] = [
    module_case("Unfold", lambda d, r: (nn.Unfold(3), [normal(r, d, 2, 3, 7, 8)])),
    module_case("Unfold(dilation,padding,stride)",
                lambda d, r: (nn.Unfold((2, 3), dilation=(2, 1), padding=(1, 2), stride=(2, 3)),
                              [normal(r, d, 2, 3, 7, 8)])),
    module_case("Unfold(unbatched,stride 2)",
                lambda d, r: (nn.Unfold(2, padding=1, stride=2), [normal(r, d, 3, 5, 6)])),
    module_case("Fold", lambda d, r: (nn.Fold((4, 5), 2), [normal(r, d, 2, 12, 12)])),
    module_case("Fold(overlapping,dilation,padding)",
                lambda d, r: (nn.Fold((7, 8), (2, 3), dilation=(2, 1), padding=(1, 2), stride=1),
                              [normal(r, d, 2, 18, 7 * 10)])),
    module_case("Fold(unbatched,stride)",
                lambda d, r: (nn.Fold(6, 2, stride=2, padding=1), [normal(r, d, 8, 16)])),
]
