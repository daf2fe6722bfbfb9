"""Flatten."""

from __future__ import annotations

import numpy as np

from .. import functional as F
from .module import Module

__all__ = ["Flatten"]


class Flatten(Module):
    r"""Flattens dims ``start_dim`` to ``end_dim`` into one; backward reshapes the gradient back.

    Shape:
        - Input: :math:`(*, S_{start}, ..., S_{end}, *)`.
        - Output: :math:`(*, \prod_{i=start}^{end} S_i, *)`.
    """

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, input: np.ndarray) -> np.ndarray:
        out, cache = F.flatten_forward(input, self.start_dim, self.end_dim)
        self._save(cache)
        return out

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        return F.flatten_backward(grad_output, self._saved(grad_output))

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"
