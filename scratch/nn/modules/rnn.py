"""Recurrent layers: RNN, LSTM, GRU."""

from __future__ import annotations

__all__: list[str] = []
