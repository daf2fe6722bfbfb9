r"""One time step of RNN, LSTM and GRU: the cell pairs that the sequence layers (``functional.rnn``) and the
cell modules (RNNCell, LSTMCell, GRUCell) share, and the step with its input projection that the cell modules run.

**The cells.** One time step of RNN, LSTM and GRU as pure ``cell_forward -> (state, cache)`` /
``cell_backward(dstate, cache)`` pairs, in torch's gate order.

Every cell takes the input projection of its step, :math:`g^i = x_t W_{ih}^T + b_{ih}`, already
computed (the sequence pass in ``functional.rnn`` does it for all steps in one matmul), and the previous
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

**One step with its input projection** (RNNCell, LSTMCell, GRUCell): a pure
``recurrent_cell_forward -> (state, cache)`` / ``recurrent_cell_backward(dstate, cache)`` pair around the
per-step cell pairs above (``rnn_cell_*``, ``lstm_cell_*``, ``gru_cell_*``, which hold the gate math), so the
cells and the sequence layers share one implementation.

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

from collections.abc import Callable
from typing import Any, NamedTuple, cast

import numpy as np

__all__ = [
    "gru_cell_backward", "gru_cell_forward", "lstm_cell_backward", "lstm_cell_forward", "recurrent_cell_backward",
    "recurrent_cell_forward", "rnn_cell_backward", "rnn_cell_forward",
]


State = tuple[np.ndarray, ...]


#: w_ih, w_hh, b_ih, b_hh, and an LSTM's w_hr (its projection, proj_size > 0) as a fifth entry where it has one
Weights = tuple[np.ndarray | None, ...]


def _hidden_projection(h: np.ndarray, w_hh: np.ndarray, b_hh: np.ndarray | None) -> np.ndarray:
    """:math:`g^h = h W_{hh}^T + b_{hh}`, (N, G), computed transposed, :math:`W_{hh} h^T` (G, N), then copied back:
    at a step's shapes (N = 32, H = 256) OpenBLAS runs that product about 1.3x faster than the (N, H) x (H, G)
    one through NumPy's row-major call, the transposing copy included, with the same bits (each entry the same
    dot product in the same order)."""
    gh_t = w_hh @ h.T
    if b_hh is not None:
        gh_t += b_hh[:, None]
    return np.ascontiguousarray(gh_t.T)


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


class RecurrentCellCache(NamedTuple):
    """What ``recurrent_cell_backward`` needs from ``recurrent_cell_forward``."""

    x: np.ndarray  #: the input, (N, H_in)
    h: np.ndarray  #: the previous hidden state, (N, H)
    w_ih: np.ndarray
    cell: Any  #: the cell pair's cache
    mode: str  #: the key of ``CELLS``: "RNN_TANH", "RNN_RELU", "LSTM" or "GRU"
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
