"""Twins of Recurrent layers: RNN, LSTM, GRU (same options, so the same state_dict keys and order)."""

from __future__ import annotations

import torch

from scratch import nn

from .types import TwinRow

T = torch.nn


def _options(m: nn.RNNBase | torch.nn.RNNBase) -> dict:
    return dict(num_layers=m.num_layers, bias=m.bias, batch_first=m.batch_first, dropout=m.dropout,
                bidirectional=m.bidirectional)


PAIRS: list[TwinRow] = [
    (nn.RNN, T.RNN, lambda m: T.RNN(m.input_size, m.hidden_size, nonlinearity=m.nonlinearity, **_options(m)),
     lambda t: nn.RNN(t.input_size, t.hidden_size, nonlinearity=t.nonlinearity, **_options(t))),
    (nn.LSTM, T.LSTM, lambda m: T.LSTM(m.input_size, m.hidden_size, proj_size=m.proj_size, **_options(m)),
     lambda t: nn.LSTM(t.input_size, t.hidden_size, proj_size=t.proj_size, **_options(t))),
    (nn.GRU, T.GRU, lambda m: T.GRU(m.input_size, m.hidden_size, **_options(m)),
     lambda t: nn.GRU(t.input_size, t.hidden_size, **_options(t))),
]
