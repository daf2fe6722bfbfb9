"""Rows for Embedding."""

from __future__ import annotations

from .kit import Check

CHECKS: list[Check] = []
