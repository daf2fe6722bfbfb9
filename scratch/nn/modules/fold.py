"""Fold and Unfold: combine sliding blocks into an image (col2im) and extract them (im2col)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import functional as F
from .module import Module

__all__ = ["Fold", "Unfold"]


class Fold(Module):
    r"""Sums sliding blocks back into an image of ``output_size`` (col2im):
    y[n, c, h, w] = sum of cols[n, (c k_H + i) k_W + j, a L_W + b] over the blocks (a, b) and offsets
    (i, j) with a s_H + i d_H - p_H = h and b s_W + j d_W - p_W = w. Backward: dL/dcols = unfold(dL/dy).

    Shape:
        - Input: :math:`(N, C k_H k_W, L)` or :math:`(C k_H k_W, L)`, L the number of blocks.
        - Output: :math:`(N, C, H, W)` or :math:`(C, H, W)`, (H, W) = ``output_size``.
    """

    _input_kind = "float"  # see ``_checks``

    def __init__(self, output_size: Any, kernel_size: Any, dilation: Any = 1, padding: Any = 0,
                 stride: Any = 1) -> None:
        super().__init__()
        self.output_size = output_size
        self.kernel_size = kernel_size
        self.dilation = dilation
        self.padding = padding
        self.stride = stride

    def forward(self, input: np.ndarray) -> np.ndarray:
        out, cache = F.fold_forward(input, self.output_size, self.kernel_size, self.dilation, self.padding,
                                    self.stride)
        self._save(cache)
        return out

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        return F.fold_backward(grad_output, self._saved(grad_output))

    def extra_repr(self) -> str:
        return (f"output_size={self.output_size}, kernel_size={self.kernel_size}, dilation={self.dilation}, "
                f"padding={self.padding}, stride={self.stride}")


class Unfold(Module):
    r"""Extracts sliding blocks (im2col): cols[n, (c k_H + i) k_W + j, a L_W + b] =
    x_pad[n, c, a s_H + i d_H, b s_W + j d_W]. Backward: dL/dx = fold(dL/dcols), overlapping blocks summed.

    Shape:
        - Input: :math:`(N, C, H, W)` or :math:`(C, H, W)`.
        - Output: :math:`(N, C k_H k_W, L)` or :math:`(C k_H k_W, L)`,
          :math:`L = \prod_d \lfloor (S_d + 2 p_d - d_d (k_d - 1) - 1) / s_d \rfloor + 1`.
    """

    _input_kind = "float"  # see ``_checks``

    def __init__(self, kernel_size: Any, dilation: Any = 1, padding: Any = 0, stride: Any = 1) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.dilation = dilation
        self.padding = padding
        self.stride = stride

    def forward(self, input: np.ndarray) -> np.ndarray:
        out, cache = F.unfold_forward(input, self.kernel_size, self.dilation, self.padding, self.stride)
        self._save(cache)
        return out

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        return F.unfold_backward(grad_output, self._saved(grad_output))

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, dilation={self.dilation}, padding={self.padding}, "
                f"stride={self.stride}")
