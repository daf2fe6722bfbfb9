"""Rows for Dropout and Dropout2d."""

from __future__ import annotations

from .kit import Check

CHECKS: list[Check] = []
