"""softmax and log_softmax along ``dim``, each as a forward/backward pair (and ``log_softmax`` alone, which
the classification losses share)."""

from __future__ import annotations

from typing import Any, cast

import numpy as np

__all__ = ["log_softmax", "log_softmax_backward", "log_softmax_forward", "softmax_backward", "softmax_forward"]


def softmax_forward(x: np.ndarray, dim: int) -> tuple[np.ndarray, tuple[Any, ...]]:
    r"""y_i = e^{x_i - m} / sum_j e^{x_j - m} along ``dim``, with m = max_j x_j for stability."""
    shifted = x - x.max(axis=dim, keepdims=True, initial=-np.inf)  # initial: a 0-size input has no max
    exp = np.exp(shifted)
    out = exp / exp.sum(axis=dim, keepdims=True)
    return out, (out.copy(), dim)  # a copy: a later in-place module may overwrite out


def softmax_backward(dout: np.ndarray, cache: tuple[Any, ...]) -> np.ndarray:
    r"""The Jacobian is diag(y) - y y^T, so dL/dx = y * (dL/dy - sum_j dL/dy_j y_j)."""
    out, dim = cache
    return cast("np.ndarray", out * (dout - (dout * out).sum(axis=dim, keepdims=True)))


def log_softmax(x: np.ndarray, dim: int) -> np.ndarray:
    r"""y_i = x_i - m - log sum_j e^{x_j - m} along ``dim``, with m = max_j x_j (a new array)."""
    out = x - x.max(axis=dim, keepdims=True, initial=-np.inf)  # initial: a 0-size input has no max
    if out.size == 0:  # log(0) of an empty sum would warn; the result is empty anyway
        return cast("np.ndarray", out)
    out -= np.log(np.exp(out).sum(axis=dim, keepdims=True))  # in place: out is our own array
    return cast("np.ndarray", out)


def log_softmax_forward(x: np.ndarray, dim: int) -> tuple[np.ndarray, tuple[Any, ...]]:
    r"""y_i = x_i - m - log sum_j e^{x_j - m} along ``dim``, with m = max_j x_j."""
    out = log_softmax(x, dim)
    return out, (out.copy(), dim)  # a copy: a later in-place module may overwrite out


def log_softmax_backward(dout: np.ndarray, cache: tuple[Any, ...]) -> np.ndarray:
    r"""dy_i/dx_j = [i = j] - softmax_j, so dL/dx = dL/dy - e^y * sum_i dL/dy_i."""
    out, dim = cache
    return cast("np.ndarray", dout - np.exp(out) * dout.sum(axis=dim, keepdims=True))
