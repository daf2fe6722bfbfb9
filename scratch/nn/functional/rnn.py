r"""Recurrent layers (RNN, LSTM, GRU) over whole sequences: pure ``op_forward -> (out, cache)`` /
``op_backward(dout, cache)`` pairs. Each time step is a cell pair of ``functional.rnn_cell``, which holds their math.

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

The reverse direction is the same pass with t = L..1. Packed sequences (``functional.rnn_packed``) run the
same loop, step t on the first b_t rows of the state only (the sequences still running); a padded batch is b_t = N.
Layer l > 0 takes the concatenated outputs of both directions of layer l - 1 as its input, so
its dL/dx is split back and added to the upstream gradients of layer l - 1.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple, cast

import numpy as np

from ._rnn_lstm import LSTMSequenceCache, lstm_sequence_backward, lstm_sequence_forward
from .dropout import DropoutCache, dropout_backward, dropout_forward
from .rnn_cell import CELLS, State, Weights
from .rnn_packed import merge_active, packed_steps

__all__ = ["recurrent_layer_backward", "recurrent_layer_forward", "rnn_backward", "rnn_forward"]


class RecurrentLayerCache(NamedTuple):
    """What ``recurrent_layer_backward`` needs from ``recurrent_layer_forward``: the packed input, the
    hidden state each step's active rows started from, and each step's cell cache, in the order the cells ran."""

    x: np.ndarray  #: the packed input, (S, H_in)
    h_prev: np.ndarray  #: row by row, the hidden state the step that consumed that row started from, (S, H)
    caches: list[Any]  #: each step's cell cache, in the order the cells ran
    w_ih: np.ndarray
    mode: str  #: the key of ``CELLS``
    batch_sizes: tuple[int, ...]  #: the active rows of each step
    reverse: bool
    has_bias: bool
    w_hr: np.ndarray | None = None  #: an LSTM's projection, or None
    lstm: LSTMSequenceCache | None = None  #: the fast path's cache (then ``caches`` is empty), or None


def recurrent_layer_forward(x: np.ndarray, state0: State, weights: Weights, mode: str, batch_sizes: Sequence[int],
                            reverse: bool = False) -> tuple[tuple[np.ndarray, State], RecurrentLayerCache]:
    r"""One direction of one layer over packed sequences (see the module docstring and
    ``functional.rnn_packed``): rows ``o_t .. o_t + b_t`` of x are step t of the b_t sequences still running,
    a prefix of the batch (sorted by decreasing length), so step t runs the cell on the first b_t rows of the
    state only; the other rows keep their state. Forward (t = 0..T-1), each sequence's final state is the one
    after its own last step; reverse (t = T-1..0), each sequence starts from its own last element, with its
    initial state. A padded batch is the case b_t = N for every t; there a plain LSTM (no projection) runs the
    loop of ``functional._rnn_lstm`` over whole-sequence buffers (the same math and bits, fewer NumPy calls).

    Shape: x (S, H_in), S = sum(batch_sizes), state0 a tuple of (N, H), N = batch_sizes[0] -> output (S, H)
    and the final state, a tuple of (N, H); with an LSTM's projection (a fifth weight, (P, H)), h and the output
    have P features.
    """
    w_ih, w_hh, b_ih, b_hh, *rest = weights
    w_hr = rest[0] if rest else None
    w_ih, w_hh = cast("np.ndarray", w_ih), cast("np.ndarray", w_hh)  # only biases may be None
    cell_forward, _, extra = CELLS[mode]
    extra = extra if w_hr is None else (*extra, w_hr)
    gi = x @ w_ih.T  # the input projections of every step in one matmul
    if b_ih is not None:
        gi += b_ih
    if mode == "LSTM" and w_hr is None and min(batch_sizes) == max(batch_sizes):  # see functional._rnn_lstm
        return _lstm_padded_forward(x, gi, state0, weights, batch_sizes, reverse)
    hs = np.empty((x.shape[0], w_hh.shape[1]), dtype=x.dtype)
    h_prev = np.empty_like(hs)
    state, caches = state0, []
    for start, n in packed_steps(batch_sizes, reverse):
        rows = slice(start, start + n)
        prefix = tuple(s[:n] for s in state)
        new, cache = cell_forward(gi[rows], prefix, w_hh, b_hh, *extra)
        h_prev[rows], hs[rows] = prefix[0], new[0]
        state = merge_active(new, state)
        caches.append(cache)
    return (hs, state), RecurrentLayerCache(x, h_prev, caches, w_ih, mode, tuple(batch_sizes), reverse,
                                            b_ih is not None, w_hr)


def _lstm_padded_forward(x: np.ndarray, gi: np.ndarray, state0: State, weights: Weights, batch_sizes: Sequence[int],
                         reverse: bool) -> tuple[tuple[np.ndarray, State], RecurrentLayerCache]:
    """``recurrent_layer_forward``'s fast path for a plain LSTM over a padded batch (``functional._rnn_lstm``)."""
    w_ih, w_hh, b_ih, b_hh = weights[:4]
    w_ih, w_hh = cast("np.ndarray", w_ih), cast("np.ndarray", w_hh)  # only biases may be None
    hs, h_prev, final, lstm = lstm_sequence_forward(gi, cast("tuple[np.ndarray, np.ndarray]", state0), w_hh, b_hh,
                                                    packed_steps(batch_sizes, reverse))
    return (hs, final), RecurrentLayerCache(x, h_prev, [], w_ih, "LSTM", tuple(batch_sizes), reverse,
                                            b_ih is not None, None, lstm)


def recurrent_layer_backward(dout: np.ndarray, dstate_n: State,
                             cache: RecurrentLayerCache) -> tuple[np.ndarray, State, Weights]:
    r"""BPTT for ``recurrent_layer_forward``, the steps in the reverse of the order they ran, each on its active
    rows: returns (dL/dx, dL/dstate0, (dW_ih, dW_hh, db_ih, db_hh)), the bias gradients None without biases,
    and dW_hr fifth with a projection (see the module docstring). A row's state gradient is carried unchanged
    through the steps that did not use it (the sequence had ended, or, reverse, not begun).

    Shape: dout (S, H), dstate_n a tuple of (N, H) -> dx (S, H_in), dstate0 like state0.
    """
    x, h_prev, caches, w_ih = cache.x, cache.h_prev, cache.caches, cache.w_ih
    cell_backward = CELLS[cache.mode][1]
    gates = w_ih.shape[0]
    dgi = np.empty((x.shape[0], gates), dtype=x.dtype)
    shared = cache.mode != "GRU"  # RNN's and LSTM's cells return dg^h = dg^i: one array, one bias sum
    dgh = dgi if shared else np.empty_like(dgi)
    w_hr = cache.w_hr
    dhs = np.empty_like(h_prev) if w_hr is not None else None  # dL/dh_t, each row's, for dL/dW_hr
    ms = np.empty((x.shape[0], w_hr.shape[1]), dtype=x.dtype) if w_hr is not None else None
    dstate = dstate_n
    if cache.lstm is not None:
        dstate = lstm_sequence_backward(dout, dstate_n, cache.lstm, dgi)
    for (start, n), step in zip(reversed(packed_steps(cache.batch_sizes, cache.reverse)), reversed(caches)):
        rows = slice(start, start + n)
        dprefix = (dstate[0][:n] + dout[rows], *(d[:n] for d in dstate[1:]))
        if dhs is not None and ms is not None:
            dhs[rows], ms[rows] = dprefix[0], step.o * step.tanh_c
        dgi[rows], dgh_rows, dprev = cell_backward(dprefix, step)
        if not shared:
            dgh[rows] = dgh_rows
        dstate = merge_active(dprev, dstate)
    dw_ih = dgi.T @ x
    dw_hh = dgh.T @ h_prev
    db_ih = dgi.sum(axis=0) if cache.has_bias else None
    db_hh = (db_ih.copy() if shared else dgh.sum(axis=0)) if db_ih is not None else None
    dweights: Weights = (dw_ih, dw_hh, db_ih, db_hh)
    if dhs is not None and ms is not None:  # dL/dW_hr = sum_t dh_t^T m_t, m_t = o_t tanh(c_t)
        dweights += (dhs.T @ ms,)
    return dgi @ w_ih, dstate, dweights


class RNNCache(NamedTuple):
    """What ``rnn_backward`` needs from ``rnn_forward``."""

    layer_caches: list[RecurrentLayerCache]  #: one per layer and direction, at layer * directions + direction
    num_layers: int
    directions: int  #: 2 if bidirectional, else 1
    dropout_caches: list[DropoutCache]  #: the dropout before layers 1, 2, ...; empty in eval mode or with p = 0
    padded: tuple[int, int] | None = None  #: (L, N) of a padded input, None for a packed one


def rnn_forward(x: np.ndarray, hx: State, weights: Sequence[Weights], mode: str, num_layers: int,
                bidirectional: bool, dropout: float = 0.0, training: bool = False,
                rng: np.random.Generator | None = None,
                batch_sizes: Sequence[int] | None = None) -> tuple[tuple[np.ndarray, State], RNNCache]:
    r"""A stack of ``num_layers`` recurrent layers, each with one or two directions.

    ``weights[layer * D + direction]`` holds that pass's (W_ih, W_hh, b_ih, b_hh[, W_hr]) and
    ``hx[k][layer * D + direction]`` its initial state k (h, or h and c), D = 2 if bidirectional.
    In training with ``dropout`` = p > 0, each layer's output but the last's is passed through
    dropout, :math:`x^{(l+1)} = y^{(l)} \odot keep / (1 - p)` (``dropout_forward``), before the next
    layer; the keep-masks, of the shape of the layer output ((L N, D H) or (S, D H)), are in the cache's
    ``dropout_caches``.

    With ``batch_sizes``, x is packed data (S, H_in) of sequences sorted by decreasing length (see
    ``recurrent_layer_forward``) and the output is packed likewise; without, x (L, N, H_in) runs as
    the packing with b_t = N for every t.

    Shape: x (L, N, H_in) or packed (S, H_in), hx a tuple of (num_layers * D, N, H) -> output (L, N, D * H)
    or packed (S, D * H) and the final states, a tuple of (num_layers * D, N, H); with an LSTM's
    projection, h_0, h_n and each direction's output have P features instead of H.
    """
    directions = 2 if bidirectional else 1
    padded = None
    if batch_sizes is None:
        padded = x.shape[:2]
        x, batch_sizes = x.reshape(padded[0] * padded[1], x.shape[2]), (padded[1],) * padded[0]
    layer_input, finals, caches, dropout_caches = x, [], [], []
    for layer in range(num_layers):
        if layer > 0 and dropout > 0 and training:
            layer_input, dropout_cache = dropout_forward(layer_input, dropout, training, rng=rng)
            dropout_caches.append(dropout_cache)
        outs = []
        for direction in range(directions):
            k = layer * directions + direction
            (out, state), cache = recurrent_layer_forward(layer_input, tuple(s[k] for s in hx), weights[k], mode,
                                                          batch_sizes, reverse=direction == 1)
            outs.append(out)
            finals.append(state)
            caches.append(cache)
        layer_input = np.concatenate(outs, axis=1) if directions == 2 else outs[0]
    state_n = tuple(np.stack([state[i] for state in finals]) for i in range(len(hx)))
    if padded is not None:
        layer_input = layer_input.reshape(*padded, layer_input.shape[1])
    return (layer_input, state_n), RNNCache(caches, num_layers, directions, dropout_caches, padded)


def rnn_backward(doutput: np.ndarray, dstate_n: State, cache: RNNCache) -> tuple[np.ndarray, State, list[Weights]]:
    r"""BPTT through the stack, top layer first: returns (dL/dx, dL/dhx, weight gradients in the order
    of ``weights``). A layer's dL/dx, split by direction (and times keep / (1 - p) after dropout), is
    the upstream gradient of the layer below.

    Shape: doutput (L, N, D * H) or packed (S, D * H), as the output, dstate_n a tuple of
    (num_layers * D, N, H) -> dx like x and dhx like hx.
    """
    layer_caches, num_layers, directions, dropout_caches, padded = cache
    hidden = doutput.shape[-1] // directions
    if padded is not None:
        doutput = doutput.reshape(-1, doutput.shape[-1])
    dweights: list[Weights | None] = [None] * len(layer_caches)
    dstate0: list[State | None] = [None] * len(layer_caches)
    dlayer = doutput
    for layer in reversed(range(num_layers)):
        dx = None
        for direction in range(directions):
            k = layer * directions + direction
            dout = dlayer[:, direction * hidden:(direction + 1) * hidden]
            dxk, dstate0[k], dweights[k] = recurrent_layer_backward(dout, tuple(d[k] for d in dstate_n),
                                                                    layer_caches[k])
            dx = dxk if dx is None else dx + dxk
        dx = cast("np.ndarray", dx)  # set by the first direction
        dlayer = dropout_backward(dx, dropout_caches[layer - 1]) if layer > 0 and dropout_caches else dx
    states = cast("list[State]", dstate0)  # the loop above set every layer's and direction's slot
    dhx = tuple(np.stack([state[i] for state in states]) for i in range(len(dstate_n)))
    if padded is not None:
        dlayer = dlayer.reshape(*padded, dlayer.shape[1])
    return dlayer, dhx, cast("list[Weights]", dweights)  # every slot set, as dstate0's
