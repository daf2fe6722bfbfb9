"""Classification loss modules: cross-entropy and NLL over classes, binary cross-entropy on
probabilities and on logits."""

from __future__ import annotations

from typing import Any

import numpy as np

from ... import functional as F
from ._base import _copy, _Loss, _WeightedLoss

__all__ = ["BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss", "NLLLoss"]


class CrossEntropyLoss(_WeightedLoss):
    r"""Cross-entropy of softmax(logits) against class indices or class probabilities.

    :math:`\ell_n = -w_{y_n} \log \frac{e^{x_{n,y_n}}}{\sum_c e^{x_{n,c}}}`; mean divides by
    :math:`\sum_n w_{y_n}` over samples whose target is not ``ignore_index``. With label smoothing
    s the target becomes :math:`(1 - s)\,\text{onehot} + s / C`. Computed as log-softmax with the
    max subtracted, so logits of ±1e4 stay finite.

    Gradient: :math:`\partial \ell_n / \partial x_n = w_{y_n} (\text{softmax}(x_n) - \text{onehot}(y_n))`.

    Shape: input (C), (N, C) or (N, C, d_1, ...); target (), (N) or (N, d_1, ...) integer class
    indices, or probabilities of input's shape; output () or, with reduction='none', target's batch shape.
    """

    def __init__(self, weight: np.ndarray | None = None, size_average: bool | None = None,
                 ignore_index: int = -100, reduce: bool | None = None, reduction: str = "mean",
                 label_smoothing: float = 0.0) -> None:
        super().__init__(weight, size_average, reduce, reduction)
        if not 0.0 <= label_smoothing <= 1.0:
            raise ValueError(f"CrossEntropyLoss: label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing

    def forward(self, input: np.ndarray, target: np.ndarray) -> np.ndarray:
        try:  # the registry read directly: __getattr__ is slow on the hot path
            weight: np.ndarray | None = self._buffers["weight"]  # type: ignore[assignment]  # an array or None
        except KeyError:  # deleted: __getattr__'s error
            weight = self.weight
        loss, cache = F.cross_entropy_forward(input, target, weight, self.ignore_index, self.reduction,
                                              self.label_smoothing)
        self._save(cache)
        return loss

    def backward(self, grad: Any = None) -> np.ndarray:
        return F.cross_entropy_backward(*self._upstream(grad), overwrite=True)  # the cache serves one backward


class NLLLoss(_WeightedLoss):
    r"""Negative log-likelihood of log-probabilities: :math:`\ell_n = -w_{y_n} x_{n, y_n}`, 0 where
    :math:`y_n` is ``ignore_index``; mean divides by :math:`\sum_n w_{y_n}` over the samples not ignored.

    Gradient: :math:`\partial \ell_n / \partial x_{n,c} = -w_{y_n} [c = y_n]`.

    Shape: input (C), (N, C) or (N, C, d_1, ...); target (), (N) or (N, d_1, ...) integer class indices;
    output () or, with reduction='none', target's shape.
    """

    def __init__(self, weight: np.ndarray | None = None, size_average: bool | None = None, ignore_index: int = -100,
                 reduce: bool | None = None, reduction: str = "mean") -> None:
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index

    def forward(self, input: np.ndarray, target: np.ndarray) -> np.ndarray:
        loss, cache = F.nll_loss_forward(input, target, self.weight, self.ignore_index, self.reduction)
        self._save(cache)
        return loss

    def backward(self, grad: Any = None) -> np.ndarray:
        return F.nll_loss_backward(*self._upstream(grad))


class BCELoss(_WeightedLoss):
    r"""Binary cross-entropy on probabilities:
    :math:`\ell_n = -w_n [y_n \log x_n + (1 - y_n) \log(1 - x_n)]`, each log clamped at -100 like torch.

    Gradient: :math:`\partial \ell_n / \partial x_n = w_n (x_n - y_n) / \max(x_n (1 - x_n), 10^{-12})`.

    Shape: input (*) in [0, 1], target (*) the same shape, weight broadcastable to (*);
    output () or, with reduction='none', (*).
    """

    def forward(self, input: np.ndarray, target: np.ndarray) -> np.ndarray:
        loss, cache = F.binary_cross_entropy_forward(input, target, self.weight, self.reduction)
        self._save(cache)
        return loss

    def backward(self, grad: Any = None) -> np.ndarray:
        return F.binary_cross_entropy_backward(*self._upstream(grad))


class BCEWithLogitsLoss(_Loss):
    r"""Binary cross-entropy on logits, with per-element ``weight`` and per-class ``pos_weight`` buffers:
    :math:`\ell_n = w_n [(1 - y_n) x_n - (1 + (p_n - 1) y_n) \log \sigma(x_n)]`, with
    :math:`\log \sigma(x) = \min(x, 0) - \log(1 + e^{-|x|})`, finite for logits of ±1e4.

    Gradient: :math:`\partial \ell_n / \partial x_n = w_n [(p_n y_n + 1 - y_n) \sigma(x_n) - p_n y_n]`.

    Shape: input (*), target (*) the same shape, weight and pos_weight broadcastable to (*);
    output () or, with reduction='none', (*).
    """

    def __init__(self, weight: np.ndarray | None = None, size_average: bool | None = None,
                 reduce: bool | None = None, reduction: str = "mean", pos_weight: np.ndarray | None = None) -> None:
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", _copy(weight))
        self.register_buffer("pos_weight", _copy(pos_weight))

    def forward(self, input: np.ndarray, target: np.ndarray) -> np.ndarray:
        loss, cache = F.binary_cross_entropy_with_logits_forward(input, target, self.weight, self.reduction,
                                                                 self.pos_weight)
        self._save(cache)
        return loss

    def backward(self, grad: Any = None) -> np.ndarray:
        return F.binary_cross_entropy_with_logits_backward(*self._upstream(grad))
