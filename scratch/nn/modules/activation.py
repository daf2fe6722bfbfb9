"""Activation modules: thin wrappers around the pairs in ``scratch.nn.functional``.

Each accepts any float dtype and keeps it.
"""

from __future__ import annotations

import warnings

import numpy as np

from .. import functional as F
from .module import Module

__all__ = ["LogSoftmax", "ReLU", "Sigmoid", "Softmax", "Tanh"]


class ReLU(Module):
    r"""y = max(0, x);  dL/dx = dL/dy * [x > 0] (0 at x = 0, as torch).

    Shape: Input (*), Output (*), the same. ``inplace=True`` overwrites the input with y.
    """

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, input: np.ndarray) -> np.ndarray:
        out, cache = F.relu_forward(input, self.inplace)
        self._save(cache)
        return out

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        return F.relu_backward(grad_output, self._saved(grad_output))

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class Sigmoid(Module):
    r"""y = 1 / (1 + e^{-x});  dL/dx = dL/dy * y (1 - y).

    Shape: Input (*), Output (*), the same.
    """

    def forward(self, input: np.ndarray) -> np.ndarray:
        out, cache = F.sigmoid_forward(input)
        self._save(cache)
        return out

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        return F.sigmoid_backward(grad_output, self._saved(grad_output))


class Tanh(Module):
    r"""y = tanh(x);  dL/dx = dL/dy * (1 - y^2).

    Shape: Input (*), Output (*), the same.
    """

    def forward(self, input: np.ndarray) -> np.ndarray:
        out, cache = F.tanh_forward(input)
        self._save(cache)
        return out

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        return F.tanh_backward(grad_output, self._saved(grad_output))


def _softmax_dim(name: str, dim: int | None, ndim: int) -> int:
    if dim is not None:
        return dim
    # torch's legacy rule for dim=None, with its deprecation warning
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. "
                  "Change the call to include dim=X as an argument.", stacklevel=3)
    return 0 if ndim in (0, 1, 3) else 1


class Softmax(Module):
    r"""y_i = e^{x_i} / sum_j e^{x_j} along ``dim``;  dL/dx = y * (dL/dy - sum_j dL/dy_j y_j).

    Shape: Input (*), Output (*), the same; each slice along ``dim`` sums to 1.
    """

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, input: np.ndarray) -> np.ndarray:
        out, cache = F.softmax_forward(input, _softmax_dim("softmax", self.dim, input.ndim))
        self._save(cache)
        return out

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        return F.softmax_backward(grad_output, self._saved(grad_output))

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LogSoftmax(Module):
    r"""y_i = x_i - log sum_j e^{x_j} along ``dim``;  dL/dx = dL/dy - e^y * sum_i dL/dy_i.

    Shape: Input (*), Output (*), the same.
    """

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, input: np.ndarray) -> np.ndarray:
        out, cache = F.log_softmax_forward(input, _softmax_dim("log_softmax", self.dim, input.ndim))
        self._save(cache)
        return out

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        return F.log_softmax_backward(grad_output, self._saved(grad_output))

    def extra_repr(self) -> str:
        return f"dim={self.dim}"
