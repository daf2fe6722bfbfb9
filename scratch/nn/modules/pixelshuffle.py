"""PixelShuffle and PixelUnshuffle: rearrange channels into space and back."""

from __future__ import annotations

import numpy as np

from .. import functional as F
from .module import Module

__all__ = ["PixelShuffle", "PixelUnshuffle"]


class PixelShuffle(Module):
    r"""y[*, c, h r + i, w r + j] = x[*, c r^2 + i r + j, h, w], r = ``upscale_factor``; backward
    moves the gradient back (pixel unshuffle).

    Shape:
        - Input: :math:`(*, C_{in}, H_{in}, W_{in})` with :math:`C_{in} = C_{out} r^2`.
        - Output: :math:`(*, C_{out}, H_{in} r, W_{in} r)`.
    """

    _input_kind = "float"  # see ``_checks``

    def __init__(self, upscale_factor: int) -> None:
        super().__init__()
        self.upscale_factor = upscale_factor

    def forward(self, input: np.ndarray) -> np.ndarray:
        out, cache = F.pixel_shuffle_forward(input, self.upscale_factor)
        self._save(cache)
        return out

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        return F.pixel_shuffle_backward(grad_output, self._saved(grad_output))

    def extra_repr(self) -> str:
        return f"upscale_factor={self.upscale_factor}"


class PixelUnshuffle(Module):
    r"""y[*, c r^2 + i r + j, h, w] = x[*, c, h r + i, w r + j], r = ``downscale_factor``; backward
    moves the gradient back (pixel shuffle).

    Shape:
        - Input: :math:`(*, C_{in}, H_{in}, W_{in})` with H_in and W_in divisible by r.
        - Output: :math:`(*, C_{in} r^2, H_{in} / r, W_{in} / r)`.
    """

    _input_kind = "float"  # see ``_checks``

    def __init__(self, downscale_factor: int) -> None:
        super().__init__()
        self.downscale_factor = downscale_factor

    def forward(self, input: np.ndarray) -> np.ndarray:
        out, cache = F.pixel_unshuffle_forward(input, self.downscale_factor)
        self._save(cache)
        return out

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        return F.pixel_unshuffle_backward(grad_output, self._saved(grad_output))

    def extra_repr(self) -> str:
        return f"downscale_factor={self.downscale_factor}"
