r"""Pooling: MaxPool1d/2d/3d, AvgPool1d/2d/3d, LPPool1d/2d/3d: pure forward/backward pairs.

Every op works on the last n = 1, 2 or 3 axes of an input of any leading shape (batch and channels are
flattened into B independent planes); one N-dimensional implementation serves the three. Windows are
strided views (``sliding_window_view``), never a Python loop over planes or output cells; max-pool
backward is a scatter-add (``np.add.at``) in the order torch accumulates, so overlapping windows round
the same way; avg-pool backward is one strided add per kernel offset.

Sizes along one spatial axis of length L, kernel k, stride s, padding p, dilation d (torch's
``pooling_output_shape``):

    L_out = floor_or_ceil((L + 2p - d (k - 1) - 1) / s) + 1,
    and with ceil_mode, L_out -= 1 when (L_out - 1) s >= L + p (the last window must start inside the
    input or the left padding).
"""

from __future__ import annotations

import itertools
from typing import Any, NamedTuple, cast

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

__all__ = [
    "avg_pool1d_forward", "avg_pool2d_backward", "avg_pool2d_forward", "avg_pool3d_forward", "avg_pool_backward",
    "avg_pool_forward", "lp_pool_backward", "lp_pool_forward", "max_pool1d_backward", "max_pool1d_forward",
    "max_pool2d_backward", "max_pool2d_forward", "max_pool3d_forward", "max_pool_backward", "max_pool_forward",
    "pool_output_size",
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


def check_pool_args(owner: str, kernel: tuple[int, ...], stride: tuple[int, ...], padding: tuple[int, ...],
                    dilation: tuple[int, ...]) -> None:
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


def pool_options(owner: str, n: int, kernel_size: Any, stride: Any, padding: Any,
                 dilation: Any) -> tuple[tuple[int, ...], ...]:
    """kernel, stride (None or [] : the kernel), padding and dilation as n-tuples, checked as torch does."""
    kernel = ntuple(kernel_size, n, "kernel_size", owner)
    stride = kernel if stride is None or (isinstance(stride, (tuple, list)) and len(stride) == 0) \
        else ntuple(stride, n, "stride", owner)
    padding, dilation = ntuple(padding, n, "padding", owner), ntuple(dilation, n, "dilation", owner)
    check_pool_args(owner, kernel, stride, padding, dilation)
    return kernel, stride, padding, dilation


def _geometry(owner: str, shape: tuple[int, ...], kernel: tuple[int, ...], stride: tuple[int, ...],
              padding: tuple[int, ...], dilation: tuple[int, ...],
              ceil_mode: bool) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Output sizes and the extra right padding that ceil_mode's last windows reach into."""
    n = len(kernel)
    sizes = shape[-n:]
    out = tuple(pool_output_size(size, k, s, p, d, ceil_mode)
                for size, k, s, p, d in zip(sizes, kernel, stride, padding, dilation))
    if min(out) < 1:
        lead = [str(c) for c in shape[-n - 1:-n]]
        raise ValueError(f"{owner}: Given input size: ({'x'.join(lead + [str(s) for s in sizes])}). Calculated "
                         f"output size: ({'x'.join(lead + [str(o) for o in out])}). Output size is too small")
    extra = tuple(max(0, (o - 1) * s + d * (k - 1) + 1 - (size + 2 * p))
                  for o, s, d, k, size, p in zip(out, stride, dilation, kernel, sizes, padding))
    return out, extra


def _padded_planes(x: np.ndarray, padding: tuple[int, ...], extra: tuple[int, ...], value: float) -> np.ndarray:
    """x as (B, *padded sizes): leading axes flattened, ``padding`` on both sides plus ``extra`` on the right."""
    n = len(padding)
    planes = x.reshape(-1, *x.shape[-n:])
    if not any(padding) and not any(extra):
        return planes
    return np.pad(planes, ((0, 0), *((p, p + e) for p, e in zip(padding, extra))), constant_values=value)


def _windows(xp: np.ndarray, out: tuple[int, ...], kernel: tuple[int, ...], stride: tuple[int, ...],
             dilation: tuple[int, ...]) -> np.ndarray:
    """A (B, *out, *kernel) view: window i holds xp[:, i s + a d] along each spatial axis."""
    n = len(kernel)
    span = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    view = sliding_window_view(xp, span, axis=tuple(range(1, n + 1)))
    view = view[(slice(None), *(slice(None, (o - 1) * s + 1, s) for o, s in zip(out, stride)),
                 *(slice(None, None, d) for d in dilation))]
    return view


def _cells(out: tuple[int, ...], kernel: tuple[int, ...], stride: tuple[int, ...], dilation: tuple[int, ...],
           offset: tuple[int, ...]) -> list[np.ndarray]:
    """Along each axis, the coordinate of every window cell, (*out, *kernel) flattened to (prod(out), K),
    minus ``offset``."""
    n = len(kernel)
    coords = []
    for axis, (o, k, s, d, p) in enumerate(zip(out, kernel, stride, dilation, offset)):
        c = np.arange(o)[:, None] * s + np.arange(k) * d - p
        shape = [1] * (2 * n)
        shape[axis], shape[n + axis] = o, k
        coords.append(np.broadcast_to(c.reshape(shape), (*out, *kernel)).reshape(int(np.prod(out)), -1))
    return coords


class MaxPoolCache(NamedTuple):
    """What ``max_pool_backward`` needs: where each output came from."""

    indices: np.ndarray  #: torch's ``return_indices``: each output's chosen cell, flat within its plane (int64)
    input_shape: tuple[int, ...]
    dims: int  #: the number of spatial dims


def window_argmax(win: np.ndarray, inside: np.ndarray) -> np.ndarray:
    """Torch's choice in each window (last axis, in scan order): the first maximum (``>``), the last NaN
    (``val > maxval || isnan(val)``), and for a window of -inf its first cell ``inside`` the input."""
    arg = np.argmax(win, axis=-1)
    isnan = np.isnan(win)
    if isnan.any():
        last_nan = win.shape[-1] - 1 - np.argmax(isnan[..., ::-1], axis=-1)
        arg = np.where(isnan.any(axis=-1), last_nan, arg)
    inside = np.broadcast_to(inside, win.shape)
    return cast("np.ndarray", np.where(np.take_along_axis(inside, arg[..., None], -1)[..., 0], arg,
                                       np.argmax(inside, axis=-1)))


def max_pool_forward(x: np.ndarray, dims: int, kernel_size: Any, stride: Any = None, padding: Any = 0,
                     dilation: Any = 1, ceil_mode: bool = False,
                     owner: str = "MaxPool") -> tuple[np.ndarray, MaxPoolCache]:
    r"""y[i] = max_a x_pad[i s + a d] over each window of the last ``dims`` axes, x_pad padded with -inf.

    The cache holds torch's ``return_indices``: for every output the flat (row-major) index of the chosen
    input cell within its plane. Torch scans a window in row-major order and keeps the first maximum
    (``>``, so ties go to the earliest cell); a NaN wins over everything and the last NaN is kept; a
    window of -inf keeps its first cell inside the input. Gradient (see ``max_pool_backward``):

        dL/dx[h] = sum over outputs i whose chosen cell is h of dL/dy[i]

    Shape: x (*, *spatial) -> y (*, *spatial_out), indices int64 of the same shape.
    """
    kernel, stride, padding, dilation = pool_options(owner, dims, kernel_size, stride, padding, dilation)
    out, extra = _geometry(owner, x.shape, kernel, stride, padding, dilation, ceil_mode)
    xp = _padded_planes(x, padding, extra, -np.inf)
    positions, cells = int(np.prod(out)), int(np.prod(kernel))
    win = _windows(xp, out, kernel, stride, dilation).reshape(xp.shape[0], positions, cells)
    coords = _cells(out, kernel, stride, dilation, padding)
    sizes = x.shape[-dims:]
    inside = np.logical_and.reduce([(c >= 0) & (c < n) for c, n in zip(coords, sizes)])
    arg = window_argmax(win, inside)
    y = np.take_along_axis(win, arg[..., None], axis=-1)[..., 0]
    flat = _flat_index(coords, sizes)
    indices = flat[np.arange(positions), arg]
    outside = ~inside.any(axis=-1)
    if outside.any():  # a window all padding (dilation skips the input): torch's index is its first cell past
        # the leading padding, which can lie past the input; its output is -inf and its gradient goes nowhere
        past_padding = _flat_index([_first_nonnegative(c)[:, None] for c in coords], sizes)[:, 0]
        indices = np.where(outside, past_padding, indices)
    lead = x.shape[:-dims]
    return y.reshape(*lead, *out), MaxPoolCache(indices.astype(np.int64).reshape(*lead, *out), x.shape, dims)


def _flat_index(coords: list[np.ndarray], sizes: tuple[int, ...]) -> np.ndarray:
    """Row-major flat index of per-axis coordinates within a plane of ``sizes``."""
    flat = coords[0]
    for c, n in zip(coords[1:], sizes[1:]):
        flat = flat * n + c
    return flat


def _first_nonnegative(cells: np.ndarray) -> np.ndarray:
    """Each window's first coordinate >= 0 (its cells run along the last axis, in increasing order)."""
    return cast("np.ndarray", np.where(cells >= 0, cells, np.iinfo(np.int64).max).min(axis=-1))


def max_pool_backward(dout: np.ndarray, cache: MaxPoolCache) -> np.ndarray:
    r"""dL/dx[h] = sum_{i: index[i] = h} dL/dy[i]: each output's gradient goes to its one chosen cell (the
    first maximum of its window), added in output order as torch does. Any number of spatial dims."""
    indices, shape, spatial = cache
    planes = int(np.prod(shape[:-spatial], dtype=np.int64))
    area = int(np.prod(shape[-spatial:], dtype=np.int64))
    dx = np.zeros(planes * area, dtype=dout.dtype)
    offsets = (np.arange(planes, dtype=np.int64) * area)[:, None]
    indices = indices.reshape(planes, int(np.prod(indices.shape[indices.ndim - spatial:], dtype=np.int64)))
    grads = dout.reshape(indices.shape)
    inside = indices < area  # a window all padding points past the input: its gradient goes nowhere, as in torch
    np.add.at(dx, (indices + offsets)[inside], grads[inside])
    return dx.reshape(shape)


def max_pool1d_forward(x: np.ndarray, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
                       ceil_mode: bool = False, owner: str = "MaxPool1d") -> tuple[np.ndarray, MaxPoolCache]:
    r"""``max_pool_forward`` over the last axis: y[i] = max_a x_pad[i s + a d]. Shape: (*, L) -> (*, L_out)."""
    return max_pool_forward(x, 1, kernel_size, stride, padding, dilation, ceil_mode, owner)


def max_pool2d_forward(x: np.ndarray, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
                       ceil_mode: bool = False, owner: str = "MaxPool2d") -> tuple[np.ndarray, MaxPoolCache]:
    r"""``max_pool_forward`` over the last two axes. Shape: (*, H, W) -> (*, H_out, W_out)."""
    return max_pool_forward(x, 2, kernel_size, stride, padding, dilation, ceil_mode, owner)


def max_pool3d_forward(x: np.ndarray, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
                       ceil_mode: bool = False, owner: str = "MaxPool3d") -> tuple[np.ndarray, MaxPoolCache]:
    r"""``max_pool_forward`` over the last three axes. Shape: (*, D, H, W) -> (*, D_out, H_out, W_out)."""
    return max_pool_forward(x, 3, kernel_size, stride, padding, dilation, ceil_mode, owner)


max_pool1d_backward = max_pool2d_backward = max_pool_backward  # the backward does not depend on the dims


def _avg_divisor(sizes: tuple[int, ...], out: tuple[int, ...], kernel: tuple[int, ...], stride: tuple[int, ...],
                 padding: tuple[int, ...], count_include_pad: bool,
                 divisor_override: int | None, dtype: np.dtype) -> np.ndarray:
    """(*out) divisors: torch's window [i s - p, min(i s - p + k, L + p)) counts its padding cells
    (count_include_pad) but never the cells past L + p that ceil_mode adds; otherwise only cells inside
    the input count. The count is a product over the axes."""
    if divisor_override is not None:
        return np.full(out, divisor_override, dtype=dtype)
    divisor = np.ones((), dtype=np.int64)
    for n, o, k, s, p in zip(sizes, out, kernel, stride, padding):
        start = np.arange(o) * s - p
        end = np.minimum(start + k, n + p)
        count = end - start if count_include_pad else np.minimum(end, n) - np.maximum(start, 0)
        divisor = np.multiply.outer(divisor, count)
    return divisor.astype(dtype)


class AvgPoolCache(NamedTuple):
    """What ``avg_pool_backward`` needs from ``avg_pool_forward``."""

    input_shape: tuple[int, ...]
    padded_shape: tuple[int, ...]  #: the input as (B, *spatial) planes, padded (and extended for ceil_mode)
    kernel: tuple[int, ...]
    stride: tuple[int, ...]
    padding: tuple[int, ...]
    divisor: np.ndarray  #: each window's D[i], (*out)


def avg_pool_forward(x: np.ndarray, dims: int, kernel_size: Any, stride: Any = None, padding: Any = 0,
                     ceil_mode: bool = False, count_include_pad: bool = True, divisor_override: int | None = None,
                     owner: str = "AvgPool") -> tuple[np.ndarray, AvgPoolCache]:
    r"""y[i] = (sum_a x_pad[i s + a]) / D[i] over each window of the last ``dims`` axes, x_pad zero-padded.

    D[i] = divisor_override, or the window's volume clipped to the padded input (count_include_pad),
    or its volume clipped to the input. Gradient (every cell of a window gets an equal share):

        dL/dx[h] = sum over windows i containing h of dL/dy[i] / D[i]

    Shape: x (*, *spatial) -> y (*, *spatial_out).
    """
    kernel, stride, padding, _ = pool_options(owner, dims, kernel_size, stride, padding, 1)
    if divisor_override is not None and divisor_override == 0:
        raise ValueError(f"{owner}: divisor must be not zero")
    sizes = x.shape[-dims:]
    if dims == 3 and any(n < k for n, k in zip(sizes, kernel)):  # torch's avg_pool3d only, padding or not: matched
        raise ValueError(f"{owner}: input image (T: {sizes[0]} H: {sizes[1]} W: {sizes[2]}) smaller than kernel "
                         f"size (kT: {kernel[0]} kH: {kernel[1]} kW: {kernel[2]})")
    out, extra = _geometry(owner, x.shape, kernel, stride, padding, (1,) * dims, ceil_mode)
    xp = _padded_planes(x, padding, extra, 0.0)
    divisor = _avg_divisor(x.shape[-dims:], out, kernel, stride, padding, count_include_pad, divisor_override,
                           x.dtype)
    y = _windows(xp, out, kernel, stride, (1,) * dims).sum(axis=tuple(range(-dims, 0))) / divisor
    cache = AvgPoolCache(x.shape, xp.shape, kernel, stride, padding, divisor)
    return y.reshape(*x.shape[:-dims], *out).astype(x.dtype, copy=False), cache


def avg_pool_backward(dout: np.ndarray, cache: AvgPoolCache) -> np.ndarray:
    r"""dL/dx[h] = sum_{i whose window holds h} dL/dy[i] / D[i], added into the padded input (padding cells
    included) and cropped back. One strided add per kernel offset (a Python loop over at most prod(kernel)
    offsets, each adding every window's share at once: no scatter)."""
    shape, kernel, stride, padding = cache.input_shape, cache.kernel, cache.stride, cache.padding
    dims = len(kernel)
    out = dout.shape[-dims:]
    share = (dout.reshape(-1, *out) / cache.divisor).astype(dout.dtype, copy=False)
    dxp = np.zeros(cache.padded_shape, dtype=dout.dtype)
    for offset in itertools.product(*(range(k) for k in kernel)):
        dxp[(slice(None), *(slice(a, a + (o - 1) * s + 1, s) for a, o, s in zip(offset, out, stride)))] += share
    crop = tuple(slice(p, p + n) for p, n in zip(padding, shape[-dims:]))
    return dxp[(slice(None), *crop)].reshape(shape)


def avg_pool1d_forward(x: np.ndarray, kernel_size: Any, stride: Any = None, padding: Any = 0,
                       ceil_mode: bool = False, count_include_pad: bool = True,
                       owner: str = "AvgPool1d") -> tuple[np.ndarray, AvgPoolCache]:
    r"""``avg_pool_forward`` over the last axis (torch's avg_pool1d has no divisor_override)."""
    return avg_pool_forward(x, 1, kernel_size, stride, padding, ceil_mode, count_include_pad, None, owner)


def avg_pool2d_forward(x: np.ndarray, kernel_size: Any, stride: Any = None, padding: Any = 0, ceil_mode: bool = False,
                       count_include_pad: bool = True, divisor_override: int | None = None,
                       owner: str = "AvgPool2d") -> tuple[np.ndarray, AvgPoolCache]:
    r"""``avg_pool_forward`` over the last two axes. Shape: (*, H, W) -> (*, H_out, W_out)."""
    return avg_pool_forward(x, 2, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override, owner)


def avg_pool3d_forward(x: np.ndarray, kernel_size: Any, stride: Any = None, padding: Any = 0, ceil_mode: bool = False,
                       count_include_pad: bool = True, divisor_override: int | None = None,
                       owner: str = "AvgPool3d") -> tuple[np.ndarray, AvgPoolCache]:
    r"""``avg_pool_forward`` over the last three axes. Shape: (*, D, H, W) -> (*, D_out, H_out, W_out)."""
    return avg_pool_forward(x, 3, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override, owner)


avg_pool2d_backward = avg_pool_backward


class LPPoolCache(NamedTuple):
    """What ``lp_pool_backward`` needs from ``lp_pool_forward``."""

    x: np.ndarray
    norm_type: float
    inner: Any  #: the avg-pool (or, for p = +-inf, the max-pool) cache
    mean: np.ndarray | None  #: a, the windows' mean of x^p (None for p = +-inf)
    volume: int  #: K, the kernel's volume


def lp_pool_forward(x: np.ndarray, dims: int, norm_type: float, kernel_size: Any, stride: Any = None,
                    ceil_mode: bool = False, owner: str = "LPPool") -> tuple[np.ndarray, LPPoolCache]:
    r"""Power-average pooling, as torch computes it: a = avg_pool(x^p) (no padding, count_include_pad),
    v = sign(a) relu(|a|) K, y = v^(1/p), K the kernel's volume. So y = (sum_window x^p)^(1/p), except in the
    partial windows of ceil_mode, whose sum torch scales by K / (cells inside): matched. p = inf is
    max_pool(|x|), p = -inf is -max_pool(-|x|). Gradient (torch's autograd of those steps):

        dL/da = dL/dy (K / p) v^(1/p - 1), and 0 where a = 0 (relu's mask)
        dL/dx = avg_pool_backward(dL/da) p x^(p - 1)
        p = +-inf: dL/dx = max_pool_backward(dL/dy) sign(x)

    Shape: x (*, *spatial) -> y (*, *spatial_out).
    """
    p = float(norm_type)
    volume = int(np.prod(ntuple(kernel_size, dims, "kernel_size", owner)))
    if np.isinf(p):
        y, inner = max_pool_forward(np.abs(x) if p > 0 else -np.abs(x), dims, kernel_size, stride, 0, 1, ceil_mode,
                                    owner)
        return (y if p > 0 else -y), LPPoolCache(x, p, inner, None, volume)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        a, avg_inner = avg_pool_forward(x ** x.dtype.type(p), dims, kernel_size, stride, 0, ceil_mode, True, None,
                                        owner)
        v = np.sign(a) * np.maximum(np.abs(a), 0) * x.dtype.type(volume)
        y = v ** x.dtype.type(1.0 / p)
    return y, LPPoolCache(x, p, avg_inner, a, volume)


def lp_pool_backward(dout: np.ndarray, cache: LPPoolCache) -> np.ndarray:
    r"""dL/dx of ``lp_pool_forward`` (see its docstring for the math)."""
    x, p, inner, a, volume = cache
    if a is None:
        return cast("np.ndarray", max_pool_backward(dout, inner) * np.sign(x))
    t = x.dtype.type
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        v = np.sign(a) * np.maximum(np.abs(a), 0) * t(volume)
        dv = dout * (t(1.0 / p) * v ** t(1.0 / p - 1.0))
        da = np.where(np.abs(a) <= 0, t(0), dv * t(volume) * np.sign(a) * np.sign(a))
        return cast("np.ndarray", avg_pool_backward(da.astype(x.dtype, copy=False), inner) * (t(p) * x ** t(p - 1.0)))
