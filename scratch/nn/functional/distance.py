r"""Distances: cosine similarity and the pairwise p-norm distance, pure forward/backward pairs.

Both broadcast their two inputs against each other, as torch's do (torch documents it), and reduce each
gradient back to its input's shape (summed over the broadcast axes).

Cosine similarity along ``dim``, as torch's kernel computes it (each input divided by its clamped norm
first, for a result within [-1, 1]):

    n_k = max(||x_k||, eps),   y = sum_dim (x1 / n1) (x2 / n2),

with torch's gradient: the clamp is applied in place under no_grad, so autograd differentiates n_k
as the plain norm r_k = ||x_k|| (dr/dx = x / r, 0 where r = 0) at the clamped value:

    dL/dx1 = g (x2 / n2) / n1 - g (sum_dim x1 x2 / n2) / n1^2 * x1 / r1   (and symmetrically).

Pairwise distance over the last axis, with torch's eps placement (added to the difference, not to the
norm): d = x1 - x2 + eps, y = ||d||_p, and the gradient of the p-norm as torch's ``norm_backward``.
"""

from __future__ import annotations

from typing import NamedTuple, cast

import numpy as np

__all__ = ["cosine_similarity_backward", "cosine_similarity_forward", "pairwise_distance_backward",
           "pairwise_distance_forward"]


def _broadcast(x1: np.ndarray, x2: np.ndarray, owner: str) -> tuple[np.ndarray, np.ndarray]:
    """The two inputs broadcast against each other (torch's rule); a clear error otherwise."""
    if x1.dtype != x2.dtype:
        raise TypeError(f"{owner}: expected x1 and x2 of the same dtype, got {x1.dtype} and {x2.dtype}")
    try:
        return cast("tuple[np.ndarray, np.ndarray]", np.broadcast_arrays(x1, x2))
    except ValueError:
        raise ValueError(f"{owner}: x1 and x2 must be broadcastable, got shapes {x1.shape} and {x2.shape}") from None


def _opmath(x: np.ndarray) -> np.ndarray:
    """float16 upcast to float32, as torch's norm kernels accumulate (the result is rounded back)."""
    return x.astype(np.float32) if x.dtype.itemsize < 4 else x


def _reduce_to(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """``grad`` summed over the axes along which an input of ``shape`` was broadcast."""
    lead = grad.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(shape) if n == 1 and grad.shape[lead + i] != 1)
    return np.asarray(grad.sum(axis=axes)).reshape(shape) if axes else grad


class CosineCache(NamedTuple):
    """What ``cosine_similarity_backward`` needs from ``cosine_similarity_forward``."""

    x1: np.ndarray  #: x1, broadcast
    x2: np.ndarray  #: x2, broadcast
    norms: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]  #: r1, r2 (norms), n1, n2 (clamped), kept dims
    dim: int
    shapes: tuple[tuple[int, ...], tuple[int, ...]]  #: the inputs' own shapes


def cosine_similarity_forward(x1: np.ndarray, x2: np.ndarray, dim: int = 1, eps: float = 1e-8, *,
                              owner: str = "cosine_similarity") -> tuple[np.ndarray, CosineCache]:
    r"""y = sum_dim (x1 / max(||x1||, eps)) * (x2 / max(||x2||, eps)), norms along ``dim``.

    Shape: x1 (*1, D, *2), x2 broadcastable with it -> y (*1, *2), the broadcast shape without ``dim``
    (a 0-d pair is taken as vectors of one).
    """
    a, b = _broadcast(x1, x2, owner)
    if a.ndim == 0:
        a, b = a.reshape(1), b.reshape(1)
    if not -a.ndim <= dim < a.ndim:
        raise np.exceptions.AxisError(f"{owner}: dim out of range (expected to be in range of [{-a.ndim}, "
                                      f"{a.ndim - 1}], but got {dim})")
    dim = dim % a.ndim
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):  # inf and NaN pass through, as in torch
        r1 = np.sqrt(np.sum(np.square(_opmath(a)), axis=dim, keepdims=True)).astype(a.dtype)
        r2 = np.sqrt(np.sum(np.square(_opmath(b)), axis=dim, keepdims=True)).astype(a.dtype)
        n1, n2 = np.maximum(r1, a.dtype.type(eps)), np.maximum(r2, a.dtype.type(eps))
        out = np.sum((a / n1) * (b / n2), axis=dim)
    return np.asarray(out), CosineCache(a, b, (r1, r2, n1, n2), dim, (x1.shape, x2.shape))


def _cosine_grad(g: np.ndarray, x: np.ndarray, other_scaled: np.ndarray, n: np.ndarray, r: np.ndarray,
                 dim: int) -> np.ndarray:
    """g (o / n) - g sum_dim(x o) / n^2 * x / r, with o = the other input over its clamped norm."""
    direct = g * other_scaled / n
    through_norm = -np.sum(g * x * other_scaled, axis=dim, keepdims=True) / (n * n)
    unit = np.where(r == 0, 0, x / np.where(r == 0, 1, r))  # the norm's gradient, 0 at 0 (torch's masked_fill)
    return cast("np.ndarray", direct + through_norm * unit)


def cosine_similarity_backward(dout: np.ndarray, cache: CosineCache) -> tuple[np.ndarray, np.ndarray]:
    r"""dL/dx1 = g x2 / (n1 n2) - g sum_dim(x1 x2) / (n1^2 n2) * x1 / r1, and symmetrically for x2,
    each summed back over the axes its input was broadcast along.

    Shape: dout like the output -> dx1 like x1, dx2 like x2.
    """
    a, b, (r1, r2, n1, n2), dim = cache.x1, cache.x2, cache.norms, cache.dim
    g = np.expand_dims(dout, dim)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        dx1 = _cosine_grad(g, a, b / n2, n1, r1, dim)
        dx2 = _cosine_grad(g, b, a / n1, n2, r2, dim)
    return _reduce_to(dx1, cache.shapes[0]), _reduce_to(dx2, cache.shapes[1])


class DistanceCache(NamedTuple):
    """What ``pairwise_distance_backward`` needs from ``pairwise_distance_forward``."""

    diff: np.ndarray  #: d = x1 - x2 + eps, broadcast, with the last axis kept 2-D at least
    norm: np.ndarray  #: ||d||_p over the last axis, kept
    p: float
    shapes: tuple[tuple[int, ...], tuple[int, ...]]  #: the inputs' own shapes


def _p_norm(d: np.ndarray, p: float) -> np.ndarray:
    """||d||_p over the last axis (kept), as torch's ``norm``: p = 0 counts the non-zeros, +-inf: max / min |d|."""
    dtype, d = d.dtype, _opmath(d)
    return _p_norm_opmath(d, np.abs(d), p).astype(dtype, copy=False)


def _p_norm_opmath(d: np.ndarray, magnitude: np.ndarray, p: float) -> np.ndarray:
    """``_p_norm`` in the computation type."""
    if d.shape[-1] == 1 and p != 0:  # torch's norm of one entry is its magnitude: no |d|^p to overflow
        return magnitude
    if p == 0:
        return cast("np.ndarray", np.sum(d != 0, axis=-1, keepdims=True).astype(d.dtype))
    if p == 1:
        return cast("np.ndarray", np.sum(magnitude, axis=-1, keepdims=True))
    if p == 2:
        return cast("np.ndarray", np.sqrt(np.sum(d * d, axis=-1, keepdims=True)))
    if np.isinf(p):
        return cast("np.ndarray", (np.max if p > 0 else np.min)(magnitude, axis=-1, keepdims=True))
    dtype = d.dtype.type
    return cast("np.ndarray", np.sum(magnitude ** dtype(p), axis=-1, keepdims=True) ** dtype(1 / p))


def pairwise_distance_forward(x1: np.ndarray, x2: np.ndarray, p: float = 2.0, eps: float = 1e-6,
                              keepdim: bool = False, *,
                              owner: str = "pairwise_distance") -> tuple[np.ndarray, DistanceCache]:
    r"""y = ||x1 - x2 + eps||_p over the last axis of the broadcast inputs (eps added to the difference,
    torch's placement).

    Shape: x1 (N, D) or (D,), x2 broadcastable with it -> (N,) or () ((N, 1) or (1,) with keepdim).
    """
    a, b = _broadcast(x1, x2, owner)
    if a.ndim and a.shape[-1] == 0 and (p < 0 or np.isinf(p)):  # torch's check, its message
        raise ValueError(f"{owner}: linalg.vector_norm cannot compute the {p:g} norm on the dimension {a.ndim - 1} "
                         "because this dimension is empty and the operation does not have an identity")
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        diff = a - b + a.dtype.type(eps)
        d = diff.reshape(1) if diff.ndim == 0 else diff  # a 0-d pair: a vector of one
        norm = _p_norm(d, p)
    out = (norm if keepdim else norm[..., 0]).copy()  # not a view of the cache: an in-place op may overwrite y
    return np.asarray(out.reshape(()) if diff.ndim == 0 else out), DistanceCache(d, norm, p, (x1.shape, x2.shape))


def _p_norm_backward(g: np.ndarray, d: np.ndarray, norm: np.ndarray, p: float) -> np.ndarray:
    """torch's ``norm_backward``: the gradient of ||d||_p with respect to d, g kept along the last axis."""
    dtype = d.dtype.type
    if p == 0:
        return np.zeros_like(d)
    if p == 1:
        return cast("np.ndarray", np.sign(d) * g)
    if p == 2:
        return g * np.where(norm == 0, 0, d / np.where(norm == 0, 1, norm))
    if np.isinf(p):  # the arg-extrema (and NaNs) share the gradient
        mask = (np.abs(d) == norm) | np.isnan(d)
        return cast("np.ndarray", np.sign(d) * ((g / mask.sum(axis=-1, keepdims=True).astype(d.dtype)) * mask))
    magnitude = np.abs(d)
    if p < 1:
        scaled = np.sign(d) * np.where(d == 0, 0, magnitude ** dtype(p - 1))
        return cast("np.ndarray", scaled * g * norm ** dtype(1 - p))
    scaled = np.sign(d) * magnitude ** dtype(p - 1) if p < 2 else d * magnitude ** dtype(p - 2)
    return cast("np.ndarray", scaled * np.where(norm == 0, 0, g / norm ** dtype(p - 1)))


def pairwise_distance_backward(dout: np.ndarray, cache: DistanceCache) -> tuple[np.ndarray, np.ndarray]:
    r"""dL/dx1 = dL/dd, dL/dx2 = -dL/dd (each summed back over its broadcast axes), with torch's p-norm gradient:

        p = 2: g d / ||d||      p = 1: g sign(d)      p = 0: 0      p = +-inf: g sign(d) / k at the k extrema
        other p: g sign(d) |d|^(p-1) / ||d||^(p-1)   (0 where ||d|| = 0; for p < 1, 0 where d = 0)

    Shape: dout like the output -> dx1 like x1, dx2 like x2.
    """
    d, shapes = cache.diff, cache.shapes
    g = dout.reshape(cache.norm.shape)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        grad = _p_norm_backward(g, d, cache.norm, cache.p)
    grad = grad.reshape(np.broadcast_shapes(*shapes))
    return _reduce_to(grad, shapes[0]), _reduce_to(-grad, shapes[1])
