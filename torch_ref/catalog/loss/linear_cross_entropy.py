"""LinearCrossEntropyLoss: class indices (ignore_index inside and outside [0, C), class weights, label
smoothing), probability targets, a K-dimensional loss (out_features), a bias, unbatched, chunking options (kept,
same values). Each in every reduction; compared: the loss, dL/dinput and the Linear's weight and bias gradients
(``loss_parity`` compares a loss's parameter gradients too)."""

from __future__ import annotations

from typing import Any

import numpy as np

from scratch import nn

from ..case import Case
from ..data import classes, normal, positive, probabilities
from . import per_reduction


def _lce(batch: tuple[int, ...] = (8,), out_features: tuple[int, ...] = (), *, soft: bool = False,
         ignored: int | None = None, class_weight: bool = False, **options: Any):
    """LinearCrossEntropyLoss(6, 5, ...) on a (*batch, 6) normal input; class-index targets (every third one
    set to ``ignored`` if given) or, with ``soft``, probabilities over the class axis."""
    def make(d: np.dtype, r: np.random.Generator, red: str) -> tuple:
        weight = positive(r, d, 5) if class_weight else None
        module = nn.LinearCrossEntropyLoss(6, 5, out_features=out_features, reduction=red, weight=weight,
                                           ignore_index=ignored, dtype=d, rng=r, **options)
        if soft:
            p = probabilities(r, d, *batch, *out_features, 5)
            target = np.moveaxis(p / p.sum(axis=-1, keepdims=True), -1, len(batch))
        else:
            target = classes(r, *batch, *out_features, n=5)
            if ignored is not None:
                target.reshape(-1)[::3] = ignored
        return module, normal(r, d, *batch, 6), target
    return make


CASES: list[Case] = [
    *per_reduction("LinearCrossEntropyLoss", _lce()),
    *per_reduction("LinearCrossEntropyLoss(bias,weight,label_smoothing=0.1)",
                   _lce(bias=True, class_weight=True, label_smoothing=0.1)),
    *per_reduction("LinearCrossEntropyLoss(ignore_index=2)", _lce(ignored=2)),
    *per_reduction("LinearCrossEntropyLoss(ignore_index=-1,weight)", _lce(ignored=-1, class_weight=True)),
    *per_reduction("LinearCrossEntropyLoss(probabilities,weight)", _lce(soft=True, class_weight=True)),
    *per_reduction("LinearCrossEntropyLoss(out_features=(3, 2),bias)", _lce(out_features=(3, 2), bias=True)),
    *per_reduction("LinearCrossEntropyLoss(out_features=(3,),probabilities)", _lce(out_features=(3,), soft=True)),
    *per_reduction("LinearCrossEntropyLoss(unbatched,bias)", _lce((), bias=True)),
    *per_reduction("LinearCrossEntropyLoss(options,batch_chunk_size=2)", _lce(
        options=nn.LinearCrossEntropyOptions(allow_retain_graph=True, batch_chunk_size=2))),
]
