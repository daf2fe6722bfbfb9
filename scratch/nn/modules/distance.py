"""Distances between two inputs: CosineSimilarity and PairwiseDistance (parameter-free, any float dtype kept)."""

from __future__ import annotations

import numpy as np

from .. import functional as F
from ._checks import check_float
from .module import Module

__all__ = ["CosineSimilarity", "PairwiseDistance"]


class CosineSimilarity(Module):
    r"""Cosine similarity of ``x1`` and ``x2`` along ``dim``, each divided by its clamped norm first (torch's kernel):

    .. math:: y = \sum_{dim} \frac{x_1}{\max(\Vert x_1 \Vert_2, \epsilon)}
        \cdot \frac{x_2}{\max(\Vert x_2 \Vert_2, \epsilon)}

    Backward, with :math:`n_k` the clamped norms and :math:`r_k` the norms, as torch's autograd (the clamp
    is invisible to it): :math:`dx_1 = g\,\frac{x_2}{n_1 n_2} - g\,\frac{\sum x_1 x_2}{n_1^2 n_2} \frac{x_1}{r_1}`,
    and symmetrically; summed over the axes an input was broadcast along.

    Args:
        dim: the axis of the vectors. Default: 1.
        eps: the floor of each norm. Default: 1e-8.

    Shape:
        - Input1: :math:`(*_1, D, *_2)`, D at ``dim``.
        - Input2: broadcastable with Input1, of its dtype.
        - Output: :math:`(*_1, *_2)`, the broadcast shape without ``dim``.
    """

    _input_kind = "float"  # see ``_checks``

    def __init__(self, dim: int = 1, eps: float = 1e-8) -> None:
        super().__init__()
        self.dim = dim
        self.eps = eps

    def forward(self, x1: np.ndarray, x2: np.ndarray) -> np.ndarray:
        check_float("CosineSimilarity", "x2", x2)
        out, cache = F.cosine_similarity_forward(x1, x2, self.dim, self.eps, owner="CosineSimilarity")
        self._save(cache)
        return out

    def backward(self, grad_output: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return F.cosine_similarity_backward(grad_output, self._saved(grad_output))


class PairwiseDistance(Module):
    r"""The p-norm distance of ``x1`` and ``x2`` over the last axis, eps added to the difference (torch's placement):

    .. math:: y = \Vert x_1 - x_2 + \epsilon \Vert_p

    Backward: :math:`dx_1 = -dx_2 = g\,\mathrm{sign}(d) |d|^{p-1} / \Vert d \Vert_p^{p-1}` (:math:`g\,d / \Vert d
    \Vert` for p = 2, :math:`g\,\mathrm{sign}(d)` for p = 1, 0 for p = 0, shared among the extrema for
    :math:`p = \pm\infty`), torch's ``norm_backward``; summed over the axes an input was broadcast along.

    Args:
        p: the norm degree (``norm`` as an attribute, torch's name). Default: 2.
        eps: added to the difference. Default: 1e-6.
        keepdim: keep the reduced axis, of size 1. Default: False.

    Shape:
        - Input1: :math:`(N, D)` or :math:`(D)`.
        - Input2: broadcastable with Input1, of its dtype.
        - Output: :math:`(N)` or :math:`()` (with keepdim, :math:`(N, 1)` or :math:`(1)`).
    """

    _input_kind = "float"  # see ``_checks``

    def __init__(self, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False) -> None:
        super().__init__()
        self.norm = p  # torch keeps p under this name
        self.eps = eps
        self.keepdim = keepdim

    def forward(self, x1: np.ndarray, x2: np.ndarray) -> np.ndarray:
        check_float("PairwiseDistance", "x2", x2)
        out, cache = F.pairwise_distance_forward(x1, x2, self.norm, self.eps, self.keepdim, owner="PairwiseDistance")
        self._save(cache)
        return out

    def backward(self, grad_output: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return F.pairwise_distance_backward(grad_output, self._saved(grad_output))
