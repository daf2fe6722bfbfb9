"""Normalization: BatchNorm1d, BatchNorm2d, LayerNorm, GroupNorm: pure forward/backward pairs."""

from __future__ import annotations

__all__: list[str] = []
