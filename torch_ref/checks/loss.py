"""The losses beyond the foundation's."""

from __future__ import annotations

from .kit import Check

CHECKS: list[Check] = []
