"""Shape ops as pure ``op_forward -> (out, cache)`` / ``op_backward(dout, cache)`` pairs: flatten and unflatten.

They only move values, so each backward reshapes dL/dy back to the input's shape."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["flatten_backward", "flatten_forward", "unflatten_backward", "unflatten_forward"]


def flatten_forward(x: np.ndarray, start_dim: int = 1, end_dim: int = -1) -> tuple[np.ndarray, tuple[Any, ...]]:
    r"""Merge dims ``start_dim..end_dim`` into one: (*, S_start, ..., S_end, *) -> (*, prod S, *)."""
    ndim = max(x.ndim, 1)
    start, end = start_dim % ndim, end_dim % ndim
    if start > end:
        raise ValueError(f"Flatten: start_dim {start_dim} comes after end_dim {end_dim} for a {x.ndim}-D input")
    shape = (*x.shape[:start], int(np.prod(x.shape[start:end + 1])), *x.shape[end + 1:])
    return x.reshape(shape), x.shape


def flatten_backward(dout: np.ndarray, cache: tuple[Any, ...]) -> np.ndarray:
    r"""Flattening only moves values, so dL/dx is dL/dy reshaped back to x's shape."""
    return dout.reshape(cache)


def unflatten_forward(x: np.ndarray, dim: int, sizes: tuple[int, ...]) -> tuple[np.ndarray, tuple[Any, ...]]:
    r"""Split dim ``dim`` into ``sizes`` (one entry may be -1, inferred): (*, S, *) -> (*, s_1, ..., s_k, *)
    with prod s_i = S. Gradient: dL/dx is dL/dy reshaped back (values only move).

    Shape: x (*, S_dim, *) -> y (*, *sizes, *).
    """
    if x.ndim == 0 or not -x.ndim <= dim < x.ndim:
        raise ValueError(f"Unflatten: dim {dim} is out of range for a {x.ndim}-D input")
    axis = dim % x.ndim
    sizes = tuple(int(s) for s in sizes)
    if len(sizes) == 0:
        raise ValueError("Unflatten: unflattened_size must be non-empty")
    if sizes.count(-1) > 1 or any(s < -1 for s in sizes):
        raise ValueError(f"Unflatten: only one dimension can be inferred (-1) and sizes must be >= -1, got {sizes}")
    known = int(np.prod([s for s in sizes if s != -1], dtype=np.int64))
    size = x.shape[axis]
    if -1 in sizes:
        if known == 0 or size % known:
            raise ValueError(f"Unflatten: sizes {list(sizes)} cannot fill dim {dim} of size {size}")
        sizes = tuple(size // known if s == -1 else s for s in sizes)
    elif known != size:
        raise ValueError(f"Unflatten: provided sizes {list(sizes)} don't multiply up to the size of dim {dim} "
                         f"({size}) in the input of shape {x.shape}")
    return x.reshape(*x.shape[:axis], *sizes, *x.shape[axis + 1:]), x.shape


def unflatten_backward(dout: np.ndarray, cache: tuple[Any, ...]) -> np.ndarray:
    r"""Unflattening only moves values, so dL/dx is dL/dy reshaped back to x's shape."""
    return dout.reshape(cache)
