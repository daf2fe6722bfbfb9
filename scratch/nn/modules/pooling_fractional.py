"""Index-based pooling: FractionalMaxPool2d/3d (random windows drawn from scratch's generator) and
MaxUnpool1d/2d/3d (the partial inverse of max pooling); parameter-free, any float dtype."""

from __future__ import annotations

from typing import Any

import numpy as np

from ...random import get_rng
from .. import functional as F
from ..functional.pooling import ntuple
from .module import Module
from .pooling import check_pool_input

__all__ = ["FractionalMaxPool2d", "FractionalMaxPool3d", "MaxUnpool1d", "MaxUnpool2d", "MaxUnpool3d"]


class _FractionalMaxPoolNd(Module):
    _dims = 2
    _input_kind = "float"  # see ``_checks``

    def __init__(self, kernel_size: Any, output_size: Any = None, output_ratio: Any = None,
                 return_indices: bool = False, _random_samples: np.ndarray | None = None, *,
                 rng: np.random.Generator | None = None) -> None:
        super().__init__()
        owner, n = type(self).__name__, self._dims
        self.kernel_size = ntuple(kernel_size, n, "kernel_size", owner)
        if min(self.kernel_size) <= 0:
            raise ValueError(f"{owner}: kernel_size must be greater than 0, but got {kernel_size}")
        self.return_indices = return_indices
        self.register_buffer("_random_samples", _random_samples)
        self.output_size = ntuple(output_size, n, "output_size", owner) if output_size is not None else None
        self.output_ratio = _ratio(output_ratio, n) if output_ratio is not None else None
        if output_size is None and output_ratio is None:
            raise ValueError(f"{owner} requires specifying either an output size, or a pooling ratio")
        if output_size is not None and output_ratio is not None:
            raise ValueError(f"{owner}: only one of output_size and output_ratio may be specified")
        if self.output_ratio is not None and not all(0 < r < 1 for r in self.output_ratio):
            raise ValueError(f"{owner}: output_ratio must be between 0 and 1 (got {output_ratio})")
        self.rng = rng
        self.samples: np.ndarray | None = None  #: the last forward's samples, (N, C, dims): the twin replays them

    def forward(self, input: np.ndarray) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        owner, n = type(self).__name__, self._dims
        batched = check_pool_input(owner, input, n)
        batch, channels = (input.shape[0] if batched else 1), input.shape[-n - 1]
        samples = self._random_samples
        if samples is None:  # torch.rand(N, C, dims) in the input's dtype; scratch's generator
            samples = get_rng(self.rng).random((batch, channels, n)).astype(input.dtype)
        elif samples.ndim != 3 or samples.shape[0] < batch or samples.shape[1:] != (channels, n):
            raise ValueError(f"{owner}: expected _random_samples of shape ({batch} or more, {channels}, {n}), "
                             f"got {samples.shape}")
        self.samples = samples
        size = F.fractional_output_size(owner, n, input.shape[-n:], self.output_size, self.output_ratio)
        out, cache = F.fractional_max_pool_forward(input, n, self.kernel_size, size,
                                                   samples[:batch].astype(input.dtype, copy=False), owner)
        self._save(cache)
        return (out, cache.indices) if self.return_indices else out

    def backward(self, grad_output: np.ndarray, grad_indices: Any = None) -> np.ndarray:
        """dL/dinput; with ``return_indices`` the indices' gradient (if given) is ignored, as in torch."""
        return F.fractional_max_pool_backward(grad_output, self._saved(grad_output))


def _ratio(value: Any, n: int) -> tuple[float, ...]:
    return tuple(float(v) for v in value) if isinstance(value, (tuple, list)) else (float(value),) * n


class FractionalMaxPool2d(_FractionalMaxPoolNd):
    r"""Fractional max pooling (Graham, 2014) over H and W: output (i, j) is the max over the kH x kW
    window starting at pseudo-random (start_H[i], start_W[j]), from one uniform sample per plane and axis.

    The samples are drawn from ``rng`` (scratch's generator by default) at each forward unless
    ``_random_samples`` (N, C, 2) is given, as in torch (sample 0 drives W, sample 1 H); the last ones are
    kept in ``samples``. Gradient: each output's dL/dy goes to the cell it took (first maximum).

    Shape:
        - Input: :math:`(N, C, H_{in}, W_{in})` or :math:`(C, H_{in}, W_{in})`.
        - Output: :math:`(N, C, H_{out}, W_{out})` or :math:`(C, H_{out}, W_{out})`, ``output_size`` or
          int(L * ``output_ratio``).
    """

    _dims = 2


class FractionalMaxPool3d(_FractionalMaxPoolNd):
    r"""Fractional max pooling over D, H and W (see ``FractionalMaxPool2d``); ``_random_samples`` is
    (N, C, 3), samples 0, 1, 2 driving D, H, W.

    Shape:
        - Input: :math:`(N, C, D_{in}, H_{in}, W_{in})` or :math:`(C, D_{in}, H_{in}, W_{in})`.
        - Output: :math:`(N, C, D_{out}, H_{out}, W_{out})` or :math:`(C, D_{out}, H_{out}, W_{out})`.
    """

    _dims = 3


class _MaxUnpoolNd(Module):
    _dims = 2
    _input_kind = "float"  # see ``_checks``

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0) -> None:
        super().__init__()
        owner, n = type(self).__name__, self._dims
        self.kernel_size = ntuple(kernel_size, n, "kernel_size", owner)
        self.stride = ntuple(stride if (stride is not None) else kernel_size, n, "stride", owner)
        self.padding = ntuple(padding, n, "padding", owner)

    def forward(self, input: np.ndarray, indices: np.ndarray, output_size: Any = None) -> np.ndarray:
        owner = type(self).__name__
        check_pool_input(owner, input, self._dims)
        size = F.unpool_output_size(owner, input.shape, self.kernel_size, self.stride, self.padding, output_size)
        out, cache = F.max_unpool_forward(input, indices, self._dims, size, owner)
        self._save(cache)
        return out

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        return F.max_unpool_backward(grad_output, self._saved(grad_output))

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxUnpool1d(_MaxUnpoolNd):
    r"""Partial inverse of ``MaxPool1d``: y = 0 except y[n, c, index[n, c, i]] = x[n, c, i].

    Gradient: dL/dx[n, c, i] = dL/dy[n, c, index[n, c, i]].

    Shape:
        - Input: :math:`(N, C, L_{in})` or :math:`(C, L_{in})`, indices alike (int64).
        - Output: :math:`(N, C, L_{out})` or :math:`(C, L_{out})`, :math:`L_{out} = (L_{in} - 1) s + k - 2p`
          or ``output_size``.
    """

    _dims = 1


class MaxUnpool2d(_MaxUnpoolNd):
    r"""Partial inverse of ``MaxPool2d``: y = 0 except y[n, c].flat[index[n, c, i, j]] = x[n, c, i, j].

    Gradient: dL/dx[n, c, i, j] = dL/dy[n, c].flat[index[n, c, i, j]].

    Shape:
        - Input: :math:`(N, C, H_{in}, W_{in})` or :math:`(C, H_{in}, W_{in})`, indices alike (int64).
        - Output: each side :math:`(L_{in} - 1) s + k - 2p`, or ``output_size``.
    """

    _dims = 2


class MaxUnpool3d(_MaxUnpoolNd):
    r"""Partial inverse of ``MaxPool3d``: y = 0 except y[n, c].flat[index[n, c, i]] = x[n, c, i].

    Gradient: dL/dx[n, c, i] = dL/dy[n, c].flat[index[n, c, i]].

    Shape:
        - Input: :math:`(N, C, D_{in}, H_{in}, W_{in})` or :math:`(C, D_{in}, H_{in}, W_{in})`, indices alike.
        - Output: each side :math:`(L_{in} - 1) s + k - 2p`, or ``output_size``.
    """

    _dims = 3
