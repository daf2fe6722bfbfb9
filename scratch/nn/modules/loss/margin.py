"""Margin losses: ``loss = criterion(input, target)`` (``criterion(input1, input2, target)`` for
CosineEmbeddingLoss), then ``criterion.backward(grad=None)``. Any float dtype in, the same dtype out.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ... import functional as F
from ._base import _Loss, _WeightedLoss

__all__ = ["CosineEmbeddingLoss", "HingeEmbeddingLoss", "MarginRankingLoss", "MultiMarginLoss", "SoftMarginLoss"]


class MultiMarginLoss(_WeightedLoss):
    r"""Multi-class hinge: :math:`\ell_n = \frac{1}{C} \sum_{c \ne y_n} w_{y_n} \max(0, m - x_{n,y_n} + x_{n,c})^p`,
    p in {1, 2}.

    Gradient: for :math:`c \ne y_n`, :math:`w_{y_n} [z_{nc} > 0] \, p \, z_{nc}^{p-1} / C` with
    :math:`z_{nc} = m - x_{n,y_n} + x_{n,c}` (0 at z = 0, like torch); the target entry gets minus their sum.

    Shape: input (C) or (N, C); target () or (N) integer class indices; weight (C);
    output () or, with reduction='none', (N).
    """

    def __init__(self, p: int = 1, margin: float = 1.0, weight: np.ndarray | None = None,
                 size_average: bool | None = None, reduce: bool | None = None, reduction: str = "mean") -> None:
        super().__init__(weight, size_average, reduce, reduction)
        if p not in (1, 2):
            raise ValueError(f"MultiMarginLoss: only p == 1 and p == 2 supported, got p={p}")
        if self.weight is not None and self.weight.ndim != 1:
            raise ValueError(f"MultiMarginLoss: expected weight to be None or 1D tensor, got {self.weight.ndim}D "
                             "instead")
        self.p = p
        self.margin = margin

    def forward(self, input: np.ndarray, target: np.ndarray) -> np.ndarray:
        loss, cache = F.multi_margin_loss_forward(input, target, self.p, self.margin, self.weight, self.reduction)
        self._save(cache)
        return loss

    def backward(self, grad: Any = None) -> np.ndarray:
        return F.multi_margin_loss_backward(*self._upstream(grad))


class HingeEmbeddingLoss(_Loss):
    r"""Hinge embedding: :math:`\ell_n = x_n` for :math:`y_n = 1`, :math:`\max(0, m - x_n)` for :math:`y_n = -1`.

    Gradient: 1 for y = 1; :math:`-[m - x_n \ge 0]` for y = -1 (-1 at the kink x = m, like torch).

    Shape: input (*), target (*) of ±1; output () or, with reduction='none', (*).
    """

    def __init__(self, margin: float = 1.0, size_average: bool | None = None, reduce: bool | None = None,
                 reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input: np.ndarray, target: np.ndarray) -> np.ndarray:
        loss, cache = F.hinge_embedding_loss_forward(input, target, self.margin, self.reduction)
        self._save(cache)
        return loss

    def backward(self, grad: Any = None) -> np.ndarray:
        return F.hinge_embedding_loss_backward(*self._upstream(grad))


class SoftMarginLoss(_Loss):
    r"""Two-class logistic loss: :math:`\ell_n = \log(1 + e^{-y_n x_n})` for targets :math:`y_n = \pm 1`.

    Gradient: :math:`\partial \ell_n / \partial x_n = -y_n e^{-y_n x_n} / (1 + e^{-y_n x_n})`.

    Shape: input (*), target (*) the same shape; output () or, with reduction='none', (*).
    """

    def forward(self, input: np.ndarray, target: np.ndarray) -> np.ndarray:
        loss, cache = F.soft_margin_loss_forward(input, target, self.reduction)
        self._save(cache)
        return loss

    def backward(self, grad: Any = None) -> np.ndarray:
        return F.soft_margin_loss_backward(*self._upstream(grad))


class CosineEmbeddingLoss(_Loss):
    r"""Cosine embedding: :math:`\ell_n = 1 - \cos(a_n, b_n)` for :math:`y_n = 1`,
    :math:`\max(0, \cos(a_n, b_n) - m)` for :math:`y_n = -1`.

    Gradient: with :math:`s_n = \partial \ell_n / \partial \cos_n`,
    :math:`\partial \ell_n / \partial a_n = s_n (b_n / (|a_n| |b_n|) - \cos_n a_n / |a_n|^2)`, and symmetrically
    for :math:`b_n`; ``backward`` returns both.

    Shape: input1, input2 (N, D) with target (N), or (D) with target (); output () or, with
    reduction='none', target's shape.
    """

    def __init__(self, margin: float = 0.0, size_average: bool | None = None, reduce: bool | None = None,
                 reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input1: np.ndarray, input2: np.ndarray, target: np.ndarray) -> np.ndarray:  # type: ignore[override]
        loss, cache = F.cosine_embedding_loss_forward(input1, input2, target, self.margin, self.reduction)
        self._save(cache)
        return loss

    def backward(self, grad: Any = None) -> tuple[np.ndarray, np.ndarray]:
        return F.cosine_embedding_loss_backward(*self._upstream(grad))


class MarginRankingLoss(_Loss):
    r"""Margin ranking: :math:`\ell_n = \max(0, -y_n (x1_n - x2_n) + m)`, y = 1 when x1 should rank higher.

    Gradients: :math:`\partial \ell_n / \partial x1_n = -y_n [z_n \ge 0]`, :math:`\partial \ell_n / \partial x2_n
    = y_n [z_n \ge 0]` with :math:`z_n = -y_n (x1_n - x2_n) + m` (torch's clamp passes the gradient at z = 0);
    ``backward`` returns both.

    Shape: input1, input2, target (N) or () the same; output () or, with reduction='none', (N).
    """

    def __init__(self, margin: float = 0.0, size_average: bool | None = None, reduce: bool | None = None,
                 reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input1: np.ndarray, input2: np.ndarray, target: np.ndarray) -> np.ndarray:  # type: ignore[override]
        loss, cache = F.margin_ranking_loss_forward(input1, input2, target, self.margin, self.reduction)
        self._save(cache)
        return loss

    def backward(self, grad: Any = None) -> tuple[np.ndarray, np.ndarray]:
        return F.margin_ranking_loss_backward(*self._upstream(grad))
