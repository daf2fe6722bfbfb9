"""Dropout, Dropout1d/2d/3d, AlphaDropout, FeatureAlphaDropout: parameter-free, any float dtype kept;
identity in eval mode."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np

from .. import functional as F
from ..functional.dropout import check_probability
from .module import Module

__all__ = ["AlphaDropout", "Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "FeatureAlphaDropout"]


class _DropoutNd(Module):
    """Shared options and bookkeeping: ``p``, ``inplace``, the optional ``rng`` and the last ``mask``."""

    _forward: ClassVar[Callable[..., tuple[np.ndarray, Any]]]
    _input_kind = "float"  # see ``_checks``
    _inplace_honoured: ClassVar[bool] = True  # torch's AlphaDropout and FeatureAlphaDropout ignore ``inplace``

    def __init__(self, p: float = 0.5, inplace: bool = False, *, rng: np.random.Generator | None = None) -> None:
        super().__init__()
        check_probability(p, type(self).__name__)
        self.p = p
        self.inplace = inplace
        self.rng = rng
        #: The boolean keep-mask of the last forward (None when none was drawn: eval mode, p = 0).
        self.mask: np.ndarray | None = None

    def forward(self, input: np.ndarray) -> np.ndarray:
        inplace = self.inplace and self._inplace_honoured
        out, cache = type(self)._forward(input, self.p, self.training, inplace, rng=self.rng)
        self.mask = cache.keep
        self._save(cache)
        return out

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        return F.dropout_backward(grad_output, self._saved(grad_output))

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Dropout(_DropoutNd):
    r"""In training, zeroes each element with probability ``p`` and scales the rest by 1 / (1 - p).

    Forward: y = x * keep / (1 - p), keep ~ Bernoulli(1 - p) elementwise (p = 1 gives zeros);
    in eval mode y = x. Backward: dL/dx = dL/dy * keep / (1 - p) (dL/dy in eval mode).

    Args:
        p: probability of an element to be zeroed, in [0, 1]. Default: 0.5.
        inplace: overwrite the input with the result. Default: False.
        rng: ``np.random.Generator`` for the masks (keyword-only; default: scratch's global one).

    The last mask is kept as ``self.mask`` (boolean, the input's shape).

    Shape: input (*), output (*), the same.
    """

    _forward = staticmethod(F.dropout_forward)


class Dropout2d(_DropoutNd):
    r"""In training, zeroes whole channels: each (sample, channel) feature map with probability ``p``,
    scaling the rest by 1 / (1 - p).

    Forward: y[n, c] = x[n, c] * keep[n, c] / (1 - p), keep ~ Bernoulli(1 - p); eval mode: y = x.
    Backward: dL/dx[n, c] = dL/dy[n, c] * keep[n, c] / (1 - p).

    Like torch, a 3-D input is taken as (N, C, L) (channel-wise 1-D dropout) with a warning, not as
    an unbatched (C, H, W); other than 3-D or 4-D inputs warn as deprecated.

    Args:
        p: probability of a channel to be zeroed, in [0, 1]. Default: 0.5.
        inplace: overwrite the input with the result. Default: False.
        rng: ``np.random.Generator`` for the masks (keyword-only; default: scratch's global one).

    The last mask is kept as ``self.mask`` (boolean, of shape (N, C, 1, 1) or (N, C, 1)).

    Shape: input (N, C, H, W) or (N, C, L), output the same.
    """

    _forward = staticmethod(F.dropout2d_forward)


class Dropout1d(_DropoutNd):
    r"""In training, zeroes whole channels of a (N, C, L) or unbatched (C, L) input: each (sample, channel)
    sequence with probability ``p``, scaling the rest by 1 / (1 - p).

    Forward: y[n, c] = x[n, c] * keep[n, c] / (1 - p), keep ~ Bernoulli(1 - p); eval mode: y = x.
    Backward: dL/dx[n, c] = dL/dy[n, c] * keep[n, c] / (1 - p). Inputs other than 2-D or 3-D are an error.

    Args:
        p: probability of a channel to be zeroed, in [0, 1]. Default: 0.5.
        inplace: overwrite the input with the result. Default: False.
        rng: ``np.random.Generator`` for the masks (keyword-only; default: scratch's global one).

    The last mask is kept as ``self.mask`` (boolean, of shape (N, C, 1) or (C, 1)).

    Shape: input (N, C, L) or (C, L), output the same.
    """

    _forward = staticmethod(F.dropout1d_forward)


class Dropout3d(_DropoutNd):
    r"""In training, zeroes whole channels of a (N, C, D, H, W) or unbatched (C, D, H, W) input: each
    (sample, channel) volume with probability ``p``, scaling the rest by 1 / (1 - p).

    Forward: y[n, c] = x[n, c] * keep[n, c] / (1 - p), keep ~ Bernoulli(1 - p); eval mode: y = x.
    Backward: dL/dx[n, c] = dL/dy[n, c] * keep[n, c] / (1 - p).

    Like torch, other than 4-D or 5-D inputs warn as deprecated and are taken as unbatched (one draw per
    index of their first axis).

    Args:
        p: probability of a channel to be zeroed, in [0, 1]. Default: 0.5.
        inplace: overwrite the input with the result. Default: False.
        rng: ``np.random.Generator`` for the masks (keyword-only; default: scratch's global one).

    The last mask is kept as ``self.mask`` (boolean, of shape (N, C, 1, 1, 1) or (C, 1, 1, 1)).

    Shape: input (N, C, D, H, W) or (C, D, H, W), output the same.
    """

    _forward = staticmethod(F.dropout3d_forward)


class AlphaDropout(_DropoutNd):
    r"""Alpha dropout, for self-normalizing (SELU) networks: in training, each element is dropped with
    probability ``p`` to SELU's negative saturation, and an affine map keeps a zero-mean unit-variance
    input's mean and variance. With :math:`lpha' = 1.7580993408473766` and
    :math:`a = ((lpha'^2 p + 1)(1 - p))^{-1/2}`:

    .. math:: y = x \cdot \mathrm{keep}\,a + (\mathrm{keep} - 1)\,lpha' a + lpha' a p,
        \qquad \partial L/\partial x = \partial L/\partial y \cdot \mathrm{keep}\,a

    (p = 1 gives y = x * 0, torch's kernel). Eval mode: y = x. ``inplace`` is accepted and ignored, as in
    torch (its forward never passes it on).

    Args:
        p: probability of an element to be dropped, in [0, 1]. Default: 0.5.
        inplace: kept for torch's signature; unused. Default: False.
        rng: ``np.random.Generator`` for the masks (keyword-only; default: scratch's global one).

    The last mask is kept as ``self.mask`` (boolean, the input's shape).

    Shape: input (*), output (*), the same.
    """

    _forward = staticmethod(F.alpha_dropout_forward)
    _inplace_honoured = False


class FeatureAlphaDropout(_DropoutNd):
    r"""Alpha dropout of whole channels: one draw per (sample, channel), each dropped channel set to SELU's
    negative saturation, with ``AlphaDropout``'s affine map and gradient. Axis 0 is always the batch (torch's
    kernel has no unbatched form). Eval mode: y = x. ``inplace`` is accepted and ignored, as in torch.

    Args:
        p: probability of a channel to be dropped, in [0, 1]. Default: 0.5.
        inplace: kept for torch's signature; unused. Default: False.
        rng: ``np.random.Generator`` for the masks (keyword-only; default: scratch's global one).

    The last mask is kept as ``self.mask`` (boolean, of shape (N, C, 1, ...)).

    Shape: input (N, C, *), output the same.
    """

    _forward = staticmethod(F.feature_alpha_dropout_forward)
    _inplace_honoured = False
