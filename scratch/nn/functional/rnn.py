r"""Recurrent layers (RNN, LSTM, GRU) over whole sequences: pure ``op_forward -> (out, cache)`` /
``op_backward(dout, cache)`` pairs. Each time step is a cell pair, below.

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

**The cells.** One time step of RNN, LSTM and GRU as pure ``cell_forward -> (state, cache)`` /
``cell_backward(dstate, cache)`` pairs, in torch's gate order.

Every cell takes the input projection of its step, :math:`g^i = x_t W_{ih}^T + b_{ih}`, already
computed (the sequence pass in ``rnn.py`` does it for all steps in one matmul), and the previous
state as a tuple: ``(h,)`` for RNN and GRU, ``(h, c)`` for LSTM. The hidden projection is
:math:`g^h = h W_{hh}^T + b_{hh}`. Backward returns ``(dg^i, dg^h, dstate_prev)``: the gradients of
the two projections (from which the sequence pass forms dL/dx and the weight gradients with one
matmul each after the time loop) and of the previous state, which already includes
:math:`dg^h W_{hh}`. For RNN and LSTM the two projections are simply added, so :math:`dg^i = dg^h`.

**LSTM with projections** (torch's ``proj_size`` = P > 0): the cell's output is projected,
:math:`h' = (o \odot \tanh c') W_{hr}^T` with :math:`W_{hr}` (P, H), so h has P features (W_hh is (4H, P))
while c keeps H. Backward first takes :math:`\delta_m = \delta_h W_{hr}` back through the projection, then
runs the plain cell's rules with :math:`\delta_m` in place of :math:`\delta_h`; the sequence pass forms
:math:`\partial L/\partial W_{hr} = \sum_t \delta_{h,t}^T m_t` (:math:`m_t = o_t \odot \tanh c_t`) in one
matmul after the time loop.

Shape: g^i (N, G), h and c (N, H), W_hh (G, H), b_hh (G,) or None, with G = H (RNN), 4H (LSTM),
3H (GRU); with projections h is (N, P) and W_hh (4H, P).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple, cast

import numpy as np

from .dropout import DropoutCache, dropout_backward, dropout_forward
from .rnn_packed import merge_active, packed_steps

__all__ = [
    "gru_cell_backward", "gru_cell_forward", "lstm_cell_backward", "lstm_cell_forward", "recurrent_layer_backward",
    "recurrent_layer_forward", "rnn_backward", "rnn_cell_backward", "rnn_cell_forward", "rnn_forward",
]


State = tuple[np.ndarray, ...]


#: w_ih, w_hh, b_ih, b_hh, and an LSTM's w_hr (its projection, proj_size > 0) as a fifth entry where it has one
Weights = tuple[np.ndarray | None, ...]


def _hidden_projection(h: np.ndarray, w_hh: np.ndarray, b_hh: np.ndarray | None) -> np.ndarray:
    gh = h @ w_hh.T
    if b_hh is not None:
        gh += b_hh
    return cast("np.ndarray", gh)


def rnn_cell_forward(gi: np.ndarray, state: State, w_hh: np.ndarray, b_hh: np.ndarray | None,
                     nonlinearity: str = "tanh") -> tuple[State, tuple[Any, ...]]:
    r"""Elman cell: :math:`h' = \phi(g^i + h W_{hh}^T + b_{hh})`, :math:`\phi` = tanh or ReLU.

    Shape: gi (N, H), state (h,) with h (N, H) -> (h',).
    """
    pre = _hidden_projection(state[0], w_hh, b_hh) + gi  # torch: linear_hh(h).add_(input_w)
    h_new = np.tanh(pre) if nonlinearity == "tanh" else np.maximum(pre, 0)
    return (h_new,), (h_new, w_hh, nonlinearity)


def rnn_cell_backward(dstate: State, cache: tuple[Any, ...]) -> tuple[np.ndarray, np.ndarray, State]:
    r"""With :math:`\delta = \partial L/\partial h'`:
    :math:`\partial L/\partial pre = \delta (1 - h'^2)` (tanh) or :math:`\delta [pre > 0]` (ReLU),
    :math:`dg^i = dg^h = \partial L/\partial pre`, :math:`\partial L/\partial h = dg^h W_{hh}`.
    """
    h_new, w_hh, nonlinearity = cache
    dh = dstate[0]
    dpre = dh * (1 - h_new * h_new) if nonlinearity == "tanh" else np.where(h_new <= 0, 0, dh)  # NaN passes, like torch
    return dpre, dpre, (dpre @ w_hh,)


class LSTMCellCache(NamedTuple):
    """What ``lstm_cell_backward`` needs: the previous cell state, the gates and tanh(c'), each (N, H)."""

    c: np.ndarray  #: the previous cell state
    i: np.ndarray
    f: np.ndarray
    g: np.ndarray
    o: np.ndarray
    tanh_c: np.ndarray  #: tanh(c'), of the new cell state
    w_hh: np.ndarray
    w_hr: np.ndarray | None = None  #: the projection (proj_size, H), or None
    gates: np.ndarray | None = None  #: (N, 4H) holding i, f, o in their columns (i, f, o are views of it), or None


def _sigmoid_in_place(x: np.ndarray) -> np.ndarray:
    """x <- 1 / (1 + e^{-x}), the operations of ``activation.sigmoid_forward`` in its order (the same bits), on
    an array we own: four calls and no allocation."""
    with np.errstate(over="ignore", under="ignore"):  # e^{-x} = inf or 0 give the limits
        np.negative(x, out=x)
        np.exp(x, out=x)
        x += 1
        np.divide(1, x, out=x)
    return x


def lstm_cell_forward(gi: np.ndarray, state: State, w_hh: np.ndarray, b_hh: np.ndarray | None,
                      w_hr: np.ndarray | None = None) -> tuple[State, LSTMCellCache]:
    r"""LSTM cell, gates in torch's order i, f, g, o:

    .. math::
        [a_i, a_f, a_g, a_o] = g^i + h W_{hh}^T + b_{hh}, \quad
        i = \sigma(a_i),\ f = \sigma(a_f),\ g = \tanh(a_g),\ o = \sigma(a_o),
        c' = f \odot c + i \odot g, \quad h' = o \odot \tanh(c'),

    and with a projection ``w_hr``, :math:`h' = (o \odot \tanh c') W_{hr}^T`.

    Fused: the pre-activations are summed in the hidden projection's own (N, 4H) array, g = tanh(a_g) is
    taken out, and one in-place sigmoid over all 4H columns makes i, f and o (views of that array; its g
    columns, whose sigmoid is not used, then hold i g): 13 NumPy calls and 5 arrays a step, where gate by
    gate took 24 and 22. The same operations on each element as gate by gate, so the same bits.

    Shape: gi (N, 4H), state (h, c) -> (h', c'), each (N, H); with w_hr (P, H), h and h' are (N, P).
    """
    h, c = state
    hidden = c.shape[1]
    gates = _hidden_projection(h, w_hh, b_hh)
    gates += gi
    g = np.tanh(gates[:, 2 * hidden:3 * hidden])
    _sigmoid_in_place(gates)
    i, f, o = gates[:, :hidden], gates[:, hidden:2 * hidden], gates[:, 3 * hidden:]
    c_new = f * c
    c_new += np.multiply(i, g, out=gates[:, 2 * hidden:3 * hidden])  # f c + i g, i g in the free g columns
    tanh_c = np.tanh(c_new)
    h_new = o * tanh_c if w_hr is None else (o * tanh_c) @ w_hr.T
    return (h_new, c_new), LSTMCellCache(c, i, f, g, o, tanh_c, w_hh, w_hr, gates)


def lstm_cell_backward(dstate: State, cache: LSTMCellCache) -> tuple[np.ndarray, np.ndarray, State]:
    r"""With :math:`\delta_h = \partial L/\partial h'` and :math:`\delta_c = \partial L/\partial c'`
    (from the next step and from c_n):

    .. math::
        \bar\delta_c = \delta_c + \delta_h\, o\, (1 - \tanh^2 c'), \quad
        da_i = \bar\delta_c\, g\, i(1-i),\ da_f = \bar\delta_c\, c\, f(1-f),\
        da_g = \bar\delta_c\, i\, (1-g^2),\ da_o = \delta_h \tanh(c')\, o(1-o),

    :math:`dg^i = dg^h = [da_i, da_f, da_g, da_o]`, :math:`\partial L/\partial h = dg^h W_{hh}`,
    :math:`\partial L/\partial c = \bar\delta_c f`. With a projection, :math:`\delta_h W_{hr}` stands for
    :math:`\delta_h` (the sequence pass forms dL/dW_hr).

    Fused: the four gates' products are written into one (N, 4H) array, each factor applied to all the
    columns that take it at once ([i, f] together; [1 - i, 1 - f, 1 - g^2, 1 - o] in one multiply): 17
    NumPy calls and 6 arrays a step where gate by gate took 24 and 24. Each element's factors are
    multiplied in the same order as gate by gate, so the same bits.
    """
    c, i, f, g, o, tanh_c, w_hh, w_hr, gates = cache
    dh, dc_next = dstate
    if w_hr is not None:
        dh = dh @ w_hr
    hidden = c.shape[1]
    cols = [slice(k * hidden, (k + 1) * hidden) for k in range(4)]
    dc = np.multiply(dh, o)
    one_minus = np.multiply(tanh_c, tanh_c)
    np.subtract(1, one_minus, out=one_minus)
    dc *= one_minus
    dc += dc_next  # dc_next + dh o (1 - tanh^2 c'), the same sum
    if gates is None:  # a cache built by hand: the gates' array from its parts
        gates = np.concatenate([i, f, g, o], axis=1)
    one_minus = np.subtract(1, gates)  # [1 - i, 1 - f, (unused), 1 - o]
    np.multiply(g, g, out=one_minus[:, cols[2]])
    np.subtract(1, one_minus[:, cols[2]], out=one_minus[:, cols[2]])
    da = np.empty_like(gates)
    np.multiply(dc, g, out=da[:, cols[0]])
    np.multiply(dc, c, out=da[:, cols[1]])
    np.multiply(dc, i, out=da[:, cols[2]])
    np.multiply(dh, tanh_c, out=da[:, cols[3]])
    da[:, :2 * hidden] *= gates[:, :2 * hidden]  # times i and f
    da[:, cols[3]] *= o
    da *= one_minus
    return da, da, (da @ w_hh, dc * f)


class GRUCellCache(NamedTuple):
    """What ``gru_cell_backward`` needs: the previous state, the gates and the hidden projection's n part,
    each (N, H)."""

    h: np.ndarray  #: the previous hidden state
    r: np.ndarray
    z: np.ndarray
    n: np.ndarray
    gh_n: np.ndarray  #: the n part of g^h = h W_hh^T + b_hh, which r multiplies
    w_hh: np.ndarray


def gru_cell_forward(gi: np.ndarray, state: State, w_hh: np.ndarray,
                     b_hh: np.ndarray | None) -> tuple[State, GRUCellCache]:
    r"""GRU cell, gates in torch's order r, z, n:

    .. math::
        r = \sigma(g^i_r + g^h_r),\ z = \sigma(g^i_z + g^h_z),\
        n = \tanh(g^i_n + r \odot g^h_n), \quad h' = (h - n) \odot z + n = (1 - z) \odot n + z \odot h,

    with :math:`g^h = h W_{hh}^T + b_{hh}`: :math:`b_{hn}` sits inside :math:`r \odot (\cdot)`.
    h' is computed as torch's CPU kernel writes it, (h - n) z + n.
    Fused: r and z in one in-place sigmoid over their 2H columns, n and h' in place: 13 NumPy calls a step
    where gate by gate took 20, with the same operations on each element (the same bits).

    Shape: gi (N, 3H), state (h,) -> (h',), each (N, H).
    """
    h = state[0]
    hidden = h.shape[1]
    gh = _hidden_projection(h, w_hh, b_hh)
    gh_n = gh[:, 2 * hidden:]
    r_z = _sigmoid_in_place(np.add(gh[:, :2 * hidden], gi[:, :2 * hidden]))  # r and z in one sigmoid
    r, z = r_z[:, :hidden], r_z[:, hidden:]
    n = np.multiply(r, gh_n)
    n += gi[:, 2 * hidden:]  # gi_n + r gh_n, the same sum
    np.tanh(n, out=n)
    h_new = np.subtract(h, n)
    h_new *= z
    h_new += n
    return (h_new,), GRUCellCache(h, r, z, n, gh_n, w_hh)


def gru_cell_backward(dstate: State, cache: GRUCellCache) -> tuple[np.ndarray, np.ndarray, State]:
    r"""With :math:`\delta = \partial L/\partial h'`:

    .. math::
        da_n = \delta (1 - z)(1 - n^2),\ da_z = \delta (h - n)\, z(1 - z),\
        da_r = da_n\, g^h_n\, r(1 - r),

    :math:`dg^i = [da_r, da_z, da_n]`, :math:`dg^h = [da_r, da_z, da_n \odot r]` and
    :math:`\partial L/\partial h = dg^h W_{hh} + \delta z`.
    """
    h, r, z, n, gh_n, w_hh = cache
    dh = dstate[0]
    hidden = h.shape[1]
    dgi = np.empty((h.shape[0], 3 * hidden), dtype=np.result_type(dh, h))
    da_r, da_z, da_n = dgi[:, :hidden], dgi[:, hidden:2 * hidden], dgi[:, 2 * hidden:]
    one_minus_z = np.subtract(1, z)
    np.multiply(dh, one_minus_z, out=da_n)
    factor = np.multiply(n, n)
    np.subtract(1, factor, out=factor)
    da_n *= factor  # dh (1 - z) (1 - n^2)
    np.subtract(h, n, out=da_z)
    da_z *= dh
    da_z *= z
    da_z *= one_minus_z  # dh (h - n) z (1 - z)
    np.multiply(da_n, gh_n, out=da_r)
    da_r *= r
    da_r *= np.subtract(1, r, out=factor)  # da_n gh_n r (1 - r)
    dgh = np.empty_like(dgi)
    dgh[:, :2 * hidden] = dgi[:, :2 * hidden]
    np.multiply(da_n, r, out=dgh[:, 2 * hidden:])
    dh_prev = dgh @ w_hh
    dh_prev += dh * z
    return dgi, dgh, (dh_prev,)


#: mode (torch's names) -> (cell forward, cell backward, extra cell arguments)
CELLS: dict[str, tuple[Callable[..., Any], Callable[..., Any], tuple[Any, ...]]] = {
    "RNN_TANH": (rnn_cell_forward, rnn_cell_backward, ("tanh",)),
    "RNN_RELU": (rnn_cell_forward, rnn_cell_backward, ("relu",)),
    "LSTM": (lstm_cell_forward, lstm_cell_backward, ()),
    "GRU": (gru_cell_forward, gru_cell_backward, ()),
}


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


def recurrent_layer_forward(x: np.ndarray, state0: State, weights: Weights, mode: str, batch_sizes: Sequence[int],
                            reverse: bool = False) -> tuple[tuple[np.ndarray, State], RecurrentLayerCache]:
    r"""One direction of one layer over packed sequences (see the module docstring and
    ``functional.rnn_packed``): rows ``o_t .. o_t + b_t`` of x are step t of the b_t sequences still running,
    a prefix of the batch (sorted by decreasing length), so step t runs the cell on the first b_t rows of the
    state only; the other rows keep their state. Forward (t = 0..T-1), each sequence's final state is the one
    after its own last step; reverse (t = T-1..0), each sequence starts from its own last element, with its
    initial state. A padded batch is the case b_t = N for every t.

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
    dhs = np.empty_like(h_prev)  # dL/dh_t, each row's, for dL/dW_hr
    ms = np.empty((x.shape[0], cache.w_hr.shape[1]), dtype=x.dtype) if cache.w_hr is not None else None
    dstate = dstate_n
    for (start, n), step in zip(reversed(packed_steps(cache.batch_sizes, cache.reverse)), reversed(caches)):
        rows = slice(start, start + n)
        dprefix = (dstate[0][:n] + dout[rows], *(d[:n] for d in dstate[1:]))
        dhs[rows] = dprefix[0]
        if ms is not None:
            ms[rows] = step.o * step.tanh_c
        dgi[rows], dgh_rows, dprev = cell_backward(dprefix, step)
        if not shared:
            dgh[rows] = dgh_rows
        dstate = merge_active(dprev, dstate)
    dw_ih = dgi.T @ x
    dw_hh = dgh.T @ h_prev
    db_ih = dgi.sum(axis=0) if cache.has_bias else None
    db_hh = (db_ih.copy() if shared else dgh.sum(axis=0)) if db_ih is not None else None
    dweights: Weights = (dw_ih, dw_hh, db_ih, db_hh)
    if ms is not None:  # dL/dW_hr = sum_t dh_t^T m_t, m_t = o_t tanh(c_t)
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
