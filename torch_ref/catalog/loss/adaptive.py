"""AdaptiveLogSoftmaxWithLoss: one and several clusters, div_value and head_bias, hidden sizes down to 1, targets on
every cutoff's both sides, a cluster with no rows, a batch of one, unbatched inputs (shortlist and tail targets).
Compared: the output and the loss, dL/dinput (from random gradients of both) and every linear layer's gradient.
(A hidden size of 0, whose gradients are empty, is in test_adaptive.py: the catalog's comparison wants non-trivial
gradients.)"""

from __future__ import annotations

from typing import Any

import numpy as np

from scratch import nn

from ..case import Case, Make, module_case
from ..data import classes, normal


def _asm(in_features: int, n_classes: int, cutoffs: list[int], batch: tuple[int, ...] = (16,),
         targets: list[int] | None = None, **options: Any) -> Make:
    """AdaptiveLogSoftmaxWithLoss(in_features, n_classes, cutoffs, ...) on a (*batch, in_features) normal input;
    the ``targets`` given, else random classes."""
    def make(dtype: np.dtype, rng: np.random.Generator) -> tuple[nn.Module, list]:
        module = nn.AdaptiveLogSoftmaxWithLoss(in_features, n_classes, cutoffs, **options, dtype=dtype, rng=rng)
        target = classes(rng, *batch, n=n_classes) if targets is None else np.array(targets, np.int64).reshape(batch)
        return module, [normal(rng, dtype, *batch, in_features), target]
    return make


def _case(label: str, make: Make) -> Case:
    return module_case(f"AdaptiveLogSoftmaxWithLoss({label})", make)


CASES: list[Case] = [
    _case("16,20,[5,12]", _asm(16, 20, [5, 12], batch=(24,))),
    _case("8,10,[3],one cluster", _asm(8, 10, [3])),
    _case("12,30,[4,10,20],div_value=2,head_bias", _asm(12, 30, [4, 10, 20], batch=(32,), div_value=2.0,
                                                        head_bias=True)),
    _case("targets at every cutoff,div_value=2", _asm(8, 12, [2, 5, 9], batch=(8,), targets=[0, 1, 2, 4, 5, 8, 9, 11],
                                                      div_value=2.0)),
    _case("no row in cluster 0,div_value=2", _asm(8, 12, [4, 8], batch=(6,), targets=[0, 3, 8, 11, 9, 1],
                                                  div_value=2.0)),
    _case("shortlist targets only,div_value=2", _asm(8, 12, [4, 8], batch=(5,), targets=[0, 3, 2, 1, 3],
                                                     div_value=2.0)),
    _case("batch of 1,div_value=2.5", _asm(8, 10, [3, 6], batch=(1,), targets=[7], head_bias=True, div_value=2.5)),
    _case("unbatched,tail target", _asm(8, 10, [3], batch=(), targets=[6], head_bias=True)),
    _case("unbatched,shortlist target,div_value=2", _asm(8, 10, [3, 6], batch=(), targets=[1], div_value=2.0)),
]
