"""Gradient clipping: the clipped gradients and the returned total norm."""

from __future__ import annotations

from .kit import Check

CHECKS: list[Check] = []
