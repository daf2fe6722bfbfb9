"""MultiLabelMarginLoss (labels padded with -1, repeated labels, a row without labels, unbatched, the kink of
max(0, .)) and MultiLabelSoftMarginLoss (weights of both signs, unbatched)."""

from __future__ import annotations

import numpy as np

from scratch import nn

from ..case import Case
from ..data import normal
from . import per_reduction

LABELS = np.array([[3, 0, -1, 1, 1], [1, 4, 2, -1, 0], [-1, 2, 0, 0, 0], [0, 1, 2, 3, 4], [4, 4, -1, 0, 0],
                   [2, -1, 0, 0, 0]])  # padded, repeated, none, all, a label twice


def _margin(d: np.dtype, r: np.random.Generator, red: str) -> tuple:
    return nn.MultiLabelMarginLoss(reduction=red), normal(r, d, 6, 5), LABELS


def _soft(weight: bool, *shape: int):
    def make(d: np.dtype, r: np.random.Generator, red: str) -> tuple:
        w = normal(r, d, shape[-1], scale=2) if weight else None
        target = (r.random(shape) < 0.4).astype(d)
        return nn.MultiLabelSoftMarginLoss(weight=w, reduction=red), normal(r, d, *shape, scale=3), target
    return make


CASES: list[Case] = [
    *per_reduction("MultiLabelMarginLoss", _margin),
    *per_reduction("MultiLabelMarginLoss(unbatched)", lambda d, r, red: (
        nn.MultiLabelMarginLoss(reduction=red), normal(r, d, 5), np.array([2, 0, -1, 3, 3]))),
    *per_reduction("MultiLabelMarginLoss(at kink)", lambda d, r, red: (
        nn.MultiLabelMarginLoss(reduction=red), np.array([[1.0, 0.0, 0.5], [0.25, 1.25, 0.5]], dtype=d),
        np.array([[0, -1, 2], [1, 2, -1]])), tags=("kink",)),
    *per_reduction("MultiLabelSoftMarginLoss", _soft(False, 8, 5)),
    *per_reduction("MultiLabelSoftMarginLoss(weight)", _soft(True, 8, 5)),
    *per_reduction("MultiLabelSoftMarginLoss(unbatched,weight)", _soft(True, 6)),
]
