"""Adaptive pooling: AdaptiveAvgPool1d/2d/3d and AdaptiveMaxPool1d/2d/3d (parameter-free, any float dtype)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import functional as F
from ..functional.pooling_adaptive import adaptive_sizes
from .module import Module
from .pooling import check_pool_input

__all__ = ["AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveAvgPool3d", "AdaptiveMaxPool1d", "AdaptiveMaxPool2d",
           "AdaptiveMaxPool3d"]


class _AdaptiveAvgPoolNd(Module):
    _dims = 2
    _input_kind = "float"  # see ``_checks``

    def __init__(self, output_size: Any) -> None:
        super().__init__()
        self.output_size = output_size

    def forward(self, input: np.ndarray) -> np.ndarray:
        owner, dims = type(self).__name__, self._dims
        # torch's quirk: an output of all ones is computed as a mean over the spatial dims, which takes empty
        # channel and spatial dims (the mean of nothing is NaN); other output sizes refuse them
        mean = input.ndim > dims and adaptive_sizes(owner, self.output_size, input.shape[-dims:]) == (1,) * dims
        check_pool_input(owner, input, dims, empty_ok=mean)
        out, cache = F.adaptive_avg_pool_forward(input, dims, self.output_size, owner=owner)
        self._save(cache)
        return out

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        return F.adaptive_avg_pool_backward(grad_output, self._saved(grad_output))

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveAvgPool1d(_AdaptiveAvgPoolNd):
    r"""Average pooling to a fixed length: output i averages input cells [floor(i L / S), ceil((i+1) L / S)).

    Computed as y = x A^T with an averaging matrix A; gradient dL/dx = dL/dy A.

    Shape:
        - Input: :math:`(N, C, L_{in})` or :math:`(C, L_{in})`.
        - Output: :math:`(N, C, S)` or :math:`(C, S)`, S = ``output_size``.
    """

    _dims = 1


class AdaptiveAvgPool2d(_AdaptiveAvgPoolNd):
    r"""Average pooling to a fixed output size: output (i, j) averages input rows
    [floor(i H / H_out), ceil((i+1) H / H_out)) and the matching columns (windows overlap and vary).

    Computed as y = A_H x A_W^T with averaging matrices A; gradient dL/dx = A_H^T dL/dy A_W.

    Shape:
        - Input: :math:`(N, C, H_{in}, W_{in})` or :math:`(C, H_{in}, W_{in})`.
        - Output: :math:`(N, C, S_0, S_1)` or :math:`(C, S_0, S_1)`, S = ``output_size`` (None keeps the input size).
    """

    _dims = 2


class AdaptiveAvgPool3d(_AdaptiveAvgPoolNd):
    r"""Average pooling to a fixed output size over the last three dims: each output averages the box of
    torch's adaptive windows along D, H and W.

    Computed with one averaging matrix per axis; gradient: their transposes applied to dL/dy.

    Shape:
        - Input: :math:`(N, C, D_{in}, H_{in}, W_{in})` or :math:`(C, D_{in}, H_{in}, W_{in})`.
        - Output: :math:`(N, C, S_0, S_1, S_2)` or :math:`(C, S_0, S_1, S_2)` (None keeps the input size).
    """

    _dims = 3


class _AdaptiveMaxPoolNd(Module):
    _dims = 2
    _input_kind = "float"  # see ``_checks``

    def __init__(self, output_size: Any, return_indices: bool = False) -> None:
        super().__init__()
        self.output_size = output_size
        self.return_indices = return_indices

    def forward(self, input: np.ndarray) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        check_pool_input(type(self).__name__, input, self._dims)
        out, cache = F.adaptive_max_pool_forward(input, self._dims, self.output_size, owner=type(self).__name__)
        self._save(cache)
        return (out, cache.indices) if self.return_indices else out

    def backward(self, grad_output: np.ndarray, grad_indices: Any = None) -> np.ndarray:
        """dL/dinput; with ``return_indices`` the indices' gradient (if given) is ignored, as in torch."""
        return F.adaptive_max_pool_backward(grad_output, self._saved(grad_output))

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveMaxPool1d(_AdaptiveMaxPoolNd):
    r"""Max pooling to a fixed length: output i is the max over input cells [floor(i L / S), ceil((i+1) L / S)).

    Gradient: each output's dL/dy goes to the cell it took (the first maximum; the last NaN).

    Shape:
        - Input: :math:`(N, C, L_{in})` or :math:`(C, L_{in})`.
        - Output: :math:`(N, C, S)` or :math:`(C, S)`, indices (``return_indices``) int64 alike.
    """

    _dims = 1


class AdaptiveMaxPool2d(_AdaptiveMaxPoolNd):
    r"""Max pooling to a fixed output size over torch's adaptive windows along H and W.

    Gradient: each output's dL/dy goes to the cell it took (the first maximum in row-major order).

    Shape:
        - Input: :math:`(N, C, H_{in}, W_{in})` or :math:`(C, H_{in}, W_{in})`.
        - Output: :math:`(N, C, S_0, S_1)` or :math:`(C, S_0, S_1)` (None keeps the input size).
    """

    _dims = 2


class AdaptiveMaxPool3d(_AdaptiveMaxPoolNd):
    r"""Max pooling to a fixed output size over torch's adaptive windows along D, H and W.

    Gradient: each output's dL/dy goes to the cell it took (the first maximum in row-major order).

    Shape:
        - Input: :math:`(N, C, D_{in}, H_{in}, W_{in})` or :math:`(C, D_{in}, H_{in}, W_{in})`.
        - Output: :math:`(N, C, S_0, S_1, S_2)` or :math:`(C, S_0, S_1, S_2)` (None keeps the input size).
    """

    _dims = 3
