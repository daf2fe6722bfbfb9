"""The affine op as a pure ``op_forward -> (out, cache)`` / ``op_backward(dout, cache)`` pair."""

from __future__ import annotations

import math

import numpy as np

__all__ = ["linear_backward", "linear_forward"]


def linear_forward(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None) -> tuple[np.ndarray, tuple]:
    r"""y = x W^T + b.

    Shapes: x (*, H_in), weight (H_out, H_in), bias (H_out,) or None -> y (*, H_out).
    """
    # one 2-D GEMM over every leading index: NumPy's stacked matmul of an (N, L, H_in) input by a 2-D weight
    # runs without BLAS, an order of magnitude slower
    out = (x.reshape(math.prod(x.shape[:-1]), x.shape[-1]) @ weight.T).reshape(*x.shape[:-1], weight.shape[0])
    if bias is not None:
        out += bias
    return out, (x, weight, bias is not None)


def linear_backward(dout: np.ndarray, cache: tuple) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    r"""Gradients of y = x W^T + b, summed over every leading (batch) index n:

        dL/dx = dL/dy W                      (*, H_in)
        dL/dW = sum_n dL/dy_n^T x_n          (H_out, H_in)   -- the delta rule: delta times input
        dL/db = sum_n dL/dy_n                (H_out,)
    """
    x, weight, has_bias = cache
    batch = math.prod(dout.shape[:-1])  # not -1: reshape cannot infer it when a feature size is 0
    dout_2d = dout.reshape(batch, weight.shape[0])
    dx = (dout_2d @ weight).reshape(*dout.shape[:-1], weight.shape[1])  # 2-D, as in the forward
    dweight = dout_2d.T @ x.reshape(batch, weight.shape[1])
    dbias = dout_2d.sum(axis=0) if has_bias else None
    return dx, dweight, dbias
