"""Activations as pure ``op_forward -> (out, cache)`` / ``op_backward(dout, cache)`` pairs.

Every op is elementwise except softmax and log_softmax, which act along ``dim``.
Each backward returns dL/dx with x's shape and dtype.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "log_softmax_backward", "log_softmax_forward", "relu_backward", "relu_forward", "sigmoid_backward",
    "sigmoid_forward", "softmax_backward", "softmax_forward", "tanh_backward", "tanh_forward",
]


def relu_forward(x: np.ndarray, inplace: bool = False) -> tuple[np.ndarray, np.ndarray]:
    r"""y = max(0, x); with ``inplace`` the result overwrites x."""
    out = np.maximum(x, 0, out=x if inplace else None)
    return out, out


def relu_backward(dout: np.ndarray, out: np.ndarray) -> np.ndarray:
    r"""dL/dx = dL/dy * [x > 0]; at x = 0 the gradient is 0, as in torch."""
    return dout * (out > 0)


def sigmoid_forward(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r"""y = 1 / (1 + e^{-x})."""
    with np.errstate(over="ignore"):  # e^{-x} = inf for x < -88 (float32) gives the exact limit y = 0
        out = 1 / (1 + np.exp(-x))
    return out, out


def sigmoid_backward(dout: np.ndarray, out: np.ndarray) -> np.ndarray:
    r"""dL/dx = dL/dy * y (1 - y), computed from the saved output y."""
    return dout * (1 - out) * out


def tanh_forward(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r"""y = tanh(x)."""
    out = np.tanh(x)
    return out, out


def tanh_backward(dout: np.ndarray, out: np.ndarray) -> np.ndarray:
    r"""dL/dx = dL/dy * (1 - y^2)."""
    return dout * (1 - out * out)


def softmax_forward(x: np.ndarray, dim: int) -> tuple[np.ndarray, tuple]:
    r"""y_i = e^{x_i - m} / sum_j e^{x_j - m} along ``dim``, with m = max_j x_j for stability."""
    shifted = x - x.max(axis=dim, keepdims=True)
    exp = np.exp(shifted)
    out = exp / exp.sum(axis=dim, keepdims=True)
    return out, (out, dim)


def softmax_backward(dout: np.ndarray, cache: tuple) -> np.ndarray:
    r"""The Jacobian is diag(y) - y y^T, so dL/dx = y * (dL/dy - sum_j dL/dy_j y_j)."""
    out, dim = cache
    return out * (dout - (dout * out).sum(axis=dim, keepdims=True))


def log_softmax_forward(x: np.ndarray, dim: int) -> tuple[np.ndarray, tuple]:
    r"""y_i = x_i - m - log sum_j e^{x_j - m} along ``dim``, with m = max_j x_j."""
    shifted = x - x.max(axis=dim, keepdims=True)
    out = shifted - np.log(np.exp(shifted).sum(axis=dim, keepdims=True))
    return out, (out, dim)


def log_softmax_backward(dout: np.ndarray, cache: tuple) -> np.ndarray:
    r"""dy_i/dx_j = [i = j] - softmax_j, so dL/dx = dL/dy - e^y * sum_i dL/dy_i."""
    out, dim = cache
    return dout - np.exp(out) * dout.sum(axis=dim, keepdims=True)
