r"""PixelShuffle and PixelUnshuffle: pure forward/backward pairs.

Both only move values (a reshape, a transpose, a reshape), so each backward is the other op applied
to the upstream gradient:

    pixel_shuffle:   y[*, c, h r + i, w r + j] = x[*, c r^2 + i r + j, h, w]
    pixel_unshuffle: its inverse, y[*, c r^2 + i r + j, h, w] = x[*, c, h r + i, w r + j]
"""

from __future__ import annotations

import numpy as np

__all__ = ["pixel_shuffle_backward", "pixel_shuffle_forward", "pixel_unshuffle_backward", "pixel_unshuffle_forward"]


def _check_factor(owner: str, name: str, factor: int) -> None:
    if not isinstance(factor, (int, np.integer)) or isinstance(factor, bool):
        raise TypeError(f"{owner}: {name} must be an int, got {type(factor).__name__} {factor!r}")
    if factor <= 0:
        raise ValueError(f"{owner}: expects a positive {name}, but got {factor}")


def _shuffle(x: np.ndarray, r: int) -> np.ndarray:
    *lead, c, h, w = x.shape
    y = x.reshape(*lead, c // (r * r), r, r, h, w)
    n = len(lead)
    y = y.transpose(*range(n), n, n + 3, n + 1, n + 4, n + 2)
    return y.reshape(*lead, c // (r * r), h * r, w * r)


def _unshuffle(x: np.ndarray, r: int) -> np.ndarray:
    *lead, c, h, w = x.shape
    y = x.reshape(*lead, c, h // r, r, w // r, r)
    n = len(lead)
    y = y.transpose(*range(n), n, n + 2, n + 4, n + 1, n + 3)
    return y.reshape(*lead, c * r * r, h // r, w // r)


def pixel_shuffle_forward(x: np.ndarray, upscale_factor: int, owner: str = "PixelShuffle") -> tuple[np.ndarray, int]:
    r"""y[*, c, h r + i, w r + j] = x[*, c r^2 + i r + j, h, w], r = ``upscale_factor``.

    Shape: x (*, C r^2, H, W) -> y (*, C, H r, W r).
    """
    _check_factor(owner, "upscale_factor", upscale_factor)
    if x.ndim < 3:
        raise ValueError(f"{owner}: expects input to have at least 3 dimensions, but got input with {x.ndim} "
                         "dimension(s)")
    if x.shape[-3] % (upscale_factor * upscale_factor):
        raise ValueError(f"{owner}: expects its input's 'channel' dimension to be divisible by the square of "
                         f"upscale_factor, but input.size(-3)={x.shape[-3]} is not divisible by "
                         f"{upscale_factor * upscale_factor}")
    return _shuffle(x, upscale_factor), upscale_factor


def pixel_shuffle_backward(dout: np.ndarray, cache: int) -> np.ndarray:
    r"""Values only move: dL/dx = pixel_unshuffle(dL/dy). Shape: (*, C, H r, W r) -> (*, C r^2, H, W)."""
    return _unshuffle(dout, cache)


def pixel_unshuffle_forward(x: np.ndarray, downscale_factor: int,
                            owner: str = "PixelUnshuffle") -> tuple[np.ndarray, int]:
    r"""y[*, c r^2 + i r + j, h, w] = x[*, c, h r + i, w r + j], r = ``downscale_factor``.

    Shape: x (*, C, H r, W r) -> y (*, C r^2, H, W).
    """
    _check_factor(owner, "downscale_factor", downscale_factor)
    if x.ndim < 3:
        raise ValueError(f"{owner}: expects input to have at least 3 dimensions, but got input with {x.ndim} "
                         "dimension(s)")
    for axis, what in ((-2, "height"), (-1, "width")):
        if x.shape[axis] % downscale_factor:
            raise ValueError(f"{owner}: expects {what} to be divisible by downscale_factor, but "
                             f"input.size({axis})={x.shape[axis]} is not divisible by {downscale_factor}")
    return _unshuffle(x, downscale_factor), downscale_factor


def pixel_unshuffle_backward(dout: np.ndarray, cache: int) -> np.ndarray:
    r"""Values only move: dL/dx = pixel_shuffle(dL/dy). Shape: (*, C r^2, H, W) -> (*, C, H r, W r)."""
    return _shuffle(dout, cache)
