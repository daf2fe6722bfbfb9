r"""Recurrent layers (RNN, LSTM, GRU) over whole sequences: pure ``op_forward -> (out, cache)`` /
``op_backward(dout, cache)`` pairs. The single time steps are in ``rnn_cells.py``.

Backpropagation through time (BPTT). One direction of one layer runs a cell over t = 1..L:

.. math::
    g^i_t = x_t W_{ih}^T + b_{ih} \ \text{(all t in one matmul)}, \qquad s_t = \mathrm{cell}(g^i_t, s_{t-1}),

with the state s = (h,) or (h, c), and output :math:`y_t = h_t`. Backward walks t = L..1 carrying
:math:`\delta s_t`, which starts at the gradient of the final state (h_n, c_n) and gets
:math:`\partial L/\partial y_t` added to its h part at each step; the cell's backward turns it
into :math:`dg^i_t`, :math:`dg^h_t` and :math:`\delta s_{t-1}`. After the loop, one matmul each:

.. math::
    \frac{\partial L}{\partial W_{ih}} = \sum_t (dg^i_t)^T x_t,\quad
    \frac{\partial L}{\partial W_{hh}} = \sum_t (dg^h_t)^T h_{t-1},\quad
    \frac{\partial L}{\partial b_{ih}} = \sum_{t,n} dg^i_t,\quad
    \frac{\partial L}{\partial b_{hh}} = \sum_{t,n} dg^h_t,\quad
    \frac{\partial L}{\partial x_t} = dg^i_t W_{ih}.

The reverse direction is the same pass on the time-flipped sequence, its output flipped back.
Layer l > 0 takes the concatenated outputs of both directions of layer l - 1 as its input, so
its dL/dx is split back and added to the upstream gradients of layer l - 1.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from . import rnn_cells
from .dropout import dropout_backward, dropout_forward

__all__ = ["recurrent_layer_backward", "recurrent_layer_forward", "rnn_backward", "rnn_forward"]

State = tuple[np.ndarray, ...]
Weights = tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]  # w_ih, w_hh, b_ih, b_hh

#: mode (torch's names) -> (cell forward, cell backward, extra cell arguments)
CELLS = {
    "RNN_TANH": (rnn_cells.rnn_cell_forward, rnn_cells.rnn_cell_backward, ("tanh",)),
    "RNN_RELU": (rnn_cells.rnn_cell_forward, rnn_cells.rnn_cell_backward, ("relu",)),
    "LSTM": (rnn_cells.lstm_cell_forward, rnn_cells.lstm_cell_backward, ()),
    "GRU": (rnn_cells.gru_cell_forward, rnn_cells.gru_cell_backward, ()),
}


def recurrent_layer_forward(x: np.ndarray, state0: State, weights: Weights, mode: str,
                            reverse: bool = False) -> tuple[tuple[np.ndarray, State], tuple]:
    r"""One direction of one layer over the whole sequence (see the module docstring).

    Shape: x (L, N, H_in), state0 a tuple of (N, H) -> output (L, N, H) and the final state,
    a tuple of (N, H).
    """
    w_ih, w_hh, b_ih, b_hh = weights
    cell_forward, _, extra = CELLS[mode]
    xs = x[::-1] if reverse else x
    gi = xs @ w_ih.T  # the input projections of every step in one matmul
    if b_ih is not None:
        gi += b_ih
    hs = np.empty((x.shape[0], x.shape[1], w_hh.shape[1]), dtype=x.dtype)
    state, caches = state0, []
    for t in range(x.shape[0]):
        state, cache = cell_forward(gi[t], state, w_hh, b_hh, *extra)
        hs[t] = state[0]
        caches.append(cache)
    out = hs[::-1] if reverse else hs
    return (out, state), (xs, state0[0], hs, caches, w_ih, mode, reverse, b_ih is not None)


def recurrent_layer_backward(dout: np.ndarray, dstate_n: State,
                             cache: tuple) -> tuple[np.ndarray, State, Weights]:
    r"""BPTT for ``recurrent_layer_forward``: returns (dL/dx, dL/dstate0, (dW_ih, dW_hh, db_ih, db_hh)),
    the bias gradients None without biases (see the module docstring for the delta rules).

    Shape: dout (L, N, H), dstate_n a tuple of (N, H) -> dx (L, N, H_in), dstate0 like state0.
    """
    xs, h0, hs, caches, w_ih, mode, reverse, has_bias = cache
    cell_backward = CELLS[mode][1]
    dys = dout[::-1] if reverse else dout
    steps, gates = len(caches), w_ih.shape[0]
    dgi = np.empty((steps, xs.shape[1], gates), dtype=xs.dtype)
    dgh = np.empty_like(dgi)
    dstate = dstate_n
    for t in reversed(range(steps)):
        dstate = (dstate[0] + dys[t], *dstate[1:])
        dgi[t], dgh[t], dstate = cell_backward(dstate, caches[t])
    h_prev = np.concatenate([h0[None], hs[:-1]], axis=0)
    dgi_2d, dgh_2d = dgi.reshape(-1, gates), dgh.reshape(-1, gates)
    dw_ih = dgi_2d.T @ xs.reshape(-1, xs.shape[2])
    dw_hh = dgh_2d.T @ h_prev.reshape(-1, h_prev.shape[2])
    db_ih = dgi_2d.sum(axis=0) if has_bias else None
    db_hh = dgh_2d.sum(axis=0) if has_bias else None
    dx = dgi @ w_ih
    return (dx[::-1] if reverse else dx), dstate, (dw_ih, dw_hh, db_ih, db_hh)


def rnn_forward(x: np.ndarray, hx: State, weights: Sequence[Weights], mode: str, num_layers: int,
                bidirectional: bool, dropout: float = 0.0, training: bool = False,
                rng: np.random.Generator | None = None) -> tuple[tuple[np.ndarray, State], tuple]:
    r"""A stack of ``num_layers`` recurrent layers, each with one or two directions.

    ``weights[layer * D + direction]`` holds that pass's (W_ih, W_hh, b_ih, b_hh) and
    ``hx[k][layer * D + direction]`` its initial state k (h, or h and c), D = 2 if bidirectional.
    In training with ``dropout`` = p > 0, each layer's output but the last's is passed through
    dropout, :math:`x^{(l+1)} = y^{(l)} \odot keep / (1 - p)` (``dropout_forward``), before the next
    layer; the keep-masks, of shape (L, N, D * H), are in ``cache[3]``.

    Shape: x (L, N, H_in), hx a tuple of (num_layers * D, N, H) -> output (L, N, D * H) and the
    final states, a tuple of (num_layers * D, N, H).
    """
    directions = 2 if bidirectional else 1
    layer_input, finals, caches, dropout_caches = x, [], [], []
    for layer in range(num_layers):
        if layer > 0 and dropout > 0 and training:
            layer_input, dropout_cache = dropout_forward(layer_input, dropout, training, rng=rng)
            dropout_caches.append(dropout_cache)
        outs = []
        for direction in range(directions):
            k = layer * directions + direction
            (out, state), cache = recurrent_layer_forward(layer_input, tuple(s[k] for s in hx), weights[k], mode,
                                                          reverse=direction == 1)
            outs.append(out)
            finals.append(state)
            caches.append(cache)
        layer_input = np.concatenate(outs, axis=2) if directions == 2 else outs[0]
    state_n = tuple(np.stack([state[i] for state in finals]) for i in range(len(hx)))
    return (layer_input, state_n), (caches, num_layers, directions, dropout_caches)


def rnn_backward(doutput: np.ndarray, dstate_n: State, cache: tuple) -> tuple[np.ndarray, State, list[Weights]]:
    r"""BPTT through the stack, top layer first: returns (dL/dx, dL/dhx, weight gradients in the order
    of ``weights``). A layer's dL/dx, split by direction (and times keep / (1 - p) after dropout), is
    the upstream gradient of the layer below.

    Shape: doutput (L, N, D * H), dstate_n a tuple of (num_layers * D, N, H) -> dx (L, N, H_in) and
    dhx like hx.
    """
    caches, num_layers, directions, dropout_caches = cache
    hidden = doutput.shape[2] // directions
    dweights: list[Weights | None] = [None] * len(caches)
    dstate0: list[State | None] = [None] * len(caches)
    dlayer = doutput
    for layer in reversed(range(num_layers)):
        dx = None
        for direction in range(directions):
            k = layer * directions + direction
            dout = dlayer[:, :, direction * hidden:(direction + 1) * hidden]
            dxk, dstate0[k], dweights[k] = recurrent_layer_backward(dout, tuple(d[k] for d in dstate_n), caches[k])
            dx = dxk if dx is None else dx + dxk
        dlayer = dropout_backward(dx, dropout_caches[layer - 1]) if layer > 0 and dropout_caches else dx
    dhx = tuple(np.stack([state[i] for state in dstate0]) for i in range(len(dstate_n)))
    return dlayer, dhx, dweights
