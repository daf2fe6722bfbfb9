"""Twins of Dropout, Dropout1d/2d/3d, AlphaDropout and FeatureAlphaDropout.

Dropout is random, and the two engines' generators differ, so parity is checked with identical
masks: the torch twin is a subclass of ``torch.nn.Dropout`` / ``Dropout2d`` (so isinstance checks,
repr and the empty state_dict match) whose training-mode forward applies the *scratch module's last
mask* (``module.mask``), which the ``to_torch`` factory closes over. The scratch forward must
therefore run first, on the same input, as ``module_parity`` does; the twin raises otherwise.
The twin then follows torch's CPU kernel (aten ``_dropout``) with that mask in place of its own
Bernoulli draw: the identity in eval mode, for p = 0 and for an empty input, ``input * 0`` for
p = 1, else ``noise = mask.to(dtype).div_(1 - p)`` and ``input * noise`` (``mul_`` when inplace),
so autograd gives dL/dx = dL/dy * noise. The alpha dropouts follow aten's ``_dropout_impl`` with
``alpha_dropout``: ``b = noise.add(-1).mul_(alpha' a).add_(alpha' a p)``, ``noise.mul_(a)``,
``input * noise + b`` (p = 1: ``input * 0``). Dropout1d/3d first call torch's own ``F.dropout1d`` /
``F.dropout3d`` in eval mode, which raises and warns as torch does and changes nothing.
``from_torch`` is the generic one.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch

from scratch import nn

from .registry import Twin

T = torch.nn


def _apply_mask(twin: T.modules.dropout._DropoutNd, input: torch.Tensor, mask: np.ndarray | None,
                mask_shape: tuple) -> torch.Tensor:
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


SELU_SATURATION = 1.7580993408473766


def _apply_alpha_mask(twin: T.modules.dropout._DropoutNd, input: torch.Tensor, mask: np.ndarray | None,
                      mask_shape: tuple) -> torch.Tensor:
    """aten's alpha dropout with ``mask`` as the Bernoulli draw (never in place: torch's modules pass no inplace)."""
    if not twin.training or twin.p == 0 or input.numel() == 0:
        return input
    if twin.p == 1:
        return input.mul(torch.zeros((), dtype=input.dtype))
    if mask is None or tuple(mask.shape) != mask_shape:
        got = None if mask is None else mask.shape
        raise RuntimeError(f"{type(twin).__name__} twin: run the scratch module's forward on the same input first; "
                           f"its last mask has shape {got}, expected {mask_shape}")
    p = twin.p
    a = 1.0 / math.sqrt((SELU_SATURATION * SELU_SATURATION * p + 1) * (1 - p))
    noise = torch.from_numpy(mask).to(input.dtype)
    b = noise.add(-1).mul_(SELU_SATURATION * a).add_(SELU_SATURATION * a * p)
    noise.mul_(a)
    return input.mul(noise).add_(b)


def _feature_mask_shape(input: torch.Tensor, batched: bool) -> tuple:
    shape = tuple(input.shape)
    return shape[:2] + (1,) * (len(shape) - 2) if batched else shape[:1] + (1,) * (len(shape) - 1)


class MaskedDropout1d(T.Dropout1d):
    """``torch.nn.Dropout1d`` that applies the (N, C, 1) or (C, 1) mask of a scratch ``Dropout1d``."""

    def __init__(self, p: float, inplace: bool, mask: Callable[[], np.ndarray | None]) -> None:
        super().__init__(p, inplace)
        self._mask = mask

    def _get_name(self) -> str:
        return "Dropout1d"

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        T.functional.dropout1d(input, self.p, False)  # torch's dimension check
        return _apply_mask(self, input, self._mask(), _feature_mask_shape(input, input.dim() == 3))


class MaskedDropout3d(T.Dropout3d):
    """``torch.nn.Dropout3d`` that applies the (N, C, 1, 1, 1) or (C, 1, 1, 1) mask of a scratch ``Dropout3d``."""

    def __init__(self, p: float, inplace: bool, mask: Callable[[], np.ndarray | None]) -> None:
        super().__init__(p, inplace)
        self._mask = mask

    def _get_name(self) -> str:
        return "Dropout3d"

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        T.functional.dropout3d(input, self.p, False)  # torch's warning for other than 4-D or 5-D inputs
        return _apply_mask(self, input, self._mask(), _feature_mask_shape(input, input.dim() == 5))


class MaskedAlphaDropout(T.AlphaDropout):
    """``torch.nn.AlphaDropout`` that applies the elementwise mask of a scratch ``AlphaDropout``."""

    def __init__(self, p: float, inplace: bool, mask: Callable[[], np.ndarray | None]) -> None:
        super().__init__(p, inplace)
        self._mask = mask

    def _get_name(self) -> str:
        return "AlphaDropout"

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        return _apply_alpha_mask(self, input, self._mask(), tuple(input.shape))


class MaskedFeatureAlphaDropout(T.FeatureAlphaDropout):
    """``torch.nn.FeatureAlphaDropout`` that applies the (N, C, 1, ...) mask of a scratch ``FeatureAlphaDropout``."""

    def __init__(self, p: float, inplace: bool, mask: Callable[[], np.ndarray | None]) -> None:
        super().__init__(p, inplace)
        self._mask = mask

    def _get_name(self) -> str:
        return "FeatureAlphaDropout"

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        if self.training and 0 < self.p < 1 and input.numel() and input.dim() < 2:
            raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")  # aten's check
        return _apply_alpha_mask(self, input, self._mask(), _feature_mask_shape(input, True))


def _twin(scratch_cls: type, torch_cls: type, masked: type) -> Twin:
    return Twin(scratch_cls, torch_cls, lambda m: masked(m.p, m.inplace, lambda: m.mask))


TWINS = [
    _twin(nn.Dropout, T.Dropout, MaskedDropout),
    _twin(nn.Dropout1d, T.Dropout1d, MaskedDropout1d),
    _twin(nn.Dropout2d, T.Dropout2d, MaskedDropout2d),
    _twin(nn.Dropout3d, T.Dropout3d, MaskedDropout3d),
    _twin(nn.AlphaDropout, T.AlphaDropout, MaskedAlphaDropout),
    _twin(nn.FeatureAlphaDropout, T.FeatureAlphaDropout, MaskedFeatureAlphaDropout),
]
