r"""Index-based pooling: FractionalMaxPool2d/3d and MaxUnpool1d/2d/3d: pure forward/backward pairs.

Both work on an input (N, C, *spatial) or (C, *spatial) whose planes are independent; neither loops
over planes or output cells in Python (a loop over the 1-3 spatial dims only).
"""

from __future__ import annotations

from typing import Any, cast

import numpy as np

from .pooling import MaxPoolCache, max_pool_backward, ntuple, window_argmax

__all__ = ["fractional_max_pool_backward", "fractional_max_pool_forward", "fractional_output_size",
           "max_unpool_backward", "max_unpool_forward", "unpool_output_size"]


def fractional_output_size(owner: str, dims: int, spatial: tuple[Any, ...], output_size: Any,
                           output_ratio: Any) -> tuple[int, ...]:
    """``output_size`` as ints, or int(L * ratio) along each axis, as torch's functional does."""
    if output_size is not None:
        return ntuple(output_size, dims, "output_size", owner)
    ratio = output_ratio if isinstance(output_ratio, (tuple, list)) else (output_ratio,) * dims
    return tuple(int(n * r) for n, r in zip(spatial, ratio))


def _starts(samples: np.ndarray, size: int, out: int, kernel: int) -> np.ndarray:
    """torch's ``generate_intervals`` for every plane at once: start i = int((i + u) alpha) - int(u alpha)
    with alpha = (L - k) / (S - 1), computed in the samples' dtype as torch does in the input's; the last
    start is L - k. samples: (B,) -> (B, S) int64."""
    t = samples.dtype.type
    starts = np.empty((samples.shape[0], out), dtype=np.int64)
    if out > 1:
        alpha = t(size - kernel) / t(out - 1)
        i = np.arange(out - 1).astype(samples.dtype)
        starts[:, :-1] = ((i + samples[:, None]) * alpha).astype(np.int64) - (samples * alpha).astype(np.int64)[:, None]
    if out > 0:
        starts[:, -1] = size - kernel
    return starts


def fractional_max_pool_forward(x: np.ndarray, dims: int, kernel_size: Any, output_size: tuple[int, ...],
                                samples: np.ndarray,
                                owner: str = "FractionalMaxPool") -> tuple[np.ndarray, MaxPoolCache]:
    r"""Fractional max pooling (Graham, 2014): output i takes the max over the k-window starting at the
    pseudo-random start_i (``_starts``) along each axis; starts come from one uniform sample u in [0, 1)
    per plane and axis (``samples``, (N, C, dims); torch's order: (W, H) in 2-D, (T, H, W) in 3-D).
    Ties and NaNs as in max pooling (the first maximum in row-major order, the last NaN).
    Gradient: dL/dx[h] = sum_{i: index[i] = h} dL/dy[i] (overlapping windows add).

    Shape: x (N, C, *spatial) or (C, *spatial) -> y (N, C, *output_size), indices int64 alike.
    """
    kernel = ntuple(kernel_size, dims, "kernel_size", owner)
    spatial = x.shape[-dims:]
    for n, s, k, name in zip(spatial, output_size, kernel, ("height", "width") if dims == 2 else
                             ("time", "height", "width")):
        if s + k - 1 > (n if dims == 2 else n - 1):  # torch's 3-D check is strict (< L), its 2-D one not: matched
            raise ValueError(f"{owner}: pool {name} {k} too large relative to input {name} {n} for output "
                             f"size {output_size}")
    planes = x.reshape(-1, *spatial)
    count = planes.shape[0]
    samples = samples.reshape(count, dims)
    order = (1, 0) if dims == 2 else (0, 1, 2)  # torch's kernel reads sample 0 for W in 2-D, for T in 3-D
    coords = []
    for d, (n, s, k) in enumerate(zip(spatial, output_size, kernel)):
        starts = _starts(samples[:, order[d]], n, s, k)[:, :, None] + np.arange(k)  # (B, S, k)
        shape = [count] + [1] * (2 * dims)
        shape[1 + d], shape[1 + dims + d] = s, k
        coords.append(starts.reshape(shape))
    win = planes[(np.arange(count).reshape((count,) + (1,) * (2 * dims)), *coords)]  # (B, *S, *k)
    positions, cells = int(np.prod(output_size)), int(np.prod(kernel))
    win = win.reshape(count, positions, cells)
    arg = window_argmax(win, np.ones(win.shape[-1], dtype=bool))
    y = np.take_along_axis(win, arg[..., None], axis=-1)[..., 0]
    flat: np.ndarray = np.zeros((), dtype=np.int64)
    for c, n in zip(coords, spatial):
        flat = flat * n + c
    flat = np.broadcast_to(flat, (count, *output_size, *kernel)).reshape(count, positions, cells)
    indices = np.take_along_axis(flat, arg[..., None], axis=-1)[..., 0]
    lead = x.shape[:-dims]
    return y.reshape(*lead, *output_size), MaxPoolCache(indices.reshape(*lead, *output_size), x.shape, dims)


fractional_max_pool_backward = max_pool_backward


def unpool_output_size(owner: str, input_shape: tuple[int, ...], kernel: tuple[int, ...], stride: tuple[int, ...],
                       padding: tuple[int, ...],
                       output_size: Any) -> tuple[int, ...]:
    """torch's ``_unpool_output_size``: (L - 1) s + k - 2p along each axis, or ``output_size`` (its last
    len(kernel) entries if it has two more), which must lie strictly within a stride of that."""
    dims = len(kernel)
    default = tuple((n - 1) * s + k - 2 * p for n, s, k, p in zip(input_shape[-dims:], stride, kernel, padding))
    if output_size is None:
        sizes = default
    else:
        sizes = tuple(int(v) for v in output_size)
        if len(sizes) == dims + 2:
            sizes = sizes[2:]
        if len(sizes) != dims:
            raise ValueError(f"{owner}: output_size should be a sequence containing {dims} or {dims + 2} elements, "
                             f"but it has a length of '{len(sizes)}'")
        for d, (size, base, s) in enumerate(zip(sizes, default, stride)):
            if not base - s < size < base + s:
                raise ValueError(f'{owner}: invalid output_size "{list(output_size)}" (dim {d} must be between '
                                 f"{base - s} and {base + s})")
    if min(sizes) < 0:
        raise ValueError(f"{owner}: output_size must contain non-negative spatial dimensions, got {sizes}")
    return sizes


def max_unpool_forward(x: np.ndarray, indices: np.ndarray, dims: int, output_size: tuple[int, ...],
                       owner: str = "MaxUnpool") -> tuple[np.ndarray, tuple[Any, ...]]:
    r"""The partial inverse of max pooling: y = 0 but y[index[i]] = x[i] in each plane (indices flat within a
    plane of ``output_size``, as max pooling returns them; of repeated indices, the last write stays, as in
    torch's CPU loop). Gradient: dL/dx[i] = dL/dy[index[i]] (a gather).

    Shape: x (*, *spatial), indices int64 alike -> y (*, *output_size).
    """
    if not isinstance(indices, np.ndarray) or indices.dtype.kind not in "iu":
        got = indices.dtype if isinstance(indices, np.ndarray) else type(indices).__name__
        raise TypeError(f"{owner}: expected indices of an integer dtype (int64), got {got}")
    if indices.shape != x.shape:
        raise ValueError(f"{owner}: expected indices of the input's shape {x.shape}, got {indices.shape}")
    area = int(np.prod(output_size))
    flat = indices.reshape(-1, int(np.prod(x.shape[-dims:])))
    bad = (flat < 0) | (flat >= area)
    if bad.any():
        raise ValueError(f"{owner}: found an invalid max index {int(flat[bad][0])} (output volumes are of size "
                         f"{'x'.join(str(s) for s in output_size)})")
    out = np.zeros((flat.shape[0], area), dtype=x.dtype)
    rows = np.arange(flat.shape[0])[:, None]
    out[rows, flat] = x.reshape(flat.shape)
    return out.reshape(*x.shape[:-dims], *output_size), (flat, x.shape)


def max_unpool_backward(dout: np.ndarray, cache: tuple[Any, ...]) -> np.ndarray:
    r"""dL/dx[i] = dL/dy[index[i]] in each plane (see ``max_unpool_forward``)."""
    flat, shape = cache
    grads = dout.reshape(flat.shape[0], dout.size // max(flat.shape[0], 1))
    return cast("np.ndarray", grads[np.arange(flat.shape[0])[:, None], flat].reshape(shape))
