"""Margin losses: multi-class hinge, hinge embedding, soft margin, cosine embedding and margin ranking, as pure
pairs.

``grad`` is dL/dloss: a scalar for a reduced loss, an array of the loss's shape for ``'none'``.
At a hinge's kink torch's choice of subgradient is matched, as each docstring says.
"""

from __future__ import annotations

from typing import Any, NamedTuple, cast

import numpy as np

from ._reduction import apply_reduction, check_reduction, check_target, check_weight

__all__ = [
    "cosine_embedding_loss_backward", "cosine_embedding_loss_forward", "hinge_embedding_loss_backward",
    "hinge_embedding_loss_forward", "margin_ranking_loss_backward", "margin_ranking_loss_forward",
    "multi_margin_loss_backward", "multi_margin_loss_forward",
    "soft_margin_loss_backward", "soft_margin_loss_forward",
]


COSINE_EPSILON = float(np.float32(1e-12))  # torch adds its float constant 1e-12f to |x|^2, even in float64


def _per_sample(grad: np.ndarray, reduction: str, n: int) -> np.ndarray:
    """dL/dl_n as an array broadcastable over samples: the upstream gradient, / n for mean."""
    if reduction == "none":
        return np.reshape(grad, (-1, 1))
    return grad / max(n, 1) if reduction == "mean" else grad  # n = 0: an empty batch, whose gradient is empty


# ---------------------------------------------------------------- multi margin
def _multi_margin_rows(name: str, input: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """input as (N, C) rows and target as (N,) labels, checked as torch does."""
    if input.ndim > 2 or (input.ndim >= 1 and input.shape[-1] == 0):
        raise ValueError(f"{name}: expected a non-empty (C,) or (N, C) input (or 0-d), got shape {input.shape}")
    rows = input.reshape(-1, input.shape[1] if input.ndim == 2 else max(input.size, 1))
    if not np.issubdtype(target.dtype, np.integer):
        raise TypeError(f"{name}: target must hold integer class indices, got dtype {target.dtype}")
    if target.ndim > 1 or target.size != rows.shape[0]:
        raise ValueError(f"{name}: expected a target of shape ({rows.shape[0]},) for input of shape {input.shape}, "
                         f"got {target.shape}")
    labels = target.reshape(-1)
    bad = labels[(labels < 0) | (labels >= rows.shape[1])]
    if bad.size:
        raise IndexError(f"{name}: target {bad[0]} is out of range for {rows.shape[1]} classes")
    return rows, labels


class MultiMarginCache(NamedTuple):
    """What ``multi_margin_loss_backward`` needs from ``multi_margin_loss_forward``."""

    z: np.ndarray  #: margin - x_{n, y_n} + x_nc, (N, C)
    active: np.ndarray  #: z_nc > 0 for c != y_n: the terms that count, (N, C)
    labels: np.ndarray  #: y_n, (N,)
    weight: np.ndarray | None
    p: int
    reduction: str
    input_shape: tuple[int, ...]


def multi_margin_loss_forward(input: np.ndarray, target: np.ndarray, p: int = 1, margin: float = 1.0,
                              weight: np.ndarray | None = None,
                              reduction: str = "mean") -> tuple[np.ndarray, MultiMarginCache]:
    r"""l_n = (1 / C) sum_{c != y_n} w_{y_n} max(0, z_nc)^p, with z_nc = margin - x_{n, y_n} + x_nc and p in {1, 2}.

    Shapes: input (C,) or (N, C) (or 0-d, one class); target () or (N,) of integer class indices; weight (C,).
    Loss: (N,) for 'none' with a 1-D target, else ().
    """
    check_reduction(reduction)
    if p not in (1, 2):
        raise ValueError(f"MultiMarginLoss: only p == 1 and p == 2 supported, got {p}")
    rows, labels = _multi_margin_rows("MultiMarginLoss", input, target)
    check_weight("MultiMarginLoss", input, weight)
    if weight is not None and weight.shape != (rows.shape[1],):
        raise ValueError(f"MultiMarginLoss: weight must have shape ({rows.shape[1]},), got {weight.shape}")
    index = np.arange(labels.size)
    z = (margin - rows[index, labels][:, None]) + rows
    active = z > 0  # torch's strict test: z = 0 adds nothing and has zero gradient
    active[index, labels] = False
    terms = np.where(active, z if p == 1 else z * z, 0)
    if weight is not None:
        terms = terms * weight[labels][:, None]
    losses = terms.sum(axis=1) / rows.shape[1]
    losses = losses.reshape(target.shape) if reduction == "none" else losses
    return apply_reduction(losses, reduction), MultiMarginCache(z, active, labels, weight, p, reduction, input.shape)


def multi_margin_loss_backward(grad: np.ndarray, cache: MultiMarginCache) -> np.ndarray:
    r"""dl_n/dx_nc = w_{y_n} [z_nc > 0] (1 if p = 1 else 2 z_nc) / C for c != y_n; dl_n/dx_{n,y_n} = -sum of those."""
    z, active, labels = cache.z, cache.active, cache.labels
    n, n_classes = z.shape
    slope = (active.astype(z.dtype) if cache.p == 1 else np.where(active, 2 * z, 0)) / n_classes
    if cache.weight is not None:
        slope = slope * cache.weight[labels][:, None]
    slope[np.arange(n), labels] = -slope.sum(axis=1)
    return cast("np.ndarray", (slope * _per_sample(grad, cache.reduction, n)).reshape(cache.input_shape))


# ------------------------------------------------------------- hinge embedding
def hinge_embedding_loss_forward(input: np.ndarray, target: np.ndarray, margin: float = 1.0,
                                 reduction: str = "mean") -> tuple[np.ndarray, tuple[Any, ...]]:
    r"""l_n = x_n if y_n = 1, max(0, margin - x_n) if y_n = -1 (torch: a target that is neither adds both).

    Shape: input (*), target (*) of ±1 (float of input's dtype, or integer) -> (*) for 'none', else ().
    """
    check_reduction(reduction)
    if np.issubdtype(target.dtype, np.integer):
        target = target.astype(input.dtype)
    check_target("HingeEmbeddingLoss", input, target)
    gap = margin - input
    losses = np.where(target != 1, np.maximum(gap, 0), 0) + np.where(target != -1, input, 0)
    return apply_reduction(losses, reduction), (gap, target, reduction)


def hinge_embedding_loss_backward(grad: np.ndarray, cache: tuple[Any, ...]) -> np.ndarray:
    r"""dl_n/dx_n = [y_n != -1] - [y_n != 1][margin - x_n >= 0]: torch's clamp passes the gradient at the
    kink x_n = margin, so the slope there is -1."""
    gap, target, reduction = cache
    slope = np.where(target != -1, 1, 0) - np.where((target != 1) & (gap >= 0), 1, 0)
    dinput = slope.astype(gap.dtype) * grad
    return cast("np.ndarray", dinput / gap.size if reduction == "mean" else dinput)


# ----------------------------------------------------------------- soft margin
def soft_margin_loss_forward(input: np.ndarray, target: np.ndarray, reduction: str = "mean"
                             ) -> tuple[np.ndarray, tuple[Any, ...]]:
    r"""l_n = log(1 + exp(-y_n x_n)), computed as torch does: log1p(exp(-x y)), which is inf once
    exp overflows (y x < -89 in float32); torch has the same limit, so it is matched, quietly.

    Shape: input (*), target (*) of ±1, same float dtype -> (*) for 'none', else ().
    """
    check_reduction(reduction)
    check_target("SoftMarginLoss", input, target)
    with np.errstate(over="ignore"):
        e = np.exp(-input * target)
    return apply_reduction(np.log1p(e), reduction), (e, target, reduction)


def soft_margin_loss_backward(grad: np.ndarray, cache: tuple[Any, ...]) -> np.ndarray:
    r"""dl_n/dx_n = -y_n e_n / (1 + e_n), e_n = exp(-y_n x_n) (nan where e_n overflowed, as in torch)."""
    e, target, reduction = cache
    with np.errstate(invalid="ignore"):
        dinput = -target * e / (1 + e) * grad
    return cast("np.ndarray", dinput / e.size if reduction == "mean" else dinput)


# ------------------------------------------------------------ cosine embedding
def _check_cosine(input1: np.ndarray, input2: np.ndarray, target: np.ndarray) -> None:
    name = "CosineEmbeddingLoss"
    if input1.shape != input2.shape:
        raise ValueError(f"{name}: input1 and input2 must have the same shape, got {input1.shape} and {input2.shape}")
    if input2.dtype != input1.dtype or not np.issubdtype(input1.dtype, np.floating):
        raise TypeError(f"{name}: input1 and input2 must share one float dtype, got {input1.dtype} and {input2.dtype}")
    if not (np.issubdtype(target.dtype, np.integer) or np.issubdtype(target.dtype, np.floating)):
        raise TypeError(f"{name}: target must hold ±1 as numbers, got dtype {target.dtype}")
    batched = target.ndim == 1 and input1.ndim == 2 and input1.shape[0] == target.shape[0]
    if not (batched or (target.ndim == 0 and input1.ndim == 1)):
        raise ValueError(f"{name}: expected inputs (D,) with a target () or inputs (N, D) with a target (N,); "
                         f"got inputs {input1.shape} and target {target.shape}")


class CosineEmbeddingCache(NamedTuple):
    """What ``cosine_embedding_loss_backward`` needs; every per-sample value has the target's shape."""

    input1: np.ndarray
    input2: np.ndarray
    cos: np.ndarray
    denom: np.ndarray  #: D_n = sqrt((|a_n|^2 + eps)(|b_n|^2 + eps))
    sq1: np.ndarray  #: |a_n|^2 + eps
    sq2: np.ndarray  #: |b_n|^2 + eps
    slope: np.ndarray  #: dl_n/dcos_n (-1, 0 or 1), in the inputs' dtype
    reduction: str


def cosine_embedding_loss_forward(input1: np.ndarray, input2: np.ndarray, target: np.ndarray, margin: float = 0.0,
                                  reduction: str = "mean") -> tuple[np.ndarray, CosineEmbeddingCache]:
    r"""l_n = 1 - cos_n if y_n = 1, max(0, cos_n - margin) if y_n = -1 (0 for any other target), with
    cos_n = <a_n, b_n> / sqrt((|a_n|^2 + eps)(|b_n|^2 + eps)), eps = 1e-12.

    Shapes: input1, input2 (N, D) with target (N,), or (D,) with target (). Loss: target's shape, or ().
    """
    check_reduction(reduction)
    _check_cosine(input1, input2, target)
    axis = target.ndim
    dot = (input1 * input2).sum(axis=axis)
    sq1 = (input1 * input1).sum(axis=axis) + COSINE_EPSILON
    sq2 = (input2 * input2).sum(axis=axis) + COSINE_EPSILON
    denom = np.sqrt(sq1 * sq2)
    cos = dot / denom
    losses = np.where(target == 1, 1 - cos, 0) + np.where(target == -1, np.maximum(cos - margin, 0), 0)
    # dl/dcos: -1 for y = 1; +1 for y = -1 where cos >= margin (torch's clamp passes the gradient at the kink)
    slope = np.where(target == 1, -1, 0) + np.where((target == -1) & (cos - margin >= 0), 1, 0)
    cache = CosineEmbeddingCache(input1, input2, cos, denom, sq1, sq2, slope.astype(input1.dtype), reduction)
    return apply_reduction(losses.astype(input1.dtype, copy=False), reduction), cache


def cosine_embedding_loss_backward(grad: np.ndarray, cache: CosineEmbeddingCache) -> tuple[np.ndarray, np.ndarray]:
    r"""With s_n = dL/dcos_n: dL/da_n = s_n (b_n / D_n - cos_n a_n / (|a_n|^2 + eps)) and
    dL/db_n = s_n (a_n / D_n - cos_n b_n / (|b_n|^2 + eps)), D_n = sqrt((|a_n|^2 + eps)(|b_n|^2 + eps)).

    Returns (dL/dinput1, dL/dinput2), each of its input's shape.
    """
    input1, input2, cos, denom, sq1, sq2, slope, reduction = cache
    n = max(cos.size, 1)  # an empty batch: any n, the gradients are empty
    s = slope * (np.reshape(grad, cos.shape) if reduction == "none" else grad / n if reduction == "mean" else grad)
    s, cos, denom, sq1, sq2 = (np.expand_dims(v, -1) for v in (s, cos, denom, sq1, sq2))
    return s * (input2 / denom - cos * input1 / sq1), s * (input1 / denom - cos * input2 / sq2)


# ---------------------------------------------------------------- margin ranking
def margin_ranking_loss_forward(input1: np.ndarray, input2: np.ndarray, target: np.ndarray, margin: float = 0.0,
                                reduction: str = "mean") -> tuple[np.ndarray, tuple[Any, ...]]:
    r"""l_n = max(0, -y_n (x1_n - x2_n) + margin), y_n = ±1 (x1 should rank higher for y = 1).

    Shapes: input1, input2, target (N) or () the same (an integer target is taken as the inputs' dtype).
    Loss: (N) for 'none', else ().
    """
    name = "MarginRankingLoss"
    check_reduction(reduction)
    if input1.ndim != input2.ndim or input1.ndim != target.ndim:  # torch's message (a RuntimeError there)
        raise ValueError(f"{name}: margin_ranking_loss : All input tensors should have same dimension but got sizes: "
                         f"input1: {input1.shape}, input2: {input2.shape}, target: {target.shape} ")
    if input2.shape != input1.shape or input2.dtype != input1.dtype:
        raise ValueError(f"{name}: input1 and input2 must have one shape and dtype, got {input1.shape} {input1.dtype} "
                         f"and {input2.shape} {input2.dtype}")
    if np.issubdtype(target.dtype, np.integer):
        target = target.astype(input1.dtype)
    check_target(name, input1, target)
    z = -target * (input1 - input2) + input1.dtype.type(margin)
    return apply_reduction(np.maximum(z, 0), reduction), (z >= 0, target, reduction)


def margin_ranking_loss_backward(grad: np.ndarray, cache: tuple[Any, ...]) -> tuple[np.ndarray, np.ndarray]:
    r"""dl_n/dx1_n = -y_n [z_n >= 0], dl_n/dx2_n = y_n [z_n >= 0], z_n = -y_n (x1_n - x2_n) + margin: torch's
    clamp passes the gradient at the kink z = 0. Returns (dL/dinput1, dL/dinput2)."""
    active, target, reduction = cache
    s = np.where(active, target, 0).astype(target.dtype) * grad
    if reduction == "mean":
        s = s / max(target.size, 1)
    return -s, s
