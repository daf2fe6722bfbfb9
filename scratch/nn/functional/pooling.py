"""Pooling: MaxPool1d, MaxPool2d, AvgPool2d, AdaptiveAvgPool2d: pure forward/backward pairs."""

from __future__ import annotations

__all__: list[str] = []
