"""ChannelShuffle: interleave the channels of ``groups`` groups."""

from __future__ import annotations

import numpy as np

from .. import functional as F
from .module import Module

__all__ = ["ChannelShuffle"]


class ChannelShuffle(Module):
    r"""y[n, j g + i, ...] = x[n, i (C / g) + j, ...] with g = ``groups``; backward applies the inverse
    shuffle to the gradient.

    Shape:
        - Input: :math:`(N, C, *)`, C divisible by g, at least one trailing dim.
        - Output: :math:`(N, C, *)`.
    """

    _input_kind = "float"  # see ``_checks``

    def __init__(self, groups: int) -> None:
        super().__init__()
        self.groups = groups

    def forward(self, input: np.ndarray) -> np.ndarray:
        out, cache = F.channel_shuffle_forward(input, self.groups)
        self._save(cache)
        return out

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        return F.channel_shuffle_backward(grad_output, self._saved(grad_output))

    def extra_repr(self) -> str:
        return f"groups={self.groups}"
