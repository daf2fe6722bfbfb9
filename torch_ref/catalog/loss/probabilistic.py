"""KLDivLoss: probability and log-probability targets, zeros in the target, and 'batchmean'."""

from __future__ import annotations

import numpy as np

from scratch import nn

from ..case import Case
from ..data import log_probabilities, probabilities
from . import REDUCTIONS, per_reduction

ALL = (*REDUCTIONS, "batchmean")
ZERO_TARGET = [[0, 0.5, 0.5], [1, 0, 0], [0.2, 0.3, 0.5], [0, 0, 1]]

CASES: list[Case] = [
    *per_reduction("KLDivLoss", lambda d, r, red: (nn.KLDivLoss(reduction=red), log_probabilities(r, d, 8, 5),
                                                   probabilities(r, d, 8, 5)), ALL),
    *per_reduction("KLDivLoss(log_target)", lambda d, r, red: (
        nn.KLDivLoss(reduction=red, log_target=True), log_probabilities(r, d, 8, 5), log_probabilities(r, d, 8, 5)),
        ALL),
    *per_reduction("KLDivLoss(zeros in target)", lambda d, r, red: (
        nn.KLDivLoss(reduction=red), log_probabilities(r, d, 4, 3), np.array(ZERO_TARGET, dtype=d)), ALL),
    *per_reduction("KLDivLoss(0-D)", lambda d, r, red: (
        nn.KLDivLoss(reduction=red), np.array(-0.7, dtype=d), np.array(0.4, dtype=d)), ALL),
]
