"""MultiMarginLoss, HingeEmbeddingLoss, SoftMarginLoss and CosineEmbeddingLoss: their options, unbatched
inputs, integer targets, and the kinks of max(0, .)."""

from __future__ import annotations

import numpy as np

from scratch import nn

from ..case import Case
from ..data import classes, normal, positive, signs
from . import MakeLoss, per_reduction


def _multi_margin() -> list[Case]:
    mm = nn.MultiMarginLoss
    return [
        *per_reduction("MultiMarginLoss", lambda d, r, red: (mm(reduction=red), normal(r, d, 8, 5), classes(r, 8))),
        *per_reduction("MultiMarginLoss(p=2,margin,weight)", lambda d, r, red: (
            mm(p=2, margin=0.6, weight=positive(r, d, 5), reduction=red), normal(r, d, 8, 5), classes(r, 8))),
        *per_reduction("MultiMarginLoss(unbatched)", lambda d, r, red: (mm(reduction=red), normal(r, d, 5),
                                                                        np.array(2))),
        *per_reduction("MultiMarginLoss(unbatched,1-D target)", lambda d, r, red: (
            mm(reduction=red), normal(r, d, 5), np.array([0]))),
        *per_reduction("MultiMarginLoss(at kink)", lambda d, r, red: (
            mm(reduction=red), np.array([[1.0, 0.0, 2.0], [0.5, 0.25, 0.0]], dtype=d), np.array([2, 1])),
            tags=("kink",)),
    ]


def _embedding() -> list[Case]:
    he, ce = nn.HingeEmbeddingLoss, nn.CosineEmbeddingLoss
    return [
        *per_reduction("HingeEmbeddingLoss", lambda d, r, red: (he(reduction=red), normal(r, d, 8, 5, scale=2),
                                                                signs(r, d, 8, 5))),
        *per_reduction("HingeEmbeddingLoss(margin=0.3,3-D)", lambda d, r, red: (
            he(margin=0.3, reduction=red), normal(r, d, 2, 3, 4), signs(r, d, 2, 3, 4))),
        *per_reduction("HingeEmbeddingLoss(0-D,integer target)", lambda d, r, red: (
            he(reduction=red), np.array(0.3, dtype=d), np.array(-1))),
        *per_reduction("HingeEmbeddingLoss(at kink)", lambda d, r, red: (
            he(margin=1.0, reduction=red), np.array([1.0, 0.5, 1.0, 2.0], dtype=d), np.array([-1, -1, 1, -1], dtype=d)),
            tags=("kink",)),
        *per_reduction("CosineEmbeddingLoss", lambda d, r, red: (
            ce(reduction=red), (normal(r, d, 8, 6), normal(r, d, 8, 6)), signs(r, np.int64, 8))),
        *per_reduction("CosineEmbeddingLoss(margin=-0.2)", lambda d, r, red: (
            ce(margin=-0.2, reduction=red), (normal(r, d, 8, 6), normal(r, d, 8, 6)), signs(r, d, 8))),
        *per_reduction("CosineEmbeddingLoss(unbatched)", lambda d, r, red: (
            ce(reduction=red), (normal(r, d, 6), normal(r, d, 6)), np.array(1))),
        *per_reduction("CosineEmbeddingLoss(at kink)", lambda d, r, red: (
            ce(reduction=red), (np.array([[1.0, 0.0], [1.0, 2.0]], dtype=d),
                                np.array([[0.0, 1.0], [2.0, 1.0]], dtype=d)), np.array([-1, -1])), tags=("kink",)),
    ]


CASES: list[Case] = [
    *_multi_margin(),
    *_embedding(),
    *per_reduction("SoftMarginLoss", lambda d, r, red: (nn.SoftMarginLoss(reduction=red), normal(r, d, 8, 5, scale=2),
                                                        signs(r, d, 8, 5))),
]


def _ranking(*shape: int, margin: float = 0.0, integer_target: bool = False) -> MakeLoss:
    def make(d: np.dtype, r: np.random.Generator, red: str) -> tuple:
        target = signs(r, np.int64 if integer_target else d, *shape)
        return nn.MarginRankingLoss(margin=margin, reduction=red), (normal(r, d, *shape), normal(r, d, *shape)), target
    return make


CASES += [
    *per_reduction("MarginRankingLoss", _ranking(10)),
    *per_reduction("MarginRankingLoss(margin=0.5,integer target)", _ranking(10, margin=0.5, integer_target=True)),
    *per_reduction("MarginRankingLoss(0-D)", _ranking(margin=0.3)),
    *per_reduction("MarginRankingLoss(at kink)", lambda d, r, red: (
        nn.MarginRankingLoss(margin=0.5, reduction=red), (np.array([0.5, 1.0, 2.0], dtype=d),
                                                          np.array([0.0, 1.5, 1.0], dtype=d)),
        np.array([1.0, -1.0, 1.0], dtype=d)), tags=("kink",)),
]
