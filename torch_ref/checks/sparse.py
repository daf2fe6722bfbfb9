"""Rows for Embedding: index inputs have no gradient, so each row compares the output and weight.grad."""

from __future__ import annotations

import numpy as np

from scratch import nn

from .kit import Check, module_check


def _indices(rng: np.random.Generator, *shape: int, n: int = 10) -> np.ndarray:
    return rng.integers(0, n, size=shape)


CHECKS: list[Check] = [
    module_check("Embedding", lambda d, r: (nn.Embedding(10, 6, dtype=d, rng=r), [_indices(r, 4, 7)])),
    module_check("Embedding(padding_idx,scale_grad_by_freq)", lambda d, r: (
        nn.Embedding(10, 6, padding_idx=-2, scale_grad_by_freq=True, dtype=d, rng=r), [_indices(r, 4, 7)])),
    module_check("Embedding(max_norm)", lambda d, r: (
        nn.Embedding(10, 6, max_norm=1.5, dtype=d, rng=r), [_indices(r, 4, 7)])),
]
