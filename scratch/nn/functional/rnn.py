"""Recurrent layers: RNN, LSTM, GRU: pure ``op_forward -> (out, cache)`` / ``op_backward(dout, cache)`` pairs."""

from __future__ import annotations

__all__: list[str] = []
