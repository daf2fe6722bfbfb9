"""Rows for Pooling: MaxPool1d, MaxPool2d, AvgPool2d, AdaptiveAvgPool2d."""

from __future__ import annotations

from .kit import Check

CHECKS: list[Check] = []
