"""Convolution: Conv1d, Conv2d, ConvTranspose2d: pure forward/backward pairs."""

from __future__ import annotations

__all__: list[str] = []
