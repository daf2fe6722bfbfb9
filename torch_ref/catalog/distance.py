"""Distances: CosineSimilarity (dims, eps, broadcasting, a zero vector) and PairwiseDistance (every kind of p,
eps, keepdim, broadcasting, unbatched)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from scratch import nn

from .case import Case, Make, module_case
from .data import normal


def _pair(build: Callable[[], nn.Module], shape1: tuple[int, ...], shape2: tuple[int, ...] | None = None) -> Make:
    """A fresh ``build()`` on two normal inputs of ``shape1`` and ``shape2`` (default: ``shape1``)."""
    return lambda d, r: (build(), [normal(r, d, *shape1), normal(r, d, *(shape2 or shape1))])


def _zero_vector(dtype: Any, rng: np.random.Generator) -> tuple[nn.Module, list]:
    """A zero row in x1: its norm is clamped to eps, and torch's gradient through the norm is 0 there."""
    x1 = normal(rng, dtype, 4, 5)
    x1[1] = 0
    return nn.CosineSimilarity(dim=1), [x1, normal(rng, dtype, 4, 5)]


CASES: list[Case] = [
    module_case("CosineSimilarity", _pair(lambda: nn.CosineSimilarity(), (4, 6, 3))),
    module_case("CosineSimilarity(dim=0)", _pair(lambda: nn.CosineSimilarity(dim=0), (6, 5))),
    module_case("CosineSimilarity(dim=-1,broadcast)", _pair(lambda: nn.CosineSimilarity(dim=-1), (4, 1, 6), (3, 6))),
    module_case("CosineSimilarity(eps=0.5,small norms)", lambda d, r: (
        nn.CosineSimilarity(eps=0.5), [normal(r, d, 5, 4, scale=0.1), normal(r, d, 5, 4)])),
    module_case("CosineSimilarity(1-D,dim=0)", _pair(lambda: nn.CosineSimilarity(dim=0), (7,))),
    module_case("CosineSimilarity(a zero vector)", _zero_vector),
    module_case("PairwiseDistance", _pair(lambda: nn.PairwiseDistance(), (8, 6))),
    module_case("PairwiseDistance(p=1)", _pair(lambda: nn.PairwiseDistance(1.0), (8, 6))),
    module_case("PairwiseDistance(p=3,eps=0.1)", _pair(lambda: nn.PairwiseDistance(3.0, eps=0.1), (8, 6))),
    module_case("PairwiseDistance(p=1.5)", _pair(lambda: nn.PairwiseDistance(1.5), (8, 6))),
    module_case("PairwiseDistance(p=0.5)", _pair(lambda: nn.PairwiseDistance(0.5), (8, 6))),
    module_case("PairwiseDistance(p=-1)", _pair(lambda: nn.PairwiseDistance(-1.0), (8, 6))),
    module_case("PairwiseDistance(p=inf)", _pair(lambda: nn.PairwiseDistance(float("inf")), (8, 6))),
    module_case("PairwiseDistance(p=-inf)", _pair(lambda: nn.PairwiseDistance(float("-inf")), (8, 6))),
    module_case("PairwiseDistance(keepdim=True)", _pair(lambda: nn.PairwiseDistance(keepdim=True), (8, 6))),
    module_case("PairwiseDistance(unbatched)", _pair(lambda: nn.PairwiseDistance(), (6,))),
    module_case("PairwiseDistance(broadcast)", _pair(lambda: nn.PairwiseDistance(), (6,), (8, 6))),
    module_case("PairwiseDistance(3-D)", _pair(lambda: nn.PairwiseDistance(), (2, 3, 5))),
]
