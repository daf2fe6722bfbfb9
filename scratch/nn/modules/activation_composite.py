"""Activation modules composed of others: LogSigmoid, Tanhshrink, Softmin, Softmax2d and GLU, thin wrappers
around the pairs in ``scratch.nn.functional.activation_composite``. Parameter-free: any float dtype in, the
same dtype out."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import functional as F
from ._checks import check_dim
from .activation import _Elementwise
from .softmax import _softmax_dim

__all__ = ["GLU", "LogSigmoid", "Softmax2d", "Softmin", "Tanhshrink"]


class LogSigmoid(_Elementwise):
    r"""y = log(1 / (1 + e^{-x})) = min(x, 0) - log(1 + e^{-|x|});  dL/dx = dL/dy (1 - sigma(x)).

    Shape: Input (*), Output (*), the same.
    """

    _backward = staticmethod(F.logsigmoid_backward)

    def _forward(self, input: np.ndarray) -> tuple[np.ndarray, Any]:
        return F.logsigmoid_forward(input)


class Tanhshrink(_Elementwise):
    r"""y = x - tanh(x);  dL/dx = dL/dy tanh(x)^2 (as dL/dy - dL/dy (1 - tanh(x)^2), torch's rounding).

    Shape: Input (*), Output (*), the same.
    """

    _backward = staticmethod(F.tanhshrink_backward)

    def _forward(self, input: np.ndarray) -> tuple[np.ndarray, Any]:
        return F.tanhshrink_forward(input)


class Softmin(_Elementwise):
    r"""y_i = e^{-x_i} / sum_j e^{-x_j} along ``dim``;  dL/dx = -y * (dL/dy - sum_j dL/dy_j y_j).

    ``dim=None`` takes torch's legacy choice (0 for a 0-, 1- or 3-D input, else 1) with its warning.

    Shape: Input (*), Output (*), the same; each slice along ``dim`` sums to 1.
    """

    _backward = staticmethod(F.softmin_backward)

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def _forward(self, input: np.ndarray) -> tuple[np.ndarray, Any]:
        return F.softmin_forward(input, _softmax_dim("softmin", self.dim, input.ndim, "Softmin"))

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Softmax2d(_Elementwise):
    r"""Softmax over the channels at each spatial location: y_c = e^{x_c} / sum_k e^{x_k} along dim -3;
    dL/dx = y * (dL/dy - sum_c dL/dy_c y_c).

    Shape: Input (N, C, H, W) or (C, H, W), Output the same.
    """

    _backward = staticmethod(F.softmax2d_backward)

    def _forward(self, input: np.ndarray) -> tuple[np.ndarray, Any]:
        if input.ndim not in (3, 4):  # torch's ValueError and message
            raise ValueError(f"Softmax2d: expected input to be 3D or 4D, got {input.ndim}D instead")
        return F.softmax2d_forward(input)


class GLU(_Elementwise):
    r"""Gated linear unit: x split in halves a, b along ``dim``, y = a * sigma(b);
    dL/da = dL/dy sigma(b), dL/db = dL/dy a sigma(b) (1 - sigma(b)).

    Shape: Input (*_1, N, *_2) with N even, Output (*_1, N / 2, *_2).
    """

    _backward = staticmethod(F.glu_backward)

    def __init__(self, dim: int = -1) -> None:
        super().__init__()
        self.dim = dim

    def _forward(self, input: np.ndarray) -> tuple[np.ndarray, Any]:
        if input.ndim == 0:  # torch's messages (RuntimeErrors there), as ValueErrors
            raise ValueError("GLU: glu does not support scalars because halving size must be even")
        dim = check_dim("GLU", "dim", self.dim, input.ndim)
        if input.shape[dim] % 2:
            raise ValueError(f"GLU: Halving dimension must be even, but dimension {dim} is size {input.shape[dim]}")
        return F.glu_forward(input, dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"
