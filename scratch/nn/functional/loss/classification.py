"""Classification losses as pure forward/backward pairs: cross-entropy and NLL over classes, binary
cross-entropy on probabilities and on logits.

``reduction`` is ``'none'`` (the per-sample losses), ``'sum'`` or ``'mean'`` (a 0-d array).
``grad`` is dL/dloss: a scalar for ``'sum'``/``'mean'``, an array of the loss's shape for ``'none'``.
"""

from __future__ import annotations

import numpy as np

from ..activation import log_softmax, sigmoid_forward
from ._reduction import apply_reduction, check_broadcast, check_reduction, check_target, check_weight

__all__ = [
    "binary_cross_entropy_backward", "binary_cross_entropy_forward", "binary_cross_entropy_with_logits_backward",
    "binary_cross_entropy_with_logits_forward", "cross_entropy_backward", "cross_entropy_forward",
    "nll_loss_backward", "nll_loss_forward",
]


BCE_EPSILON = float(np.float32(1e-12))  # torch clamps x(1 - x) at its float32 constant 1e-12f, even in float64


# --------------------------------------------------------------- cross-entropy
def _classes_last(x: np.ndarray) -> np.ndarray:
    """(C,) -> (1, C); (N, C, d1, ...) -> (N * d1 * ..., C)."""
    if x.ndim == 2:  # already (N, C): skip moveaxis's cost on the common path
        return x
    if x.ndim == 1:
        return x[None, :]
    return np.moveaxis(x, 1, -1).reshape(-1, x.shape[1])


def _classes_back(x2d: np.ndarray, shape: tuple) -> np.ndarray:
    """Inverse of ``_classes_last`` for an input of ``shape``."""
    if len(shape) <= 2:
        return x2d.reshape(shape)
    moved = shape[:1] + shape[2:] + shape[1:2]
    return np.moveaxis(x2d.reshape(moved), -1, 1)


def _class_labels(name: str, target: np.ndarray, n_classes: int, ignore_index: int) -> tuple[np.ndarray, np.ndarray]:
    """Flat class indices (ignored ones replaced by 0) and the mask of the samples not ignored."""
    labels = target.reshape(-1)
    if labels.size and not 0 <= ignore_index < n_classes and labels.min() >= 0 and labels.max() < n_classes:
        return labels, np.ones(labels.shape, dtype=bool)  # the common case, all in range: two passes, not six
    valid = labels != ignore_index
    bad = labels[valid & ((labels < 0) | (labels >= n_classes))]
    if bad.size:
        raise IndexError(f"{name}: target {bad[0]} is out of bounds for {n_classes} classes "
                         f"(expected 0 <= target < {n_classes} or target == ignore_index {ignore_index})")
    return np.where(valid, labels, 0), valid


def _class_setup(name: str, input: np.ndarray, target: np.ndarray, weight: np.ndarray | None,
                 probabilities: bool = False) -> tuple[np.ndarray, tuple]:
    """Check input, class-index target and weight; return the weight (None stays None) and the batch shape."""
    if input.ndim == 0:
        raise ValueError(f"{name}: input must have a class dimension, got a 0-d array")
    n_classes = input.shape[0 if input.ndim == 1 else 1]
    check_weight(name, input, weight)
    if weight is not None and weight.shape != (n_classes,):
        raise ValueError(f"{name}: weight must have shape ({n_classes},) (one per class), got {weight.shape}")
    batch_shape = input.shape[:1] + input.shape[2:] if input.ndim > 1 else ()
    if probabilities:
        return weight, batch_shape
    if target.dtype.kind not in "iu":
        raise TypeError(f"{name}: target must hold integer class indices, got dtype {target.dtype}")
    if target.shape != batch_shape:
        raise ValueError(f"{name}: expected class-index target of shape {batch_shape} "
                         f"for input of shape {input.shape}, got {target.shape}")
    return weight, batch_shape


def _class_index_coefficients(logp: np.ndarray, target: np.ndarray, weight: np.ndarray, ignore_index: int,
                              label_smoothing: float) -> tuple[tuple, np.ndarray, np.ndarray]:
    """The coefficients a_nc of loss_n = -sum_c a_nc log p_nc for class-index targets, as
    (class indices y_n, w_{y_n} or 0 where ignored, the dense a or None when it is one-hot), and the valid mask."""
    n_classes = logp.shape[1]
    safe, valid = _class_labels("CrossEntropyLoss", target, n_classes, ignore_index)
    # w_{y_n}, 0 where ignored; without a weight, the mask itself (no ones array to gather from)
    picked_weight = valid.astype(logp.dtype) if weight is None else weight[safe] * valid
    if label_smoothing == 0:  # a is one-hot: each sample's term is picked, no (N, C) array is built
        return (safe, picked_weight, None), valid
    weight = np.ones(n_classes, dtype=logp.dtype) if weight is None else weight
    coef = np.zeros_like(logp)
    coef[np.arange(safe.size), safe] = (1 - label_smoothing) * picked_weight
    # torch spreads label_smoothing / C of every (weighted) sample uniformly
    coef += (label_smoothing / n_classes) * weight * valid[:, None]
    return (safe, picked_weight, coef), valid


def cross_entropy_forward(input: np.ndarray, target: np.ndarray, weight: np.ndarray | None = None,
                          ignore_index: int = -100, reduction: str = "mean",
                          label_smoothing: float = 0.0) -> tuple[np.ndarray, tuple]:
    r"""Softmax cross-entropy from logits: l_n = -sum_c a_nc log softmax(x_n)_c.

    Class-index targets: a_nc = w_c ((1 - s) [c = y_n] + s / C), 0 where y_n = ignore_index;
    ``'mean'`` divides by sum_n w_{y_n} over the non-ignored samples, as torch does.
    Probability targets (same shape as input): a_nc = w_c ((1 - s) y_nc + s / C); ``'mean'`` divides by N.

    Shapes: input (C,), (N, C) or (N, C, d1, ...); target (), (N) or (N, d1, ...) of class indices,
    or of input's shape for probabilities. Loss: target's batch shape, or () when reduced.
    """
    check_reduction(reduction)
    probabilities = np.asarray(target).dtype.kind == "f"
    if probabilities and ignore_index >= 0:
        raise ValueError(f"CrossEntropyLoss: ignore_index is not supported for class-probability (floating point) "
                         f"targets, got ignore_index={ignore_index}")
    weight, batch_shape = _class_setup("CrossEntropyLoss", input, target, weight, probabilities)
    logp = log_softmax(_classes_last(input), dim=1)
    if not probabilities:
        coefs, valid = _class_index_coefficients(logp, target, weight, ignore_index, label_smoothing)
        safe, picked_weight, coef = coefs
        denominator = picked_weight.sum()
    else:
        check_target("CrossEntropyLoss (probability target)", input, target)
        probs = _classes_last(target)
        coef = probs * (1 - label_smoothing) + label_smoothing / logp.shape[1]
        coef = coef if weight is None else coef * weight  # times ones is exact: skipped
        coefs, denominator, valid = (None, None, coef), logp.shape[0], np.ones(logp.shape[0], dtype=bool)
    # with a one-hot a, -sum_c a_nc log p_nc is the one picked term -w_{y_n} log p_{n,y_n}
    losses = -(picked_weight * logp[np.arange(safe.size), safe]) if coef is None else -(coef * logp).sum(axis=1)
    return apply_reduction(losses.reshape(batch_shape), reduction, denominator), (logp, coefs, valid, denominator,
                                                                          reduction, input.shape, weight is None)


def cross_entropy_backward(grad: np.ndarray, cache: tuple) -> np.ndarray:
    r"""dl_n/dx_nc = p_nc sum_k a_nk - a_nc, with p = softmax(x_n); for one-hot a this is w_{y_n} (p - onehot).

    Ignored samples get a zero gradient, even when every sample is ignored (then torch's mean is nan).
    """
    logp, (safe, picked_weight, coef), valid, denominator, reduction, shape, unweighted = cache
    with np.errstate(invalid="ignore", divide="ignore"):
        scale = np.reshape(grad, (-1, 1)) if reduction == "none" else grad / denominator if reduction == "mean" \
            else grad
        dlogits = np.exp(logp)
        if coef is None:  # one-hot a: sum_k a_nk = w_{y_n}, and a_nc is w_{y_n} at c = y_n only
            if not unweighted:  # unweighted, w_{y_n} is 1 (ignored rows are zeroed below): skip the pass
                dlogits *= picked_weight[:, None]
            dlogits[np.arange(safe.size), safe] -= picked_weight
        else:
            dlogits *= coef.sum(axis=1, keepdims=True)
            dlogits -= coef
        dlogits *= scale
    if not valid.all():
        dlogits = np.where(valid[:, None], dlogits, 0)
    return _classes_back(dlogits, shape)


# ------------------------------------------------------------------------- NLL
def nll_loss_forward(input: np.ndarray, target: np.ndarray, weight: np.ndarray | None = None,
                     ignore_index: int = -100, reduction: str = "mean") -> tuple[np.ndarray, tuple]:
    r"""Negative log-likelihood of log-probabilities: l_n = -w_{y_n} x_{n, y_n}, 0 where y_n = ignore_index.

    ``'mean'`` divides by sum_n w_{y_n} over the non-ignored samples (nan when that is 0, as in torch).

    Shapes: input (C,), (N, C) or (N, C, d1, ...); target (), (N) or (N, d1, ...) of integer class
    indices; weight (C,). Loss: target's shape, or () when reduced.
    """
    check_reduction(reduction)
    weight, batch_shape = _class_setup("NLLLoss", input, target, weight)
    weight = np.ones(input.shape[0 if input.ndim == 1 else 1], dtype=input.dtype) if weight is None else weight
    x2d = _classes_last(input)
    safe, valid = _class_labels("NLLLoss", target, x2d.shape[1], ignore_index)
    picked_weight = np.where(valid, weight[safe], 0)
    rows = np.arange(safe.size)
    losses = np.where(valid, -picked_weight * x2d[rows, safe], 0).reshape(batch_shape)
    denominator = picked_weight.sum()
    cache = (safe, valid, picked_weight, denominator, reduction, input.shape)
    return apply_reduction(losses, reduction, denominator), cache


def nll_loss_backward(grad: np.ndarray, cache: tuple) -> np.ndarray:
    r"""dl_n/dx_{n,c} = -w_{y_n} [c = y_n] (divided by sum_n w_{y_n} for mean); 0 for ignored samples."""
    safe, valid, picked_weight, denominator, reduction, shape = cache
    with np.errstate(invalid="ignore", divide="ignore"):  # zero total weight: nan, as in torch
        scale = np.reshape(grad, -1) if reduction == "none" else grad / denominator if reduction == "mean" else grad
        picked = np.where(valid, -picked_weight * scale, 0)
    n_classes = shape[0] if len(shape) == 1 else shape[1]
    dx2d = np.zeros((safe.size, n_classes), dtype=picked_weight.dtype)
    dx2d[np.arange(safe.size), safe] = picked
    return _classes_back(dx2d, shape)


# ------------------------------------------------------------------------- BCE
def binary_cross_entropy_forward(input: np.ndarray, target: np.ndarray, weight: np.ndarray | None = None,
                                 reduction: str = "mean") -> tuple[np.ndarray, tuple]:
    r"""l_n = -w_n (y_n log x_n + (1 - y_n) log(1 - x_n)), each log clamped at -100 as in torch.

    Shapes: input (*) of probabilities in [0, 1], target (*), weight broadcastable to (*).
    """
    check_reduction(reduction)
    check_target("BCELoss", input, target)
    check_weight("BCELoss", input, weight)
    if input.size and not (np.all(input >= 0) and np.all(input <= 1)):
        raise ValueError(f"BCELoss: all elements of input should be between 0 and 1, got values in "
                         f"[{np.min(input)}, {np.max(input)}]")
    if target.size and not (np.all(target >= 0) and np.all(target <= 1)):  # NaN fails both, as in torch
        raise ValueError(f"BCELoss: all elements of target should be between 0 and 1, got values in "
                         f"[{np.min(target)}, {np.max(target)}]")
    with np.errstate(divide="ignore"):  # log(0) = -inf, then clamped to -100
        log_x = np.maximum(np.log(input), -100)
        log_1mx = np.maximum(np.log1p(-input), -100)  # log1p as torch: exact for tiny x
    losses = (target - 1) * log_1mx - target * log_x
    if weight is not None:
        weight = np.broadcast_to(weight, input.shape)
        losses = losses * weight
    return apply_reduction(losses, reduction), (input, target, weight, reduction)


def binary_cross_entropy_backward(grad: np.ndarray, cache: tuple) -> np.ndarray:
    r"""dl_n/dx_n = w_n (x_n - y_n) / max(x_n (1 - x_n), 1e-12), then / N for mean."""
    input, target, weight, reduction = cache
    dinput = grad * (input - target) / np.maximum((1 - input) * input, BCE_EPSILON)
    if weight is not None:
        dinput = dinput * weight
    if reduction == "mean":
        dinput = dinput / input.size
    return dinput


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
    check_target(name, input, target)
    check_broadcast(name, "weight", input, weight)
    check_broadcast(name, "pos_weight", input, pos_weight)
    with np.errstate(under="ignore"):  # exp(-1e4) = 0 is exact enough; torch does not warn either
        log_sigmoid = np.minimum(input, 0) - np.log1p(np.exp(-np.abs(input)))
    if pos_weight is not None:
        log_sigmoid = log_sigmoid * ((pos_weight - 1) * target + 1)
    losses = (1 - target) * input - log_sigmoid
    if weight is not None:
        losses = losses * weight
    return apply_reduction(losses, reduction), (input, target, weight, pos_weight, reduction)


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
