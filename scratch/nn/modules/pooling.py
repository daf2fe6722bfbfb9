"""Pooling: MaxPool1d/2d/3d, AvgPool1d/2d/3d, LPPool1d/2d/3d (parameter-free, any float dtype); the adaptive
pools are in ``pooling_adaptive``, the fractional pools and unpooling in ``pooling_fractional``."""

from __future__ import annotations

from typing import Any, cast

import numpy as np

from .. import functional as F
from ..functional.pooling import check_pool_args, ntuple, pool_options
from .module import Module

__all__ = ["AvgPool1d", "AvgPool2d", "AvgPool3d", "LPPool1d", "LPPool2d", "LPPool3d", "MaxPool1d", "MaxPool2d",
           "MaxPool3d"]


def check_pool_input(owner: str, input: Any, dims: int, empty_ok: bool = False) -> bool:
    """Validate the shape of an unbatched (C, *spatial) or batched (N, C, *spatial) input (that it is a float
    ndarray, ``_input_kind`` checked), empty channel and spatial dims refused unless ``empty_ok``; True when
    batched."""
    if input.ndim not in (dims + 1, dims + 2):
        raise ValueError(f"{owner}: expected a {dims + 1}-D (unbatched) or {dims + 2}-D (batched) input, "
                         f"got shape {input.shape}")
    if not empty_ok and 0 in input.shape[input.ndim - dims - 1:]:  # torch allows an empty batch only
        raise ValueError(f"{owner}: expected non-empty channel and spatial dims, got shape {input.shape}")
    return cast("bool", input.ndim == dims + 2)


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
        check_pool_input(type(self).__name__, input, self._dims)
        out, cache = F.max_pool_forward(input, self._dims, self.kernel_size, self.stride, self.padding,
                                        self.dilation, self.ceil_mode, owner=type(self).__name__)
        self._save(cache)
        return (out, cache.indices) if self.return_indices else out

    def backward(self, grad_output: np.ndarray, grad_indices: Any = None) -> np.ndarray:
        """dL/dinput; with ``return_indices`` the indices' gradient (if given) is ignored, as in torch."""
        cache = self._saved(grad_output)
        if grad_output.shape != cache.indices.shape:
            raise ValueError(f"{type(self).__name__}.backward: expected a gradient of shape {cache.indices.shape}, "
                             f"got {grad_output.shape}")
        return F.max_pool_backward(grad_output, cache)

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



class MaxPool3d(_MaxPoolNd):
    r"""3-D max pooling: y[n, c, i, j, l] = max_{a, b, e} x_pad[n, c, i s_D + a d_D, j s_H + b d_H, l s_W + e d_W],
    padded with -inf.

    Gradient: each output's dL/dy goes to the one input cell it took (the first maximum of its
    window in row-major scan order; ties never split), summed over overlapping windows.

    Shape:
        - Input: :math:`(N, C, D_{in}, H_{in}, W_{in})` or :math:`(C, D_{in}, H_{in}, W_{in})`.
        - Output: :math:`(N, C, D_{out}, H_{out}, W_{out})` or :math:`(C, D_{out}, H_{out}, W_{out})`, each side
          :math:`\lfloor (L + 2p - d (k - 1) - 1) / s \rfloor + 1` (ceil with ``ceil_mode``).
    """

    _dims = 3


class _AvgPoolNd(Module):
    _dims = 2
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
        pool_options(owner, self._dims, kernel_size, self.stride, padding, 1)
        if divisor_override is not None and divisor_override == 0:
            raise ValueError(f"{owner}: divisor must be not zero")

    def forward(self, input: np.ndarray) -> np.ndarray:
        check_pool_input(type(self).__name__, input, self._dims)
        out, cache = F.avg_pool_forward(input, self._dims, self.kernel_size, self.stride, self.padding,
                                        self.ceil_mode, self.count_include_pad, self.divisor_override,
                                        owner=type(self).__name__)
        self._save(cache)
        return out

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        return F.avg_pool_backward(grad_output, self._saved(grad_output))

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool1d(_AvgPoolNd):
    r"""1-D average pooling: y[n, c, i] = sum_{a < k} x_pad[n, c, i s + a] / D[i], zero-padded.

    D is the window's length including padding cells (``count_include_pad``) or only the cells inside
    the input; cells that ceil_mode adds past the padding never count. torch keeps kernel_size, stride
    and padding as 1-tuples and has no divisor_override here: matched. Gradient:
    dL/dx[l] = sum over windows holding l of dL/dy[i] / D[i].

    Shape:
        - Input: :math:`(N, C, L_{in})` or :math:`(C, L_{in})`.
        - Output: :math:`(N, C, L_{out})` or :math:`(C, L_{out})`,
          :math:`L_{out} = \lfloor (L_{in} + 2p - k) / s \rfloor + 1` (ceil with ``ceil_mode``).
    """

    _dims = 1

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0, ceil_mode: bool = False,
                 count_include_pad: bool = True) -> None:
        def single(v: Any, name: str) -> tuple[int, ...]:
            return ntuple(v, 1, name, "AvgPool1d")

        super().__init__(single(kernel_size, "kernel_size"),
                         single(stride if stride is not None else kernel_size, "stride"),
                         single(padding, "padding"), ceil_mode, count_include_pad)


class AvgPool2d(_AvgPoolNd):
    r"""2-D average pooling: y[n, c, i, j] = sum_{a, b} x_pad[n, c, i s_H + a, j s_W + b] / D[i, j], zero-padded.

    D is ``divisor_override`` if given, else the window's area including padding cells
    (``count_include_pad``) or only the cells inside the input; cells that ceil_mode adds past the
    padding never count. Gradient: dL/dx[h, w] = sum over windows holding (h, w) of dL/dy[i, j] / D[i, j].

    Shape:
        - Input: :math:`(N, C, H_{in}, W_{in})` or :math:`(C, H_{in}, W_{in})`.
        - Output: :math:`(N, C, H_{out}, W_{out})` or :math:`(C, H_{out}, W_{out})`, each side
          :math:`\lfloor (L + 2p - k) / s \rfloor + 1` (ceil with ``ceil_mode``).
    """

    _dims = 2


class AvgPool3d(_AvgPoolNd):
    r"""3-D average pooling: y[n, c, i] = sum over the k_D x k_H x k_W window of x_pad / D[i], zero-padded.

    D as in ``AvgPool2d`` (``divisor_override``, ``count_include_pad``, ceil_mode's cells never count).
    Gradient: dL/dx[h] = sum over windows holding h of dL/dy[i] / D[i].

    Shape:
        - Input: :math:`(N, C, D_{in}, H_{in}, W_{in})` or :math:`(C, D_{in}, H_{in}, W_{in})`.
        - Output: :math:`(N, C, D_{out}, H_{out}, W_{out})` or :math:`(C, D_{out}, H_{out}, W_{out})`, each side
          :math:`\lfloor (L + 2p - k) / s \rfloor + 1` (ceil with ``ceil_mode``).
    """

    _dims = 3


class _LPPoolNd(Module):
    _dims = 2
    _input_kind = "float"  # see ``_checks``

    def __init__(self, norm_type: float, kernel_size: Any, stride: Any = None, ceil_mode: bool = False) -> None:
        super().__init__()
        self.norm_type = norm_type
        self.kernel_size = kernel_size
        self.stride = stride
        self.ceil_mode = ceil_mode
        pool_options(type(self).__name__, self._dims, kernel_size, stride, 0, 1)

    def forward(self, input: np.ndarray) -> np.ndarray:
        check_pool_input(type(self).__name__, input, self._dims)
        out, cache = F.lp_pool_forward(input, self._dims, self.norm_type, self.kernel_size, self.stride,
                                       self.ceil_mode, owner=type(self).__name__)
        self._save(cache)
        return out

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        return F.lp_pool_backward(grad_output, self._saved(grad_output))

    def extra_repr(self) -> str:
        return (f"norm_type={self.norm_type}, kernel_size={self.kernel_size}, stride={self.stride}, "
                f"ceil_mode={self.ceil_mode}")


class LPPool1d(_LPPoolNd):
    r"""1-D power-average pooling: y[n, c, i] = (sum_{a < k} x[n, c, i s + a]^p)^(1/p), no padding.

    As torch: computed as (K * avg_pool(x^p))^(1/p), so a partial window of ceil_mode has its sum scaled
    by K over its cell count; p = inf is the max of |x|. Gradient:
    dL/dx = sum over windows holding x of dL/dy y^(1 - p) x^(p - 1) (0 where a window's sum is 0).

    Shape:
        - Input: :math:`(N, C, L_{in})` or :math:`(C, L_{in})`.
        - Output: :math:`(N, C, L_{out})` or :math:`(C, L_{out})`,
          :math:`L_{out} = \lfloor (L_{in} - k) / s \rfloor + 1`.
    """

    _dims = 1


class LPPool2d(_LPPoolNd):
    r"""2-D power-average pooling: y = (sum over each kH x kW window of x^p)^(1/p), no padding (see ``LPPool1d``).

    Shape:
        - Input: :math:`(N, C, H_{in}, W_{in})` or :math:`(C, H_{in}, W_{in})`.
        - Output: :math:`(N, C, H_{out}, W_{out})` or :math:`(C, H_{out}, W_{out})`, each side
          :math:`\lfloor (L - k) / s \rfloor + 1` (ceil with ``ceil_mode``).
    """

    _dims = 2


class LPPool3d(_LPPoolNd):
    r"""3-D power-average pooling: y = (sum over each kD x kH x kW window of x^p)^(1/p), no padding (see
    ``LPPool1d``).

    Shape:
        - Input: :math:`(N, C, D_{in}, H_{in}, W_{in})` or :math:`(C, D_{in}, H_{in}, W_{in})`.
        - Output: :math:`(N, C, D_{out}, H_{out}, W_{out})` or :math:`(C, D_{out}, H_{out}, W_{out})`, each side
          :math:`\lfloor (L - k) / s \rfloor + 1` (ceil with ``ceil_mode``).
    """

    _dims = 3
