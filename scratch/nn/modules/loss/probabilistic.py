"""Probabilistic loss modules: the Kullback-Leibler divergence, the Gaussian and Poisson negative log-likelihoods."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from ... import functional as F
from ...functional.loss import check_reduction
from ...functional.loss.probabilistic import KL_REDUCTIONS
from .._checks import check_array
from ._base import _Loss

__all__ = ["GaussianNLLLoss", "KLDivLoss", "PoissonNLLLoss"]


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


class GaussianNLLLoss(_Loss):
    r"""Gaussian negative log-likelihood: :math:`\ell_n = \frac12 (\log v_n + (x_n - t_n)^2 / v_n)`
    (:math:`+ \frac12 \log 2\pi` with ``full``), :math:`v = \max(\mathrm{var}, \epsilon)`.

    Gradients: :math:`\partial \ell_n / \partial x_n = (x_n - t_n) / v_n` and
    :math:`\partial \ell_n / \partial \mathrm{var}_n = \frac12 (1 / v_n - (x_n - t_n)^2 / v_n^2)`, summed where var
    is shared (homoscedastic). var is clamped without a gradient, as torch clamps it under no_grad, so dL/dvar
    flows even where var < eps (torch's quirk, matched). ``backward`` returns (dL/dinput, dL/dvar), dL/dvar
    None for a float var.

    Shape: input (N, *) or (*); target the same; var the same, with one dim of size 1, without the last dim,
    or a float. Output () or, with reduction='none', input's shape.
    """

    _input_kind = "float"  # var may be a float: input, target and var are checked in forward

    def __init__(self, *, full: bool = False, eps: float = 1e-6, reduction: str = "mean") -> None:
        super().__init__(None, None, reduction)
        self.full = full
        self.eps = eps

    def forward(self, input: np.ndarray, target: np.ndarray, var: np.ndarray | float) -> np.ndarray:  # type: ignore[override]
        check_array("GaussianNLLLoss", "target", target)
        loss, cache = F.gaussian_nll_loss_forward(input, target, var, self.full, self.eps, self.reduction)
        self._save(cache)
        return loss

    def backward(self, grad: Any = None) -> tuple[np.ndarray, np.ndarray | None]:
        return F.gaussian_nll_loss_backward(*self._upstream(grad))


class PoissonNLLLoss(_Loss):
    r"""Poisson negative log-likelihood: :math:`\ell_n = e^{x_n} - t_n x_n` with ``log_input`` (x the log-rate),
    else :math:`x_n - t_n \log(x_n + \epsilon)`; with ``full``, Stirling's term
    :math:`t \log t - t + \frac12 \log(2 \pi t)` is added where :math:`t > 1`.

    Gradient: :math:`e^{x_n} - t_n`, or :math:`1 - t_n / (x_n + \epsilon)`.

    Shape: input (*), target (*) the same shape; output () or, with reduction='none', (*).
    """

    def __init__(self, log_input: bool = True, full: bool = False, size_average: bool | None = None,
                 eps: float = 1e-8, reduce: bool | None = None, reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.log_input = log_input
        self.full = full
        self.eps = eps

    def forward(self, log_input: np.ndarray, target: np.ndarray) -> np.ndarray:
        loss, cache = F.poisson_nll_loss_forward(log_input, target, self.log_input, self.full, self.eps,
                                                 self.reduction)
        self._save(cache)
        return loss

    def backward(self, grad: Any = None) -> np.ndarray:
        return F.poisson_nll_loss_backward(*self._upstream(grad))
