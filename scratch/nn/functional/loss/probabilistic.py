"""Losses between probability distributions: the Kullback-Leibler divergence, as a pure forward/backward pair.

``grad`` is dL/dloss: a scalar for a reduced loss, an array of the loss's shape for ``'none'``.
"""

from __future__ import annotations

import numpy as np

from ._reduction import REDUCTIONS, apply_reduction, check_reduction, check_target

__all__ = ["kl_div_backward", "kl_div_forward"]


KL_REDUCTIONS = (*REDUCTIONS, "batchmean")


# ----------------------------------------------------------------------- KL div
def kl_div_forward(input: np.ndarray, target: np.ndarray, reduction: str = "mean",
                   log_target: bool = False) -> tuple[np.ndarray, tuple]:
    r"""Pointwise KL divergence with input x = log q: l_n = y_n (log y_n - x_n), with 0 log 0 = 0
    (torch's xlogy(y, y) - y x); with log_target, y holds log-probabilities: l_n = e^{y_n} (y_n - x_n).

    ``'mean'`` divides by the number of elements, ``'batchmean'`` by the batch size x.shape[0]
    (the KL divergence per sample; a 0-d input is summed).

    Shape: input (*), target (*) -> (*) for 'none', else ().
    """
    check_reduction(reduction, "KLDivLoss", KL_REDUCTIONS)
    check_target("KLDivLoss", input, target)
    if log_target:
        losses = np.exp(target) * (target - input)
    else:
        with np.errstate(invalid="ignore"):  # a negative target gives nan, as torch's xlogy does
            losses = target * np.log(np.where(target == 0, 1, target)) - target * input
    if reduction != "batchmean":
        return apply_reduction(losses, reduction), (target, log_target, losses.size if reduction == "mean" else 1)
    batch = input.shape[0] if input.ndim else 1
    return np.asarray(losses.sum() / batch), (target, log_target, batch)


def kl_div_backward(grad: np.ndarray, cache: tuple) -> np.ndarray:
    r"""dl_n/dx_n = -y_n (-e^{y_n} with log_target), then divided by N (mean) or the batch size (batchmean)."""
    target, log_target, denominator = cache
    dinput = -(np.exp(target) if log_target else target) * grad
    return dinput if denominator == 1 else dinput / denominator
