r"""Pooling: MaxPool1d, MaxPool2d, AvgPool2d, AdaptiveAvgPool2d: pure forward/backward pairs.

Every op works on the last one or two axes of an input of any leading shape (batch and channels are
flattened into B independent planes). Windows are strided views (``sliding_window_view``), never a
Python loop over planes or output pixels; backward is a scatter-add (``np.add.at``) in the order torch
accumulates, so overlapping windows round the same way.

Sizes along one spatial axis of length L, kernel k, stride s, padding p, dilation d (torch's
``pooling_output_shape``):

    L_out = floor_or_ceil((L + 2p - d (k - 1) - 1) / s) + 1,
    and with ceil_mode, L_out -= 1 when (L_out - 1) s >= L + p (the last window must start inside the
    input or the left padding).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

__all__ = [
    "adaptive_avg_pool2d_backward", "adaptive_avg_pool2d_forward", "avg_pool2d_backward", "avg_pool2d_forward",
    "max_pool1d_backward", "max_pool1d_forward", "max_pool2d_backward", "max_pool2d_forward", "pool_output_size",
]


def ntuple(value: Any, n: int, name: str, owner: str) -> tuple[int, ...]:
    """``value`` as a tuple of ``n`` ints (an int is repeated), or a ValueError naming ``owner``."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return (int(value),) * n
    if isinstance(value, (tuple, list)) and len(value) == 1 and n > 1:  # torch accepts a 1-tuple too
        return ntuple(value[0], n, name, owner)
    if isinstance(value, (tuple, list)) and len(value) == n and all(isinstance(v, (int, np.integer)) for v in value):
        return tuple(int(v) for v in value)
    raise ValueError(f"{owner}: {name} must be an int or a tuple of {n} ints, got {value!r}")


def check_pool_args(owner: str, kernel: tuple, stride: tuple, padding: tuple, dilation: tuple) -> None:
    """Torch's hyperparameter checks (it raises them on the first call; scratch also at construction)."""
    if min(kernel) <= 0:
        raise ValueError(f"{owner}: kernel_size must be greater than zero, but got {kernel}")
    if min(stride) <= 0:
        raise ValueError(f"{owner}: stride should be greater than zero, but got {stride}")
    if min(dilation) <= 0:
        raise ValueError(f"{owner}: dilation should be greater than zero, but got {dilation}")
    if min(padding) < 0:
        raise ValueError(f"{owner}: pad must be non-negative, but got pad: {padding}")
    if any(p > k // 2 for p, k in zip(padding, kernel)):  # torch: half of the kernel, whatever the dilation
        raise ValueError(f"{owner}: pad should be at most half of kernel size, but got pad={padding}, "
                         f"kernel_size={kernel} and dilation={dilation}")


def pool_output_size(size: int, kernel: int, stride: int, pad: int, dilation: int, ceil_mode: bool) -> int:
    """Torch's ``pooling_output_shape`` along one axis (see the module docstring)."""
    span = size + 2 * pad - dilation * (kernel - 1) - 1 + (stride - 1 if ceil_mode else 0)
    out = span // stride + 1
    if ceil_mode and (out - 1) * stride >= size + pad:
        out -= 1
    return out


def _geometry(owner: str, shape: tuple, kernel: tuple, stride: tuple, padding: tuple, dilation: tuple,
              ceil_mode: bool) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Output sizes and the extra right padding that ceil_mode's last windows reach into."""
    check_pool_args(owner, kernel, stride, padding, dilation)
    sizes = shape[-2:]
    out = tuple(pool_output_size(n, k, s, p, d, ceil_mode)
                for n, k, s, p, d in zip(sizes, kernel, stride, padding, dilation))
    if min(out) < 1:
        lead = "x".join(str(n) for n in shape[-3:-2])
        raise ValueError(f"{owner}: Given input size: ({lead}x{sizes[0]}x{sizes[1]}). Calculated output size: "
                         f"({lead}x{out[0]}x{out[1]}). Output size is too small")
    extra = tuple(max(0, (o - 1) * s + d * (k - 1) + 1 - (n + 2 * p))
                  for o, s, d, k, n, p in zip(out, stride, dilation, kernel, sizes, padding))
    return out, extra


def _padded_planes(x: np.ndarray, padding: tuple, extra: tuple, value: float) -> np.ndarray:
    """x as (B, H_p, W_p): leading axes flattened, ``padding`` on both sides plus ``extra`` on the right."""
    planes = x.reshape(-1, *x.shape[-2:])
    widths = ((0, 0), (padding[0], padding[0] + extra[0]), (padding[1], padding[1] + extra[1]))
    return np.pad(planes, widths, constant_values=value)


def _windows(xp: np.ndarray, out: tuple, kernel: tuple, stride: tuple, dilation: tuple) -> np.ndarray:
    """A (B, H_out, W_out, kH, kW) view: window (i, j) holds xp[:, i s + a d, j s + b d]."""
    span = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    view = sliding_window_view(xp, span, axis=(1, 2))
    return view[:, ::stride[0], ::stride[1], ::dilation[0], ::dilation[1]][:, :out[0], :out[1]]


def _cells(out: tuple, kernel: tuple, stride: tuple, dilation: tuple, offset: tuple) -> tuple[np.ndarray, ...]:
    """Row and column of every window cell, (H_out, 1, kH, 1) and (1, W_out, 1, kW), minus ``offset``."""
    rows = np.arange(out[0])[:, None] * stride[0] + np.arange(kernel[0]) * dilation[0] - offset[0]
    cols = np.arange(out[1])[:, None] * stride[1] + np.arange(kernel[1]) * dilation[1] - offset[1]
    return rows[:, None, :, None], cols[None, :, None, :]


class MaxPoolCache(NamedTuple):
    """What ``max_pool2d_backward`` (and ``max_pool1d_backward``) needs: where each output came from."""

    indices: np.ndarray  #: torch's ``return_indices``: each output's chosen cell, flat within its plane (int64)
    input_shape: tuple[int, ...]


def max_pool2d_forward(x: np.ndarray, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
                       ceil_mode: bool = False, owner: str = "MaxPool2d") -> tuple[np.ndarray, MaxPoolCache]:
    r"""y[i, j] = max_{a, b} x_pad[i s + a d, j s + b d] over each kH x kW window, x_pad padded with -inf.

    The cache holds torch's ``return_indices``: for every output the flat index h W + w of the chosen
    input cell. Torch scans a window row by row and keeps the first maximum (``>``, so ties go to the
    earliest cell); a NaN wins over everything and the last NaN is kept; a window of -inf only keeps
    its first cell inside the input. Gradient (see ``max_pool2d_backward``):

        dL/dx[h, w] = sum over outputs (i, j) whose chosen cell is (h, w) of dL/dy[i, j]

    Shape: x (*, H, W) -> y (*, H_out, W_out), indices int64 of the same shape.
    """
    kernel = ntuple(kernel_size, 2, "kernel_size", owner)
    stride = kernel if stride is None or stride == [] else ntuple(stride, 2, "stride", owner)
    padding, dilation = ntuple(padding, 2, "padding", owner), ntuple(dilation, 2, "dilation", owner)
    out, extra = _geometry(owner, x.shape, kernel, stride, padding, dilation, ceil_mode)
    xp = _padded_planes(x, padding, extra, -np.inf)
    win = _windows(xp, out, kernel, stride, dilation).reshape(xp.shape[0], *out, kernel[0] * kernel[1])
    arg = np.argmax(win, axis=-1)
    isnan = np.isnan(win)
    if isnan.any():  # torch's `val > maxval || isnan(val)` keeps the last NaN of the window
        last_nan = win.shape[-1] - 1 - np.argmax(isnan[..., ::-1], axis=-1)
        arg = np.where(isnan.any(axis=-1), last_nan, arg)
    rows, cols = _cells(out, kernel, stride, dilation, padding)
    rows, cols = np.broadcast_to(rows, (*out, *kernel)), np.broadcast_to(cols, (*out, *kernel))
    rows, cols = rows.reshape(*out, -1), cols.reshape(*out, -1)
    inside = (rows >= 0) & (rows < x.shape[-2]) & (cols >= 0) & (cols < x.shape[-1])
    # argmax lands on padding only when the window is all -inf: torch then keeps its first cell inside
    arg = np.where(np.take_along_axis(np.broadcast_to(inside, win.shape), arg[..., None], -1)[..., 0],
                   arg, np.argmax(inside, axis=-1))
    y = np.take_along_axis(win, arg[..., None], axis=-1)[..., 0]
    flat = (rows * x.shape[-1] + cols).reshape(-1, rows.shape[-1])
    indices = flat[np.arange(flat.shape[0]), arg.reshape(xp.shape[0], flat.shape[0])].astype(np.int64)
    outside = ~inside.any(axis=-1).reshape(-1)
    if outside.any():  # a window all padding (dilation skips the input): torch's index is its first cell past
        # the leading padding, which can lie past the input; its output is -inf and its gradient goes nowhere
        past_padding = (_first_nonnegative(rows) * x.shape[-1] + _first_nonnegative(cols)).reshape(-1)
        indices = np.where(outside, past_padding, indices)
    lead = x.shape[:-2]
    return y.reshape(*lead, *out), MaxPoolCache(indices.reshape(*lead, *out), x.shape)


def _first_nonnegative(cells: np.ndarray) -> np.ndarray:
    """Each window's first coordinate >= 0 (its cells run along the last axis, in increasing order)."""
    return np.where(cells >= 0, cells, np.iinfo(np.int64).max).min(axis=-1)


def max_pool2d_backward(dout: np.ndarray, cache: MaxPoolCache) -> np.ndarray:
    r"""dL/dx[h, w] = sum_{(i, j): index[i, j] = h W + w} dL/dy[i, j]: each output's gradient goes to
    its one chosen cell (the first maximum of its window), added in output order as torch does."""
    indices, shape = cache
    planes = int(np.prod(shape[:-2], dtype=np.int64))
    area = shape[-2] * shape[-1]
    dx = np.zeros(planes * area, dtype=dout.dtype)
    offsets = (np.arange(planes, dtype=np.int64) * area)[:, None]
    indices = indices.reshape(planes, indices.shape[-2] * indices.shape[-1])
    grads = dout.reshape(indices.shape)
    inside = indices < area  # a window all padding points past the input: its gradient goes nowhere, as in torch
    np.add.at(dx, (indices + offsets)[inside], grads[inside])
    return dx.reshape(shape)


def max_pool1d_forward(x: np.ndarray, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
                       ceil_mode: bool = False, owner: str = "MaxPool1d") -> tuple[np.ndarray, MaxPoolCache]:
    r"""y[i] = max_a x_pad[i s + a d]: ``max_pool2d_forward`` on x viewed as (*, 1, L) with a 1 x k kernel.

    Gradient: dL/dx[l] = sum_{i: index[i] = l} dL/dy[i]. Shape: x (*, L) -> y (*, L_out), indices alike.
    """
    one = lambda value, name: (1, ntuple(value, 1, name, owner)[0])  # noqa: E731
    stride = kernel_size if stride is None or stride == [] else stride
    y, (indices, _) = max_pool2d_forward(x[..., None, :], one(kernel_size, "kernel_size"), one(stride, "stride"),
                                         (0, ntuple(padding, 1, "padding", owner)[0]), one(dilation, "dilation"),
                                         ceil_mode, owner)
    return y[..., 0, :], MaxPoolCache(indices[..., 0, :], x.shape)


def max_pool1d_backward(dout: np.ndarray, cache: MaxPoolCache) -> np.ndarray:
    r"""dL/dx[l] = sum_{i: index[i] = l} dL/dy[i] (see ``max_pool2d_backward``)."""
    indices, shape = cache
    planes = MaxPoolCache(indices[..., None, :], (*shape[:-1], 1, shape[-1]))
    return max_pool2d_backward(dout[..., None, :], planes)[..., 0, :]


def _avg_divisor(shape: tuple, out: tuple, kernel: tuple, stride: tuple, padding: tuple, count_include_pad: bool,
                 divisor_override: int | None, dtype: np.dtype) -> np.ndarray:
    """(H_out, W_out) divisors: torch's window [i s - p, min(i s - p + k, L + p)) counts its padding
    cells (count_include_pad) but never the cells past L + p that ceil_mode adds; otherwise only cells
    inside the input count."""
    if divisor_override is not None:
        return np.full(out, divisor_override, dtype=dtype)
    counts = []
    for n, o, k, s, p in zip(shape[-2:], out, kernel, stride, padding):
        start = np.arange(o) * s - p
        end = np.minimum(start + k, n + p)
        counts.append(end - start if count_include_pad else np.minimum(end, n) - np.maximum(start, 0))
    return np.outer(counts[0], counts[1]).astype(dtype)


class AvgPoolCache(NamedTuple):
    """What ``avg_pool2d_backward`` needs from ``avg_pool2d_forward``."""

    input_shape: tuple[int, ...]
    padded_shape: tuple[int, ...]  #: the input as (B, H_p, W_p) planes, padded (and extended for ceil_mode)
    kernel: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[int, int]
    divisor: np.ndarray  #: each window's D[i, j], (H_out, W_out)


def avg_pool2d_forward(x: np.ndarray, kernel_size: Any, stride: Any = None, padding: Any = 0, ceil_mode: bool = False,
                       count_include_pad: bool = True, divisor_override: int | None = None,
                       owner: str = "AvgPool2d") -> tuple[np.ndarray, AvgPoolCache]:
    r"""y[i, j] = (sum_{a, b} x_pad[i s_H + a, j s_W + b]) / D[i, j], x_pad padded with zeros.

    D[i, j] = divisor_override, or the window's area clipped to the padded input (count_include_pad),
    or its area clipped to the input. Gradient (every cell of a window gets an equal share):

        dL/dx[h, w] = sum over windows (i, j) containing (h, w) of dL/dy[i, j] / D[i, j]

    Shape: x (*, H, W) -> y (*, H_out, W_out).
    """
    kernel = ntuple(kernel_size, 2, "kernel_size", owner)
    stride = kernel if stride is None or stride == [] else ntuple(stride, 2, "stride", owner)
    padding = ntuple(padding, 2, "padding", owner)
    if divisor_override is not None and divisor_override == 0:
        raise ValueError(f"{owner}: divisor must be not zero")
    out, extra = _geometry(owner, x.shape, kernel, stride, padding, (1, 1), ceil_mode)
    xp = _padded_planes(x, padding, extra, 0.0)
    divisor = _avg_divisor(x.shape, out, kernel, stride, padding, count_include_pad, divisor_override, x.dtype)
    y = _windows(xp, out, kernel, stride, (1, 1)).sum(axis=(-2, -1)) / divisor
    cache = AvgPoolCache(x.shape, xp.shape, kernel, stride, padding, divisor)
    return y.reshape(*x.shape[:-2], *out).astype(x.dtype, copy=False), cache


def avg_pool2d_backward(dout: np.ndarray, cache: AvgPoolCache) -> np.ndarray:
    r"""dL/dx[h, w] = sum_{(i, j) whose window holds (h, w)} dL/dy[i, j] / D[i, j], added into the
    padded input (padding cells included) and cropped back to (H, W)."""
    shape, kernel, stride, padding = cache.input_shape, cache.kernel, cache.stride, cache.padding
    out = dout.shape[-2:]
    share = (dout.reshape(-1, *out) / cache.divisor).astype(dout.dtype, copy=False)
    dxp = np.zeros(cache.padded_shape, dtype=dout.dtype)
    # one strided add per kernel offset (a, b), of every window's share at once: no np.add.at scatter
    for a in range(kernel[0]):
        for b in range(kernel[1]):
            dxp[:, a:a + (out[0] - 1) * stride[0] + 1:stride[0], b:b + (out[1] - 1) * stride[1] + 1:stride[1]] += share
    return dxp[:, padding[0]:padding[0] + shape[-2], padding[1]:padding[1] + shape[-1]].reshape(shape)


def _adaptive_matrix(size: int, out: int, dtype: np.dtype) -> np.ndarray:
    """(out, size) averaging matrix: row i is 1/len on torch's window [floor(i L/out), ceil((i+1) L/out))."""
    i = np.arange(out)
    start, end = (i * size) // out, -((-(i + 1) * size) // out)
    j = np.arange(size)
    inside = (j >= start[:, None]) & (j < end[:, None])
    return (inside / (end - start)[:, None]).astype(dtype)


def adaptive_avg_pool2d_forward(x: np.ndarray, output_size: Any,
                                owner: str = "AdaptiveAvgPool2d") -> tuple[np.ndarray, tuple]:
    r"""y[i, j] = mean of x over rows [floor(i H / H_out), ceil((i+1) H / H_out)) and the same for columns.

    The windows overlap and vary in size, but the mean over a rectangle is separable, so
    y = A_H x A_W^T with A_L[i, l] = 1 / len_i on window i (no loop over outputs). Gradient:

        dL/dx = A_H^T dL/dy A_W

    ``output_size``: an int, or a pair whose None entries keep the input's size.
    Shape: x (*, H, W) -> y (*, H_out, W_out).
    """
    sizes = (output_size, output_size) if not isinstance(output_size, (tuple, list)) else tuple(output_size)
    if len(sizes) != 2:
        raise ValueError(f"{owner}: output_size must be an int or a pair, got {output_size!r}")
    sizes = tuple(n if s is None else s for s, n in zip(sizes, x.shape[-2:]))
    if any(not isinstance(s, (int, np.integer)) or s < 0 for s in sizes):
        raise ValueError(f"{owner}: output_size must hold non-negative ints or None, got {output_size!r}")
    a_h, a_w = (_adaptive_matrix(n, int(s), x.dtype) for n, s in zip(x.shape[-2:], sizes))
    return _separable(a_h, x, a_w.T), (a_h, a_w)


def adaptive_avg_pool2d_backward(dout: np.ndarray, cache: tuple) -> np.ndarray:
    r"""dL/dx = A_H^T dL/dy A_W (see ``adaptive_avg_pool2d_forward``)."""
    a_h, a_w = cache
    return _separable(a_h.T, dout, a_w)


def _separable(left: np.ndarray, x: np.ndarray, right: np.ndarray) -> np.ndarray:
    """left @ x @ right, where a NaN or an infinity in x reaches only the outputs whose windows hold it,
    as in torch's window sums: in the plain product, 0 * inf = NaN would reach every output."""
    finite = np.isfinite(x)
    if finite.all():
        return left @ x @ right
    out = left @ np.where(finite, x, 0) @ right
    in_left, in_right = (left != 0).astype(x.dtype), (right != 0).astype(x.dtype)

    def reaches(mask: np.ndarray) -> np.ndarray:
        """The outputs whose window holds a True of ``mask``."""
        return in_left @ mask.astype(x.dtype) @ in_right > 0

    positive, negative = reaches(x == np.inf), reaches(x == -np.inf)
    out = np.where(positive, np.inf, np.where(negative, -np.inf, out))
    return np.where(reaches(np.isnan(x)) | (positive & negative), np.nan, out)  # inf - inf is NaN, as in a sum
