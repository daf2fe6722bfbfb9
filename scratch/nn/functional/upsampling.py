r"""Interpolation (torch's ``F.interpolate``, behind Upsample): pure forward/backward pairs.

Every mode is separable: along each spatial axis, output position o reads ``taps`` input positions
i_k(o) with weights w_k(o), and the N-D result applies the axes one after the other, the last
axis first, exactly as torch's CPU kernel nests them:

    y[o_1, ..., o_d] = sum_{k_1} w_{k_1}(o_1) ( ... sum_{k_d} w_{k_d}(o_d) x[i_{k_1}(o_1), ..., i_{k_d}(o_d)] )

The indices and weights are computed as torch's kernels do (ATen's UpSample.h), in the input's
dtype (float32 arithmetic for float32, as torch's ``opmath``):

- scale r = (L_in - 1) / (L_out - 1) with ``align_corners`` (0 when L_out = 1), else 1 / scale_factor
  when one is given (and ``recompute_scale_factor`` is not set), else L_in / L_out
  (``area_pixel_compute_scale``);
- source coordinate s(o) = r o with ``align_corners``, else r (o + 1/2) - 1/2 (rounded once: torch's build
  fuses the multiply-add), clamped at 0 except for bicubic (``area_pixel_compute_source_index``);
- nearest: i(o) = min(floor(o r), L_in - 1) in float32 (o itself when L_out = L_in, o // 2 when
  L_out = 2 L_in); nearest-exact: min(floor((o + 1/2) r), L_in - 1);
- linear (and bilinear, trilinear along each axis): i_0 = min(floor(s), L_in - 1), lambda = clamp(s -
  i_0, 0, 1), taps (i_0, i_0 + [i_0 < L_in - 1]) with weights (1 - lambda, lambda); when L_out = L_in
  the taps are (o, o) with weights (1, 0) (so an inf becomes inf + 0 inf = nan, as in torch);
- bicubic: i_0, t as above from the unclamped s; taps clamp(i_0 - 1 + j, 0, L_in - 1), j = 0..3
  (border access is clamped), weights Keys' cubic convolution with A = -0.75:
  W_1(x) = ((A + 2) x - (A + 3)) x^2 + 1, W_2(x) = ((A x - 5 A) x + 8 A) x - 4 A,
  (W_2(t + 1), W_1(t), W_1(1 - t), W_2(2 - t)).

Gradient: the transpose of each axis map, applied first axis first: dL/dx[i] = sum_{o, k: i_k(o) = i}
w_k(o) dL/dy[o].

Speed: each axis map of the interpolating modes is linear, a small dense (L_out, L_in) matrix A built
from those taps and weights, so for a finite float32/float64 input (each size at most ``MATRIX_MAX``)
the forward is a product per axis, Y = A_H X A_W^T for bilinear (GEMMs: the last axis as one, the
others batched), and the backward the transposed products, dX = A_H^T dY A_W. Each output then sums
the same weighted taps plus exact zeros, in another order than torch's (a few ulps). Otherwise
(nearest modes, float16, a non-finite value, whose 0 * inf would spread nan along a whole row) the taps
are gathered and the gradient is each tap's transpose: every tap index i_k(o) is non-decreasing in o,
so the outputs reading one input position form one contiguous run, and each tap's scatter is a
segmented sum over those runs (``np.add.reduceat``), no ``np.add.at``. The loop runs over the 1-3
spatial axes and the 1, 2 or 4 taps only.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple, cast

import numpy as np

__all__ = ["interpolate", "interpolate_backward", "interpolate_forward"]

MODES = {"nearest": None, "nearest-exact": None, "linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}
CUBIC_A = -0.75


class Taps(NamedTuple):
    """One axis: ``index[k, o]`` is tap k's input position for output o, ``weight[k, o]`` its weight (None: 1)."""

    index: np.ndarray  # type: ignore[assignment]  # the field shadows tuple.index, never called on Taps
    weight: np.ndarray | None
    in_size: int


class InterpolateCache(NamedTuple):
    """What ``interpolate_backward`` needs: the taps of each spatial axis and the input's shape."""

    taps: list[Taps]
    input_shape: tuple[int, ...]
    matrices: list[np.ndarray] | None  #: each axis's dense (L_out, L_in) map when the forward used them


def _opmath(dtype: np.dtype) -> np.dtype:
    return np.dtype(np.float64) if dtype == np.float64 else np.dtype(np.float32)


def _scale(in_size: int, out_size: int, align_corners: bool, scale: float | None, op: np.dtype) -> Any:
    """torch's ``area_pixel_compute_scale`` in the arithmetic dtype ``op``."""
    if align_corners:
        return op.type(in_size - 1) / op.type(out_size - 1) if out_size > 1 else op.type(0)
    if scale is not None and scale > 0:
        return op.type(1.0 / scale)
    return op.type(in_size) / op.type(out_size)


def _nearest_taps(in_size: int, out_size: int, scale: float | None, exact: bool) -> Taps:
    o = np.arange(out_size)
    if not exact and out_size == in_size:
        index = o
    elif not exact and out_size == 2 * in_size:
        index = o >> 1
    else:  # torch computes the scale and the product in float32 (floorf), whatever the dtype
        r = np.float32(1.0 / scale) if scale is not None and scale > 0 else np.float32(in_size) / np.float32(out_size)
        source = ((o + 0.5) * np.float64(r)).astype(np.float32) if exact else o.astype(np.float32) * r
        index = np.minimum(np.floor(source).astype(np.int64), in_size - 1)
    return Taps(index[None], None, in_size)


def _fused_source(r: Any, o: np.ndarray, op: np.dtype) -> np.ndarray:
    """r (o + 1/2) - 1/2 rounded once, as the fused multiply-add torch's compiled kernel performs: the product
    is exact in a wider type (float64 for float32; long double, exact for o < 2^10, for float64)."""
    wide: type[Any] = np.float64 if op == np.float32 else np.longdouble  # the stubs type no mixed product
    return cast("np.ndarray", (wide(r) * (o + 0.5).astype(wide) - wide(0.5)).astype(op))


def _floor_lambda(source: np.ndarray, in_size: int, op: np.dtype) -> tuple[np.ndarray, np.ndarray]:
    """torch's ``guard_index_and_lambda``: i = min(floorf(s), L_in - 1), lambda = clamp(s - i, 0, 1)."""
    index = np.minimum(np.floor(source.astype(np.float32)).astype(np.int64), in_size - 1)
    lam = np.clip(source - index.astype(op), op.type(0), op.type(1))
    return index, lam


def _linear_taps(in_size: int, out_size: int, scale: float | None, align_corners: bool, dtype: np.dtype) -> Taps:
    op, o = _opmath(dtype), np.arange(out_size)
    if out_size == in_size:  # torch's copy case: taps (o, o) with weights (1, 0)
        index = np.stack([o, o])
        return Taps(index, np.stack([np.ones(out_size), np.zeros(out_size)]).astype(dtype), in_size)
    r = _scale(in_size, out_size, align_corners, scale, op)
    source = r * o.astype(op) if align_corners else np.maximum(_fused_source(r, o, op), op.type(0))
    i0, lam1 = _floor_lambda(source, in_size, op)
    lam1 = lam1.astype(dtype)
    index = np.stack([i0, i0 + (i0 < in_size - 1)])
    return Taps(index, np.stack([dtype.type(1) - lam1, lam1]), in_size)


def _cubic_taps(in_size: int, out_size: int, scale: float | None, align_corners: bool, dtype: np.dtype) -> Taps:
    op, o = _opmath(dtype), np.arange(out_size)
    r = _scale(in_size, out_size, align_corners, scale, op)
    source = r * o.astype(op) if align_corners else _fused_source(r, o, op)
    i0, t = _floor_lambda(source, in_size, op)
    a, one = op.type(CUBIC_A), op.type(1)

    def w1(x: np.ndarray) -> np.ndarray:
        return cast("np.ndarray", ((a + 2) * x - (a + 3)) * x * x + one)

    def w2(x: np.ndarray) -> np.ndarray:
        return cast("np.ndarray", ((a * x - 5 * a) * x + 8 * a) * x - 4 * a)

    weight = np.stack([w2(t + one), w1(t), w1(one - t), w2((one - t) + one)]).astype(dtype)
    index = np.clip(i0[None] + np.arange(-1, 3)[:, None], 0, in_size - 1)
    return Taps(index, weight, in_size)


def _is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _sizes(owner: str, shape: tuple[int, ...], size: Any, scale_factor: Any,
           recompute_scale_factor: bool | None) -> tuple[list[int], list[float | None]]:
    """Output sizes and the scale each axis's kernel gets (None: L_in / L_out), as torch's interpolate."""
    dim, spatial = len(shape) - 2, list(shape[2:])
    if size is not None and scale_factor is not None:
        raise ValueError(f"{owner}: only one of size or scale_factor should be defined")
    if size is None and scale_factor is None:
        raise ValueError(f"{owner}: either size or scale_factor should be defined")
    if size is not None:
        if recompute_scale_factor:
            raise ValueError(f"{owner}: recompute_scale_factor is not meaningful with an explicit size.")
        sizes = list(size) if isinstance(size, (list, tuple)) else [size] * dim
        if len(sizes) != dim:
            raise ValueError(f"{owner}: Input and output must have the same number of spatial dimensions, but got "
                             f"input with spatial dimensions of {spatial} and output size of {size}")
        if not all(_is_int(s) for s in sizes):
            raise TypeError(f"{owner}: expected size to be an int or a tuple of ints, got {size!r}")
        return [int(s) for s in sizes], [None] * dim
    scales = list(scale_factor) if isinstance(scale_factor, (list, tuple)) else [scale_factor] * dim
    if len(scales) != dim:
        raise ValueError(f"{owner}: Input and scale_factor must have the same number of spatial dimensions, but got "
                         f"input with spatial dimensions of {spatial} and scale_factor of shape {scale_factor}")
    sizes = [math.floor(n * float(s)) for n, s in zip(spatial, scales)]  # torch: floor(double(L_in) * scale)
    return sizes, [None] * dim if recompute_scale_factor else [float(s) for s in scales]


def _check(owner: str, input: np.ndarray, mode: str, align_corners: bool | None, antialias: bool) -> None:
    if mode not in MODES:
        raise ValueError(f"{owner}: mode must be one of {', '.join(MODES)} (area and lanczos are not supported), "
                         f"got {mode!r}")
    if MODES[mode] is None and align_corners is not None:
        raise ValueError(f"{owner}: align_corners option can only be set with the interpolating modes: "
                         "linear | bilinear | bicubic | trilinear")
    if antialias:
        raise ValueError(f"{owner}: antialias=True is not supported by scratch (torch's separable anti-aliasing "
                         "filters); use antialias=False")
    dims = input.ndim - 2
    if dims not in (1, 2, 3):
        raise ValueError(f"{owner}: expected a 3-D, 4-D or 5-D input (N, C, *spatial), got shape {input.shape}")
    if MODES[mode] not in (None, dims) or (mode == "bicubic" and dims != 2):
        want = {"linear": "3-D", "bilinear": "4-D", "bicubic": "4-D", "trilinear": "5-D"}[mode]
        raise ValueError(f"{owner}: mode {mode!r} needs a {want} input, got shape {input.shape}")
    if 0 in input.shape[1:]:
        raise ValueError(f"{owner}: expected non-empty channel and spatial dims, got shape {input.shape}")


def _axis_taps(mode: str, in_size: int, out_size: int, scale: float | None, align_corners: bool,
               dtype: np.dtype) -> Taps:
    if mode in ("nearest", "nearest-exact"):
        return _nearest_taps(in_size, out_size, scale, mode == "nearest-exact")
    if mode == "bicubic":
        return _cubic_taps(in_size, out_size, scale, align_corners, dtype)
    return _linear_taps(in_size, out_size, scale, align_corners, dtype)


def _apply(x: np.ndarray, axis: int, taps: Taps) -> np.ndarray:
    """y[..., o, ...] = sum_k w_k(o) x[..., i_k(o), ...] along ``axis``, taps summed in order (as torch)."""
    if taps.weight is None:
        return cast("np.ndarray", np.take(x, taps.index[0], axis=axis))
    shape = [1] * x.ndim
    shape[axis] = -1
    out = np.take(x, taps.index[0], axis=axis) * taps.weight[0].reshape(shape)
    for index, weight in zip(taps.index[1:], taps.weight[1:]):
        out = out + np.take(x, index, axis=axis) * weight.reshape(shape)
    return cast("np.ndarray", out)


def _scatter(g: np.ndarray, axis: int, taps: Taps) -> np.ndarray:
    """The transpose of ``_apply``: dx[..., i, ...] = sum_{o, k: i_k(o) = i} w_k(o) g[..., o, ...], each tap's
    runs of equal (non-decreasing) indices summed by ``np.add.reduceat``."""
    shape = [1] * g.ndim
    shape[axis] = -1
    dx = np.zeros((*g.shape[:axis], taps.in_size, *g.shape[axis + 1:]), dtype=g.dtype)
    lead = (slice(None),) * axis
    for k, index in enumerate(taps.index):
        values = g if taps.weight is None else g * taps.weight[k].reshape(shape)
        rows, starts = np.unique(index, return_index=True)
        contiguous = rows[-1] - rows[0] + 1 == len(rows)  # then a slice, not a fancy index, takes the sums
        dx[(*lead, slice(rows[0], rows[-1] + 1) if contiguous else rows)] += np.add.reduceat(values, starts, axis=axis)
    return dx


#: the matrix path's limit on an axis's input and output sizes: beyond it a dense (out, in) matrix costs more
#: than the taps' gathers
MATRIX_MAX = 512


def _matrix(taps: Taps, dtype: np.dtype) -> np.ndarray:
    """The axis map as a dense (L_out, L_in) matrix: A[o, i_k(o)] += w_k(o) (a repeated bicubic border tap adds)."""
    out_size = taps.index.shape[1]
    matrix = np.zeros((out_size, taps.in_size), dtype=dtype)
    rows = np.broadcast_to(np.arange(out_size), taps.index.shape)
    np.add.at(matrix, (rows.ravel(), taps.index.ravel()), cast("np.ndarray", taps.weight).ravel())  # (out, in) only
    return matrix


def _use_matrices(x: np.ndarray, taps: list[Taps]) -> bool:
    """Whether the GEMM path applies: weighted taps, float32/float64, moderate sizes, and finite values (a dense
    product would spread 0 * inf = nan to every output of the row, where torch's taps keep it local)."""
    return (x.dtype in (np.float32, np.float64) and all(t.weight is not None for t in taps)
            and all(max(t.in_size, t.index.shape[1]) <= MATRIX_MAX for t in taps) and bool(np.isfinite(x).all()))


def _apply_matrix(x: np.ndarray, axis: int, matrix: np.ndarray) -> np.ndarray:
    """y = A x along ``axis`` (A of shape (M, L)): one GEMM for the last axis, a batched one otherwise."""
    lead, size, trail = int(np.prod(x.shape[:axis])), x.shape[axis], int(np.prod(x.shape[axis + 1:]))
    if axis == x.ndim - 1:
        out = x.reshape(lead, size) @ matrix.T
    else:
        out = np.matmul(np.ascontiguousarray(matrix), x.reshape(lead, size, trail))
    return cast("np.ndarray", out.reshape(*x.shape[:axis], matrix.shape[0], *x.shape[axis + 1:]))


def interpolate_forward(input: np.ndarray, size: Any = None, scale_factor: Any = None, mode: str = "nearest",
                        align_corners: bool | None = None, recompute_scale_factor: bool | None = None,
                        antialias: bool = False, owner: str = "interpolate") -> tuple[np.ndarray, InterpolateCache]:
    r"""Resample the spatial axes of ``input`` (see the module docstring for the taps of each mode).

    Shape: input (N, C, *spatial_in) with 1 (linear), 2 (bilinear, bicubic) or 3 (trilinear) spatial
    axes (nearest modes: any of them); output (N, C, *spatial_out), spatial_out = ``size``, or
    floor(spatial_in * scale_factor).
    """
    _check(owner, input, mode, align_corners, antialias)
    sizes, scales = _sizes(owner, input.shape, size, scale_factor, recompute_scale_factor)
    if min(sizes) <= 0:
        names = "DHW"[3 - len(sizes):]
        raise ValueError(f"{owner}: Input and output sizes should be greater than 0, but got input "
                         f"({', '.join(f'{a}: {n}' for a, n in zip(names, input.shape[2:]))}) and output "
                         f"({', '.join(f'{a}: {n}' for a, n in zip(names, sizes))})")
    dtype = input.dtype
    taps = [_axis_taps(mode, n, m, s, bool(align_corners), dtype) for n, m, s in zip(input.shape[2:], sizes, scales)]
    out = input
    if _use_matrices(input, taps):
        matrices = [_matrix(t, dtype) for t in taps]
        for axis in range(2, input.ndim):  # the first axes first: their batched products then run on less data
            out = _apply_matrix(out, axis, matrices[axis - 2])
        return out, InterpolateCache(taps, input.shape, matrices)
    with np.errstate(invalid="ignore", over="ignore"):  # 0 * inf is nan in torch's kernel too
        for axis in range(input.ndim - 1, 1, -1):  # the last axis first: torch's innermost sum
            out = _apply(out, axis, taps[axis - 2])
    return out.astype(dtype, copy=False), InterpolateCache(taps, input.shape, None)


def interpolate_backward(dout: np.ndarray, cache: InterpolateCache) -> np.ndarray:
    r"""dL/dx: the transpose of each axis map, dL/dx[i] = sum_{o, k: i_k(o) = i} w_k(o) dL/dy[o], applied
    axis by axis (the first spatial axis first). Shape: dout (N, C, *spatial_out) -> (N, C, *spatial_in)."""
    grad = dout
    if cache.matrices is not None and dout.dtype == cache.matrices[0].dtype and bool(np.isfinite(dout).all()):
        for axis in range(dout.ndim - 1, 1, -1):  # dL/dx = A^T dL/dy along each axis, the last (one GEMM) first
            grad = _apply_matrix(grad, axis, cache.matrices[axis - 2].T)
        return grad
    with np.errstate(invalid="ignore", over="ignore"):
        for axis in range(2, dout.ndim):
            grad = _scatter(grad, axis, cache.taps[axis - 2])
    return grad.astype(dout.dtype, copy=False)


def interpolate(input: np.ndarray, size: Any = None, scale_factor: Any = None, mode: str = "nearest",
                align_corners: bool | None = None, recompute_scale_factor: bool | None = None,
                antialias: bool = False) -> np.ndarray:
    """torch's ``F.interpolate``: the output of ``interpolate_forward`` (no cache kept)."""
    return interpolate_forward(input, size, scale_factor, mode, align_corners, recompute_scale_factor, antialias)[0]
