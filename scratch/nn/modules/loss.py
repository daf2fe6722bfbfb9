"""Loss modules: ``loss = criterion(input, target)``, then ``dinput = criterion.backward(grad=None)``.

Losses have no parameters: they accept any float dtype and keep it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import functional as F
from .module import Module

__all__ = ["BCELoss", "CrossEntropyLoss", "MSELoss"]


def _legacy_reduction(size_average: bool | None, reduce: bool | None) -> str:
    """torch's mapping of the deprecated ``size_average``/``reduce`` flags onto ``reduction``."""
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    if not reduce:
        return "none"
    return "mean" if size_average else "sum"


class _Loss(Module):
    def __init__(self, size_average: bool | None = None, reduce: bool | None = None,
                 reduction: str = "mean") -> None:
        super().__init__()
        if size_average is not None or reduce is not None:
            reduction = _legacy_reduction(size_average, reduce)
        self.reduction = F.check_reduction(reduction)

    def forward(self, input: np.ndarray, target: np.ndarray) -> np.ndarray:
        raise NotImplementedError(f'Module [{type(self).__name__}] is missing the required "forward" function')

    def _upstream(self, grad: Any) -> tuple[np.ndarray, Any]:
        """dL/dloss as an array of the loss's shape and dtype (1 for a scalar loss), and the cache."""
        if self._cache is None or self._output_meta is None:
            raise RuntimeError(f"{type(self).__name__}.backward called before forward")
        shape, dtype = self._output_meta
        if grad is None:
            if shape != ():
                raise RuntimeError(f"{type(self).__name__}.backward: grad can be implicitly created only for a "
                                   f"scalar loss; with reduction='none' pass a gradient of shape {shape}")
            grad = np.ones((), dtype=dtype)
        elif not isinstance(grad, np.ndarray):
            grad = np.asarray(grad, dtype=dtype)  # a Python number: take the loss's dtype
        return grad, self._saved(grad)

    def extra_repr(self) -> str:
        return "" if self.reduction == "mean" else f"reduction={self.reduction!r}"


class _WeightedLoss(_Loss):
    def __init__(self, weight: np.ndarray | None = None, size_average: bool | None = None,
                 reduce: bool | None = None, reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", None if weight is None else np.array(weight, copy=True))


class MSELoss(_Loss):
    r"""Mean squared error: :math:`\ell_n = (x_n - y_n)^2`, reduced by mean (default), sum or none.

    Gradient: :math:`\partial L / \partial x_n = 2 (x_n - y_n) / N` for mean (drop the 1/N for sum).

    Shape: input (*), target (*) the same shape; output () or, with reduction='none', (*).
    """

    def forward(self, input: np.ndarray, target: np.ndarray) -> np.ndarray:
        loss, cache = F.mse_loss_forward(input, target, self.reduction)
        self._save(cache)
        return loss

    def backward(self, grad: Any = None) -> np.ndarray:
        return F.mse_loss_backward(*self._upstream(grad))


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
            raise ValueError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing

    def forward(self, input: np.ndarray, target: np.ndarray) -> np.ndarray:
        loss, cache = F.cross_entropy_forward(input, target, self.weight, self.ignore_index, self.reduction,
                                              self.label_smoothing)
        self._save(cache)
        return loss

    def backward(self, grad: Any = None) -> np.ndarray:
        return F.cross_entropy_backward(*self._upstream(grad))


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
