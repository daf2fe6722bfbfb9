"""Pooling: MaxPool1d, MaxPool2d, AvgPool2d, AdaptiveAvgPool2d."""

from __future__ import annotations

__all__: list[str] = []
