"""Rows for Recurrent layers: RNN, LSTM, GRU."""

from __future__ import annotations

from .kit import Check

CHECKS: list[Check] = []
