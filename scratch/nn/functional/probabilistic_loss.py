"""Binary cross-entropy on logits and the Kullback-Leibler divergence, as pure forward/backward pairs.

``grad`` is dL/dloss: a scalar for a reduced loss, an array of the loss's shape for ``'none'``.
"""

from __future__ import annotations

import numpy as np

from .activation import sigmoid_forward
from .loss import REDUCTIONS, _check_target, _check_weight, _reduce, check_reduction

__all__ = [
    "binary_cross_entropy_with_logits_backward", "binary_cross_entropy_with_logits_forward",
    "kl_div_backward", "kl_div_forward",
]

KL_REDUCTIONS = (*REDUCTIONS, "batchmean")


def _check_broadcast(name: str, what: str, input: np.ndarray, value: np.ndarray | None) -> None:
    _check_weight(name, input, value)
    if value is None:
        return
    try:
        fits = np.broadcast_shapes(value.shape, input.shape) == input.shape
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(f"{name}: {what} of shape {value.shape} must broadcast to the input shape {input.shape}")


# ------------------------------------------------------------ BCE with logits
def binary_cross_entropy_with_logits_forward(input: np.ndarray, target: np.ndarray, weight: np.ndarray | None = None,
                                             reduction: str = "mean", pos_weight: np.ndarray | None = None
                                             ) -> tuple[np.ndarray, tuple]:
    r"""l_n = w_n [(1 - y_n) x_n - (1 + (p_n - 1) y_n) log sigmoid(x_n)], torch's form of
    -w_n [p_n y_n log sigmoid(x_n) + (1 - y_n) log(1 - sigmoid(x_n))].

    log sigmoid(x) = min(x, 0) - log1p(exp(-|x|)) never overflows, so logits of ±1e4 give finite losses.

    Shapes: input (*) of logits, target (*) the same shape, weight and pos_weight broadcastable to (*)
    (pos_weight is typically (C,), one per class along the last axis). Loss: (*) or ().
    """
    check_reduction(reduction)
    name = "BCEWithLogitsLoss"
    if input.shape != target.shape:
        raise ValueError(f"{name}: target size {target.shape} must be the same as input size {input.shape}")
    _check_target(name, input, target)
    _check_broadcast(name, "weight", input, weight)
    _check_broadcast(name, "pos_weight", input, pos_weight)
    with np.errstate(under="ignore"):  # exp(-1e4) = 0 is exact enough; torch does not warn either
        log_sigmoid = np.minimum(input, 0) - np.log1p(np.exp(-np.abs(input)))
    if pos_weight is not None:
        log_sigmoid = log_sigmoid * ((pos_weight - 1) * target + 1)
    losses = (1 - target) * input - log_sigmoid
    if weight is not None:
        losses = losses * weight
    return _reduce(losses, reduction), (input, target, weight, pos_weight, reduction)


def binary_cross_entropy_with_logits_backward(grad: np.ndarray, cache: tuple) -> np.ndarray:
    r"""dl_n/dx_n = w_n [(p_n y_n + 1 - y_n) sigmoid(x_n) - p_n y_n] (= w_n (sigmoid(x_n) - y_n) when p = 1),
    then / N for mean."""
    input, target, weight, pos_weight, reduction = cache
    with np.errstate(under="ignore"):
        sigmoid, _ = sigmoid_forward(input)
    if pos_weight is not None:
        scaled_target = pos_weight * target
        dinput = ((scaled_target + 1 - target) * sigmoid - scaled_target) * grad
    else:
        dinput = (sigmoid - target) * grad
    if weight is not None:
        dinput = dinput * weight
    return dinput / input.size if reduction == "mean" else dinput


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
    _check_target("KLDivLoss", input, target)
    if log_target:
        losses = np.exp(target) * (target - input)
    else:
        with np.errstate(invalid="ignore"):  # a negative target gives nan, as torch's xlogy does
            losses = target * np.log(np.where(target == 0, 1, target)) - target * input
    if reduction != "batchmean":
        return _reduce(losses, reduction), (target, log_target, losses.size if reduction == "mean" else 1)
    batch = input.shape[0] if input.ndim else 1
    return np.asarray(losses.sum() / batch), (target, log_target, batch)


def kl_div_backward(grad: np.ndarray, cache: tuple) -> np.ndarray:
    r"""dl_n/dx_n = -y_n (-e^{y_n} with log_target), then divided by N (mean) or the batch size (batchmean)."""
    target, log_target, denominator = cache
    dinput = -(np.exp(target) if log_target else target) * grad
    return dinput if denominator == 1 else dinput / denominator
