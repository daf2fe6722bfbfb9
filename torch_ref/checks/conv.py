"""Rows for Convolution: Conv1d, Conv2d, ConvTranspose2d."""

from __future__ import annotations

from .kit import Check

CHECKS: list[Check] = []
