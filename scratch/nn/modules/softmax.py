"""Softmax and LogSoftmax along ``dim``: thin wrappers around the pairs in ``scratch.nn.functional.softmax``.
Like the other parameter-free activations they accept any float dtype and keep it."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from .. import functional as F
from ._checks import check_dim
from .activation import _Elementwise

__all__ = ["LogSoftmax", "Softmax"]


def _softmax_dim(name: str, dim: int | None, ndim: int, owner: str) -> int:
    if dim is not None:
        check_dim(owner, "dim", dim, ndim)
        return dim
    # torch's legacy rule for dim=None, with its deprecation warning (pointing at the module's caller)
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. "
                  "Change the call to include dim=X as an argument.", stacklevel=5)
    return 0 if ndim in (0, 1, 3) else 1


class Softmax(_Elementwise):
    r"""y_i = e^{x_i} / sum_j e^{x_j} along ``dim``;  dL/dx = y * (dL/dy - sum_j dL/dy_j y_j).

    Shape: Input (*), Output (*), the same; each slice along ``dim`` sums to 1.
    """

    _backward = staticmethod(F.softmax_backward)

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def _forward(self, input: np.ndarray) -> tuple[np.ndarray, Any]:
        return F.softmax_forward(input, _softmax_dim("softmax", self.dim, input.ndim, "Softmax"))

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LogSoftmax(_Elementwise):
    r"""y_i = x_i - log sum_j e^{x_j} along ``dim``;  dL/dx = dL/dy - e^y * sum_i dL/dy_i.

    Shape: Input (*), Output (*), the same.
    """

    _backward = staticmethod(F.log_softmax_backward)

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def _forward(self, input: np.ndarray) -> tuple[np.ndarray, Any]:
        return F.log_softmax_forward(input, _softmax_dim("log_softmax", self.dim, input.ndim, "LogSoftmax"))

    def extra_repr(self) -> str:
        return f"dim={self.dim}"
