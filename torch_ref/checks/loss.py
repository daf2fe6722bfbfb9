"""The losses beyond the foundation's: every loss in every reduction, then each option."""

from __future__ import annotations

import numpy as np

from scratch import nn

from .kit import Check, Make, classes, loss_check, normal, probabilities


def signs(rng: np.random.Generator, dtype: np.dtype, *shape: int) -> np.ndarray:
    """Targets of ±1 in ``dtype``."""
    return np.where(rng.random(shape) < 0.5, -1, 1).astype(dtype)


def _weight(rng: np.random.Generator, dtype: np.dtype, n: int = 5) -> np.ndarray:
    return rng.uniform(0.5, 2, n).astype(dtype)


def _log_probabilities(rng: np.random.Generator, dtype: np.dtype, *shape: int) -> np.ndarray:
    p = rng.uniform(0.02, 1, size=shape)
    return np.log(p / p.sum(axis=-1, keepdims=True)).astype(dtype)


def _regression(criterion: nn.Module, scale: float = 2.0) -> Make:
    return lambda d, r: (criterion, normal(r, d, 8, 5, scale=scale), normal(r, d, 8, 5, scale=scale))


def _by_reduction(red: str) -> list[tuple[str, Make]]:
    """(row name, make) of each loss with reduction ``red`` and its default options."""
    return [
        ("L1Loss", _regression(nn.L1Loss(reduction=red))),
        ("HuberLoss", _regression(nn.HuberLoss(reduction=red))),
        ("SmoothL1Loss", _regression(nn.SmoothL1Loss(reduction=red))),
        ("NLLLoss", lambda d, r: (nn.NLLLoss(reduction=red), _log_probabilities(r, d, 8, 5), classes(r, 8))),
        ("BCEWithLogitsLoss", lambda d, r: (nn.BCEWithLogitsLoss(reduction=red), normal(r, d, 8, 5, scale=3),
                                            probabilities(r, d, 8, 5))),
        ("KLDivLoss", lambda d, r: (nn.KLDivLoss(reduction=red), _log_probabilities(r, d, 8, 5),
                                    probabilities(r, d, 8, 5))),
        ("MultiMarginLoss", lambda d, r: (nn.MultiMarginLoss(reduction=red), normal(r, d, 8, 5), classes(r, 8))),
        ("HingeEmbeddingLoss", lambda d, r: (nn.HingeEmbeddingLoss(reduction=red), normal(r, d, 8, 5, scale=2),
                                             signs(r, d, 8, 5))),
        ("SoftMarginLoss", lambda d, r: (nn.SoftMarginLoss(reduction=red), normal(r, d, 8, 5, scale=2),
                                         signs(r, d, 8, 5))),
        ("CosineEmbeddingLoss", lambda d, r: (nn.CosineEmbeddingLoss(reduction=red),
                                              (normal(r, d, 8, 6), normal(r, d, 8, 6)), signs(r, np.int64, 8))),
    ]


OPTIONS: list[tuple[str, Make]] = [
    ("HuberLoss(delta=0.5)", _regression(nn.HuberLoss(delta=0.5))),
    ("SmoothL1Loss(beta=0.5)", _regression(nn.SmoothL1Loss(beta=0.5))),
    ("SmoothL1Loss(beta=0)", _regression(nn.SmoothL1Loss(beta=0.0))),
    ("NLLLoss(weight,ignore_index)", lambda d, r: (nn.NLLLoss(weight=_weight(r, d), ignore_index=2),
                                                   _log_probabilities(r, d, 8, 5), classes(r, 8))),
    ("NLLLoss(K-dim,weight)", lambda d, r: (nn.NLLLoss(weight=_weight(r, d)), normal(r, d, 4, 5, 3, 2),
                                            classes(r, 4, 3, 2))),
    ("NLLLoss(unbatched)", lambda d, r: (nn.NLLLoss(), normal(r, d, 5), np.array(3))),
    ("BCEWithLogitsLoss(weight,pos_weight)", lambda d, r: (
        nn.BCEWithLogitsLoss(weight=_weight(r, d), pos_weight=_weight(r, d)), normal(r, d, 8, 5, scale=3),
        probabilities(r, d, 8, 5))),
    ("BCEWithLogitsLoss(logits=±1e4)", lambda d, r: (
        nn.BCEWithLogitsLoss(pos_weight=_weight(r, d)), normal(r, d, 8, 5, scale=1e4), probabilities(r, d, 8, 5))),
    ("KLDivLoss(batchmean,log_target)", lambda d, r: (nn.KLDivLoss(reduction="batchmean", log_target=True),
                                                      _log_probabilities(r, d, 8, 5), _log_probabilities(r, d, 8, 5))),
    ("MultiMarginLoss(p=2,margin,weight)", lambda d, r: (
        nn.MultiMarginLoss(p=2, margin=0.7, weight=_weight(r, d)), normal(r, d, 8, 5), classes(r, 8))),
    ("HingeEmbeddingLoss(margin=0.5)", lambda d, r: (nn.HingeEmbeddingLoss(margin=0.5), normal(r, d, 8, 5),
                                                     signs(r, d, 8, 5))),
    ("CosineEmbeddingLoss(margin=0.2)", lambda d, r: (nn.CosineEmbeddingLoss(margin=0.2),
                                                      (normal(r, d, 8, 6), normal(r, d, 8, 6)),
                                                      signs(r, np.int64, 8))),
]


def _checks() -> list[Check]:
    rows = [(f"{name}({red})", make) for red in ("mean", "sum", "none") for name, make in _by_reduction(red)]
    rows.append(("KLDivLoss(batchmean)", lambda d, r: (nn.KLDivLoss(reduction="batchmean"),
                                                       _log_probabilities(r, d, 8, 5), probabilities(r, d, 8, 5))))
    return [loss_check(name, make) for name, make in rows + OPTIONS]


CHECKS: list[Check] = _checks()
