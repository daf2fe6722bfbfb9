"""Dropout and Dropout2d: parameter-free, any float dtype kept; identity in eval mode."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np

from .. import functional as F
from ..functional.dropout import check_probability
from .module import Module

__all__ = ["Dropout", "Dropout2d"]


class _DropoutNd(Module):
    """Shared options and bookkeeping: ``p``, ``inplace``, the optional ``rng`` and the last ``mask``."""

    _forward: ClassVar[Callable[..., tuple[np.ndarray, Any]]]
    _input_kind = "float"  # see ``_checks``

    def __init__(self, p: float = 0.5, inplace: bool = False, *, rng: np.random.Generator | None = None) -> None:
        super().__init__()
        check_probability(p, type(self).__name__)
        self.p = p
        self.inplace = inplace
        self.rng = rng
        #: The boolean keep-mask of the last forward (None when none was drawn: eval mode, p = 0).
        self.mask: np.ndarray | None = None

    def forward(self, input: np.ndarray) -> np.ndarray:
        out, cache = type(self)._forward(input, self.p, self.training, self.inplace, rng=self.rng)
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
