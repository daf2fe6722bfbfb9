"""Loss modules: ``loss = criterion(input, target)``, then ``dinput = criterion.backward(grad=None)``.

Losses have no parameters: they accept any float dtype and keep it.
"""

from __future__ import annotations

import functools
import warnings
from typing import Any

import numpy as np

from .. import functional as F
from ..functional.loss import check_reduction
from ..functional.probabilistic_loss import KL_REDUCTIONS
from .module import Module

__all__ = ["BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss", "HuberLoss", "KLDivLoss", "L1Loss", "MSELoss", "NLLLoss",
           "SmoothL1Loss"]


def _legacy_reduction(size_average: bool | None, reduce: bool | None) -> str:
    """torch's mapping of the deprecated ``size_average``/``reduce`` flags onto ``reduction``."""
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    if not reduce:
        return "none"
    return "mean" if size_average else "sum"


@functools.cache
def _one(dtype: np.dtype) -> np.ndarray:
    """dL/dL = 1 for a scalar loss: one read-only array per dtype, not a new one per backward."""
    one = np.ones((), dtype=dtype)
    one.flags.writeable = False
    return one


class _Loss(Module):
    _input_kind = "loss"  # every argument an ndarray, the first (the input) floating: see ``_checks``

    def __init__(self, size_average: bool | None = None, reduce: bool | None = None,
                 reduction: str = "mean") -> None:
        super().__init__()
        if size_average is not None or reduce is not None:
            reduction = _legacy_reduction(size_average, reduce)
        self.reduction = check_reduction(reduction, type(self).__name__)

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
            grad = _one(dtype)
        elif not isinstance(grad, np.ndarray):
            grad = np.asarray(grad, dtype=dtype)  # a Python number: take the loss's dtype
        return grad, self._saved(grad)

    def extra_repr(self) -> str:
        return "" if self.reduction == "mean" else f"reduction={self.reduction!r}"


class _WeightedLoss(_Loss):
    def __init__(self, weight: np.ndarray | None = None, size_average: bool | None = None,
                 reduce: bool | None = None, reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", _copy(weight))


def _copy(value: np.ndarray | None) -> np.ndarray | None:
    return None if value is None else np.array(value, copy=True)


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
            raise ValueError(f"CrossEntropyLoss: label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
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


class L1Loss(_Loss):
    r"""Mean absolute error: :math:`\ell_n = |x_n - y_n|`, reduced by mean (default), sum or none.

    Gradient: :math:`\partial \ell_n / \partial x_n = \operatorname{sign}(x_n - y_n)`, 0 at x = y like torch.

    Shape: input (*), target (*) the same shape; output () or, with reduction='none', (*).
    """

    def forward(self, input: np.ndarray, target: np.ndarray) -> np.ndarray:
        loss, cache = F.l1_loss_forward(input, target, self.reduction)
        self._save(cache)
        return loss

    def backward(self, grad: Any = None) -> np.ndarray:
        return F.l1_loss_backward(*self._upstream(grad))


class HuberLoss(_Loss):
    r"""Huber loss: :math:`\ell_n = d_n^2 / 2` if :math:`|d_n| < \delta`, else :math:`\delta (|d_n| - \delta / 2)`,
    with :math:`d = x - y`.

    Gradient: :math:`\partial \ell_n / \partial x_n = \operatorname{clip}(d_n, -\delta, \delta)`.

    Shape: input (*), target (*) the same shape; output () or, with reduction='none', (*).
    """

    def __init__(self, reduction: str = "mean", delta: float = 1.0) -> None:
        if not isinstance(delta, (float, int)):
            raise TypeError(f"delta must be a float or int, got: {type(delta)}")
        if not delta > 0:
            raise ValueError(f"HuberLoss: delta must be positive, got {delta}")
        super().__init__(reduction=reduction)
        self.delta = delta

    def forward(self, input: np.ndarray, target: np.ndarray) -> np.ndarray:
        loss, cache = F.huber_loss_forward(input, target, self.reduction, self.delta)
        self._save(cache)
        return loss

    def backward(self, grad: Any = None) -> np.ndarray:
        return F.huber_loss_backward(*self._upstream(grad))


class SmoothL1Loss(_Loss):
    r"""Smooth L1: :math:`\ell_n = d_n^2 / (2\beta)` if :math:`|d_n| < \beta`, else :math:`|d_n| - \beta / 2`,
    with :math:`d = x - y`; beta = 0 is L1Loss.

    Gradient: :math:`\partial \ell_n / \partial x_n = \operatorname{clip}(d_n / \beta, -1, 1)`.

    Shape: input (*), target (*) the same shape; output () or, with reduction='none', (*).
    """

    def __init__(self, size_average: bool | None = None, reduce: bool | None = None, reduction: str = "mean",
                 beta: float = 1.0) -> None:
        super().__init__(size_average, reduce, reduction)
        if beta < 0:
            raise ValueError(f"SmoothL1Loss: beta must be non-negative, got {beta}")
        self.beta = beta

    def forward(self, input: np.ndarray, target: np.ndarray) -> np.ndarray:
        loss, cache = F.smooth_l1_loss_forward(input, target, self.reduction, self.beta)
        self._save(cache)
        return loss

    def backward(self, grad: Any = None) -> np.ndarray:
        return F.smooth_l1_loss_backward(*self._upstream(grad))


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
