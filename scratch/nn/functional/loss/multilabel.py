"""Multi-label losses: the multi-label hinge (MultiLabelMarginLoss) and the multi-label logistic loss
(MultiLabelSoftMarginLoss), as pure pairs.

``grad`` is dL/dloss: a scalar for a reduced loss, an array of the loss's shape for ``'none'``.
"""

from __future__ import annotations

from typing import Any, NamedTuple, cast

import numpy as np

from ._reduction import apply_reduction, check_reduction, check_target, check_weight

__all__ = [
    "multilabel_margin_loss_backward", "multilabel_margin_loss_forward", "multilabel_soft_margin_loss_backward",
    "multilabel_soft_margin_loss_forward",
]


def _per_sample(grad: np.ndarray, reduction: str, n: int) -> np.ndarray:
    """dL/dl_n as an array broadcastable over (N, C) rows: the upstream gradient, / N for mean."""
    if reduction == "none":
        return np.reshape(grad, (-1, 1))
    return grad / max(n, 1) if reduction == "mean" else grad


# --------------------------------------------------------- multi-label margin
def _multilabel_rows(input: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """input and target as (N, C) rows, checked as torch does, and the mask of each row's valid labels (the
    entries before its first -1)."""
    name = "MultiLabelMarginLoss"
    if input.ndim > 2 or (input.ndim >= 1 and input.shape[-1] == 0):
        raise ValueError(f"{name}: expected a non-empty (C,) or (N, C) input (or 0-d), got shape {input.shape}")
    if not np.issubdtype(target.dtype, np.integer):
        raise TypeError(f"{name}: target must hold integer class indices, got dtype {target.dtype}")
    if target.shape != input.shape:
        raise ValueError(f"{name}: inconsistent target size: {target.shape} for input of size: {input.shape}")
    n_classes = input.shape[-1] if input.ndim else 1
    rows, labels = input.reshape(-1, n_classes), target.reshape(-1, n_classes)
    valid = np.cumprod(labels != -1, axis=1).astype(bool)  # up to the first -1
    bad = labels[(labels < -1) | (labels >= n_classes)]  # torch checks every entry, even after a -1
    if bad.size:
        raise IndexError(f"{name}: target {bad[0]} is out of range for {n_classes} classes")
    return rows, np.where(valid, labels, 0), valid


class MultiLabelMarginCache(NamedTuple):
    """What ``multilabel_margin_loss_backward`` needs from the forward."""

    active: np.ndarray  #: (N, K, C): z_nkc = 1 - x_{n, y_nk} + x_nc > 0 for a valid label y_nk and a non-target c
    onehot: np.ndarray  #: (N, K, C): whether valid label y_nk is class c
    reduction: str
    input_shape: tuple[int, ...]


def multilabel_margin_loss_forward(input: np.ndarray, target: np.ndarray, reduction: str = "mean"
                                   ) -> tuple[np.ndarray, MultiLabelMarginCache]:
    r"""l_n = sum_{k valid} sum_{c not a target of n} max(0, 1 - (x_{n, y_nk} - x_nc)) / C, where the valid
    labels y_nk are the target row's entries before its first -1 (a repeated label counts each time, as in
    torch).

    Shapes: input (C) or (N, C); target the same shape, integer. Loss: (N) for 'none' ('()' unbatched), else ().
    """
    check_reduction(reduction)
    rows, labels, valid = _multilabel_rows(input, target)
    n_classes = rows.shape[1]
    onehot = np.arange(n_classes) == np.where(valid, labels, -1)[:, :, None]  # (N, K, C): label k is class c
    is_target = onehot.any(axis=1)
    chosen = np.take_along_axis(rows, labels, axis=1)  # x_{n, y_nk}, (N, K)
    z = 1 - chosen[:, :, None] + rows[:, None, :]
    active = (z > 0) & valid[:, :, None] & ~is_target[:, None, :]  # torch's strict test: z = 0 adds nothing
    losses = np.where(active, z, 0).sum(axis=(1, 2)) / n_classes
    losses = losses.astype(input.dtype, copy=False).reshape(input.shape[:-1] if input.ndim else ())
    return apply_reduction(losses, reduction), MultiLabelMarginCache(active, onehot, reduction, input.shape)


def multilabel_margin_loss_backward(grad: np.ndarray, cache: MultiLabelMarginCache) -> np.ndarray:
    r"""dl_n/dx_nc = (number of active (k, c) terms) / C for a non-target c; dl_n/dx_{n, y_nk} = -(number of
    active terms of label k) / C."""
    active, onehot = cache.active, cache.onehot
    n, _, n_classes = active.shape
    per_label = active.sum(axis=2, keepdims=True)  # (N, K, 1): the active terms of label k
    count = active.sum(axis=1) - (onehot * per_label).sum(axis=1)  # + per non-target c, - per label (repeats add)
    dtype = np.asarray(grad).dtype
    scaled = count.astype(dtype) / dtype.type(n_classes) * _per_sample(grad, cache.reduction, n)
    return cast("np.ndarray", scaled.reshape(cache.input_shape))


# ---------------------------------------------------- multi-label soft margin
def multilabel_soft_margin_loss_forward(input: np.ndarray, target: np.ndarray, weight: np.ndarray | None = None,
                                        reduction: str = "mean") -> tuple[np.ndarray, tuple[Any, ...]]:
    r"""l_n = -(1/C) sum_c w_c (y_nc log sigma(x_nc) + (1 - y_nc) log sigma(-x_nc)), with torch's stable
    log sigma(x) = min(x, 0) - log(1 + e^{-|x|}).

    Shapes: input (N, C) or (C), target the same (0/1 labels, float or integer); weight (C). Loss: (N) or () for
    'none', else ().
    """
    check_reduction(reduction)
    if np.issubdtype(target.dtype, np.integer) or target.dtype == np.bool_:  # 0/1 labels as numbers, as torch takes
        target = target.astype(input.dtype)
    check_target("MultiLabelSoftMarginLoss", input, target)
    check_weight("MultiLabelSoftMarginLoss", input, weight)
    if input.ndim == 0:
        raise ValueError("MultiLabelSoftMarginLoss: expected a (C,) or (N, C) input, got a 0-d one")
    with np.errstate(under="ignore"):
        softplus = np.log1p(np.exp(-np.abs(input)))
    log_sig, log_sig_neg = np.minimum(input, 0) - softplus, np.minimum(-input, 0) - softplus
    with np.errstate(invalid="ignore"):  # 0 * -inf at an infinite input: nan, as torch's same formula gives
        terms = -(target * log_sig + (1 - target) * log_sig_neg)
        if weight is not None:
            terms = terms * weight
    losses = terms.sum(axis=-1) / input.shape[-1]
    return apply_reduction(losses, reduction), (input, target, weight, reduction, losses.size)


def multilabel_soft_margin_loss_backward(grad: np.ndarray, cache: tuple[Any, ...]) -> np.ndarray:
    r"""dl_n/dx_nc = w_c (sigma(x_nc) - y_nc) / C, computed along torch's autograd path, g = w_c dL/dl_n / C:
    -g y (1 - sigma(x)) + g (1 - y) sigma(x), so an infinite weight gives torch's nan where y is 0 or 1."""
    input, target, weight, reduction, n = cache
    per = np.expand_dims(grad, -1) if reduction == "none" else grad / max(n, 1) if reduction == "mean" else grad
    g = per / input.dtype.type(input.shape[-1])
    with np.errstate(over="ignore", invalid="ignore"):
        g = g * weight if weight is not None else g * np.ones_like(input)
        sigmoid = 1 / (1 + np.exp(-input))
        return cast("np.ndarray", -g * target * (1 - sigmoid) + g * (1 - target) * sigmoid)
