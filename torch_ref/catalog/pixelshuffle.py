"""PixelShuffle and PixelUnshuffle: rearrangements whose gradient is the inverse rearrangement."""

from __future__ import annotations

from scratch import nn

from .case import Case, module_case
from .data import normal

CASES: list[Case] = [
    module_case("PixelShuffle", lambda d, r: (nn.PixelShuffle(2), [normal(r, d, 2, 12, 3, 4)])),
    module_case("PixelShuffle(3,unbatched)", lambda d, r: (nn.PixelShuffle(3), [normal(r, d, 18, 2, 3)])),
    module_case("PixelShuffle(5-D input)", lambda d, r: (nn.PixelShuffle(2), [normal(r, d, 2, 3, 8, 2, 3)])),
    module_case("PixelUnshuffle", lambda d, r: (nn.PixelUnshuffle(2), [normal(r, d, 2, 3, 4, 6)])),
    module_case("PixelUnshuffle(3,unbatched)", lambda d, r: (nn.PixelUnshuffle(3), [normal(r, d, 2, 6, 9)])),
]
