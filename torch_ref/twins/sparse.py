"""Twins of Embedding."""

from __future__ import annotations

from .types import TwinRow

PAIRS: list[TwinRow] = []
