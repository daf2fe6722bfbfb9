"""Regression loss modules: MSE, L1, Huber and smooth L1, on the difference d = x - y."""

from __future__ import annotations

from typing import Any

import numpy as np

from ... import functional as F
from ._base import _Loss

__all__ = ["HuberLoss", "L1Loss", "MSELoss", "SmoothL1Loss"]


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
