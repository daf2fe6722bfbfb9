r"""One step of a recurrent cell with its input projection (RNNCell, LSTMCell, GRUCell): a pure
``recurrent_cell_forward -> (state, cache)`` / ``recurrent_cell_backward(dstate, cache)`` pair around the
per-step cell pairs of ``scratch.nn.functional.rnn`` (``rnn_cell_*``, ``lstm_cell_*``, ``gru_cell_*``,
which hold the gate math), so the cells and the sequence layers share one implementation.

Forward: :math:`g^i = x W_{ih}^T + b_{ih}`, then :math:`s' = \mathrm{cell}(g^i, s)` with the state
s = (h,) (RNN, GRU) or (h, c) (LSTM). Backward: the cell's backward gives :math:`dg^i`, :math:`dg^h`
(the gradients of the input and hidden projections) and :math:`\delta s` (of the previous state,
:math:`dg^h W_{hh}` included); then

.. math::
    \frac{\partial L}{\partial x} = dg^i W_{ih},\quad
    \frac{\partial L}{\partial W_{ih}} = (dg^i)^T x,\quad
    \frac{\partial L}{\partial W_{hh}} = (dg^h)^T h,\quad
    \frac{\partial L}{\partial b_{ih}} = \sum_n dg^i,\quad
    \frac{\partial L}{\partial b_{hh}} = \sum_n dg^h.

Shape: x (N, H_in), each state (N, H), W_ih (G, H_in), W_hh (G, H), biases (G,) or None, with
G = H (RNN), 4H (LSTM), 3H (GRU).
"""

from __future__ import annotations

from typing import Any, NamedTuple, cast

import numpy as np

from .rnn import CELLS, State, Weights

__all__ = ["recurrent_cell_backward", "recurrent_cell_forward"]


class RecurrentCellCache(NamedTuple):
    """What ``recurrent_cell_backward`` needs from ``recurrent_cell_forward``."""

    x: np.ndarray  #: the input, (N, H_in)
    h: np.ndarray  #: the previous hidden state, (N, H)
    w_ih: np.ndarray
    cell: Any  #: the cell pair's cache
    mode: str  #: the key of ``rnn.CELLS``: "RNN_TANH", "RNN_RELU", "LSTM" or "GRU"
    has_bias: bool


def recurrent_cell_forward(x: np.ndarray, state: State, weights: Weights,
                           mode: str) -> tuple[State, RecurrentCellCache]:
    """One step: the input projection, then the cell of ``mode`` (see the module docstring).

    Shape: x (N, H_in), state a tuple of (N, H) -> the new state, a tuple of (N, H).
    """
    w_ih, w_hh, b_ih, b_hh = weights
    w_ih = cast("np.ndarray", w_ih)  # only biases may be None
    cell_forward, _, extra = CELLS[mode]
    gi = x @ w_ih.T
    if b_ih is not None:
        gi += b_ih
    new_state, cache = cell_forward(gi, state, w_hh, b_hh, *extra)
    if mode.startswith("RNN"):  # its cell keeps h' for backward: the caller gets a copy, which it may overwrite
        new_state = tuple(s.copy() for s in new_state)
    return new_state, RecurrentCellCache(x, state[0], w_ih, cache, mode, b_ih is not None)


def recurrent_cell_backward(dstate: State, cache: RecurrentCellCache) -> tuple[np.ndarray, State, Weights]:
    """Returns (dL/dx, dL/dstate, (dW_ih, dW_hh, db_ih, db_hh)), the bias gradients None without biases.

    Shape: dstate a tuple of (N, H) -> dx (N, H_in), dL/dstate like the state.
    """
    dgi, dgh, dstate_prev = CELLS[cache.mode][1](dstate, cache.cell)
    dw_ih = dgi.T @ cache.x
    dw_hh = dgh.T @ cache.h
    db_ih = dgi.sum(axis=0) if cache.has_bias else None
    db_hh = dgh.sum(axis=0) if cache.has_bias else None
    return dgi @ cache.w_ih, dstate_prev, (dw_ih, dw_hh, db_ih, db_hh)
