"""What every loss of the package shares: the reduction, and the checks of target and weight."""

from __future__ import annotations

import numpy as np

REDUCTIONS = ("none", "mean", "sum")


def check_reduction(reduction: str, owner: str | None = None, allowed: tuple[str, ...] = REDUCTIONS) -> str:
    """``reduction`` if it is one of ``allowed``, else torch's ValueError, naming the loss (if given) and the
    choices. The one check for every loss, module and pure function alike."""
    if reduction not in allowed:
        choices = ", ".join(repr(r) for r in allowed)
        prefix = f"{owner}: " if owner else ""
        raise ValueError(f"{prefix}{reduction} is not a valid value for reduction (expected one of {choices})")
    return reduction


def apply_reduction(loss: np.ndarray, reduction: str, denominator: float | np.ndarray | None = None) -> np.ndarray:
    if reduction == "none":
        return loss
    total = np.add.reduce(loss, axis=None)  # loss.sum(), without its Python wrapper (the same reduction)
    if reduction == "sum":
        return np.asarray(total)
    denominator = loss.size if denominator is None else denominator
    if denominator != 0:
        return np.asarray(total / denominator)
    with np.errstate(invalid="ignore", divide="ignore"):  # every target ignored: 0 / 0 = nan, as in torch
        return np.asarray(total / denominator)


def check_target(name: str, input: np.ndarray, target: np.ndarray) -> None:
    if input.shape != target.shape:
        raise ValueError(f"{name}: target shape {target.shape} must equal input shape {input.shape} "
                         "(scratch does not broadcast them)")
    if target.dtype != input.dtype:
        raise TypeError(f"{name}: target dtype {target.dtype} must equal input dtype {input.dtype}")


def check_weight(name: str, input: np.ndarray, weight: np.ndarray | None) -> None:
    if weight is not None and weight.dtype != input.dtype:
        raise TypeError(f"{name}: weight dtype {weight.dtype} must equal input dtype {input.dtype}")


def check_broadcast(name: str, what: str, input: np.ndarray, value: np.ndarray | None) -> None:
    check_weight(name, input, value)
    if value is None:
        return
    try:
        fits = np.broadcast_shapes(value.shape, input.shape) == input.shape
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(f"{name}: {what} of shape {value.shape} must broadcast to the input shape {input.shape}")
