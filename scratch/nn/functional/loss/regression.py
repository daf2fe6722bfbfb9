"""Regression losses on the difference d = x - y: MSE, L1, Huber and smooth L1, as pure forward/backward pairs.

``reduction`` is ``'none'``, ``'sum'`` or ``'mean'``; ``grad`` is dL/dloss (a scalar when reduced).
Input and target have the same shape (*) and float dtype; the loss keeps that dtype.
"""

from __future__ import annotations

from typing import Any, cast

import numpy as np

from ._reduction import apply_reduction, check_reduction, check_target

__all__ = [
    "huber_loss_backward", "huber_loss_forward", "l1_loss_backward", "l1_loss_forward", "mse_loss_backward",
    "mse_loss_forward", "smooth_l1_loss_backward", "smooth_l1_loss_forward",
]


# ------------------------------------------------------------------------- MSE
def mse_loss_forward(input: np.ndarray, target: np.ndarray, reduction: str = "mean") -> tuple[np.ndarray, tuple[Any,
                     ...]]:
    r"""l_n = (x_n - y_n)^2, then reduced. Shapes: input (*), target (*) -> (*) or ()."""
    check_target("MSELoss", input, target)
    diff = input - target
    return apply_reduction(diff * diff, check_reduction(reduction)), (diff, reduction)


def mse_loss_backward(grad: np.ndarray, cache: tuple[Any, ...]) -> np.ndarray:
    r"""dL/dx_n = (2 / N if mean else 2) (x_n - y_n) dL/dl_n."""
    diff, reduction = cache
    norm = 2 / max(diff.size, 1) if reduction == "mean" else 2  # an empty batch: any norm, its gradient is empty
    return cast("np.ndarray", norm * diff * grad)


def _sign(diff: np.ndarray) -> np.ndarray:
    """sign(diff), 0 where diff is NaN: torch's L1 gradient there is 0."""
    return np.sign(np.where(np.isnan(diff), 0, diff))


def _scaled(dinput: np.ndarray, reduction: str) -> np.ndarray:
    """Divide by the number of elements for ``'mean'``."""
    return dinput / dinput.size if reduction == "mean" else dinput


# -------------------------------------------------------------------------- L1
def l1_loss_forward(input: np.ndarray, target: np.ndarray, reduction: str = "mean") -> tuple[np.ndarray, tuple[Any,
                    ...]]:
    r"""l_n = |x_n - y_n|, then reduced.

    Shape: input (*), target (*) -> (*) for 'none', else ().
    """
    check_reduction(reduction)
    check_target("L1Loss", input, target)
    diff = input - target
    return apply_reduction(np.abs(diff), reduction), (_sign(diff), reduction)


def l1_loss_backward(grad: np.ndarray, cache: tuple[Any, ...]) -> np.ndarray:
    r"""dL/dx_n = sign(x_n - y_n) dL/dl_n (/ N for mean); sign(0) = 0, so the kink x = y gets 0 like torch."""
    sign, reduction = cache
    return _scaled(sign * grad, reduction)


# ----------------------------------------------------------------------- Huber
def huber_loss_forward(input: np.ndarray, target: np.ndarray, reduction: str = "mean",
                       delta: float = 1.0) -> tuple[np.ndarray, tuple[Any, ...]]:
    r"""l_n = d_n^2 / 2 if |d_n| < delta, else delta (|d_n| - delta / 2), with d = x - y.

    Shape: input (*), target (*) -> (*) for 'none', else ().
    """
    check_reduction(reduction)
    if not delta > 0:
        raise ValueError(f"HuberLoss: delta must be positive (huber_loss does not support non-positive "
                         f"values for delta), got {delta}")
    check_target("HuberLoss", input, target)
    diff = input - target
    z = np.abs(diff)
    losses = np.where(z < delta, 0.5 * z * z, delta * (z - 0.5 * delta))
    return apply_reduction(losses, reduction), (diff, delta, reduction)


def huber_loss_backward(grad: np.ndarray, cache: tuple[Any, ...]) -> np.ndarray:
    r"""dl_n/dx_n = clip(d_n, -delta, delta): d_n inside, ±delta outside (both agree at |d| = delta)."""
    diff, delta, reduction = cache
    return _scaled(np.clip(diff, -delta, delta) * grad, reduction)


# ------------------------------------------------------------------- smooth L1
def smooth_l1_loss_forward(input: np.ndarray, target: np.ndarray, reduction: str = "mean",
                           beta: float = 1.0) -> tuple[np.ndarray, tuple[Any, ...]]:
    r"""l_n = d_n^2 / (2 beta) if |d_n| < beta, else |d_n| - beta / 2, with d = x - y; beta = 0 is L1.

    Shape: input (*), target (*) -> (*) for 'none', else ().
    """
    check_reduction(reduction)
    if beta < 0:
        raise ValueError(f"SmoothL1Loss: beta must be non-negative (smooth_l1_loss does not support negative "
                         f"values for beta), got {beta}")
    check_target("SmoothL1Loss", input, target)
    diff = input - target
    z = np.abs(diff)
    if beta == 0:  # torch switches to l1_loss, avoiding 0 / 0
        return apply_reduction(z, reduction), (_sign(diff), reduction)
    losses = np.where(z < beta, 0.5 * z * z / beta, z - 0.5 * beta)
    return apply_reduction(losses, reduction), (np.clip(diff / beta, -1.0, 1.0), reduction)


def smooth_l1_loss_backward(grad: np.ndarray, cache: tuple[Any, ...]) -> np.ndarray:
    r"""dl_n/dx_n = clip(d_n / beta, -1, 1): d_n / beta inside, ±1 outside (sign(d_n) when beta = 0)."""
    slope, reduction = cache
    return _scaled(slope * grad, reduction)
