"""Triplet losses: TripletMarginLoss (a p-norm distance) and TripletMarginWithDistanceLoss (any distance with a
backward), as pure pairs.

``grad`` is dL/dloss: a scalar for a reduced loss, an array of the loss's shape for ``'none'``. A distance is a
pure pair ``(forward(x1, x2) -> (d, cache), backward(grad_d, cache) -> (dx1, dx2))`` that treats rows
independently; it is called once, on the pairs stacked along dim 0 (anchor-positive, anchor-negative and, with
``swap``, positive-negative), so a distance Module runs one forward and one backward.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from ..distance import pairwise_distance_backward, pairwise_distance_forward
from ._reduction import apply_reduction, check_reduction

__all__ = [
    "triplet_margin_loss_backward", "triplet_margin_loss_forward", "triplet_margin_with_distance_loss_backward",
    "triplet_margin_with_distance_loss_forward",
]

Distance = tuple[Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, Any]],
                 Callable[[np.ndarray, Any], tuple[np.ndarray, np.ndarray]]]


def _check_triplet(name: str, anchor: np.ndarray, positive: np.ndarray, negative: np.ndarray) -> None:
    dims = (anchor.ndim, positive.ndim, negative.ndim)
    if len(set(dims)) != 1:  # torch's message (a RuntimeError there)
        raise ValueError(f"{name}: The anchor, positive, and negative tensors are expected to have the same number "
                         f"of dimensions, but got: anchor {dims[0]}D, positive {dims[1]}D, and negative {dims[2]}D "
                         "inputs")
    if not (anchor.shape == positive.shape == negative.shape):
        raise ValueError(f"{name}: anchor, positive and negative must have the same shape (scratch does not "
                         f"broadcast them), got {anchor.shape}, {positive.shape} and {negative.shape}")
    if not (anchor.dtype == positive.dtype == negative.dtype) or not np.issubdtype(anchor.dtype, np.floating):
        raise TypeError(f"{name}: anchor, positive and negative must share one float dtype, got {anchor.dtype}, "
                        f"{positive.dtype} and {negative.dtype}")


class TripletCache(NamedTuple):
    """What the triplet backward needs."""

    distance_backward: Callable[[np.ndarray, Any], tuple[np.ndarray, np.ndarray]]
    distance_cache: Any
    stacked: bool  #: the pairs were stacked along a new dim 0 (unbatched inputs), not concatenated
    active: np.ndarray  #: margin + d(a, p) - d_neg >= 0 (torch's clamp passes the gradient at the kink)
    to_an: np.ndarray | None  #: with swap: the share of dL/d_neg that goes to d(a, n) (1, 1/2 at a tie, or 0)
    reduction: str


def _forward(name: str, anchor: np.ndarray, positive: np.ndarray, negative: np.ndarray, distance: Distance,
             margin: float, swap: bool, reduction: str) -> tuple[np.ndarray, TripletCache]:
    r"""l = max(0, margin + d(a, p) - d_neg), d_neg = d(a, n), or min(d(a, n), d(p, n)) with ``swap``."""
    check_reduction(reduction, name)
    _check_triplet(name, anchor, positive, negative)
    pairs = [(anchor, positive), (anchor, negative), (positive, negative)][: 3 if swap else 2]
    stacked = anchor.ndim < 2
    join = np.stack if stacked else np.concatenate
    d, distance_cache = distance[0](join([x for x, _ in pairs]), join([y for _, y in pairs]))
    parts = list(d) if stacked else np.split(d, len(pairs))
    d_neg, to_an = parts[1], None
    if swap:
        d_neg = np.minimum(parts[1], parts[2])
        # torch's minimum: the smaller one gets the gradient, each half of it at a tie
        to_an = np.where(parts[1] == parts[2], 0.5, np.where(parts[1] > parts[2], 0.0, 1.0)).astype(d.dtype)
    with np.errstate(invalid="ignore"):  # inf - inf = nan at infinite distances, silently, as torch
        z = margin + parts[0] - d_neg
    cache = TripletCache(distance[1], distance_cache, stacked, z >= 0, to_an, reduction)
    return apply_reduction(np.maximum(z, 0), reduction), cache


def _backward(grad: np.ndarray, cache: TripletCache) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""With s = dL/dl [l > 0 or at the kink]: dL/dd(a, p) = s, dL/dd_neg = -s (shared out by the min with
    ``swap``); then the distance's backward, its gradients of the stacked pairs added back per input."""
    active = cache.active
    upstream = grad / max(active.size, 1) if cache.reduction == "mean" else grad
    s = np.where(active, upstream, 0).astype(np.asarray(grad).dtype, copy=False)
    grads = [s, -s] if cache.to_an is None else [s, -s * cache.to_an, -s * (1 - cache.to_an)]
    with np.errstate(invalid="ignore"):  # 0 * inf in a distance's backward: nan, silently, as torch
        return _distance_backward(grads, cache)


def _distance_backward(grads: list[np.ndarray], cache: TripletCache) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The distance's backward on the stacked gradients, added back per input."""
    join = np.stack if cache.stacked else np.concatenate
    dx1, dx2 = cache.distance_backward(join(grads), cache.distance_cache)
    g1, g2 = (list(g) if cache.stacked else np.split(g, len(grads)) for g in (dx1, dx2))
    danchor, dpositive, dnegative = g1[0] + g1[1], g2[0], g2[1]
    if cache.to_an is not None:
        dpositive, dnegative = dpositive + g1[2], dnegative + g2[2]
    return danchor, dpositive, dnegative


def triplet_margin_loss_forward(anchor: np.ndarray, positive: np.ndarray, negative: np.ndarray, margin: float = 1.0,
                                p: float = 2.0, eps: float = 1e-6, swap: bool = False,
                                reduction: str = "mean") -> tuple[np.ndarray, TripletCache]:
    r"""l_n = max(0, margin + d(a_n, p_n) - d(a_n, n_n)) with d(x, y) = |x - y + eps|_p along the last dim; with
    ``swap``, d(a_n, n_n) becomes min(d(a_n, n_n), d(p_n, n_n)).

    Shapes: anchor, positive, negative (N, D) or (D) the same. Loss: (N) or () for 'none', else ().
    """
    distance = (functools.partial(pairwise_distance_forward, p=p, eps=eps, owner="TripletMarginLoss"),
                pairwise_distance_backward)
    return _forward("TripletMarginLoss", anchor, positive, negative, distance, margin, swap, reduction)


def triplet_margin_loss_backward(grad: np.ndarray, cache: TripletCache) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""dl/da = s (g_p - g_n), dl/dp = -s g_p, dl/dn = s g_n, with s = [margin + d_p - d_n >= 0] and
    g_p, g_n the gradients of |v|_p at v = a - p + eps and a - n + eps (see ``pairwise_distance_backward``); with
    ``swap`` the min's gradient goes to the smaller distance (half each at a tie, as torch's minimum).
    Returns (dL/danchor, dL/dpositive, dL/dnegative)."""
    return _backward(grad, cache)


def triplet_margin_with_distance_loss_forward(anchor: np.ndarray, positive: np.ndarray, negative: np.ndarray,
                                              distance: Distance | None = None, margin: float = 1.0,
                                              swap: bool = False, reduction: str = "mean"
                                              ) -> tuple[np.ndarray, TripletCache]:
    r"""l_n = max(0, margin + d(a_n, p_n) - d(a_n, n_n)) for a ``distance`` pair (see the module docstring;
    None: the pairwise distance |x - y + 1e-6|_2); with ``swap``, d(a_n, n_n) becomes min(d(a_n, n_n), d(p_n, n_n)).

    Shapes: anchor, positive, negative (N, *) or (*) as the distance takes them. Loss: (N) for 'none', else ().
    """
    if distance is None:
        distance = (functools.partial(pairwise_distance_forward, owner="TripletMarginWithDistanceLoss"),
                    pairwise_distance_backward)
    return _forward("TripletMarginWithDistanceLoss", anchor, positive, negative, distance, margin, swap, reduction)


def triplet_margin_with_distance_loss_backward(grad: np.ndarray, cache: TripletCache
                                               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""dL/dd(a, p) = s, dL/dd_neg = -s, s = dL/dl [margin + d(a, p) - d_neg >= 0], through the distance's own
    backward (and torch's minimum with ``swap``). Returns (dL/danchor, dL/dpositive, dL/dnegative)."""
    return _backward(grad, cache)
