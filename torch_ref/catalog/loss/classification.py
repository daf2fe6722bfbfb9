"""CrossEntropyLoss, NLLLoss, BCELoss and BCEWithLogitsLoss: index and probability targets, K-dim inputs,
class weights, ignore_index, label smoothing, and logits large enough to overflow a naive formula."""

from __future__ import annotations

import numpy as np

from scratch import nn

from ..case import Case
from ..data import classes, log_probabilities, normal, positive, probabilities
from . import per_reduction


def _cross_entropy() -> list[Case]:
    ce = nn.CrossEntropyLoss
    return [
        *per_reduction("CrossEntropyLoss", lambda d, r, red: (ce(reduction=red), normal(r, d, 8, 5, scale=3),
                                                              classes(r, 8))),
        *per_reduction("CrossEntropyLoss(unbatched)", lambda d, r, red: (ce(reduction=red), normal(r, d, 5),
                                                                         np.array(3))),
        *per_reduction("CrossEntropyLoss(K-dim)", lambda d, r, red: (ce(reduction=red), normal(r, d, 4, 5, 3, 2),
                                                                     classes(r, 4, 3, 2))),
        *per_reduction("CrossEntropyLoss(weight)", lambda d, r, red: (
            ce(weight=positive(r, d, 5), reduction=red), normal(r, d, 8, 5), classes(r, 8))),
        *per_reduction("CrossEntropyLoss(ignore_index)", lambda d, r, red: (
            ce(ignore_index=1, reduction=red), normal(r, d, 12, 5), classes(r, 12))),
        *per_reduction("CrossEntropyLoss(label_smoothing)", lambda d, r, red: (
            ce(label_smoothing=0.2, reduction=red), normal(r, d, 8, 5), classes(r, 8))),
        *per_reduction("CrossEntropyLoss(weight,ignore_index,label_smoothing)", lambda d, r, red: (
            ce(weight=positive(r, d, 5), ignore_index=2, label_smoothing=0.1, reduction=red),
            normal(r, d, 8, 5, scale=3), classes(r, 8))),
        *per_reduction("CrossEntropyLoss(all options,K-dim)", lambda d, r, red: (
            ce(weight=positive(r, d, 5), ignore_index=0, label_smoothing=0.3, reduction=red),
            normal(r, d, 6, 5, 4), classes(r, 6, 4))),
        *per_reduction("CrossEntropyLoss(weight,ignore_index,K-dim)", lambda d, r, red: (
            ce(weight=positive(r, d, 5), ignore_index=4, reduction=red), normal(r, d, 3, 5, 2, 2),
            classes(r, 3, 2, 2))),
        *per_reduction("CrossEntropyLoss(probabilities)", lambda d, r, red: (
            ce(reduction=red), normal(r, d, 8, 5, scale=3), probabilities(r, d, 8, 5))),
        *per_reduction("CrossEntropyLoss(probabilities,weight,label_smoothing,K-dim)", lambda d, r, red: (
            ce(weight=positive(r, d, 5), label_smoothing=0.2, reduction=red), normal(r, d, 3, 5, 4),
            np.moveaxis(probabilities(r, d, 3, 4, 5), -1, 1) / 2.5)),
        *per_reduction("CrossEntropyLoss(logits=±1e4)", lambda d, r, red: (
            ce(reduction=red), normal(r, d, 8, 5, scale=1e4), classes(r, 8)), tags=("extreme",)),
    ]


def _nll() -> list[Case]:
    return [
        *per_reduction("NLLLoss", lambda d, r, red: (nn.NLLLoss(reduction=red), log_probabilities(r, d, 8, 5),
                                                     classes(r, 8))),
        *per_reduction("NLLLoss(unbatched)", lambda d, r, red: (nn.NLLLoss(reduction=red), log_probabilities(r, d, 5),
                                                                np.array(3))),
        *per_reduction("NLLLoss(weight,ignore_index)", lambda d, r, red: (
            nn.NLLLoss(weight=positive(r, d, 5), ignore_index=1, reduction=red), log_probabilities(r, d, 12, 5),
            classes(r, 12))),
        *per_reduction("NLLLoss(K-dim,weight,ignore_index)", lambda d, r, red: (
            nn.NLLLoss(weight=positive(r, d, 5), ignore_index=0, reduction=red), normal(r, d, 4, 5, 3, 2),
            classes(r, 4, 3, 2))),
    ]


def _binary() -> list[Case]:
    bce, logits = nn.BCELoss, nn.BCEWithLogitsLoss
    return [
        *per_reduction("BCELoss", lambda d, r, red: (bce(reduction=red), probabilities(r, d, 8, 5),
                                                     probabilities(r, d, 8, 5))),
        *per_reduction("BCELoss(hard targets)", lambda d, r, red: (
            bce(reduction=red), probabilities(r, d, 8, 5), classes(r, 8, 5, n=2).astype(d))),
        *per_reduction("BCELoss(weight)", lambda d, r, red: (
            bce(weight=positive(r, d, 5), reduction=red), probabilities(r, d, 8, 5), probabilities(r, d, 8, 5))),
        *per_reduction("BCELoss(inputs at 0 and 1)", lambda d, r, red: (
            bce(reduction=red), np.array([0.0, 1.0, 0.3, 1.0], dtype=d), np.array([0.25, 0.5, 1.0, 1.0], dtype=d)),
            tags=("extreme",)),
        *per_reduction("BCEWithLogitsLoss", lambda d, r, red: (logits(reduction=red), normal(r, d, 8, 5, scale=3),
                                                               probabilities(r, d, 8, 5))),
        *per_reduction("BCEWithLogitsLoss(weight,pos_weight)", lambda d, r, red: (
            logits(weight=positive(r, d, 5), pos_weight=positive(r, d, 5), reduction=red),
            normal(r, d, 8, 5, scale=3), probabilities(r, d, 8, 5))),
        *per_reduction("BCEWithLogitsLoss(pos_weight,3-D,hard targets)", lambda d, r, red: (
            logits(pos_weight=positive(r, d, 4), reduction=red), normal(r, d, 2, 3, 4, scale=3),
            classes(r, 2, 3, 4, n=2).astype(d))),
        *per_reduction("BCEWithLogitsLoss(logits=±1e4)", lambda d, r, red: (
            logits(weight=positive(r, d, 5), pos_weight=positive(r, d, 5), reduction=red),
            normal(r, d, 8, 5, scale=1e4), probabilities(r, d, 8, 5)), tags=("extreme",)),
        *per_reduction("BCEWithLogitsLoss(weight broadcast)", lambda d, r, red: (
            logits(weight=positive(r, d, 4)[:, None], reduction=red), normal(r, d, 4, 3, scale=3),
            probabilities(r, d, 4, 3))),
    ]


CASES: list[Case] = [*_cross_entropy(), *_nll(), *_binary()]
