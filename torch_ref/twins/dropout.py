"""Twins of Dropout and Dropout2d.

Dropout is random, and the two engines' generators differ, so parity is checked with identical
masks: the torch twin is a subclass of ``torch.nn.Dropout`` / ``Dropout2d`` (so isinstance checks,
repr and the empty state_dict match) whose training-mode forward applies the *scratch module's last
mask* (``module.mask``), which the ``to_torch`` factory closes over. The scratch forward must
therefore run first, on the same input, as ``module_parity`` does; the twin raises otherwise.
The twin then follows torch's CPU kernel (aten ``_dropout``) with that mask in place of its own
Bernoulli draw: the identity in eval mode, for p = 0 and for an empty input, ``input * 0`` for
p = 1, else ``noise = mask.to(dtype).div_(1 - p)`` and ``input * noise`` (``mul_`` when inplace),
so autograd gives dL/dx = dL/dy * noise. ``from_torch`` is the generic one.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from scratch import nn

from .registry import Twin

T = torch.nn


def _apply_mask(twin: T.Module, input: torch.Tensor, mask: np.ndarray | None, mask_shape: tuple) -> torch.Tensor:
    """torch's ``_dropout`` with ``mask`` (the scratch module's keep-mask) as the Bernoulli draw."""
    if not twin.training or twin.p == 0 or input.numel() == 0:
        return input
    if twin.p == 1:
        zero = torch.zeros((), dtype=input.dtype)
        return input.mul_(zero) if twin.inplace else input.mul(zero)
    if mask is None or tuple(mask.shape) != mask_shape:
        got = None if mask is None else mask.shape
        raise RuntimeError(f"{type(twin).__name__} twin: run the scratch module's forward on the same input first; "
                           f"its last mask has shape {got}, expected {mask_shape}")
    noise = torch.from_numpy(mask).to(input.dtype).div_(1 - twin.p)
    return input.mul_(noise) if twin.inplace else input.mul(noise)


class MaskedDropout(T.Dropout):
    """``torch.nn.Dropout`` that applies the mask of a scratch ``Dropout`` (see the module docstring)."""

    def __init__(self, p: float, inplace: bool, mask: Callable[[], np.ndarray | None]) -> None:
        super().__init__(p, inplace)
        self._mask = mask

    def _get_name(self) -> str:  # repr as torch's Dropout
        return "Dropout"

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        return _apply_mask(self, input, self._mask(), tuple(input.shape))


class MaskedDropout2d(T.Dropout2d):
    """``torch.nn.Dropout2d`` that applies the (N, C, 1, ...) mask of a scratch ``Dropout2d``."""

    def __init__(self, p: float, inplace: bool, mask: Callable[[], np.ndarray | None]) -> None:
        super().__init__(p, inplace)
        self._mask = mask

    def _get_name(self) -> str:
        return "Dropout2d"

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        shape = tuple(input.shape[:2]) + (1,) * (input.dim() - 2)
        return _apply_mask(self, input, self._mask(), shape)


TWINS = [
    Twin(nn.Dropout, T.Dropout, lambda m: MaskedDropout(m.p, m.inplace, lambda: m.mask)),
    Twin(nn.Dropout2d, T.Dropout2d, lambda m: MaskedDropout2d(m.p, m.inplace, lambda: m.mask)),
]
