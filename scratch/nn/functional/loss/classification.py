"""Classification losses as pure forward/backward pairs: cross-entropy and NLL over classes, binary
cross-entropy on probabilities and on logits.

``reduction`` is ``'none'`` (the per-sample losses), ``'sum'`` or ``'mean'`` (a 0-d array).
``grad`` is dL/dloss: a scalar for ``'sum'``/``'mean'``, an array of the loss's shape for ``'none'``.
"""

from __future__ import annotations

import math
from typing import NamedTuple, cast

import numpy as np

from ....parallel import parallel_rows
from ..activation import sigmoid_forward
from ._classes import class_labels, class_setup, classes_back, classes_last, pick_entries, subtract_picked
from ._reduction import apply_reduction, check_broadcast, check_reduction, check_target, check_weight

__all__ = [
    "binary_cross_entropy_backward", "binary_cross_entropy_forward", "binary_cross_entropy_with_logits_backward",
    "binary_cross_entropy_with_logits_forward", "cross_entropy_backward", "cross_entropy_forward",
    "nll_loss_backward", "nll_loss_forward",
]


#: below this many values (a small batch) cross-entropy skips its row-wise passes: see _softmax_parts, _scale_rows
SMALL_ROWS = 1 << 12

BCE_EPSILON = float(np.float32(1e-12))  # torch clamps x(1 - x) at its float32 constant 1e-12f, even in float64


# --------------------------------------------------------------- cross-entropy
class CrossEntropyCache(NamedTuple):
    """What ``cross_entropy_backward`` needs: softmax's two parts, e = exp(x - max) and its row sums, and the
    coefficients a_nc of loss_n = -sum_c a_nc log p_nc, either dense (``coef``) or, when a is one-hot, as the
    picked class and weight of each sample."""

    exp_shifted: np.ndarray  #: e = exp(x - max_c x), classes last: (N * d1 * ..., C); softmax is e / sum_exp
    sum_exp: np.ndarray  #: sum_c e_nc, (N * d1 * ..., 1)
    labels: np.ndarray | None  #: each sample's class index y_n, 0 where ignored; None for probability targets
    picked_weight: np.ndarray | None  #: w_{y_n} (1 without a weight), 0 where ignored; None for probability targets
    coef: np.ndarray | None  #: the dense a, like ``exp_shifted``; None when a is one-hot (class indices, no smoothing)
    valid: np.ndarray | None  #: the samples not ignored; None for probability targets, which ignore none
    denominator: float | np.ndarray  #: what ``'mean'`` divides by: sum_n w_{y_n}, or N for probabilities
    reduction: str
    input_shape: tuple[int, ...]
    unweighted: bool  #: no class weight was given


def _softmax_parts(x2d: np.ndarray,
                   labels: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """e = exp(x - m), its row sums s, log s, and log p: the picked log p_{n, y_n} for ``labels``, else all of it.

    log p = (x - m) - log s is the same arithmetic as ``softmax.log_softmax``, so the losses are the same bits.
    Fused: with ``labels`` only N entries of x - m are needed, so they are gathered first and the exponential
    overwrites x - m in place: one (N, C) array in all (a second one, freed with the first, made the allocator
    hand its memory back to the system and fault it in again on every call). The dense case keeps x - m for
    log p and allocates e beside it. An input of fewer than ``SMALL_ROWS`` values takes the whole-array branch:
    the same operations on the same rows (the same bits), without ``_exp_shifted_rows``' preallocated
    outputs, row slices and calls, which cost more than the work on a small input."""
    if labels is not None and x2d.size >= SMALL_ROWS and x2d.flags.c_contiguous:
        exp_shifted, sum_exp, picked = _exp_shifted_rows(x2d, labels)
    else:  # the ufuncs' reduce called directly: x2d.max and .sum without their Python wrappers
        shifted = np.subtract(x2d, np.maximum.reduce(x2d, axis=1, keepdims=True, initial=-np.inf))  # 0-size input
        if labels is not None:
            picked = pick_entries(shifted, labels)
            exp_shifted = np.exp(shifted, out=shifted)
        else:
            exp_shifted = np.exp(shifted)
        sum_exp = np.add.reduce(exp_shifted, axis=1, keepdims=True)
    if x2d.shape[1]:  # s >= 1 (its max term is e^0) or nan: log never warns; np.errstate costs as much as it
        log_sum = np.log(sum_exp)
    else:
        with np.errstate(divide="ignore"):  # no classes: log(0) of an empty sum, never used
            log_sum = np.log(sum_exp)
    if labels is not None:
        return exp_shifted, sum_exp, log_sum, picked - log_sum[:, 0]
    shifted -= log_sum  # in place: log p over the dense shifted array we own
    return exp_shifted, sum_exp, log_sum, shifted


def _exp_shifted_rows(x2d: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``_softmax_parts``' e = exp(x - m) (x - m first, in the same array), its row sums s and the picked
    x - m, for a C-contiguous x (N, C), by ranges of rows shared out among the intra-op threads
    (``parallel.parallel_rows``; serially for a small x): each row's max, differences, exponentials and
    pairwise sum are computed as on the whole array, so the bits are the same whatever the split."""
    n, classes = x2d.shape
    exp_shifted = np.empty_like(x2d)
    sum_exp = np.empty((n, 1), dtype=x2d.dtype)
    picked = np.empty(n, dtype=x2d.dtype)

    def rows(start: int, stop: int) -> None:
        x, e = x2d[start:stop], exp_shifted[start:stop]
        np.subtract(x, x.max(axis=1, keepdims=True, initial=-np.inf), out=e)  # initial: 0-size input
        picked[start:stop] = e[np.arange(stop - start), labels[start:stop]]
        np.exp(e, out=e)
        np.sum(e, axis=1, keepdims=True, out=sum_exp[start:stop])

    parallel_rows(rows, n, classes)
    return exp_shifted, sum_exp, picked


def _class_index_losses(x2d: np.ndarray, target: np.ndarray, weight: np.ndarray | None, ignore_index: int,
                        label_smoothing: float, reduction: str,
                        input_shape: tuple[int, ...]) -> tuple[np.ndarray, CrossEntropyCache]:
    """Per-sample losses and the cache for class-index targets: a_nc = w_c ((1 - s) [c = y_n] + s / C),
    0 where y_n = ignore_index; ``'mean'`` divides by sum_n w_{y_n}.

    Fast paths: without a weight, w_{y_n} is the valid mask itself (no ones array to gather from, and
    1 * x is exact). Without label smoothing a is one-hot and no (N, C) array is built: each loss is the
    one picked term -w_{y_n} log p_{n, y_n}, as torch's nll_loss computes it (the dense sum would add
    only exact zeros to it, where log p is finite)."""
    n_classes = x2d.shape[1]
    labels, valid = class_labels("CrossEntropyLoss", target, n_classes, ignore_index)
    picked_weight = valid.astype(x2d.dtype) if weight is None else weight[labels] * valid
    if label_smoothing == 0:
        coef = None
        exp_shifted, sum_exp, _, picked_logp = _softmax_parts(x2d, labels)
        losses = -(picked_weight * picked_logp)
    else:
        exp_shifted, sum_exp, _, logp = _softmax_parts(x2d, None)
        coef = np.zeros_like(logp)
        coef[np.arange(labels.size), labels] = (1 - label_smoothing) * picked_weight
        # torch spreads label_smoothing / C of every (weighted) sample uniformly
        class_weight = np.ones(n_classes, dtype=logp.dtype) if weight is None else weight
        coef += (label_smoothing / n_classes) * class_weight * valid[:, None]
        losses = -(coef * logp).sum(axis=1)
    # np.add.reduce: picked_weight.sum() without its Python wrapper (the same reduction)
    cache = CrossEntropyCache(exp_shifted, sum_exp, labels, picked_weight, coef, valid,
                              np.add.reduce(picked_weight, axis=None), reduction, input_shape, weight is None)
    return losses, cache


def _probability_losses(input: np.ndarray, x2d: np.ndarray, target: np.ndarray, weight: np.ndarray | None,
                        label_smoothing: float, reduction: str) -> tuple[np.ndarray, CrossEntropyCache]:
    """Per-sample losses and the cache for probability targets: a_nc = w_c ((1 - s) y_nc + s / C); no sample
    is ignored and ``'mean'`` divides by N. Without a weight the product with w is skipped (times ones is exact)."""
    check_target("CrossEntropyLoss (probability target)", input, target)
    exp_shifted, sum_exp, _, logp = _softmax_parts(x2d, None)
    coef = classes_last(target) * (1 - label_smoothing) + label_smoothing / logp.shape[1]
    if weight is not None:
        coef = coef * weight
    losses = -(coef * logp).sum(axis=1)
    cache = CrossEntropyCache(exp_shifted, sum_exp, None, None, coef, None, logp.shape[0], reduction, input.shape,
                              weight is None)
    return losses, cache


def cross_entropy_forward(input: np.ndarray, target: np.ndarray, weight: np.ndarray | None = None,
                          ignore_index: int = -100, reduction: str = "mean",
                          label_smoothing: float = 0.0) -> tuple[np.ndarray, CrossEntropyCache]:
    r"""Softmax cross-entropy from logits: l_n = -sum_c a_nc log softmax(x_n)_c.

    Class-index targets: a_nc = w_c ((1 - s) [c = y_n] + s / C), 0 where y_n = ignore_index;
    ``'mean'`` divides by sum_n w_{y_n} over the non-ignored samples, as torch does.
    Probability targets (same shape as input): a_nc = w_c ((1 - s) y_nc + s / C); ``'mean'`` divides by N.

    Shapes: input (C,), (N, C) or (N, C, d1, ...); target (), (N) or (N, d1, ...) of class indices,
    or of input's shape for probabilities. Loss: target's batch shape, or () when reduced.
    """
    check_reduction(reduction)
    probabilities = (target if type(target) is np.ndarray else np.asarray(target)).dtype.kind == "f"
    if probabilities and ignore_index >= 0:
        raise ValueError(f"CrossEntropyLoss: ignore_index is not supported for class-probability (floating point) "
                         f"targets, got ignore_index={ignore_index}")
    weight, batch_shape = class_setup("CrossEntropyLoss", input, target, weight, probabilities)
    x2d = classes_last(input)
    if probabilities:
        losses, cache = _probability_losses(input, x2d, target, weight, label_smoothing, reduction)
    else:
        losses, cache = _class_index_losses(x2d, target, weight, ignore_index, label_smoothing, reduction,
                                            input.shape)
    losses = losses if losses.shape == batch_shape else losses.reshape(batch_shape)  # (N,) already: no view made
    return apply_reduction(losses, reduction, cache.denominator), cache


def cross_entropy_backward(grad: np.ndarray, cache: CrossEntropyCache, *, overwrite: bool = False) -> np.ndarray:
    r"""dl_n/dx_nc = p_nc sum_k a_nk - a_nc, with p = softmax(x_n); for one-hot a this is w_{y_n} (p - onehot).

    Ignored samples get a zero gradient, even when every sample is ignored (then torch's mean is nan).

    One pass over the (N, C) array for one-hot a: p is e / s (forward kept both), so the gradient is
    e * (w_{y_n} g / s_n), the row factors computed on N values first, then w_{y_n} g subtracted at the
    picked entries; without a weight w_{y_n} is 1 on every row that is kept (the ignored rows, where it
    is 0, are zeroed at the end). (Not the same rounding as exp(log p) * g: within a few eps, and the
    division is exact to half an ulp where exp(log p) carries the rounding of log s.)

    ``overwrite=True`` writes the gradient over the cache's e instead of a new array, for a caller whose
    cache serves one backward (a module's): no (N, C) array is allocated, and the allocator does not hand
    back and fault in again the memory of two freed (N, C) arrays on every step (measured: 3.9 ms instead
    of 0.8 ms for 256 x 1000 on a loaded 2-core machine). The cache must not be used again.
    """
    reduction = cache.reduction
    if reduction != "none" and cache.coef is None and cache.unweighted and (reduction == "sum" or cache.denominator):
        scale = grad / cache.denominator if reduction == "mean" else grad
        if math.isfinite(scale):  # the common case: nothing can warn, so no np.errstate (it costs as much as the rest)
            return _cross_entropy_gradient(scale, cache, overwrite)
    with np.errstate(invalid="ignore", divide="ignore"):
        if reduction == "none":
            scale = np.reshape(grad, (-1, 1))
        else:
            scale = np.asarray(grad / cache.denominator if reduction == "mean" else grad)
        return _cross_entropy_gradient(scale, cache, overwrite)


def _cross_entropy_gradient(scale: np.ndarray, cache: CrossEntropyCache, overwrite: bool) -> np.ndarray:
    """``cross_entropy_backward`` once dL/dloss is ``scale``: a column (N, 1), or a scalar when reduced."""
    labels, picked_weight, coef, exp_shifted = cache.labels, cache.picked_weight, cache.coef, cache.exp_shifted
    dlogits = exp_shifted if overwrite else np.empty_like(exp_shifted)  # the input's dtype, whatever grad's
    if coef is None:  # one-hot a: sum_k a_nk = w_{y_n}, and a_nc is w_{y_n} at c = y_n only
        assert labels is not None and picked_weight is not None  # class-index targets always have them
        if cache.unweighted:  # w_{y_n} = 1 on the rows kept (the others are zeroed below): fewer small calls
            _scale_rows(exp_shifted, scale / cache.sum_exp, dlogits)
            subtract_picked(dlogits, labels, scale[:, 0] if cache.reduction == "none" else scale)
        else:
            _scale_rows(exp_shifted, picked_weight[:, None] * scale / cache.sum_exp, dlogits)
            dlogits[np.arange(labels.size), labels] -= (picked_weight[:, None] * scale)[:, 0]
    else:
        np.multiply(exp_shifted, coef.sum(axis=1, keepdims=True) / cache.sum_exp, out=dlogits)
        dlogits -= coef
        dlogits *= scale
    valid = cache.valid
    # whether a sample was ignored: without a class weight, w_{y_n} is the 0/1 mask and the denominator its sum,
    # an exact count below 2049 samples in every float dtype (float16's integers), so equal to N only when none
    # is: one comparison instead of a pass over the mask; else the mask's .all(), without its Python wrapper
    if valid is not None and not (cache.denominator == valid.size if cache.unweighted and valid.size <= 2048
                                  else np.logical_and.reduce(valid, axis=None)):
        dlogits = np.where(valid[:, None], dlogits, 0)
    return classes_back(dlogits, cache.input_shape)


def _scale_rows(e: np.ndarray, factor: np.ndarray, out: np.ndarray) -> None:
    """out = e * factor (factor (N, 1)), by ranges of rows on the intra-op threads (``parallel.parallel_rows``)
    when e (N, C) is large: elementwise, so the same bits whatever the split."""
    if e.size < SMALL_ROWS or not (e.ndim == 2 and factor.shape == (e.shape[0], 1)):  # small: one call
        np.multiply(e, factor, out=out)
        return

    def rows(start: int, stop: int) -> None:
        np.multiply(e[start:stop], factor[start:stop], out=out[start:stop])

    parallel_rows(rows, e.shape[0], e.shape[1])


# ------------------------------------------------------------------------- NLL
class NLLCache(NamedTuple):
    """What ``nll_loss_backward`` needs from ``nll_loss_forward``."""

    labels: np.ndarray  #: each sample's class index y_n, 0 where ignored
    valid: np.ndarray  #: the samples not ignored
    picked_weight: np.ndarray  #: w_{y_n}, 0 where ignored
    denominator: np.ndarray  #: sum_n w_{y_n}, what ``'mean'`` divides by
    reduction: str
    input_shape: tuple[int, ...]


def nll_loss_forward(input: np.ndarray, target: np.ndarray, weight: np.ndarray | None = None,
                     ignore_index: int = -100, reduction: str = "mean") -> tuple[np.ndarray, NLLCache]:
    r"""Negative log-likelihood of log-probabilities: l_n = -w_{y_n} x_{n, y_n}, 0 where y_n = ignore_index.

    ``'mean'`` divides by sum_n w_{y_n} over the non-ignored samples (nan when that is 0, as in torch).

    Shapes: input (C,), (N, C) or (N, C, d1, ...); target (), (N) or (N, d1, ...) of integer class
    indices; weight (C,). Loss: target's shape, or () when reduced.
    """
    check_reduction(reduction)
    weight, batch_shape = class_setup("NLLLoss", input, target, weight)
    weight = np.ones(input.shape[0 if input.ndim == 1 else 1], dtype=input.dtype) if weight is None else weight
    x2d = classes_last(input)
    labels, valid = class_labels("NLLLoss", target, x2d.shape[1], ignore_index)
    picked_weight = np.where(valid, weight[labels], 0)
    rows = np.arange(labels.size)
    losses = np.where(valid, -picked_weight * x2d[rows, labels], 0).reshape(batch_shape)
    cache = NLLCache(labels, valid, picked_weight, picked_weight.sum(), reduction, input.shape)
    return apply_reduction(losses, reduction, cache.denominator), cache


def nll_loss_backward(grad: np.ndarray, cache: NLLCache) -> np.ndarray:
    r"""dl_n/dx_{n,c} = -w_{y_n} [c = y_n] (divided by sum_n w_{y_n} for mean); 0 for ignored samples."""
    labels, reduction, shape = cache.labels, cache.reduction, cache.input_shape
    with np.errstate(invalid="ignore", divide="ignore"):  # zero total weight: nan, as in torch
        if reduction == "none":
            scale = np.reshape(grad, -1)
        else:
            scale = grad / cache.denominator if reduction == "mean" else grad
        picked = np.where(cache.valid, -cache.picked_weight * scale, 0)
    n_classes = shape[0] if len(shape) == 1 else shape[1]
    dx2d = np.zeros((labels.size, n_classes), dtype=cache.picked_weight.dtype)
    dx2d[np.arange(labels.size), labels] = picked
    return classes_back(dx2d, shape)


# ------------------------------------------------------------------------- BCE
class BCECache(NamedTuple):
    """What ``binary_cross_entropy_backward`` needs from ``binary_cross_entropy_forward``."""

    input: np.ndarray
    target: np.ndarray
    weight: np.ndarray | None  #: broadcast to the input's shape (a read-only view), or None
    reduction: str


def binary_cross_entropy_forward(input: np.ndarray, target: np.ndarray, weight: np.ndarray | None = None,
                                 reduction: str = "mean") -> tuple[np.ndarray, BCECache]:
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
    return apply_reduction(losses, reduction), BCECache(input, target, weight, reduction)


def binary_cross_entropy_backward(grad: np.ndarray, cache: BCECache) -> np.ndarray:
    r"""dl_n/dx_n = w_n (x_n - y_n) / max(x_n (1 - x_n), 1e-12), then / N for mean."""
    input = cache.input
    dinput = grad * (input - cache.target) / np.maximum((1 - input) * input, BCE_EPSILON)
    if cache.weight is not None:
        dinput = dinput * cache.weight
    if cache.reduction == "mean":
        dinput = dinput / input.size
    return cast("np.ndarray", dinput)


# ------------------------------------------------------------ BCE with logits
class BCEWithLogitsCache(NamedTuple):
    """What ``binary_cross_entropy_with_logits_backward`` needs from its forward."""

    input: np.ndarray
    target: np.ndarray
    weight: np.ndarray | None  #: as given: broadcastable to the input's shape
    pos_weight: np.ndarray | None  #: as given: broadcastable to the input's shape
    reduction: str


def binary_cross_entropy_with_logits_forward(input: np.ndarray, target: np.ndarray, weight: np.ndarray | None = None,
                                             reduction: str = "mean", pos_weight: np.ndarray | None = None
                                             ) -> tuple[np.ndarray, BCEWithLogitsCache]:
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
    return apply_reduction(losses, reduction), BCEWithLogitsCache(input, target, weight, pos_weight, reduction)


def binary_cross_entropy_with_logits_backward(grad: np.ndarray, cache: BCEWithLogitsCache) -> np.ndarray:
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
    return cast("np.ndarray", dinput / input.size if reduction == "mean" else dinput)
