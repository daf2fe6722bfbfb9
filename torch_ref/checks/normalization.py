"""Rows for Normalization: BatchNorm1d, BatchNorm2d, LayerNorm, GroupNorm."""

from __future__ import annotations

from .kit import Check

CHECKS: list[Check] = []
