"""KLDivLoss (probability and log-probability targets, zeros in the target, 'batchmean'); GaussianNLLLoss (every
variance shape, a float variance, full, variances clamped at eps); PoissonNLLLoss (log_input, full)."""

from __future__ import annotations

import numpy as np

from scratch import nn

from ..case import Case
from ..data import log_probabilities, normal, positive, probabilities
from . import REDUCTIONS, MakeLoss, per_reduction, per_reduction_gradients_of

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


def _gaussian(var_shape: tuple[int, ...] | None, *, full: bool = False, eps: float = 1e-6, small: bool = False
              ) -> MakeLoss:
    """GaussianNLLLoss on (6, 4) means and targets; var of ``var_shape`` (None: the float 0.7), some entries
    below eps with ``small`` (clamped, with torch's gradient through the clamp)."""
    def make(d: np.dtype, r: np.random.Generator, red: str) -> tuple[nn.Module, list]:
        var: np.ndarray | float = 0.7 if var_shape is None else positive(r, d, *var_shape, low=0.2, high=2.0)
        if small and isinstance(var, np.ndarray):
            var.reshape(-1)[::3] = np.asarray([0.0, 1e-8], dtype=d)[np.arange(var.reshape(-1)[::3].size) % 2]
        return nn.GaussianNLLLoss(full=full, eps=eps, reduction=red), [normal(r, d, 6, 4), normal(r, d, 6, 4), var]
    return make


def _poisson(log_input: bool, full: bool = False) -> MakeLoss:
    """PoissonNLLLoss on log-rates (or positive rates) with counts 0..5 as targets (Stirling's term where > 1)."""
    def make(d: np.dtype, r: np.random.Generator, red: str) -> tuple:
        x = normal(r, d, 6, 5) if log_input else positive(r, d, 6, 5, low=0.1, high=4.0)
        return (nn.PoissonNLLLoss(log_input=log_input, full=full, reduction=red), x,
                r.integers(0, 6, size=(6, 5)).astype(d))
    return make


CASES += [
    *per_reduction_gradients_of("GaussianNLLLoss(heteroscedastic)", _gaussian((6, 4)), (0, 2)),
    *per_reduction_gradients_of("GaussianNLLLoss(homoscedastic,(N, 1) var)", _gaussian((6, 1)), (0, 2)),
    *per_reduction_gradients_of("GaussianNLLLoss(homoscedastic,(1, D) var)", _gaussian((1, 4)), (0, 2)),
    *per_reduction_gradients_of("GaussianNLLLoss((N,) var,full)", _gaussian((6,), full=True), (0, 2)),
    *per_reduction_gradients_of("GaussianNLLLoss(var below eps,eps=1e-3)", _gaussian((6, 4), eps=1e-3, small=True),
                                (0, 2)),
    *per_reduction_gradients_of("GaussianNLLLoss(float var)", _gaussian(None), (0, 2)),
    *per_reduction("PoissonNLLLoss", _poisson(True)),
    *per_reduction("PoissonNLLLoss(full)", _poisson(True, full=True)),
    *per_reduction("PoissonNLLLoss(log_input=False)", _poisson(False)),
    *per_reduction("PoissonNLLLoss(log_input=False,full)", _poisson(False, full=True)),
]
