"""Probabilistic losses: the Kullback-Leibler divergence and the Gaussian and Poisson negative log-likelihoods,
as pure forward/backward pairs.

``grad`` is dL/dloss: a scalar for a reduced loss, an array of the loss's shape for ``'none'``.
"""

from __future__ import annotations

from typing import Any, NamedTuple, cast

import numpy as np

from ._reduction import REDUCTIONS, apply_reduction, check_reduction, check_target

__all__ = ["gaussian_nll_loss_backward", "gaussian_nll_loss_forward", "kl_div_backward", "kl_div_forward",
           "poisson_nll_loss_backward", "poisson_nll_loss_forward"]


KL_REDUCTIONS = (*REDUCTIONS, "batchmean")


# ----------------------------------------------------------------------- KL div
def kl_div_forward(input: np.ndarray, target: np.ndarray, reduction: str = "mean",
                   log_target: bool = False) -> tuple[np.ndarray, tuple[Any, ...]]:
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


def kl_div_backward(grad: np.ndarray, cache: tuple[Any, ...]) -> np.ndarray:
    r"""dl_n/dx_n = -y_n (-e^{y_n} with log_target), then divided by N (mean) or the batch size (batchmean)."""
    target, log_target, denominator = cache
    dinput = -(np.exp(target) if log_target else target) * grad
    return cast("np.ndarray", dinput if denominator == 1 else dinput / denominator)


# ------------------------------------------------------------------ Gaussian NLL
def _gaussian_var(input: np.ndarray, var: np.ndarray | float) -> np.ndarray:
    """var as torch's gaussian_nll_loss takes it: a float fills input's shape; an array of input's shape
    (heteroscedastic), of input's shape without its last dim (unsqueezed), or of input's rank with exactly one
    mismatched dim, of size 1 (homoscedastic along it), else torch's ValueError; no negative entry."""
    name = "GaussianNLLLoss"
    if isinstance(var, (float, int)) and not isinstance(var, bool):
        if var < 0:
            raise ValueError(f"{name}: var has negative entry/entries")
        return np.full(input.shape, var, dtype=input.dtype)
    if not isinstance(var, np.ndarray) or var.dtype != input.dtype:
        got = var.dtype if isinstance(var, np.ndarray) else type(var).__name__
        raise TypeError(f"{name}: var must be a float or an array of the input's dtype {input.dtype}, got {got}")
    if np.any(var < 0):
        raise ValueError(f"{name}: var has negative entry/entries")
    if var.shape == input.shape:
        return var
    if input.shape[:-1] == var.shape:
        return var[..., None]
    # torch's test: the same rank, and the var sizes at the mismatched dims sum to 1
    if input.ndim == var.ndim and sum(v for i, v in zip(input.shape, var.shape, strict=True) if i != v) == 1:
        return var
    raise ValueError(f"{name}: var is of incorrect size: {var.shape} for an input of shape {input.shape}")


class GaussianNLLCache(NamedTuple):
    """What ``gaussian_nll_loss_backward`` needs."""

    diff: np.ndarray  #: x - t
    v: np.ndarray  #: max(var, eps), broadcast as var was
    var_shape: tuple[int, ...] | None  #: var's own shape (None: var was a float, which gets no gradient)
    reduction: str
    size: int  #: the loss's element count, the divisor of 'mean'


def gaussian_nll_loss_forward(input: np.ndarray, target: np.ndarray, var: np.ndarray | float, full: bool = False,
                              eps: float = 1e-6, reduction: str = "mean") -> tuple[np.ndarray, GaussianNLLCache]:
    r"""l_n = (log v_n + (x_n - t_n)^2 / v_n) / 2 (+ log(2 pi) / 2 with ``full``), v = max(var, eps).

    var is clamped without a gradient of its own, as torch clamps it under no_grad: dL/dvar flows as if
    v = var even where var < eps (torch's quirk, matched).

    Shapes: input (N, *) or (*), target the same; var the same, or one dim of it 1 (homoscedastic along
    it), or without the last dim, or a float. Loss: input's shape for 'none', else ().
    """
    check_reduction(reduction)
    check_target("GaussianNLLLoss", input, target)
    var_b = _gaussian_var(input, var)
    v = np.maximum(var_b, input.dtype.type(eps))
    diff = input - target
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):  # torch's infs and nans, silently
        losses = 0.5 * (np.log(v) + diff**2 / v)
        if full:
            losses = losses + input.dtype.type(0.5 * np.log(2 * np.pi))
    var_shape = var.shape if isinstance(var, np.ndarray) else None
    return apply_reduction(losses, reduction), GaussianNLLCache(diff, v, var_shape, reduction, losses.size)


def gaussian_nll_loss_backward(grad: np.ndarray, cache: GaussianNLLCache) -> tuple[np.ndarray, np.ndarray | None]:
    r"""With s_n = dL/dl_n: dL/dx_n = s_n (x_n - t_n) / v_n;  dL/dvar = s_n (1 / v_n - (x_n - t_n)^2 / v_n^2) / 2,
    summed over the dims var was broadcast along. Returns (dL/dinput, dL/dvar), dL/dvar None for a float var."""
    diff, v = cache.diff, cache.v
    s = grad / max(cache.size, 1) if cache.reduction == "mean" else grad  # an empty input: empty gradients
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):  # torch's infs and nans, silently
        dinput = s * diff / v
        if cache.var_shape is None:
            return dinput, None
        dv = 0.5 * s * (1 / v - diff**2 / v**2)
    dv = np.broadcast_to(dv, diff.shape)
    axes = tuple(i for i in range(diff.ndim) if v.shape[i] == 1 and diff.shape[i] != 1)
    return dinput, dv.sum(axis=axes, keepdims=True).reshape(cache.var_shape)


# ------------------------------------------------------------------- Poisson NLL
def poisson_nll_loss_forward(input: np.ndarray, target: np.ndarray, log_input: bool = True, full: bool = False,
                             eps: float = 1e-8, reduction: str = "mean") -> tuple[np.ndarray, tuple[Any, ...]]:
    r"""l_n = e^{x_n} - t_n x_n (``log_input``: x is the log-rate), else x_n - t_n log(x_n + eps); with ``full``
    Stirling's approximation of log(t_n!) is added where t_n > 1: t log t - t + log(2 pi t) / 2.

    Shape: input (*), target (*) the same -> (*) for 'none', else ().
    """
    check_reduction(reduction)
    check_target("PoissonNLLLoss", input, target)
    dt = input.dtype.type
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):  # torch's infs and nans, silently
        losses = np.exp(input) - target * input if log_input else input - target * np.log(input + dt(eps))
        if full:
            stirling = target * np.log(target) - target + dt(0.5) * np.log(dt(2 * np.pi) * target)
            losses = losses + np.where(target <= 1, dt(0), stirling)
    return apply_reduction(losses, reduction), (input, target, log_input, eps, reduction)


def poisson_nll_loss_backward(grad: np.ndarray, cache: tuple[Any, ...]) -> np.ndarray:
    r"""dl_n/dx_n = e^{x_n} - t_n with ``log_input``, else 1 - t_n / (x_n + eps) (Stirling's term has no x)."""
    input, target, log_input, eps, reduction = cache
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        slope = np.exp(input) - target if log_input else 1 - target / (input + input.dtype.type(eps))
    dinput = slope * grad
    return cast("np.ndarray", dinput / input.size if reduction == "mean" else dinput)
