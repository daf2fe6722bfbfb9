"""The catalog's sample data: every maker takes the case's generator and dtype first, then a shape.

One set of makers serves ``parity check``, the catalog's cases and every test file, so "a normal input"
or "class targets" means the same thing everywhere.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import DTypeLike


def normal(rng: np.random.Generator, dtype: np.dtype, *shape: int, scale: float = 1.0) -> np.ndarray:
    """Standard normal values times ``scale``."""
    return (scale * rng.standard_normal(shape)).astype(dtype)


def probabilities(rng: np.random.Generator, dtype: np.dtype, *shape: int) -> np.ndarray:
    """Values in [0.02, 0.98]: BCE inputs and targets away from the log's clamp."""
    return rng.uniform(0.02, 0.98, size=shape).astype(dtype)


def log_probabilities(rng: np.random.Generator, dtype: np.dtype, *shape: int) -> np.ndarray:
    """log p with each row of p (the last axis) summing to 1."""
    p = rng.uniform(0.02, 1, size=shape)
    return np.log(p / p.sum(axis=-1, keepdims=True)).astype(dtype)


def signs(rng: np.random.Generator, dtype: DTypeLike, *shape: int) -> np.ndarray:
    """Targets of ±1."""
    return np.where(rng.random(shape) < 0.5, -1, 1).astype(dtype)


def classes(rng: np.random.Generator, *shape: int, n: int = 5) -> np.ndarray:
    """int64 class indices in [0, n)."""
    return rng.integers(0, n, size=shape)


def positive(rng: np.random.Generator, dtype: np.dtype, *shape: int, low: float = 0.5, high: float = 2.0) -> np.ndarray:
    """Uniform values in [low, high): class weights, pos_weight."""
    return rng.uniform(low, high, size=shape).astype(dtype)


def with_kinks(rng: np.random.Generator, dtype: np.dtype, *shape: int, kinks: tuple[float, ...],
               scale: float = 3.0) -> np.ndarray:
    """Normal values times ``scale`` with every third element set to one of ``kinks`` in turn."""
    x = normal(rng, dtype, *shape, scale=scale)
    every_third = x.reshape(-1)[::3]
    every_third[...] = np.resize(np.asarray(kinks, dtype=dtype), every_third.size)
    return x


def spread(rng: np.random.Generator, dtype: np.dtype, *shape: int, top: float = 4.0) -> np.ndarray:
    """Values of both signs with magnitudes log-uniform from 1e-2 up to 10^top."""
    magnitude = 10.0 ** rng.uniform(-2, top, shape)
    return (rng.choice([-1.0, 1.0], shape) * magnitude).astype(dtype)
