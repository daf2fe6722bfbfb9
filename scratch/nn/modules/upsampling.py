"""Upsample, UpsamplingNearest2d and UpsamplingBilinear2d: thin wrappers around ``F.interpolate_forward``."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import functional as F
from .module import Module

__all__ = ["Upsample", "UpsamplingBilinear2d", "UpsamplingNearest2d"]


class Upsample(Module):
    r"""Resamples the spatial axes of a (N, C, *spatial) input to ``size`` or by ``scale_factor``.

    Modes: ``nearest``, ``nearest-exact`` (1-3 spatial axes), ``linear`` (1), ``bilinear``,
    ``bicubic`` (2), ``trilinear`` (3); ``align_corners`` for the interpolating ones. Each output
    reads a few input positions per axis with fixed weights, computed as torch's CPU kernels do
    (``scratch.nn.functional.upsampling`` gives the formulas), y = sum_k w_k x[i_k] axis by axis;
    the gradient scatters dL/dy back through the same weights, dL/dx[i] = sum_{o,k: i_k(o)=i} w_k(o) dL/dy[o].

    Shape:
        - Input: :math:`(N, C, W_{in})`, :math:`(N, C, H_{in}, W_{in})` or :math:`(N, C, D_{in}, H_{in}, W_{in})`.
        - Output: the same with each side ``size`` or :math:`\lfloor L_{in} \times \text{scale\_factor} \rfloor`.
    """

    scale_factor: tuple[float, ...] | float | None

    _input_kind = "float"  # see ``_checks``

    def __init__(self, size: Any = None, scale_factor: Any = None, mode: str = "nearest",
                 align_corners: bool | None = None, recompute_scale_factor: bool | None = None) -> None:
        super().__init__()
        self.name = type(self).__name__
        self.size = size
        if isinstance(scale_factor, tuple):
            self.scale_factor = tuple(float(factor) for factor in scale_factor)
        else:  # torch's quirk: a scale_factor of 0 counts as none
            self.scale_factor = float(scale_factor) if scale_factor else None
        self.mode = mode
        self.align_corners = align_corners
        self.recompute_scale_factor = recompute_scale_factor

    def forward(self, input: np.ndarray) -> np.ndarray:
        out, cache = F.interpolate_forward(input, self.size, self.scale_factor, self.mode, self.align_corners,
                                           recompute_scale_factor=self.recompute_scale_factor,
                                           owner=type(self).__name__)
        self._save(cache)
        return out

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        return F.interpolate_backward(grad_output, self._saved(grad_output))

    def extra_repr(self) -> str:
        info = f"scale_factor={self.scale_factor!r}" if self.scale_factor is not None else f"size={self.size!r}"
        return info + f", mode={self.mode!r}"


class UpsamplingNearest2d(Upsample):
    r"""``Upsample(size, scale_factor, mode='nearest')`` (torch deprecates it in favour of interpolate).

    Shape:
        - Input: :math:`(N, C, H_{in}, W_{in})`.
        - Output: :math:`(N, C, H_{out}, W_{out})`, each side ``size`` or :math:`\lfloor L_{in} s \rfloor`.
    """

    def __init__(self, size: Any = None, scale_factor: Any = None) -> None:
        super().__init__(size, scale_factor, mode="nearest")


class UpsamplingBilinear2d(Upsample):
    r"""``Upsample(size, scale_factor, mode='bilinear', align_corners=True)`` (deprecated in torch).

    Shape:
        - Input: :math:`(N, C, H_{in}, W_{in})`.
        - Output: :math:`(N, C, H_{out}, W_{out})`, each side ``size`` or :math:`\lfloor L_{in} s \rfloor`.
    """

    def __init__(self, size: Any = None, scale_factor: Any = None) -> None:
        super().__init__(size, scale_factor, mode="bilinear", align_corners=True)
