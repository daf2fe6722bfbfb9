"""ChannelShuffle: a permutation of the channels, whose gradient is the inverse permutation."""

from __future__ import annotations

from scratch import nn

from .case import Case, module_case
from .data import normal

CASES: list[Case] = [
    module_case("ChannelShuffle", lambda d, r: (nn.ChannelShuffle(2), [normal(r, d, 2, 6, 3, 4)])),
    module_case("ChannelShuffle(3,1-D)", lambda d, r: (nn.ChannelShuffle(3), [normal(r, d, 2, 12, 5)])),
    module_case("ChannelShuffle(groups=C)", lambda d, r: (nn.ChannelShuffle(4), [normal(r, d, 2, 4, 2, 3, 2)])),
]
