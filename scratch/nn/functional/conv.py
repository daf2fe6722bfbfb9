r"""Convolution (Conv1d/2d/3d) and transposed convolution (ConvTranspose1d/2d/3d) as pure pairs.

Every function works for any number d of spatial dimensions: inputs are ``(N, C, *S)`` with
``S`` of length d, weights ``(C_out, C_in / groups, *K)``. ``padding`` is one ``(before, after)``
pair per spatial dimension (the modules turn ints, tuples, 'same' and 'valid' into pairs).

The engine is im2col in NCHW: a strided view of the padded input holds every window, and one copy
(``np.copyto``) lays the windows out as ``(N, groups, C_in/groups * prod(K), prod(P))`` matrices whose
contiguous runs are the last output axis; ONE batched matmul (batch axes N, groups) multiplies the weight,
as it is laid out, with them, and its result already is the output's (N, C_out, *P). The weight gradient is
one batched matmul of the same matrices with dL/dy, summed over N. The input gradient is, with stride 1,
one windowed GEMM of the padded dL/dy with the flipped, channel-transposed kernel (with zero padding only
where the input is, not on its padding), else col2im: one GEMM of dL/dy with the weight gives each window's
gradient, and one strided add per kernel offset folds them back (channels-last, where those adds are faster).
A transposed convolution's forward is exactly that input gradient, and its backward is the
convolution's forward and weight gradient, so the two share these functions. The big intermediate (the
im2col matrices) can be written into a caller's workspace: see ``conv_forward``.
"""

from __future__ import annotations

import itertools
import math
from typing import NamedTuple

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ...parallel import parallel_rows
from .padding import pad_array, unpad_array

__all__ = ["conv_backward", "conv_forward", "conv_transpose_backward", "conv_transpose_forward"]

Ints = tuple[int, ...]
Pairs = tuple[tuple[int, int], ...]

def _padded(x: np.ndarray, padding: Pairs = (), mode: str = "zeros") -> np.ndarray:
    """x (N, C, *S) padded by ``padding`` in ``mode`` (x itself without padding; a negative width crops):
    zeros and one copy of x into the interior, whose runs along the last axis are contiguous, by a range
    of samples per thread (the zeros come from the system's fresh pages: the copy page-faults them in)."""
    if not any(lo or hi for lo, hi in padding):
        return x
    if mode != "zeros" or any(lo < 0 or hi < 0 for lo, hi in padding):
        return pad_array(x, padding, mode)
    n, c, *size = x.shape
    xp = np.zeros((n, c, *(s + lo + hi for s, (lo, hi) in zip(size, padding))), dtype=x.dtype)
    interior = (slice(None), slice(None), *(slice(lo, lo + s) for s, (lo, _) in zip(size, padding)))

    def copy(start: int, stop: int) -> None:
        xp[start:stop][interior] = x[start:stop]

    parallel_rows(copy, n, xp[:1].size)
    return xp


def _fits(buffer: np.ndarray | None, shape: Ints, dtype: np.dtype) -> np.ndarray:
    """``buffer`` reshaped to ``shape`` when it holds exactly that many values of ``dtype`` (contiguous),
    else a new array: the workspace a module keeps between calls (see ``conv_forward``)."""
    if buffer is not None and buffer.dtype == dtype and buffer.size == math.prod(shape) and buffer.flags.c_contiguous:
        return buffer.reshape(shape)
    return np.empty(shape, dtype=dtype)


def _im2col(xp: np.ndarray, kernel: Ints, stride: Ints, dilation: Ints, groups: int,
            buffer: np.ndarray | None = None) -> tuple[np.ndarray, Ints]:
    """The im2col matrices (N, G, C_in/G * prod(K), prod(P)) of a padded input xp (N, C_in, *S): row (c, k),
    column p of sample n, group g hold xp[n, g C_in/G + c, p * stride + k * dilation]. Also returns P.
    One copy from a strided view (its contiguous runs are the last output axis), into ``buffer`` where it fits."""
    n, c, d = xp.shape[0], xp.shape[1], len(kernel)
    extent = tuple(dil * (k - 1) + 1 for k, dil in zip(kernel, dilation))
    view = sliding_window_view(xp, extent, axis=tuple(range(2, 2 + d)))  # (N, C, *P', *extent), no copy
    view = view[(slice(None), slice(None), *(slice(None, None, s) for s in stride),
                 *(slice(None, None, dil) for dil in dilation))]  # (N, C, *P, *K)
    out_size = view.shape[2:2 + d]
    cols = _fits(buffer, (n, c, *kernel, *out_size), xp.dtype)
    windows = view.transpose(0, 1, *range(2 + d, 2 + 2 * d), *range(2, 2 + d))

    def fill(start: int, stop: int) -> None:
        np.copyto(cols[start:stop], windows[start:stop])

    parallel_rows(fill, n, cols[:1].size)  # the big copy, a range of samples per thread
    return cols.reshape(n, groups, c // groups * math.prod(kernel), math.prod(out_size)), out_size


def _gemm(a: np.ndarray, b: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """np.matmul without floating-point warnings: inf * 0 gives NaN and sums overflow to inf silently, as in
    torch (NumPy warns from its own loops, taken for small matrices, and not from BLAS)."""
    with np.errstate(invalid="ignore", over="ignore"):
        return np.matmul(a, b, out=out)


def _weight_rows(weight: np.ndarray, groups: int) -> np.ndarray:
    """weight (C_out, Cg, *K) as the (G, C_out/G, Cg * prod(K)) matrices matching ``_im2col``'s rows (a view)."""
    return weight.reshape(groups, weight.shape[0] // groups, -1)


def _correlate(xp: np.ndarray, weight: np.ndarray, stride: Ints, dilation: Ints, groups: int,
               buffer: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    r"""y[n, o, p] = sum_{c in group(o), k} xp[n, c, p * stride + k * dilation] weight[o, c, k], no padding.

    ``xp`` is the input already padded, (N, C_in, *S). Returns y (N, C_out, *P) and the im2col matrices
    (N, G, C_in/G * prod(K), prod(P)), written into ``buffer`` where it fits. One batched GEMM (batch axes
    N, G) whose result is y's own layout.
    """
    cols, out_size = _im2col(xp, tuple(weight.shape[2:]), stride, dilation, groups, buffer)
    out = _gemm(_weight_rows(weight, groups), cols)  # (N, G, Og, P): the GEMM
    return out.reshape(xp.shape[0], weight.shape[0], *out_size), cols


def _weight_grad(cols: np.ndarray, dout: np.ndarray, weight_shape: Ints, groups: int) -> np.ndarray:
    r"""dL/dW[o, c, k] = sum_{n, p} dL/dy[n, o, p] xp[n, c, p * stride + k * dilation] = (sum_n cols_n dL/dy_n^T)^T.

    cols_n dy_n^T per sample, summed (measured 1.2-1.6x faster than dy_n cols_n^T), where the (N, G, Cg * K, Og)
    products take no more memory than cols; else (few output positions, many channels) one GEMM per group
    over all N * P positions, from copies of cols and dy in that layout."""
    n, c_out = dout.shape[:2]
    g_cols, p = cols.shape[2], math.prod(dout.shape[2:])
    rows = dout.reshape(n, groups, c_out // groups, p)  # (N, G, Og, P), a view
    if rows.shape[2] <= rows.shape[3]:
        dw = _gemm(cols, rows.swapaxes(-1, -2)).sum(axis=0)  # (G, Cg * K, Og)
    else:
        flat_cols = cols.transpose(1, 2, 0, 3).reshape(groups, g_cols, n * p)  # (G, Cg * K, N * P)
        dw = _gemm(flat_cols, rows.transpose(1, 0, 3, 2).reshape(groups, n * p, c_out // groups))
    return np.ascontiguousarray(dw.swapaxes(1, 2)).reshape(weight_shape)


def _correlate_transposed(dout: np.ndarray, weight: np.ndarray, stride: Ints, dilation: Ints, groups: int,
                          size: Ints, crop: Pairs = (), buffer: np.ndarray | None = None) -> np.ndarray:
    r"""The adjoint of ``_correlate`` in its input, less ``crop`` ((before, after) per spatial axis, none by
    default): dxp (N, C_in, *size) cropped, with

        dxp[n, c, q] = sum_{o, k: p * stride + k * dilation = q} dy[n, o, p] W[o, c, k]

    computed as col2im: one GEMM gives every window's gradient dcols[n, c, k, p] = sum_o W[o, c, k] dy[n, o, p],
    then each kernel offset k adds its slice into the positions q = p * stride + k * dilation (no zeros
    multiplied, whatever the stride). With stride 1, ``_full_correlation`` computes the same sums faster,
    and only inside the crop. ``buffer``: a workspace for the big intermediate, used where it fits.
    """
    n, c_out, *out_size = dout.shape
    _, c_group, *kernel = weight.shape
    crop = crop or tuple((0, 0) for _ in size)
    if all(s == 1 for s in stride):  # stride 1: im2col of the padded dy and one GEMM beat col2im's adds
        return _full_correlation(dout, weight, dilation, groups, size, crop, buffer)
    # channels-last here, one (N * P, C/G) slice per kernel offset: the strided adds then move runs of C values
    # from a contiguous slice (measured 2x faster than from the (N * P, K * C) rows of one GEMM, and NCHW's
    # runs along the last axis, each a stride apart, slower still); one batched GEMM (batch: G, K)
    positions, og, taps = n * math.prod(out_size), c_out // groups, math.prod(kernel)
    rows = np.ascontiguousarray(dout.reshape(n, groups, og, math.prod(out_size)).transpose(1, 0, 3, 2))
    w_taps = weight.reshape(groups, og, c_group, taps).transpose(0, 3, 1, 2)  # (G, K, Og, Cg)
    dcols = _fits(buffer, (groups, taps, positions, c_group), dout.dtype)
    _gemm(rows.reshape(groups, 1, positions, og), w_taps, dcols)  # (G, K, N * P, Cg)
    dcols = dcols.reshape(groups, taps, n, *out_size, c_group)
    dxl = np.zeros((n, *size, groups, c_group), dtype=dcols.dtype)
    targets = [tuple(slice(o * dil, o * dil + (p - 1) * s + 1, s)
                     for o, dil, p, s in zip(offset, dilation, out_size, stride))
               for offset in itertools.product(*(range(k) for k in kernel))]

    def fold(start: int, stop: int) -> None:  # samples [start, stop): each offset's adds, in the offsets' order
        for i, target in enumerate(targets):  # a loop over the prod(K) kernel offsets (9 for 3x3)
            dxl[(slice(start, stop), *target)] += np.moveaxis(dcols[:, i, start:stop], 0, -2)

    parallel_rows(fold, n, dcols[:, :, :1].size)  # a range of samples per thread
    dxp = np.moveaxis(dxl.reshape(n, *size, groups * c_group), -1, 1)
    return np.ascontiguousarray(unpad_array(dxp, crop, "zeros"))


def _full_correlation(dout: np.ndarray, weight: np.ndarray, dilation: Ints, groups: int, size: Ints, crop: Pairs,
                      buffer: np.ndarray | None) -> np.ndarray:
    r"""``_correlate_transposed`` for stride 1: dxp[n, c, q] = sum_{o, k'} u[n, o, q + k' dilation] W[o, c, K - 1 - k'],
    u being dy padded by dilation (K - 1) before and up to the input's size after: a correlation of u
    with the flipped kernel whose channel axes are swapped. Only q inside the crop are computed: u is
    padded by ``lo`` less before (a negative width crops) and ends where the crop's last window does."""
    c_out, c_group, *kernel = weight.shape
    d = len(kernel)
    pairs = tuple((dil * (k - 1) - lo, full - hi - p)
                  for dil, k, p, full, (lo, hi) in zip(dilation, kernel, dout.shape[2:], size, crop))
    flipped = weight.reshape(groups, c_out // groups, c_group, *kernel).swapaxes(1, 2)
    flipped = flipped[(Ellipsis,) + (slice(None, None, -1),) * d].reshape(groups * c_group, c_out // groups, *kernel)
    dxp, _ = _correlate(_padded(dout, pairs), flipped, (1,) * d, dilation, groups, buffer)
    return dxp


def _add_bias(out: np.ndarray, bias: np.ndarray) -> None:
    """out[n, o, p] += b[o] in place, by a range of samples per thread (a pass over the output, ~0.8 ms
    serially for 32 x 64 x 32 x 32 float32): elementwise, the same bits whatever the split."""
    column = bias.reshape(-1, *(1,) * (out.ndim - 2))

    def add(start: int, stop: int) -> None:
        out[start:stop] += column

    parallel_rows(add, out.shape[0], out[:1].size)


class ConvCache(NamedTuple):
    """What ``conv_backward`` needs from ``conv_forward``: the im2col matrix, the weight and the options."""

    cols: np.ndarray  #: the im2col matrices of the padded input, (N, groups, C_in/groups * prod(K), prod(P))
    padded_shape: Ints  #: the padded input's shape, (N, C_in, *S_padded)
    weight: np.ndarray
    has_bias: bool
    stride: Ints
    padding: Pairs
    dilation: Ints
    groups: int
    padding_mode: str


def conv_forward(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None, stride: Ints, padding: Pairs,
                 dilation: Ints, groups: int, padding_mode: str = "zeros",
                 workspace: np.ndarray | None = None) -> tuple[np.ndarray, ConvCache]:
    r"""Cross-correlation, as torch's conv1d / conv2d / conv3d:

        y[n, o, p] = b[o] + sum_{c in group(o)} sum_k xp[n, c, p * stride + k * dilation] W[o, c - g(o) C_in/G, k]

    with xp the input padded by ``padding`` (``padding_mode``), p and k multi-indices over the d
    spatial axes, and P_i = floor((S_i + pad_i - dilation_i (K_i - 1) - 1) / stride_i) + 1.

    Shape: x (N, C_in, *S), weight (C_out, C_in / groups, *K), bias (C_out,) or None -> y (N, C_out, *P).

    ``workspace``: an array the im2col matrices (the cache's ``cols``) are written into when it holds exactly
    as many values of x's dtype, instead of a new array (a module passes the one its last backward used up:
    a buffer above malloc's mmap threshold would be mapped and page-faulted afresh at every call).
    """
    xp = _padded(x, padding, padding_mode)  # (N, C_in, *S_padded)
    out, cols = _correlate(xp, weight, stride, dilation, groups, workspace)
    if bias is not None:
        _add_bias(out, bias)
    padded_shape = xp.shape
    return out, ConvCache(cols, padded_shape, weight, bias is not None, stride, padding, dilation, groups, padding_mode)


def conv_backward(dout: np.ndarray, cache: ConvCache,
                  reuse_cols: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    r"""Gradients of ``conv_forward`` with g = dL/dy:

        dL/dW[o, c, k] = sum_{n, p} g[n, o, p] xp[n, c, p * stride + k * dilation]   (cols^T g, one GEMM)
        dL/dxp[n, c, q] = sum_{o, p, k: p * stride + k * dilation = q} g[n, o, p] W[o, c, k]
                        (col2im: one GEMM, then one strided add per kernel offset)
        dL/dx = dL/dxp with the padding's contributions folded back (``unpad_array``: padding.py); with
                zero padding only the interior of dL/dxp is computed
        dL/db[o] = sum_{n, p} g[n, o, p]

    ``reuse_cols``: the cache is used up, so the input gradient may overwrite ``cache.cols`` with its own
    intermediate where it fits (a module's backward, which runs once per forward); the default leaves it.

    Shape: dout (N, C_out, *P) -> dx (N, C_in, *S), dW like W, db (C_out,) or None.
    """
    weight, groups = cache.weight, cache.groups
    dweight = _weight_grad(cache.cols, dout, weight.shape, groups)
    zeros = cache.padding_mode == "zeros"
    dx = _correlate_transposed(dout, weight, cache.stride, cache.dilation, groups, cache.padded_shape[2:],
                               cache.padding if zeros else (), cache.cols if reuse_cols else None)
    if not zeros:
        dx = np.ascontiguousarray(unpad_array(dx, cache.padding, cache.padding_mode))
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
    out = _correlate_transposed(x, weight, stride, dilation, groups, full, pairs)
    if bias is not None:
        _add_bias(out, bias)
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
    gp = _padded(dout, cache.pairs)[(slice(None), slice(None), *used)]
    dx, cols = _correlate(gp, weight, stride, dilation, groups)
    dweight = _weight_grad(cols, x, weight.shape, groups)
    dbias = dout.sum(axis=(0, *range(2, dout.ndim))) if cache.has_bias else None
    return dx, dweight, dbias
