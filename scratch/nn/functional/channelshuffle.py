r"""ChannelShuffle: a pure forward/backward pair.

With g groups of C / g channels, y[n, j g + i, ...] = x[n, i (C / g) + j, ...]: a reshape to
(N, g, C / g, *), a swap of the two group axes, a reshape back. It only moves values, so the
gradient is the inverse shuffle (the same op with C / g groups).
"""

from __future__ import annotations

import numpy as np

__all__ = ["channel_shuffle_backward", "channel_shuffle_forward"]


def _shuffle(x: np.ndarray, groups: int) -> np.ndarray:
    n, c, *rest = x.shape
    return x.reshape(n, groups, c // groups, *rest).swapaxes(1, 2).reshape(x.shape)


def channel_shuffle_forward(x: np.ndarray, groups: int, owner: str = "ChannelShuffle") -> tuple[np.ndarray, int]:
    r"""y[n, j g + i, ...] = x[n, i (C / g) + j, ...], g = ``groups``, 0 <= i < g, 0 <= j < C / g.

    Shape: x (N, C, *) with at least one trailing dim -> y of the same shape.
    """
    if not isinstance(groups, (int, np.integer)) or isinstance(groups, bool):
        raise TypeError(f"{owner}: groups must be an int, got {type(groups).__name__} {groups!r}")
    if groups <= 0:
        raise ValueError(f"{owner}: Number of groups to divide channels in must be positive. Value of groups:{groups}")
    if x.ndim <= 2:
        raise ValueError(f"{owner}: expects input with > 2 dims, but got input with sizes {list(x.shape)}")
    if x.shape[1] % groups:
        raise ValueError(f"{owner}: Number of channels must be divisible by groups. Got {x.shape[1]} channels and "
                         f"{groups} groups.")
    return _shuffle(x, groups), groups


def channel_shuffle_backward(dout: np.ndarray, cache: int) -> np.ndarray:
    r"""Values only move: dL/dx[n, i (C / g) + j] = dL/dy[n, j g + i], the shuffle with C / g groups."""
    return _shuffle(dout, dout.shape[1] // cache)
