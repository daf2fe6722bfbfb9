"""The Connectionist Temporal Classification loss module: ``loss = criterion(log_probs, targets, input_lengths,
target_lengths)``, then ``criterion.backward(grad=None)`` gives dL/dlog_probs. Any float dtype in, the same out."""

from __future__ import annotations

from typing import Any

import numpy as np

from ... import functional as F
from ._base import _Loss

__all__ = ["CTCLoss"]


class CTCLoss(_Loss):
    r"""The CTC loss: :math:`-\log p(l \mid x)`, the probability of the target summed over every alignment of it
    to the input (blanks between and around the labels, each label held one or more steps, a repeated label
    with a blank between its copies), by the forward recursion of alpha in log space; 'mean' divides each loss
    by its target length (clamped to 1), then averages over the batch; ``zero_infinity`` zeroes infinite losses
    (an input too short for its target) and their gradients.

    Gradient (backward recursion of beta, as torch): :math:`g\,(y_{t,k} - \sum_{s: l'_s = k} \alpha_t(s)
    \beta_t(s) / (p\, y_{t,k}))` for t below the input length, 0 beyond it; only log_probs gets one. As torch
    (its quirk, matched), this is the gradient through a log_softmax before the loss: the term :math:`g\,y_{t,k}`
    is not in the partial derivative, and the log_softmax cancels it. See
    ``scratch.nn.functional.loss.ctc`` for the recursions; their loop runs over time steps.

    Shape: log_probs (T, N, C) or (T, C); targets (N, S) padded or (sum(target_lengths),) concatenated, integer
    labels; input_lengths and target_lengths (N) (or () unbatched), integer arrays or sequences of ints.
    Output () or, with reduction='none', (N) (() unbatched).
    """

    _input_kind = "float"  # the lengths may be tuples of ints, as torch takes them: checked in forward

    def __init__(self, blank: int = 0, reduction: str = "mean", zero_infinity: bool = False) -> None:
        super().__init__(reduction=reduction)
        self.blank = blank
        self.zero_infinity = zero_infinity

    def forward(self, log_probs: np.ndarray, targets: np.ndarray, input_lengths: Any,  # type: ignore[override]
                target_lengths: Any) -> np.ndarray:
        loss, cache = F.ctc_loss_forward(log_probs, targets, input_lengths, target_lengths, self.blank,
                                         self.reduction, self.zero_infinity)
        self._save(cache)
        return loss

    def backward(self, grad: Any = None) -> np.ndarray:
        return F.ctc_loss_backward(*self._upstream(grad))
