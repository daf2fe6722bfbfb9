"""Twins of Recurrent layers: RNN, LSTM, GRU."""

from __future__ import annotations

from .types import TwinRow

PAIRS: list[TwinRow] = []
