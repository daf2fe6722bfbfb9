"""Triplet loss modules: ``loss = criterion(anchor, positive, negative)``, then ``criterion.backward(grad=None)``,
which returns (dL/danchor, dL/dpositive, dL/dnegative). Any float dtype in, the same dtype out."""

from __future__ import annotations

from typing import Any

import numpy as np

from ... import functional as F
from ...functional.loss.triplet import Distance
from ..distance import PairwiseDistance
from ..module import Module
from ._base import _Loss

__all__ = ["TripletMarginLoss", "TripletMarginWithDistanceLoss"]


def _check_margin(name: str, margin: float) -> None:
    if margin <= 0:  # torch's ValueError and message
        raise ValueError(f"{name}: expected margin to be greater than 0, got {margin} instead")


class TripletMarginLoss(_Loss):
    r"""Triplet margin loss: :math:`\ell_n = \max(0, m + d(a_n, p_n) - d(a_n, n_n))`,
    :math:`d(x, y) = \lVert x - y + \epsilon \rVert_p` along the last dim; with ``swap``, :math:`d(a_n, n_n)` becomes
    :math:`\min(d(a_n, n_n), d(p_n, n_n))`.

    Gradients: with :math:`s = [m + d_p - d_n \ge 0]` (torch's clamp passes the gradient at the kink) and
    :math:`g_v = \partial \lVert v \rVert_p / \partial v`: :math:`\partial \ell / \partial a = s (g_{a-p} - g_{a-n})`,
    :math:`\partial \ell / \partial p = -s g_{a-p}`, :math:`\partial \ell / \partial n = s g_{a-n}`; with ``swap``
    the min's gradient goes to the smaller distance (half each at a tie, as torch's minimum).

    Shape: anchor, positive, negative (N, D) or (D) the same; output () or, with reduction='none', (N).
    """

    def __init__(self, margin: float = 1.0, p: float = 2.0, eps: float = 1e-6, swap: bool = False,
                 size_average: bool | None = None, reduce: bool | None = None, reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        _check_margin("TripletMarginLoss", margin)
        self.margin = margin
        self.p = p
        self.eps = eps
        self.swap = swap

    def forward(self, anchor: np.ndarray, positive: np.ndarray, negative: np.ndarray) -> np.ndarray:  # type: ignore[override]
        loss, cache = F.triplet_margin_loss_forward(anchor, positive, negative, self.margin, self.p, self.eps,
                                                    self.swap, self.reduction)
        self._save(cache)
        return loss

    def backward(self, grad: Any = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return F.triplet_margin_loss_backward(*self._upstream(grad))


class TripletMarginWithDistanceLoss(_Loss):
    r"""Triplet loss with any distance: :math:`\ell_n = \max(0, m + d(a_n, p_n) - d(a_n, n_n))`; with ``swap``,
    :math:`d(a_n, n_n)` becomes :math:`\min(d(a_n, n_n), d(p_n, n_n))`.

    ``distance_function`` must have a backward: a scratch Module whose ``backward(grad)`` returns
    (dL/dx1, dL/dx2) (default: ``PairwiseDistance()``, as torch), or a pure pair ``(forward(x1, x2) -> (d, cache),
    backward(grad_d, cache) -> (dx1, dx2))`` such as ``(F.pairwise_distance_forward, F.pairwise_distance_backward)``.
    It must treat rows independently: it is called once, on the pairs stacked along dim 0 (so a Module runs one
    forward and one backward per loss).

    Gradients: :math:`\partial \ell / \partial d(a, p) = s`, :math:`\partial \ell / \partial d_{neg} = -s`,
    :math:`s = [m + d(a, p) - d_{neg} \ge 0]`, through the distance's backward (and torch's minimum with ``swap``).

    Shape: anchor, positive, negative (N, *) or (*) the same; output () or, with reduction='none', (N).
    """

    def __init__(self, *, distance_function: Module | Distance | None = None, margin: float = 1.0,
                 swap: bool = False, reduction: str = "mean") -> None:
        super().__init__(None, None, reduction)
        _check_margin("TripletMarginWithDistanceLoss", margin)
        if not (distance_function is None or isinstance(distance_function, Module) or _is_pair(distance_function)):
            raise TypeError("TripletMarginWithDistanceLoss: distance_function must be a scratch Module with a "
                            "backward or a (forward, backward) pair of functions, got "
                            f"{type(distance_function).__name__}")
        self.distance_function = PairwiseDistance() if distance_function is None else distance_function
        self.margin = margin
        self.swap = swap

    def _distance(self) -> Distance:
        """The distance as a pure pair: a Module's own forward and backward, or the pair given."""
        function = self.distance_function
        if isinstance(function, Module):
            return (lambda x1, x2: (function(x1, x2), None)), (lambda grad, _: function.backward(grad))
        return function

    def forward(self, anchor: np.ndarray, positive: np.ndarray, negative: np.ndarray) -> np.ndarray:  # type: ignore[override]
        loss, cache = F.triplet_margin_with_distance_loss_forward(anchor, positive, negative, self._distance(),
                                                                  self.margin, self.swap, self.reduction)
        self._save(cache)
        return loss

    def backward(self, grad: Any = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return F.triplet_margin_with_distance_loss_backward(*self._upstream(grad))


def _is_pair(value: Any) -> bool:
    return isinstance(value, tuple) and len(value) == 2 and all(callable(f) for f in value)
