"""The initializers, compared with torch's by distribution."""

from __future__ import annotations

from .kit import Check

CHECKS: list[Check] = []
