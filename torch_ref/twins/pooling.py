"""Twins of Pooling: MaxPool1d, MaxPool2d, AvgPool2d, AdaptiveAvgPool2d."""

from __future__ import annotations

from .types import TwinRow

PAIRS: list[TwinRow] = []
