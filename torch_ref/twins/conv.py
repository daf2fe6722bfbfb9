"""Twins of Convolution: Conv1d, Conv2d, ConvTranspose2d."""

from __future__ import annotations

from .types import TwinRow

PAIRS: list[TwinRow] = []
