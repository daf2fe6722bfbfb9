"""Pooling: MaxPool1d, MaxPool2d, AvgPool2d, AdaptiveAvgPool2d (parameter-free, any float dtype)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import functional as F
from ..functional.pooling import check_pool_args, ntuple
from .module import Module

__all__ = ["AdaptiveAvgPool2d", "AvgPool2d", "MaxPool1d", "MaxPool2d"]


def _check_input(owner: str, input: Any, dims: int) -> bool:
    """Validate the shape of an unbatched (C, *spatial) or batched (N, C, *spatial) input (that it is a float
    ndarray, ``_input_kind`` checked); True when batched."""
    if input.ndim not in (dims + 1, dims + 2):
        raise ValueError(f"{owner}: expected a {dims + 1}-D (unbatched) or {dims + 2}-D (batched) input, "
                         f"got shape {input.shape}")
    if 0 in input.shape[input.ndim - dims - 1:]:  # torch allows an empty batch only
        raise ValueError(f"{owner}: expected non-empty channel and spatial dims, got shape {input.shape}")
    return input.ndim == dims + 2


class _MaxPoolNd(Module):
    _dims = 2
    _input_kind = "float"  # see ``_checks``

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
                 return_indices: bool = False, ceil_mode: bool = False) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if (stride is not None) else kernel_size
        self.padding = padding
        self.dilation = dilation
        self.return_indices = return_indices
        self.ceil_mode = ceil_mode
        owner, n = type(self).__name__, self._dims
        check_pool_args(owner, ntuple(kernel_size, n, "kernel_size", owner), ntuple(self.stride, n, "stride", owner),
                        ntuple(padding, n, "padding", owner), ntuple(dilation, n, "dilation", owner))

    def forward(self, input: np.ndarray) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        _check_input(type(self).__name__, input, self._dims)
        op = F.max_pool2d_forward if self._dims == 2 else F.max_pool1d_forward
        out, cache = op(input, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode,
                        owner=type(self).__name__)
        self._save(cache)
        return (out, cache.indices) if self.return_indices else out

    def backward(self, grad_output: np.ndarray, grad_indices: Any = None) -> np.ndarray:
        """dL/dinput; with ``return_indices`` the indices' gradient (if given) is ignored, as in torch."""
        cache = self._saved(grad_output)
        if grad_output.shape != cache.indices.shape:
            raise ValueError(f"{type(self).__name__}.backward: expected a gradient of shape {cache.indices.shape}, "
                             f"got {grad_output.shape}")
        op = F.max_pool2d_backward if self._dims == 2 else F.max_pool1d_backward
        return op(grad_output, cache)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class MaxPool1d(_MaxPoolNd):
    r"""1-D max pooling: y[n, c, i] = max_{a < k} x_pad[n, c, i s + a d], x padded with -inf.

    Gradient: each output's dL/dy goes to the one input cell it took (the first maximum of its
    window in scan order; ties never split), summed over overlapping windows.

    Shape:
        - Input: :math:`(N, C, L_{in})` or :math:`(C, L_{in})`.
        - Output: :math:`(N, C, L_{out})` or :math:`(C, L_{out})`, with
          :math:`L_{out} = \lfloor (L_{in} + 2p - d (k - 1) - 1) / s \rfloor + 1` (ceil with ``ceil_mode``,
          provided the last window starts inside the input or the left padding).
    """

    _dims = 1


class MaxPool2d(_MaxPoolNd):
    r"""2-D max pooling: y[n, c, i, j] = max_{a, b} x_pad[n, c, i s_H + a d_H, j s_W + b d_W], padded with -inf.

    Gradient: each output's dL/dy goes to the one input cell it took (the first maximum of its
    window in row-major scan order; ties never split), summed over overlapping windows.

    Shape:
        - Input: :math:`(N, C, H_{in}, W_{in})` or :math:`(C, H_{in}, W_{in})`.
        - Output: :math:`(N, C, H_{out}, W_{out})` or :math:`(C, H_{out}, W_{out})`, each side
          :math:`\lfloor (L + 2p - d (k - 1) - 1) / s \rfloor + 1` (ceil with ``ceil_mode``).
    """

    _dims = 2


class AvgPool2d(Module):
    r"""2-D average pooling: y[n, c, i, j] = sum_{a, b} x_pad[n, c, i s_H + a, j s_W + b] / D[i, j], zero-padded.

    D is ``divisor_override`` if given, else the window's area including padding cells
    (``count_include_pad``) or only the cells inside the input; cells that ceil_mode adds past the
    padding never count. Gradient: dL/dx[h, w] = sum over windows holding (h, w) of dL/dy[i, j] / D[i, j].

    Shape:
        - Input: :math:`(N, C, H_{in}, W_{in})` or :math:`(C, H_{in}, W_{in})`.
        - Output: :math:`(N, C, H_{out}, W_{out})` or :math:`(C, H_{out}, W_{out})`, each side
          :math:`\lfloor (L + 2p - k) / s \rfloor + 1` (ceil with ``ceil_mode``).
    """

    _input_kind = "float"  # see ``_checks``

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0, ceil_mode: bool = False,
                 count_include_pad: bool = True, divisor_override: int | None = None) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if (stride is not None) else kernel_size
        self.padding = padding
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad
        self.divisor_override = divisor_override
        owner = type(self).__name__
        check_pool_args(owner, ntuple(kernel_size, 2, "kernel_size", owner), ntuple(self.stride, 2, "stride", owner),
                        ntuple(padding, 2, "padding", owner), (1, 1))
        if divisor_override is not None and divisor_override == 0:
            raise ValueError(f"{owner}: divisor must be not zero")

    def forward(self, input: np.ndarray) -> np.ndarray:
        _check_input(type(self).__name__, input, 2)
        out, cache = F.avg_pool2d_forward(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                                          self.count_include_pad, self.divisor_override, owner=type(self).__name__)
        self._save(cache)
        return out

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        return F.avg_pool2d_backward(grad_output, self._saved(grad_output))

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool2d(Module):
    r"""Average pooling to a fixed output size: output (i, j) averages input rows
    [floor(i H / H_out), ceil((i+1) H / H_out)) and the matching columns (windows overlap and vary).

    Computed as y = A_H x A_W^T with averaging matrices A; gradient dL/dx = A_H^T dL/dy A_W.

    Shape:
        - Input: :math:`(N, C, H_{in}, W_{in})` or :math:`(C, H_{in}, W_{in})`.
        - Output: :math:`(N, C, S_0, S_1)` or :math:`(C, S_0, S_1)`, S = ``output_size`` (None keeps the input size).
    """

    _input_kind = "float"  # see ``_checks``

    def __init__(self, output_size: Any) -> None:
        super().__init__()
        self.output_size = output_size

    def forward(self, input: np.ndarray) -> np.ndarray:
        _check_input(type(self).__name__, input, 2)
        out, cache = F.adaptive_avg_pool2d_forward(input, self.output_size, owner=type(self).__name__)
        self._save(cache)
        return out

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        return F.adaptive_avg_pool2d_backward(grad_output, self._saved(grad_output))

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"
