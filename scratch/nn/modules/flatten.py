"""Flatten and Unflatten."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import functional as F
from ._checks import check_dim
from .module import Module

__all__ = ["Flatten", "Unflatten"]


class Flatten(Module):
    r"""Flattens dims ``start_dim`` to ``end_dim`` into one; backward reshapes the gradient back.

    Shape:
        - Input: :math:`(*, S_{start}, ..., S_{end}, *)`.
        - Output: :math:`(*, \prod_{i=start}^{end} S_i, *)`.
    """

    _input_kind = "array"  # any ndarray, any dtype (values only move): see ``_checks``

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, input: np.ndarray) -> np.ndarray:
        check_dim("Flatten", "start_dim", self.start_dim, input.ndim)
        check_dim("Flatten", "end_dim", self.end_dim, input.ndim)
        out, cache = F.flatten_forward(input, self.start_dim, self.end_dim)
        self._save(cache)
        return out

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        return F.flatten_backward(grad_output, self._saved(grad_output))

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    r"""Splits dim ``dim`` into ``unflattened_size`` (one entry may be -1); backward reshapes the gradient back.

    Shape:
        - Input: :math:`(*, S_{dim}, *)`.
        - Output: :math:`(*, U_1, ..., U_n, *)` with :math:`\prod_i U_i = S_{dim}`.
    """

    _input_kind = "array"  # see ``_checks``

    def __init__(self, dim: int, unflattened_size: Any) -> None:
        super().__init__()
        if isinstance(dim, str):
            raise TypeError("Unflatten: named dims (a str dim) are not supported; pass an int dim")
        if not isinstance(dim, (int, np.integer)) or isinstance(dim, bool):
            raise TypeError(f"Unflatten: invalid argument type for dim parameter: expected int, got "
                            f"{type(dim).__name__}")
        if not isinstance(unflattened_size, (tuple, list)):
            raise TypeError("Unflatten: unflattened_size must be a tuple of ints, but found type "
                            f"{type(unflattened_size).__name__}")
        for i, size in enumerate(unflattened_size):
            if not isinstance(size, (int, np.integer)) or isinstance(size, bool):
                raise TypeError(f"Unflatten: unflattened_size must be tuple of ints, but found element of type "
                                f"{type(size).__name__} at pos {i}")
        self.dim = int(dim)
        self.unflattened_size = unflattened_size

    def forward(self, input: np.ndarray) -> np.ndarray:
        check_dim("Unflatten", "dim", self.dim, input.ndim)
        out, cache = F.unflatten_forward(input, self.dim, tuple(self.unflattened_size))
        self._save(cache)
        return out

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        return F.unflatten_backward(grad_output, self._saved(grad_output))

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
