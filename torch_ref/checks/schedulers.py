"""The learning-rate schedulers: each row compares a whole lr (and momentum) sequence with torch's."""

from __future__ import annotations

from .kit import Check

CHECKS: list[Check] = []
