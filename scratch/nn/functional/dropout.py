r"""Dropout, Dropout1d/2d/3d, AlphaDropout, FeatureAlphaDropout: pure ``op_forward -> (out, cache)`` /
``op_backward(dout, cache)`` pairs.

In training, each kept element (Dropout) or channel (Dropout1d/2d/3d) is scaled by 1 / (1 - p), so the
expected output equals the input (inverted dropout), and evaluation is the identity:

    noise = keep / (1 - p),  keep ~ Bernoulli(1 - p),   y = x * noise,   dL/dx = dL/dy * noise.

Alpha dropout (for SELU networks) sets dropped values to SELU's negative saturation and rescales so
that a zero-mean unit-variance input keeps its mean and variance (alpha' = 1.7580993408473766):

    a = 1 / sqrt((alpha'^2 p + 1)(1 - p)),   b = (keep - 1) alpha' a + alpha' a p,
    y = x * (keep a) + b,   dL/dx = dL/dy * keep a.

The cache is a ``DropoutCache``: the boolean keep-mask that was drawn (None when nothing was drawn)
and the noise array (None for the identity). Masks come from ``rng`` or scratch's global generator,
never from NumPy's global state. ``inplace=True`` writes y into x and returns x, as torch does.
"""

from __future__ import annotations

import warnings
from typing import NamedTuple

import numpy as np

from ...random import get_rng

__all__ = ["alpha_dropout_backward", "alpha_dropout_forward", "dropout1d_backward", "dropout1d_forward",
           "dropout2d_backward", "dropout2d_forward", "dropout3d_backward", "dropout3d_forward", "dropout_backward",
           "dropout_forward", "feature_alpha_dropout_backward", "feature_alpha_dropout_forward"]

SELU_SATURATION = 1.7580993408473766  #: alpha' = SELU's scale times its alpha, torch's constant


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
           rng: np.random.Generator | None, owner: str = "Dropout2d",
           alpha: bool = False) -> tuple[np.ndarray, DropoutCache]:
    r"""y = x * noise (+ b with ``alpha``) for a mask of ``mask_shape`` (broadcast against x), following
    torch's CPU kernel: the identity for p = 0 or an empty x (nothing drawn), y = x * 0 for p = 1 (nothing
    drawn, no b; so an inf becomes nan, as in torch), else noise = keep / (1 - p), or alpha dropout's
    keep * a and b, computed in x's dtype in torch's order. ``mask_shape`` None: fewer than 2 dimensions
    for a feature dropout, an error naming ``owner`` once a mask is to be drawn."""
    if p == 0 or x.size == 0:
        return x, DropoutCache(None, None)
    if p == 1:
        shape = x.shape if mask_shape is None else mask_shape
        keep = np.zeros(shape, dtype=bool)
    else:
        if mask_shape is None:
            raise ValueError(f"{owner}: Feature dropout requires at least 2 dimensions in the input, "
                             f"got input of shape {x.shape}")
        keep = np.asarray(get_rng(rng).random(mask_shape) >= p)  # P(keep) = 1 - p
    if alpha and p != 1:
        return _alpha_noise(x, p, keep, inplace)
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


def _alpha_noise(x: np.ndarray, p: float, keep: np.ndarray, inplace: bool) -> tuple[np.ndarray, DropoutCache]:
    """Alpha dropout's affine noise in torch's order: b = (keep - 1) * (alpha' a) + alpha' a p, noise = keep a."""
    dtype = x.dtype.type
    a = 1.0 / np.sqrt((SELU_SATURATION * SELU_SATURATION * p + 1) * (1 - p))
    noise = keep.astype(x.dtype)
    shift = (noise + dtype(-1)) * dtype(SELU_SATURATION * a) + dtype(SELU_SATURATION * a * p)
    noise = noise * dtype(a)
    with np.errstate(invalid="ignore", over="ignore"):  # inf * 0 = nan, silently, as in torch
        out = np.multiply(x, noise, out=x if inplace else None)
        out += shift
    return out, DropoutCache(keep, noise)


_DROPOUT1D_DIMS = ("dropout1d: Expected 2D or 3D input, but received a {}D input. Note that dropout1d exists to "
                   "provide channel-wise dropout on inputs with 1 spatial dimension, a channel dimension, and an "
                   "optional batch dimension (i.e. 2D or 3D inputs).")
_NOT_4D_5D = ("dropout3d: Received a {}-D input to dropout3d, which is deprecated and will result in an error in a "
              "future release. To retain the behavior and silence this warning, please use dropout instead. Note "
              "that dropout3d exists to provide channel-wise dropout on inputs with 3 spatial dimensions, a channel "
              "dimension, and an optional batch dimension (i.e. 4D or 5D inputs).")


def _unbatched_mask(shape: tuple[int, ...], batched: bool) -> tuple[int, ...] | None:
    """torch's feature mask, for an unbatched input taken as one sample: (N, C, 1, ...) or (C, 1, ...)."""
    if batched:
        return shape[:2] + (1,) * (len(shape) - 2)
    return shape[:1] + (1,) * (len(shape) - 1) if shape else None


def dropout1d_forward(input: np.ndarray, p: float = 0.5, training: bool = True, inplace: bool = False, *,
                      rng: np.random.Generator | None = None,
                      owner: str = "Dropout1d") -> tuple[np.ndarray, DropoutCache]:
    r"""Channel dropout of a (N, C, L) or unbatched (C, L) input: y[n, c] = x[n, c] keep[n, c] / (1 - p).

    Any other number of dimensions is an error (torch's RuntimeError, a ValueError here), in eval mode too.

    Shape: input (N, C, L) or (C, L), output the same; the mask (N, C, 1) or (C, 1).
    """
    check_probability(p, owner)
    if input.ndim not in (2, 3):
        raise ValueError(f"{owner}: " + _DROPOUT1D_DIMS.format(input.ndim))
    if not training:
        return input, DropoutCache(None, None)
    return _apply(input, p, inplace, _unbatched_mask(input.shape, input.ndim == 3), rng, owner)


def dropout3d_forward(input: np.ndarray, p: float = 0.5, training: bool = True, inplace: bool = False, *,
                      rng: np.random.Generator | None = None,
                      owner: str = "Dropout3d") -> tuple[np.ndarray, DropoutCache]:
    r"""Channel dropout of a (N, C, D, H, W) or unbatched (C, D, H, W) input, one draw per feature volume.

    torch's rules, matched: inputs neither 4-D nor 5-D warn as deprecated (in eval mode too) and are taken
    as unbatched, one draw per index of their first axis (a 1-D input: elementwise); a 0-D input is an error
    once a mask is to be drawn.

    Shape: input (N, C, D, H, W) or (C, D, H, W), output the same; the mask (N, C, 1, 1, 1) or (C, 1, 1, 1).
    """
    check_probability(p, owner)
    if input.ndim not in (4, 5):
        warnings.warn(_NOT_4D_5D.format(input.ndim), UserWarning, stacklevel=3)
    if not training:
        return input, DropoutCache(None, None)
    return _apply(input, p, inplace, _unbatched_mask(input.shape, input.ndim == 5), rng, owner)


def alpha_dropout_forward(input: np.ndarray, p: float = 0.5, training: bool = False, inplace: bool = False, *,
                          rng: np.random.Generator | None = None,
                          owner: str = "AlphaDropout") -> tuple[np.ndarray, DropoutCache]:
    r"""Elementwise alpha dropout: y = x * keep a + (keep - 1) alpha' a + alpha' a p (see the module
    docstring); the identity in eval mode, for p = 0 and for an empty input; x * 0 for p = 1 (torch's kernel
    adds no b there).

    Shape: input (*), output (*), the same; the mask has the input's shape.
    """
    check_probability(p, owner)
    if not training:
        return input, DropoutCache(None, None)
    return _apply(input, p, inplace, input.shape, rng, owner, alpha=True)


def feature_alpha_dropout_forward(input: np.ndarray, p: float = 0.5, training: bool = False, inplace: bool = False,
                                  *, rng: np.random.Generator | None = None,
                                  owner: str = "FeatureAlphaDropout") -> tuple[np.ndarray, DropoutCache]:
    r"""Alpha dropout of whole channels: one draw per (sample, channel), the rest as ``alpha_dropout_forward``.
    No unbatched form (torch's kernel takes axis 0 as the batch always); fewer than 2 dimensions is an error
    once a mask is to be drawn.

    Shape: input (N, C, *), output the same; the mask (N, C, 1, ...).
    """
    check_probability(p, owner)
    if not training:
        return input, DropoutCache(None, None)
    return _apply(input, p, inplace, _unbatched_mask(input.shape, True) if input.ndim >= 2 else None, rng, owner,
                  alpha=True)


dropout1d_backward = dropout3d_backward = alpha_dropout_backward = feature_alpha_dropout_backward = dropout_backward
