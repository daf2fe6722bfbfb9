"""The optimizers beyond the foundation's, gradient clipping and the schedulers."""

from __future__ import annotations

from .kit import Check

CHECKS: list[Check] = []
