"""Multi-label loss modules: ``loss = criterion(input, target)``, then ``criterion.backward(grad=None)``. Any float
dtype in, the same dtype out."""

from __future__ import annotations

from typing import Any

import numpy as np

from ... import functional as F
from ._base import _Loss, _WeightedLoss

__all__ = ["MultiLabelMarginLoss", "MultiLabelSoftMarginLoss"]


class MultiLabelMarginLoss(_Loss):
    r"""Multi-label hinge: :math:`\ell_n = \sum_{k} \sum_{c \notin Y_n} \max(0, 1 - (x_{n, y_{nk}} - x_{nc})) / C`,
    the labels :math:`y_{nk}` being the target row's entries before its first -1, :math:`Y_n` their set.

    Gradient: each active term (:math:`z > 0`; 0 at z = 0, as torch) adds 1/C to the non-target entry c and
    takes 1/C from the label's entry.

    Shape: input (C) or (N, C); target the same shape, integer labels padded with -1; output () or, with
    reduction='none', (N) (() unbatched).
    """

    def forward(self, input: np.ndarray, target: np.ndarray) -> np.ndarray:
        loss, cache = F.multilabel_margin_loss_forward(input, target, self.reduction)
        self._save(cache)
        return loss

    def backward(self, grad: Any = None) -> np.ndarray:
        return F.multilabel_margin_loss_backward(*self._upstream(grad))


class MultiLabelSoftMarginLoss(_WeightedLoss):
    r"""Multi-label logistic loss: :math:`\ell_n = -\frac1C \sum_c w_c (y_{nc} \log \sigma(x_{nc})
    + (1 - y_{nc}) \log \sigma(-x_{nc}))`.

    Gradient: :math:`\partial \ell_n / \partial x_{nc} = w_c (\sigma(x_{nc}) - y_{nc}) / C`.

    Shape: input (N, C) or (C); target the same shape (0/1 labels, the input's float dtype); weight (C);
    output () or, with reduction='none', (N) (() unbatched).
    """

    def forward(self, input: np.ndarray, target: np.ndarray) -> np.ndarray:
        loss, cache = F.multilabel_soft_margin_loss_forward(input, target, self.weight, self.reduction)
        self._save(cache)
        return loss

    def backward(self, grad: Any = None) -> np.ndarray:
        return F.multilabel_soft_margin_loss_backward(*self._upstream(grad))
