"""The twin of RReLU.

RReLU draws a random slope per element in training, and the two engines' generators differ, so parity is
checked with identical slopes: the torch twin is a subclass of ``torch.nn.RReLU`` (so isinstance checks,
repr and the empty state_dict match) whose training-mode forward multiplies by the *scratch module's last
slopes* (``module.noise``: 1 where x > 0, the drawn slope where x <= 0), as torch's ``rrelu_with_noise``
kernel multiplies by its own draw, so autograd gives dL/dx = dL/dy * noise as torch's backward does. The
scratch forward must therefore run first, on the same input (as ``module_parity`` does); the twin raises
otherwise. In eval mode it is torch's own RReLU. ``from_torch`` is the generic one.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from scratch import nn

from .registry import Twin

T = torch.nn


class ReplayedRReLU(T.RReLU):
    """``torch.nn.RReLU`` that applies the slopes of a scratch ``RReLU`` in training (see the module docstring)."""

    def __init__(self, lower: float, upper: float, inplace: bool, noise: Callable[[], np.ndarray | None]) -> None:
        super().__init__(lower, upper, inplace)
        self._noise = noise

    def _get_name(self) -> str:  # repr as torch's RReLU
        return "RReLU"

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        if not self.training:
            return super().forward(input)
        noise = self._noise()
        if noise is None or tuple(noise.shape) != tuple(input.shape):
            got = None if noise is None else noise.shape
            raise RuntimeError(f"RReLU twin: run the scratch module's forward on the same input first; its last "
                               f"slopes have shape {got}, expected {tuple(input.shape)}")
        slopes = torch.from_numpy(noise).to(input.dtype)
        return input.mul_(slopes) if self.inplace else input.mul(slopes)


TWINS = [Twin(nn.RReLU, T.RReLU, lambda m: ReplayedRReLU(m.lower, m.upper, m.inplace, lambda: m.noise))]
