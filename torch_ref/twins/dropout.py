"""Twins of Dropout and Dropout2d."""

from __future__ import annotations

from .types import TwinRow

PAIRS: list[TwinRow] = []
