"""Local response normalization across channels: LocalResponseNorm and CrossMapLRN2d."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np

from .. import functional as F
from ._checks import check_size
from .module import Module

__all__ = ["CrossMapLRN2d", "LocalResponseNorm"]


class _LRN(Module):
    """The options ``size``, ``alpha``, ``beta``, ``k`` and the forward/backward pair of a subclass."""

    _forward: ClassVar[Callable[..., tuple[np.ndarray, Any]]]
    _backward: ClassVar[Callable[..., np.ndarray]]
    _input_kind = "float"  # see ``_checks``

    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0) -> None:
        super().__init__()
        self.size = check_size(type(self).__name__, "size", size, minimum=1)
        self.alpha = alpha
        self.beta = beta
        self.k = k

    def forward(self, input: np.ndarray) -> np.ndarray:
        out, cache = type(self)._forward(input, self.size, self.alpha, self.beta, self.k)
        self._save(cache)
        return out

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        return type(self)._backward(grad_output, self._saved(grad_output))

    def extra_repr(self) -> str:
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"


class LocalResponseNorm(_LRN):
    r"""Local response normalization over neighbouring channels:

    .. math:: y_c = x_c \left(k + \frac{\alpha}{n} \sum_{c'=\max(0, c-n/2)}^{\min(N-1, c+n/2)} x_{c'}^2\right)^{-\beta}

    with n = ``size``, the window [c - size//2, c + (size-1)//2] (channels outside count as 0).
    Backward, with :math:`D_c` the bracket: :math:`dx_j = dy_j D_j^{-\beta} - \frac{2\alpha\beta}{n} x_j
    \sum_{c \ni j} dy_c\,x_c D_c^{-\beta-1}` over the windows c that hold j.

    Args:
        size: the number of neighbouring channels in the window.
        alpha: multiplicative factor. Default: 1e-4.
        beta: exponent. Default: 0.75.
        k: additive factor. Default: 1.

    Shape:
        - Input: :math:`(N, C, *)`, at least 3 dimensions.
        - Output: the same as the input.
    """

    _forward = staticmethod(F.local_response_norm_forward)
    _backward = staticmethod(F.local_response_norm_backward)


class CrossMapLRN2d(_LRN):
    r"""torch's legacy cross-channel LRN of a 4-D input, its quirks included:

    .. math:: y_c = x_c \left(k + \frac{\alpha}{n} \sum_{c' \in W(c)} x_{c'}^2\right)^{-\beta}

    with n = ``size``, W(c) = [c - p + 1, c + p - 1], p = int((size - 1) / 2 + 1), plus channel 0 for
    c >= p (torch's running sum never subtracts it), and the gradient torch's hand-written backward gives
    (not the derivative of this forward; see ``scratch.nn.functional.local_response_norm``).

    Args:
        size: the window size.
        alpha: multiplicative factor. Default: 1e-4.
        beta: exponent. Default: 0.75.
        k: additive factor. Default: 1.

    Shape:
        - Input: :math:`(N, C, H, W)`.
        - Output: the same as the input.
    """

    _forward = staticmethod(F.cross_map_lrn2d_forward)
    _backward = staticmethod(F.cross_map_lrn2d_backward)

    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1) -> None:
        super().__init__(size, alpha, beta, k)  # torch's default k is the int 1 here (its repr says k=1)
