"""Distances as pure ``op_forward -> (out, cache)`` / ``op_backward(dout, cache)`` pairs: the p-norm of a
difference along the last dim (torch's ``pairwise_distance``), which the triplet losses use too.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

__all__ = ["pairwise_distance_backward", "pairwise_distance_forward", "vector_norm_backward", "vector_norm_forward"]


# ----------------------------------------------------------------------------------------- p-norm
class NormCache(NamedTuple):
    """What ``vector_norm_backward`` needs: the vectors, their norms (keepdim) and p."""

    v: np.ndarray
    norm: np.ndarray  #: |v|_p along the last dim, kept as a size-1 dim (float64 for a float32 v)
    p: float


def vector_norm_forward(v: np.ndarray, p: float = 2.0) -> tuple[np.ndarray, NormCache]:
    r"""|v|_p = (sum_i |v_i|^p)^{1/p} along the last dim (max |v_i| for p = inf, min for -inf, the count of
    non-zeros for p = 0). Shape: v (*, D) -> (*, 1), the norm dim kept. A float32 v is summed in float64, so
    |v|^p does not overflow where the norm itself is finite (as torch's, which gives 1e30 for v = 1e30)."""
    if v.dtype == np.float32:
        norm, _ = vector_norm_forward(v.astype(np.float64), p)
        return norm.astype(np.float32), NormCache(v, norm, p)
    a = np.abs(v)
    with np.errstate(divide="ignore", over="ignore", invalid="ignore", under="ignore"):  # torch's infs, silently
        if p == np.inf:
            norm = a.max(axis=-1, keepdims=True, initial=0)
        elif p == -np.inf:
            norm = a.min(axis=-1, keepdims=True, initial=np.inf)
        elif p == 0:
            norm = (v != 0).sum(axis=-1, keepdims=True).astype(v.dtype)
        elif p == 1:
            norm = a.sum(axis=-1, keepdims=True)
        elif p == 2:
            norm = np.sqrt((v * v).sum(axis=-1, keepdims=True))
        else:
            norm = (a ** v.dtype.type(p)).sum(axis=-1, keepdims=True) ** v.dtype.type(1 / p)
    return norm, NormCache(v, norm, p)


def vector_norm_backward(dnorm: np.ndarray, cache: NormCache) -> np.ndarray:
    r"""d|v|_p / dv_i = sign(v_i) |v_i|^{p-1} / |v|_p^{p-1}, as torch's norm_backward: v_i / |v| for p = 2,
    sign(v_i) for p = 1, and 0 where |v|_p = 0; for p = ±inf the gradient is shared evenly by the entries
    with |v_i| = |v|_p; 0 for p = 0. ``dnorm`` has the norm's (*, 1) shape; the result v's."""
    v, norm, p = cache
    if v.dtype == np.float32:  # in float64, as the forward: v * |v|^{p-2} / |v|^{p-1} without overflow
        return vector_norm_backward(dnorm.astype(np.float64), NormCache(v.astype(np.float64), norm, p)).astype(v.dtype)
    dt = v.dtype.type
    with np.errstate(divide="ignore", invalid="ignore", over="ignore", under="ignore"):
        if p == 0:
            return np.zeros_like(v)
        if p in (np.inf, -np.inf):
            hit = np.abs(v) == norm
            return np.sign(v) * (dnorm / hit.sum(axis=-1, keepdims=True).astype(v.dtype)) * hit
        if p == 1:
            return np.sign(v) * dnorm
        zero = norm == 0
        if p == 2:
            return v * np.where(zero, dt(0), dnorm / norm)
        if p < 1:
            scaled = np.where(v == 0, dt(0), np.sign(v) * np.abs(v) ** dt(p - 1))
            return scaled * dnorm * norm ** dt(1 - p)
        scaled = np.sign(v) * np.abs(v) ** dt(p - 1) if p < 2 else v * np.abs(v) ** dt(p - 2)
        return scaled * np.where(zero, dt(0), dnorm / norm ** dt(p - 1))


# ---------------------------------------------------------------------------------- pairwise distance
def _check_pair(x1: np.ndarray, x2: np.ndarray, owner: str) -> None:
    for what, x in (("x1", x1), ("x2", x2)):
        if not isinstance(x, (np.ndarray, np.generic)) or not np.issubdtype(x.dtype, np.floating):
            got = x.dtype if isinstance(x, np.ndarray) else type(x).__name__
            raise TypeError(f"{owner}: expected {what} to be a floating numpy.ndarray, got {got}")
    if x1.dtype != x2.dtype:
        raise TypeError(f"{owner}: x1 and x2 must share one dtype, got {x1.dtype} and {x2.dtype}")
    if x1.shape != x2.shape:
        raise ValueError(f"{owner}: x1 and x2 must have the same shape (scratch does not broadcast them), got "
                         f"{x1.shape} and {x2.shape}")


def pairwise_distance_forward(x1: np.ndarray, x2: np.ndarray, p: float = 2.0, eps: float = 1e-6,
                              keepdim: bool = False, *, owner: str = "pairwise_distance") -> tuple[np.ndarray, tuple]:
    r"""d = |x1 - x2 + eps|_p along the last dim (torch adds eps to the difference, then takes the norm).

    Shape: x1, x2 (*, D) the same -> d (*), or (*, 1) with ``keepdim``; a 0-d pair is one element (D = 1)."""
    _check_pair(x1, x2, owner)
    with np.errstate(invalid="ignore", over="ignore"):  # inf - inf = nan, silently, as torch
        diff = x1 - x2 + x1.dtype.type(eps)
    norm, cache = vector_norm_forward(diff.reshape(diff.shape or (1,)), p)
    out = norm if keepdim and diff.ndim else norm.reshape(diff.shape[:-1])
    return out, (cache, diff.shape)


def pairwise_distance_backward(grad: np.ndarray, cache: tuple) -> tuple[np.ndarray, np.ndarray]:
    r"""dd/dx1 = d|v|_p/dv at v = x1 - x2 + eps (see ``vector_norm_backward``), dd/dx2 its negative.
    Returns (dL/dx1, dL/dx2)."""
    norm_cache, shape = cache
    dv = vector_norm_backward(np.reshape(grad, norm_cache.norm.shape), norm_cache).reshape(shape)
    return dv, -dv
