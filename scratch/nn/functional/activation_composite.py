"""Activations composed of others: LogSigmoid, Tanhshrink, Softmin, Softmax2d and GLU, as pure
``op_forward -> (out, cache)`` / ``op_backward(dout, cache)`` pairs.

LogSigmoid and Tanhshrink are elementwise; Softmin and Softmax2d act along a dim (softmax of -x, and
softmax over the channels dim -3); GLU halves its input along ``dim``.
"""

from __future__ import annotations

from typing import Any, cast

import numpy as np

from .activation import _one_minus_square
from .softmax import softmax_backward, softmax_forward

__all__ = [
    "glu_backward", "glu_forward", "logsigmoid_backward", "logsigmoid_forward", "softmax2d_backward",
    "softmax2d_forward", "softmin_backward", "softmin_forward", "tanhshrink_backward", "tanhshrink_forward",
]


# ------------------------------------------------------------------------------------------ LogSigmoid
def logsigmoid_forward(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r"""y = log sigma(x) = min(x, 0) - log(1 + e^{-|x|}) (torch's stable form: no overflow for any x).

    Shape: x (*) -> y (*)."""
    with np.errstate(under="ignore"):  # e^{-|x|} = 0 for large |x| is the exact limit
        return np.minimum(x, 0) - np.log1p(np.exp(-np.abs(x))), x


def logsigmoid_backward(dout: np.ndarray, x: np.ndarray) -> np.ndarray:
    r"""dL/dx = dL/dy (1 - sigma(x)) = dL/dy sigma(-x), as torch's kernel: with z = e^{-|x|},
    dL/dy (1 - z / (1 + z)) where x < 0 and dL/dy z / (1 + z) where x >= 0 (1/2 dL/dy at 0)."""
    with np.errstate(under="ignore"):
        z = np.exp(-np.abs(x))
    ratio = z / (1 + z)
    return cast("np.ndarray", dout * np.where(x < 0, 1 - ratio, ratio))


# ------------------------------------------------------------------------------------------ Tanhshrink
def tanhshrink_forward(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r"""y = x - tanh(x). Shape: x (*) -> y (*). The cache is t = tanh(x)."""
    t = np.tanh(x)
    return x - t, t


def tanhshrink_backward(dout: np.ndarray, t: np.ndarray) -> np.ndarray:
    r"""dL/dx = dL/dy - dL/dy (1 - t^2) (= dL/dy t^2), rounded as torch's autograd through x - tanh(x):
    tanh's backward, 1 - t^2 rounded once (``_one_minus_square``), subtracted from dL/dy."""
    return cast("np.ndarray", dout - dout * _one_minus_square(t))


# ------------------------------------------------------------------------------------ Softmin, Softmax2d
def softmin_forward(x: np.ndarray, dim: int) -> tuple[np.ndarray, tuple[Any, ...]]:
    r"""y_i = e^{-x_i} / sum_j e^{-x_j} along ``dim``: the softmax of -x.

    Shape: x (*) -> y (*), each slice along ``dim`` summing to 1."""
    return softmax_forward(-x, dim)


def softmin_backward(dout: np.ndarray, cache: tuple[Any, ...]) -> np.ndarray:
    r"""dL/dx = -y * (dL/dy - sum_j dL/dy_j y_j): the softmax gradient, negated by the chain rule through -x."""
    return -softmax_backward(dout, cache)


def softmax2d_forward(x: np.ndarray) -> tuple[np.ndarray, tuple[Any, ...]]:
    r"""Softmax over the channels at every location: dim -3 of a (N, C, H, W) or unbatched (C, H, W) input.

    Shape: x (N, C, H, W) or (C, H, W) -> y, the same; the caller checks the rank (as Softmax2d does)."""
    return softmax_forward(x, -3)


def softmax2d_backward(dout: np.ndarray, cache: tuple[Any, ...]) -> np.ndarray:
    r"""dL/dx = y * (dL/dy - sum_c dL/dy_c y_c) over the channels dim -3."""
    return softmax_backward(dout, cache)


# ------------------------------------------------------------------------------------------------- GLU
def glu_forward(x: np.ndarray, dim: int = -1) -> tuple[np.ndarray, tuple[Any, ...]]:
    r"""y = a * sigma(b), where a and b are the first and second halves of x along ``dim``.

    Shape: x (*_1, 2M, *_2) -> y (*_1, M, *_2). ``dim`` must be valid and x's size along it even
    (the caller checks, as GLU does)."""
    a, b = np.split(x, 2, axis=dim)
    with np.errstate(over="ignore"):  # e^{-b} = inf for very negative b gives sigma = 0, the exact limit
        gate = 1 / (1 + np.exp(-b))
    return a * gate, (a, gate, dim)


def glu_backward(dout: np.ndarray, cache: tuple[Any, ...]) -> np.ndarray:
    r"""dL/da = dL/dy sigma(b);  dL/db = dL/dy a sigma(b) (1 - sigma(b)); dL/dx is the two halves joined
    along ``dim``."""
    a, gate, dim = cache
    return np.concatenate([dout * gate, dout * a * (1 - gate) * gate], axis=dim)
