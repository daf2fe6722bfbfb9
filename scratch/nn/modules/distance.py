"""Distance modules: PairwiseDistance, a thin wrapper around ``scratch.nn.functional.pairwise_distance_*``.
Parameter-free: any float dtype in, the same dtype out."""

from __future__ import annotations

import numpy as np

from .. import functional as F
from .module import Module

__all__ = ["PairwiseDistance"]


class PairwiseDistance(Module):
    r"""d = |x1 - x2 + eps|_p along the last dim;  dd/dx1 = sign(v) |v|^{p-1} / |v|_p^{p-1} at v = x1 - x2 + eps,
    dd/dx2 = -dd/dx1 (v / |v| for p = 2; 0 where |v|_p = 0, as torch).

    Like torch, the exponent is kept as ``self.norm`` (the constructor's ``p``).

    Shape: x1, x2 (N, D) or (D) -> (N) or (), or (N, 1) and (1) with ``keepdim``.
    ``backward(grad)`` returns (dL/dx1, dL/dx2).
    """

    _input_kind = "float"

    def __init__(self, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False) -> None:
        super().__init__()
        self.norm = p
        self.eps = eps
        self.keepdim = keepdim

    def forward(self, x1: np.ndarray, x2: np.ndarray) -> np.ndarray:
        out, cache = F.pairwise_distance_forward(x1, x2, self.norm, self.eps, self.keepdim, owner="PairwiseDistance")
        self._save(cache)
        return out

    def backward(self, grad_output: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return F.pairwise_distance_backward(grad_output, self._saved(grad_output))
