r"""Adaptive pooling: AdaptiveAvgPool1d/2d/3d and AdaptiveMaxPool1d/2d/3d: pure forward/backward pairs.

The output size is fixed and the windows adapt: along an axis of length L pooled to S outputs, output i
covers torch's window [floor(i L / S), ceil((i+1) L / S)) (windows overlap and vary in length by at most
one). One N-dimensional implementation serves 1, 2 and 3 spatial dims, on the last ``dims`` axes of an
input of any leading shape.
"""

from __future__ import annotations

from typing import Any, cast

import numpy as np

from .pooling import MaxPoolCache, max_pool_backward, window_argmax

__all__ = ["adaptive_avg_pool2d_backward", "adaptive_avg_pool2d_forward", "adaptive_avg_pool_backward",
           "adaptive_avg_pool_forward", "adaptive_max_pool_backward", "adaptive_max_pool_forward"]


def adaptive_sizes(owner: str, output_size: Any, sizes: tuple[int, ...]) -> tuple[int, ...]:
    """``output_size`` (an int, or a tuple of len(sizes) whose None entries keep the input's size) as ints."""
    n = len(sizes)
    values = tuple(output_size) if isinstance(output_size, (tuple, list)) else (output_size,) * n
    if len(values) != n:
        raise ValueError(f"{owner}: output_size must be an int or a tuple of {n}, got {output_size!r}")
    values = tuple(size if v is None else v for v, size in zip(values, sizes))
    if any(isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v <= 0 for v in values):
        # torch's forward gives an empty output for a size 0, but its backward refuses it: refused here at once
        raise ValueError(f"{owner}: output_size must hold positive ints or None, got {output_size!r}")
    return tuple(int(v) for v in values)


def _bounds(size: int, out: int) -> tuple[np.ndarray, np.ndarray]:
    """torch's windows along one axis: start floor(i L / S), end ceil((i+1) L / S)."""
    i = np.arange(out)
    return (i * size) // out, -((-(i + 1) * size) // out)


def _adaptive_matrix(size: int, out: int, dtype: np.dtype) -> np.ndarray:
    """(out, size) averaging matrix: row i is 1/len on window i."""
    start, end = _bounds(size, out)
    j = np.arange(size)
    inside = (j >= start[:, None]) & (j < end[:, None])
    return cast("np.ndarray", (inside / np.maximum(end - start, 1)[:, None]).astype(dtype))


def adaptive_avg_pool_forward(x: np.ndarray, dims: int, output_size: Any,
                              owner: str = "AdaptiveAvgPool") -> tuple[np.ndarray, tuple[Any, ...]]:
    r"""y[i] = mean of x over window i (a box: one interval per axis) of the last ``dims`` axes.

    The mean over a box is separable, so y = x x_1 A_1 x_2 A_2 ... (A_d applied along axis d) with
    A_d[i, l] = 1 / len_i on window i (no loop over outputs). Gradient: dL/dx = dL/dy x_1 A_1^T x_2 A_2^T ...

    Shape: x (*, *spatial) -> y (*, *output_size).
    """
    sizes = adaptive_sizes(owner, output_size, x.shape[-dims:])
    mats = tuple(_adaptive_matrix(n, s, x.dtype) for n, s in zip(x.shape[-dims:], sizes))
    if 0 in x.shape[-dims:]:  # an empty window (see the module's check): torch's mean of nothing, 0 / 0
        return np.full(x.shape[:-dims] + sizes, np.nan, x.dtype), mats
    return _separable(mats, x), mats


def adaptive_avg_pool_backward(dout: np.ndarray, cache: tuple[Any, ...]) -> np.ndarray:
    r"""dL/dx = dL/dy x_d A_d^T along each axis (see ``adaptive_avg_pool_forward``)."""
    return _separable(tuple(a.T for a in cache), dout)


def adaptive_avg_pool2d_forward(x: np.ndarray, output_size: Any,
                                owner: str = "AdaptiveAvgPool2d") -> tuple[np.ndarray, tuple[Any, ...]]:
    r"""``adaptive_avg_pool_forward`` over the last two axes: y = A_H x A_W^T. Shape: (*, H, W) -> (*, S_0, S_1)."""
    return adaptive_avg_pool_forward(x, 2, output_size, owner)


adaptive_avg_pool2d_backward = adaptive_avg_pool_backward


def _apply(mats: tuple[Any, ...], x: np.ndarray) -> np.ndarray:
    """x with mats[d] (out_d, in_d) applied along the d-th of its last len(mats) axes (a matmul per axis)."""
    dims = len(mats)
    for d, a in enumerate(mats):
        axis = x.ndim - dims + d
        x = np.swapaxes(np.swapaxes(x, axis, -1) @ a.T, axis, -1) if axis != x.ndim - 1 else x @ a.T
    return x


def _separable(mats: tuple[Any, ...], x: np.ndarray) -> np.ndarray:
    """``_apply(mats, x)``, where a NaN or an infinity in x reaches only the outputs whose windows hold it,
    as in torch's window sums: in the plain product, 0 * inf = NaN would reach every output."""
    finite = np.isfinite(x)
    if finite.all():
        return _apply(mats, x)
    out = _apply(mats, np.where(finite, x, 0))
    masks = tuple((a != 0).astype(x.dtype) for a in mats)

    def reaches(mask: np.ndarray) -> np.ndarray:
        """The outputs whose window holds a True of ``mask``."""
        return _apply(masks, mask.astype(x.dtype)) > 0

    positive, negative = reaches(x == np.inf), reaches(x == -np.inf)
    out = np.where(positive, np.inf, np.where(negative, -np.inf, out))
    return np.where(reaches(np.isnan(x)) | (positive & negative), np.nan, out)  # inf - inf is NaN, as in a sum


def adaptive_max_pool_forward(x: np.ndarray, dims: int, output_size: Any,
                              owner: str = "AdaptiveMaxPool") -> tuple[np.ndarray, MaxPoolCache]:
    r"""y[i] = max of x over window i of the last ``dims`` axes; indices: the chosen cell, flat in its plane.

    Windows are gathered along each axis at once, padded to the longest window (at most ceil(L/S) + 1)
    with -inf cells marked outside; torch's choice rules follow (the first maximum in row-major order, the
    last NaN, the first cell of an all -inf window). Gradient: dL/dx[h] = sum_{i: index[i] = h} dL/dy[i].

    Shape: x (*, *spatial) -> y (*, *output_size), indices int64 of the same shape.
    """
    spatial = x.shape[-dims:]
    sizes = adaptive_sizes(owner, output_size, spatial)
    planes = x.reshape(-1, *spatial)
    coords, valid = [], []
    for d, (n, s) in enumerate(zip(spatial, sizes)):
        start, end = _bounds(n, s)
        cells = start[:, None] + np.arange(int((end - start).max()))  # (S, Kmax)
        shape = [1] * (2 * dims)
        shape[d], shape[dims + d] = cells.shape
        coords.append(np.minimum(cells, n - 1).reshape(shape))
        valid.append((cells < end[:, None]).reshape(shape))
    win = planes[(slice(None), *coords)]  # (B, *sizes, *Kmax)
    inside = np.logical_and.reduce(np.broadcast_arrays(*valid))
    positions = int(np.prod(sizes))
    cells = inside.size // positions
    win = np.where(inside, win, -np.inf).reshape(planes.shape[0], positions, cells)
    inside = inside.reshape(positions, cells)
    arg = window_argmax(win, inside)
    y = np.take_along_axis(win, arg[..., None], axis=-1)[..., 0].astype(x.dtype, copy=False)
    flat: np.ndarray = np.zeros((), dtype=np.int64)
    for c, n in zip(coords, spatial):
        flat = flat * n + c
    flat = flat.reshape(positions, -1)
    indices = flat[np.arange(positions), arg]
    lead = x.shape[:-dims]
    return y.reshape(*lead, *sizes), MaxPoolCache(indices.reshape(*lead, *sizes), x.shape, dims)


adaptive_max_pool_backward = max_pool_backward
