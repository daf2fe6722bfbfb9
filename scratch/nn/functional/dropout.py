r"""Dropout and Dropout2d: pure ``op_forward -> (out, cache)`` / ``op_backward(dout, cache)`` pairs.

In training, each kept element (Dropout) or channel (Dropout2d) is scaled by 1 / (1 - p), so the
expected output equals the input (inverted dropout), and evaluation is the identity:

    noise = keep / (1 - p),  keep ~ Bernoulli(1 - p),   y = x * noise,   dL/dx = dL/dy * noise.

The cache is a ``DropoutCache``: the boolean keep-mask that was drawn (None when nothing was drawn)
and the noise array (None for the identity). Masks come from ``rng`` or scratch's global generator,
never from NumPy's global state. ``inplace=True`` writes y into x and returns x, as torch does.
"""

from __future__ import annotations

import warnings
from typing import NamedTuple

import numpy as np

from ...random import get_rng

__all__ = ["dropout2d_backward", "dropout2d_forward", "dropout_backward", "dropout_forward"]


class DropoutCache(NamedTuple):
    """The draw of one dropout forward, which its backward replays."""

    keep: np.ndarray | None  #: the boolean keep-mask drawn (None when nothing was drawn)
    noise: np.ndarray | None  #: keep / (1 - p) in x's dtype, the factor y = x * noise (None for the identity)


def check_probability(p: float, owner: str = "dropout") -> None:
    """torch's check and message after the owner's name, shared by the modules and the functions (NaN passes,
    as in torch)."""
    if p < 0 or p > 1:
        raise ValueError(f"{owner}: dropout probability has to be between 0 and 1, but got {p}")


def _apply(x: np.ndarray, p: float, inplace: bool, mask_shape: tuple[int, ...] | None,
           rng: np.random.Generator | None) -> tuple[np.ndarray, DropoutCache]:
    r"""y = x * noise for a mask of ``mask_shape`` (broadcast against x), following torch's CPU kernel:
    the identity for p = 0 or an empty x (nothing drawn), y = x * 0 for p = 1 (nothing drawn; so an
    inf becomes nan, as in torch), else noise = keep / (1 - p), computed in x's dtype."""
    if p == 0 or x.size == 0:
        return x, DropoutCache(None, None)
    if p == 1:
        shape = x.shape if mask_shape is None else mask_shape
        keep = np.zeros(shape, dtype=bool)
    else:
        if mask_shape is None:
            raise ValueError("Dropout2d: Feature dropout requires at least 2 dimensions in the input, "
                             f"got input of shape {x.shape}")
        keep = np.asarray(get_rng(rng).random(mask_shape) >= p)  # P(keep) = 1 - p
    noise = keep.astype(x.dtype) / x.dtype.type(1 - p) if p != 1 else np.zeros(keep.shape, dtype=x.dtype)
    with np.errstate(invalid="ignore"):  # inf * 0 = nan, silently, as in torch
        out = np.multiply(x, noise, out=x if inplace else None)
    return out, DropoutCache(keep, noise)


def dropout_forward(input: np.ndarray, p: float = 0.5, training: bool = True, inplace: bool = False, *,
                    rng: np.random.Generator | None = None) -> tuple[np.ndarray, DropoutCache]:
    r"""Elementwise dropout: y = x * keep / (1 - p) with keep ~ Bernoulli(1 - p) per element when
    ``training``; y = x (the same array, as torch returns its input) otherwise.

    Shape: input (*), output (*), the same; the mask has the input's shape.
    """
    check_probability(p)
    if not training:
        return input, DropoutCache(None, None)
    return _apply(input, p, inplace, input.shape, rng)


def dropout_backward(dout: np.ndarray, cache: DropoutCache) -> np.ndarray:
    r"""dL/dx = dL/dy * noise, noise = keep / (1 - p) (broadcast for Dropout2d); dL/dy for the identity."""
    noise = cache.noise
    return dout if noise is None else np.asarray(dout * noise)


_NOT_3D_4D = ("dropout2d: Received a {}-D input to dropout2d, which is deprecated and will result in an error in a "
              "future release. To retain the behavior and silence this warning, please use dropout instead. Note "
              "that dropout2d exists to provide channel-wise dropout on inputs with 2 spatial dimensions, a channel "
              "dimension, and an optional batch dimension (i.e. 3D or 4D inputs).")
_3D = ("dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D dropout behavior is desired - "
       "input is interpreted as shape (N, C, L), where C is the channel dim. This behavior will change in a future "
       "release to interpret the input as one without a batch dimension, i.e. shape (C, H, W). To maintain the 1D "
       "channel-wise dropout behavior, please switch to using dropout1d instead.")


def dropout2d_forward(input: np.ndarray, p: float = 0.5, training: bool = True, inplace: bool = False, *,
                      rng: np.random.Generator | None = None) -> tuple[np.ndarray, DropoutCache]:
    r"""Channel dropout: y[n, c] = x[n, c] * keep[n, c] / (1 - p), one Bernoulli(1 - p) draw per
    (sample, channel) pair, so a whole feature map is kept or zeroed.

    torch's rules, matched (warnings issued in eval mode too, as torch does): a 3-D input is taken as
    (N, C, L), not as an unbatched (C, H, W), with a warning; inputs that are neither 3-D nor 4-D warn
    as deprecated and get the mask shape (N, C, 1, ...) all the same (a 2-D (N, C) input is then plain
    elementwise dropout); fewer than 2 dimensions is an error when a mask has to be drawn.

    Shape: input (N, C, H, W) or (N, C, L), output the same; the mask is (N, C, 1, 1) or (N, C, 1).
    """
    check_probability(p)
    if input.ndim not in (3, 4):
        warnings.warn(_NOT_3D_4D.format(input.ndim), UserWarning, stacklevel=3)
    if input.ndim == 3:
        warnings.warn(_3D, UserWarning, stacklevel=3)
    if not training:
        return input, DropoutCache(None, None)
    mask_shape = input.shape[:2] + (1,) * (input.ndim - 2) if input.ndim >= 2 else None
    return _apply(input, p, inplace, mask_shape, rng)


dropout2d_backward = dropout_backward
