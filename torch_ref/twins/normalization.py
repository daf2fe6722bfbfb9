"""Twins of Normalization: BatchNorm1d, BatchNorm2d, LayerNorm, GroupNorm."""

from __future__ import annotations

from .types import TwinRow

PAIRS: list[TwinRow] = []
