"""The affine and bilinear ops as pure ``op_forward -> (out, cache)`` / ``op_backward(dout, cache)`` pairs."""

from __future__ import annotations

import math
from typing import Any, Literal, overload

import numpy as np

__all__ = ["bilinear_backward", "bilinear_forward", "linear_backward", "linear_forward"]


def linear_forward(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None) -> tuple[np.ndarray, tuple[Any, ...]]:
    r"""y = x W^T + b.

    Shapes: x (*, H_in), weight (H_out, H_in), bias (H_out,) or None -> y (*, H_out).
    """
    # one 2-D GEMM over every leading index: NumPy's stacked matmul of an (N, L, H_in) input by a 2-D weight
    # runs without BLAS, an order of magnitude slower; a 2-D x is that matrix already (its reshapes would be
    # views of the same strides: skipped, for their call overhead on small inputs)
    if x.ndim == 2:
        out = x @ weight.T
    else:
        out = (x.reshape(math.prod(x.shape[:-1]), x.shape[-1]) @ weight.T).reshape(*x.shape[:-1], weight.shape[0])
    if bias is not None:
        out += bias
    return out, (x, weight, bias is not None)


@overload
def linear_backward(dout: np.ndarray, cache: tuple[Any, ...],
                    input_grad: Literal[True] = True) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]: ...


@overload
def linear_backward(dout: np.ndarray, cache: tuple[Any, ...],
                    input_grad: bool) -> tuple[np.ndarray | None, np.ndarray, np.ndarray | None]: ...


def linear_backward(dout: np.ndarray, cache: tuple[Any, ...],
                    input_grad: bool = True) -> tuple[np.ndarray | None, np.ndarray, np.ndarray | None]:
    r"""Gradients of y = x W^T + b, summed over every leading (batch) index n:

        dL/dx = dL/dy W                      (*, H_in)       -- None when ``input_grad`` is False
        dL/dW = sum_n dL/dy_n^T x_n          (H_out, H_in)   -- the delta rule: delta times input
        dL/db = sum_n dL/dy_n                (H_out,)
    """
    x, weight, has_bias = cache
    if dout.ndim == 2 and x.ndim == 2:  # the matrices already (as in forward: no reshapes, the same products)
        dx = dout @ weight if input_grad else None
        dweight = dout.T @ x
    else:
        batch = math.prod(dout.shape[:-1])  # not -1: reshape cannot infer it when a feature size is 0
        dout_2d = dout.reshape(batch, weight.shape[0])
        dx = (dout_2d @ weight).reshape(*dout.shape[:-1], weight.shape[1]) if input_grad else None  # 2-D, as forward
        dweight = dout_2d.T @ x.reshape(batch, weight.shape[1])
        dout = dout_2d
    dbias = np.add.reduce(dout, axis=0) if has_bias else None  # dout.sum(axis=0), without its Python wrapper
    return dx, dweight, dbias


def bilinear_forward(x1: np.ndarray, x2: np.ndarray, weight: np.ndarray,
                     bias: np.ndarray | None) -> tuple[np.ndarray, tuple[Any, ...]]:
    r"""y_o = x1^T A_o x2 + b_o = sum_ij x1_i A_oij x2_j + b_o, for every leading index.

    Computed as two matrix products: t = x1 A (B, O, J), then y_o = t_o . x2.

    Shapes: x1 (*, H_in1), x2 (*, H_in2), weight (H_out, H_in1, H_in2), bias (H_out,) or None -> y (*, H_out).
    """
    n_out, n_in1, n_in2 = weight.shape
    lead = x1.shape[:-1]
    batch = math.prod(lead)
    a, b = x1.reshape(batch, n_in1), x2.reshape(batch, n_in2)
    t = (a @ weight.transpose(1, 0, 2).reshape(n_in1, n_out * n_in2)).reshape(batch, n_out, n_in2)
    out = (t @ b[:, :, None])[..., 0]
    if bias is not None:
        out += bias
    return out.reshape(*lead, n_out), (a, b, t, weight, bias is not None, lead)


def bilinear_backward(dout: np.ndarray, cache: tuple[Any, ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                      np.ndarray | None]:
    r"""Gradients of y_o = x1^T A_o x2 + b_o, summed over every leading index n:

        dL/dx1_i = sum_o dy_o (A_o x2)_i        dL/dx2_j = sum_o dy_o (x1^T A_o)_j
        dL/dA_oij = sum_n dy_no x1_ni x2_nj    dL/db_o = sum_n dy_no
    """
    a, b, t, weight, has_bias, lead = cache
    n_out, n_in1, n_in2 = weight.shape
    batch = a.shape[0]
    g = dout.reshape(batch, n_out)
    u = (b @ weight.transpose(2, 0, 1).reshape(n_in2, n_out * n_in1)).reshape(batch, n_out, n_in1)  # A_o x2
    dx1 = (g[:, None, :] @ u)[:, 0, :]
    dx2 = (g[:, None, :] @ t)[:, 0, :]
    dweight = (g.T @ (a[:, :, None] * b[:, None, :]).reshape(batch, n_in1 * n_in2)).reshape(weight.shape)
    dbias = g.sum(axis=0) if has_bias else None
    return dx1.reshape(*lead, n_in1), dx2.reshape(*lead, n_in2), dweight, dbias
