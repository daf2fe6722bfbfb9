r"""Convolution (Conv1d/2d/3d) and transposed convolution (ConvTranspose1d/2d/3d) as pure pairs.

Every function works for any number d of spatial dimensions: inputs are ``(N, C, *S)`` with
``S`` of length d, weights ``(C_out, C_in / groups, *K)``. ``padding`` is one ``(before, after)``
pair per spatial dimension (the modules turn ints, tuples, 'same' and 'valid' into pairs).

The engine is im2col: the (padded) input is copied channels-last, a strided view of it holds every
window, one copy lays the windows out as a ``(groups, N * P, prod(K) * C_in/groups)`` matrix, and ONE
batched matmul (the group axis is the batch axis) multiplies it with the weight. The weight gradient
is one matmul of the same matrix with dL/dy, and the input gradient is col2im: one matmul of dL/dy
with the weight gives each window's gradient, and one strided add per kernel offset folds them back
(with stride 1: one windowed GEMM of the padded dL/dy with the flipped, channel-transposed kernel).
A transposed convolution's forward is exactly that input gradient, and its backward is the
convolution's forward and weight gradient, so the two share these functions.
"""

from __future__ import annotations

import itertools
import math
from typing import NamedTuple

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .padding import pad_array, unpad_array

__all__ = ["conv_backward", "conv_forward", "conv_transpose_backward", "conv_transpose_forward"]

Ints = tuple[int, ...]
Pairs = tuple[tuple[int, int], ...]

def _channels_last(x: np.ndarray, padding: Pairs = (), mode: str = "zeros") -> np.ndarray:
    """x (N, C, *S) padded by ``padding`` and copied to (N, *S_padded, C), contiguous: im2col then copies
    runs of C contiguous values instead of gathering single elements (about 3x faster)."""
    if mode != "zeros" or not any(lo or hi for lo, hi in padding):
        return np.ascontiguousarray(np.moveaxis(pad_array(x, padding, mode) if padding else x, 1, -1))
    n, c, *size = x.shape
    xl = np.zeros((n, *(s + lo + hi for s, (lo, hi) in zip(size, padding)), c), dtype=x.dtype)
    xl[(slice(None), *(slice(lo, lo + s) for s, (lo, _) in zip(size, padding)))] = np.moveaxis(x, 1, -1)
    return xl  # the zero padding and the transpose in one copy


def _im2col(xl: np.ndarray, kernel: Ints, stride: Ints, dilation: Ints, groups: int) -> tuple[np.ndarray, Ints]:
    """The im2col matrix (G, N * prod(P), prod(K) * C_in/G) of a channels-last input xl (N, *S, C_in):
    row (n, p), column (k, c) holds xl[n, p * stride + k * dilation, c] of group g. Also returns P."""
    n, d, c_group = xl.shape[0], len(kernel), xl.shape[-1] // groups
    extent = tuple(dil * (k - 1) + 1 for k, dil in zip(kernel, dilation))
    view = sliding_window_view(xl, extent, axis=tuple(range(1, 1 + d)))  # (N, *P', C, *extent), no copy
    view = view[(slice(None), *(slice(None, None, s) for s in stride), slice(None),
                 *(slice(None, None, dil) for dil in dilation))]  # (N, *P, C, *K)
    out_size = view.shape[1:1 + d]
    view = view.reshape(n, *out_size, groups, c_group, *kernel)  # (N, *P, G, Cg, *K)
    order = (1 + d, 0, *range(1, 1 + d), *range(3 + d, 3 + 2 * d), 2 + d)  # (G, N, *P, *K, Cg)
    return view.transpose(order).reshape(groups, n * math.prod(out_size), math.prod(kernel) * c_group), out_size


def _weight_cols(weight: np.ndarray, groups: int) -> np.ndarray:
    """weight (C_out, Cg, *K) as the (G, prod(K) * Cg, C_out/G) matrix matching ``_im2col``'s columns."""
    c_out, c_group, *kernel = weight.shape
    d = len(kernel)
    w = weight.reshape(groups, c_out // groups, c_group, *kernel)
    return w.transpose(0, *range(3, 3 + d), 2, 1).reshape(groups, math.prod(kernel) * c_group, c_out // groups)


def _rows(y: np.ndarray, groups: int) -> np.ndarray:
    """y (N, C, *P) as (G, N * prod(P), C/G): the GEMM layout of an output or its gradient."""
    n, c, *size = y.shape
    grouped = y.reshape(n, groups, c // groups, math.prod(size))
    return grouped.transpose(1, 0, 3, 2).reshape(groups, n * math.prod(size), c // groups)


def _correlate(xl: np.ndarray, weight: np.ndarray, stride: Ints, dilation: Ints,
               groups: int) -> tuple[np.ndarray, np.ndarray]:
    r"""y[n, o, p] = sum_{c in group(o), k} xl[n, p * stride + k * dilation, c] weight[o, c, k], no padding.

    ``xl`` is the input already padded and channels-last, (N, *S, C_in): the caller makes it with
    ``_channels_last``. Returns y (N, C_out, *P) and the im2col matrix (groups, N * prod(P), prod(K) * C_in/groups).
    """
    n = xl.shape[0]
    c_out, _, *kernel = weight.shape
    cols, out_size = _im2col(xl, tuple(kernel), stride, dilation, groups)
    out = cols @ _weight_cols(weight, groups)  # (G, N * P, Og): the one GEMM
    out = out.reshape(groups, n, math.prod(out_size), c_out // groups).transpose(1, 0, 3, 2)
    return np.ascontiguousarray(out).reshape(n, c_out, *out_size), cols


def _weight_grad(cols: np.ndarray, dout: np.ndarray, weight_shape: Ints, groups: int) -> np.ndarray:
    r"""dL/dW[o, c, k] = sum_{n, p} dL/dy[n, o, p] xp[n, c, p * stride + k * dilation] = cols^T dL/dy, per group."""
    c_out, c_group, *kernel = weight_shape
    d = len(kernel)
    dw = cols.transpose(0, 2, 1) @ _rows(dout, groups)  # (G, K * Cg, Og): a transposed view fed to matmul
    dw = dw.reshape(groups, *kernel, c_group, c_out // groups)
    return np.ascontiguousarray(dw.transpose(0, 2 + d, 1 + d, *range(1, 1 + d))).reshape(weight_shape)


def _correlate_transposed(dout: np.ndarray, weight: np.ndarray, stride: Ints, dilation: Ints, groups: int,
                          size: Ints) -> np.ndarray:
    r"""The adjoint of ``_correlate`` in its input: dxp (N, C_in, *size) with

        dxp[n, c, q] = sum_{o, k: p * stride + k * dilation = q} dy[n, o, p] W[o, c, k]

    computed as col2im: one GEMM gives every window's gradient dcols[n, p, k, c] = sum_o dy[n, o, p] W[o, c, k],
    then each kernel offset k adds its slice into the positions q = p * stride + k * dilation (no zeros
    multiplied, whatever the stride). With stride 1, ``_full_correlation`` computes the same sums faster.
    """
    n, _, *out_size = dout.shape
    _, c_group, *kernel = weight.shape
    if all(s == 1 for s in stride):  # stride 1: im2col of the padded dy and one GEMM beat col2im's adds
        return _full_correlation(dout, weight, dilation, groups, size)
    dcols = _rows(dout, groups) @ _weight_cols(weight, groups).transpose(0, 2, 1)  # (G, N * P, K * Cg)
    dcols = dcols.reshape(groups, n, *out_size, math.prod(kernel), c_group)
    dxl = np.zeros((n, *size, groups, c_group), dtype=dcols.dtype)
    # a loop over the prod(K) kernel offsets (9 for 3x3), each adding a whole (N, *P, C) slice
    for i, offset in enumerate(itertools.product(*(range(k) for k in kernel))):
        target = tuple(slice(o * dil, o * dil + (p - 1) * s + 1, s)
                       for o, dil, p, s in zip(offset, dilation, out_size, stride))
        dxl[(slice(None), *target)] += np.moveaxis(dcols[..., i, :], 0, -2)
    return np.moveaxis(dxl.reshape(n, *size, groups * c_group), -1, 1)


def _full_correlation(dout: np.ndarray, weight: np.ndarray, dilation: Ints, groups: int, size: Ints) -> np.ndarray:
    r"""``_correlate_transposed`` for stride 1: dxp[n, c, q] = sum_{o, k'} u[n, o, q + k' dilation] W[o, c, K - 1 - k'],
    u being dy padded by dilation (K - 1) before and up to the input's size after: a correlation of u
    with the flipped kernel whose channel axes are swapped."""
    c_out, c_group, *kernel = weight.shape
    d = len(kernel)
    pairs = tuple((dil * (k - 1), full - p) for dil, k, p, full in zip(dilation, kernel, dout.shape[2:], size))
    flipped = weight.reshape(groups, c_out // groups, c_group, *kernel).swapaxes(1, 2)
    flipped = flipped[(Ellipsis,) + (slice(None, None, -1),) * d].reshape(groups * c_group, c_out // groups, *kernel)
    dxp, _ = _correlate(_channels_last(dout, pairs), flipped, (1,) * d, dilation, groups)
    return dxp


class ConvCache(NamedTuple):
    """What ``conv_backward`` needs from ``conv_forward``: the im2col matrix, the weight and the options."""

    cols: np.ndarray  #: the im2col matrix of the padded input, (groups, N * prod(P), prod(K) * C_in/groups)
    padded_shape: Ints  #: the padded input's shape, (N, C_in, *S_padded)
    weight: np.ndarray
    has_bias: bool
    stride: Ints
    padding: Pairs
    dilation: Ints
    groups: int
    padding_mode: str


def conv_forward(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None, stride: Ints, padding: Pairs,
                 dilation: Ints, groups: int, padding_mode: str = "zeros") -> tuple[np.ndarray, ConvCache]:
    r"""Cross-correlation, as torch's conv1d / conv2d / conv3d:

        y[n, o, p] = b[o] + sum_{c in group(o)} sum_k xp[n, c, p * stride + k * dilation] W[o, c - g(o) C_in/G, k]

    with xp the input padded by ``padding`` (``padding_mode``), p and k multi-indices over the d
    spatial axes, and P_i = floor((S_i + pad_i - dilation_i (K_i - 1) - 1) / stride_i) + 1.

    Shape: x (N, C_in, *S), weight (C_out, C_in / groups, *K), bias (C_out,) or None -> y (N, C_out, *P).
    """
    xl = _channels_last(x, padding, padding_mode)  # padded, (N, *S_padded, C_in)
    out, cols = _correlate(xl, weight, stride, dilation, groups)
    if bias is not None:
        out += bias.reshape(-1, *(1,) * len(stride))
    padded_shape = (*x.shape[:2], *xl.shape[1:-1])
    return out, ConvCache(cols, padded_shape, weight, bias is not None, stride, padding, dilation, groups, padding_mode)


def conv_backward(dout: np.ndarray, cache: ConvCache) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    r"""Gradients of ``conv_forward`` with g = dL/dy:

        dL/dW[o, c, k] = sum_{n, p} g[n, o, p] xp[n, c, p * stride + k * dilation]   (cols^T g, one GEMM)
        dL/dxp[n, c, q] = sum_{o, p, k: p * stride + k * dilation = q} g[n, o, p] W[o, c, k]
                        (col2im: one GEMM, then one strided add per kernel offset)
        dL/dx = dL/dxp with the padding's contributions folded back (``unpad_array``: padding.py)
        dL/db[o] = sum_{n, p} g[n, o, p]

    Shape: dout (N, C_out, *P) -> dx (N, C_in, *S), dW like W, db (C_out,) or None.
    """
    weight, groups = cache.weight, cache.groups
    dweight = _weight_grad(cache.cols, dout, weight.shape, groups)
    dxp = _correlate_transposed(dout, weight, cache.stride, cache.dilation, groups, cache.padded_shape[2:])
    dx = np.ascontiguousarray(unpad_array(dxp, cache.padding, cache.padding_mode))
    dbias = dout.sum(axis=(0, *range(2, dout.ndim))) if cache.has_bias else None
    return dx, dweight, dbias


class ConvTransposeCache(NamedTuple):
    """What ``conv_transpose_backward`` needs from ``conv_transpose_forward``: the input, the weight and the options."""

    x: np.ndarray
    weight: np.ndarray
    has_bias: bool
    stride: Ints
    pairs: Pairs  #: ``padding`` as (before, after) pairs: the crop of the full output on each side
    dilation: Ints
    groups: int


def conv_transpose_forward(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None, stride: Ints, padding: Ints,
                           output_padding: Ints, dilation: Ints,
                           groups: int) -> tuple[np.ndarray, ConvTransposeCache]:
    r"""Transposed convolution, as torch's conv_transpose1d / 2d / 3d: the input gradient of a convolution
    (``weight`` (C_in, C_out / groups, *K) in that convolution's (out, in / groups) layout):

        full[n, o, q] = sum_{c, p, k: p * stride + k * dilation = q} x[n, c, p] W[c, o - g(c) C_out/G, k]
        y = full cropped by ``padding`` on both sides, plus b[o]

    with full of size (S - 1) stride + dilation (K - 1) + 1 + output_padding, so
    P = (S - 1) stride - 2 padding + dilation (K - 1) + output_padding + 1.

    Shape: x (N, C_in, *S), weight (C_in, C_out / groups, *K), bias (C_out,) or None -> y (N, C_out, *P).
    """
    full = tuple((s_in - 1) * s + dil * (k - 1) + 1 + op
                 for s_in, s, dil, k, op in zip(x.shape[2:], stride, dilation, weight.shape[2:], output_padding))
    pairs = tuple((p, p) for p in padding)
    out = unpad_array(_correlate_transposed(x, weight, stride, dilation, groups, full), pairs, "zeros")
    out = np.ascontiguousarray(out)
    if bias is not None:
        out += bias.reshape(-1, *(1,) * len(stride))
    return out, ConvTransposeCache(x, weight, bias is not None, stride, pairs, dilation, groups)


def conv_transpose_backward(dout: np.ndarray,
                            cache: ConvTransposeCache) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    r"""Gradients of ``conv_transpose_forward`` with g = dL/dy: the forward is y = crop(A^T x), with A
    the convolution whose input gradient it computes, so with gp = g zero-padded back to the full size

        dL/dx = A gp:  dL/dx[n, c, p] = sum_{o, k} gp[n, o, p * stride + k * dilation] W[c, o, k]  (conv forward)
        dL/dW[c, o, k] = sum_{n, p} x[n, c, p] gp[n, o, p * stride + k * dilation]              (conv weight grad)
        dL/db[o] = sum_{n, q} g[n, o, q]

    Shape: dout (N, C_out, *P) -> dx (N, C_in, *S), dW like W, db (C_out,) or None.
    """
    x, weight, stride, dilation, groups = cache.x, cache.weight, cache.stride, cache.dilation, cache.groups
    # the last output_padding rows of the full output are read by no window of A that lands on x
    # (torch allows output_padding < dilation even when >= stride): keep just what A reads
    used = tuple(slice(0, (s_in - 1) * s + dil * (k - 1) + 1)
                 for s_in, s, dil, k in zip(x.shape[2:], stride, dilation, weight.shape[2:]))
    gp = pad_array(dout, cache.pairs, "zeros")[(slice(None), slice(None), *used)]
    dx, cols = _correlate(_channels_last(gp), weight, stride, dilation, groups)
    dweight = _weight_grad(cols, x, weight.shape, groups)
    dbias = dout.sum(axis=(0, *range(2, dout.ndim))) if cache.has_bias else None
    return dx, dweight, dbias
