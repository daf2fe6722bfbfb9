"""Loss modules between probability distributions: the Kullback-Leibler divergence."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from ... import functional as F
from ...functional.loss import check_reduction
from ...functional.loss.probabilistic import KL_REDUCTIONS
from ._base import _Loss

__all__ = ["KLDivLoss"]


KL_MEAN_WARNING = ("reduction: 'mean' divides the total loss by both the batch size and the support size."
                   "'batchmean' divides only by the batch size, and aligns with the KL div math definition."
                   "'mean' will be changed to behave the same as 'batchmean' in the next major release.")


class KLDivLoss(_Loss):
    r"""KL divergence of the target from the input's distribution, input holding log-probabilities:
    :math:`\ell_n = y_n (\log y_n - x_n)` (0 where :math:`y_n = 0`), or with ``log_target``
    :math:`\ell_n = e^{y_n} (y_n - x_n)`. ``reduction='batchmean'`` divides the sum by the batch size,
    the true KL divergence per sample; 'mean' divides by the number of elements, as in torch.

    Gradient: :math:`\partial \ell_n / \partial x_n = -y_n` (:math:`-e^{y_n}` with ``log_target``).

    Shape: input (*), target (*) the same shape; output () or, with reduction='none', (*).
    """

    def __init__(self, size_average: bool | None = None, reduce: bool | None = None, reduction: str = "mean",
                 log_target: bool = False) -> None:
        legacy = size_average is not None or reduce is not None
        batchmean = not legacy and check_reduction(reduction, "KLDivLoss", KL_REDUCTIONS) == "batchmean"
        super().__init__(size_average, reduce, "sum" if batchmean else reduction)
        if batchmean:  # the one loss with a fourth reduction: the others keep rejecting it
            self.reduction = "batchmean"
        self.log_target = log_target

    def forward(self, input: np.ndarray, target: np.ndarray) -> np.ndarray:
        if self.reduction == "mean":  # torch's warning, word for word
            warnings.warn(KL_MEAN_WARNING, stacklevel=3)
        loss, cache = F.kl_div_forward(input, target, self.reduction, self.log_target)
        self._save(cache)
        return loss

    def backward(self, grad: Any = None) -> np.ndarray:
        return F.kl_div_backward(*self._upstream(grad))
