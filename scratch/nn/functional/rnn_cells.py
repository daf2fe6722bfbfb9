r"""One time step of RNN, LSTM and GRU as pure ``cell_forward -> (state, cache)`` /
``cell_backward(dstate, cache)`` pairs, in torch's gate order.

Every cell takes the input projection of its step, :math:`g^i = x_t W_{ih}^T + b_{ih}`, already
computed (the sequence pass in ``rnn.py`` does it for all steps in one matmul), and the previous
state as a tuple: ``(h,)`` for RNN and GRU, ``(h, c)`` for LSTM. The hidden projection is
:math:`g^h = h W_{hh}^T + b_{hh}`. Backward returns ``(dg^i, dg^h, dstate_prev)``: the gradients of
the two projections (from which the sequence pass forms dL/dx and the weight gradients with one
matmul each after the time loop) and of the previous state, which already includes
:math:`dg^h W_{hh}`. For RNN and LSTM the two projections are simply added, so :math:`dg^i = dg^h`.

Shape: g^i (N, G), h and c (N, H), W_hh (G, H), b_hh (G,) or None, with G = H (RNN), 4H (LSTM),
3H (GRU).
"""

from __future__ import annotations

import numpy as np

from .activation import sigmoid_forward

__all__ = [
    "gru_cell_backward", "gru_cell_forward", "lstm_cell_backward", "lstm_cell_forward", "rnn_cell_backward",
    "rnn_cell_forward",
]

State = tuple[np.ndarray, ...]


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return sigmoid_forward(x)[0]


def _hidden_projection(h: np.ndarray, w_hh: np.ndarray, b_hh: np.ndarray | None) -> np.ndarray:
    gh = h @ w_hh.T
    if b_hh is not None:
        gh += b_hh
    return gh


def rnn_cell_forward(gi: np.ndarray, state: State, w_hh: np.ndarray, b_hh: np.ndarray | None,
                     nonlinearity: str = "tanh") -> tuple[State, tuple]:
    r"""Elman cell: :math:`h' = \phi(g^i + h W_{hh}^T + b_{hh})`, :math:`\phi` = tanh or ReLU.

    Shape: gi (N, H), state (h,) with h (N, H) -> (h',).
    """
    pre = _hidden_projection(state[0], w_hh, b_hh) + gi  # torch: linear_hh(h).add_(input_w)
    h_new = np.tanh(pre) if nonlinearity == "tanh" else np.maximum(pre, 0)
    return (h_new,), (h_new, w_hh, nonlinearity)


def rnn_cell_backward(dstate: State, cache: tuple) -> tuple[np.ndarray, np.ndarray, State]:
    r"""With :math:`\delta = \partial L/\partial h'`:
    :math:`\partial L/\partial pre = \delta (1 - h'^2)` (tanh) or :math:`\delta [pre > 0]` (ReLU),
    :math:`dg^i = dg^h = \partial L/\partial pre`, :math:`\partial L/\partial h = dg^h W_{hh}`.
    """
    h_new, w_hh, nonlinearity = cache
    dh = dstate[0]
    dpre = dh * (1 - h_new * h_new) if nonlinearity == "tanh" else np.where(h_new <= 0, 0, dh)  # NaN passes, like torch
    return dpre, dpre, (dpre @ w_hh,)


def lstm_cell_forward(gi: np.ndarray, state: State, w_hh: np.ndarray,
                      b_hh: np.ndarray | None) -> tuple[State, tuple]:
    r"""LSTM cell, gates in torch's order i, f, g, o:

    .. math::
        [a_i, a_f, a_g, a_o] = g^i + h W_{hh}^T + b_{hh}, \quad
        i = \sigma(a_i),\ f = \sigma(a_f),\ g = \tanh(a_g),\ o = \sigma(a_o),
        c' = f \odot c + i \odot g, \quad h' = o \odot \tanh(c').

    Shape: gi (N, 4H), state (h, c) -> (h', c'), each (N, H).
    """
    h, c = state
    gates = _hidden_projection(h, w_hh, b_hh) + gi
    a_i, a_f, a_g, a_o = np.split(gates, 4, axis=1)
    i, f, g, o = _sigmoid(a_i), _sigmoid(a_f), np.tanh(a_g), _sigmoid(a_o)
    c_new = f * c + i * g
    tanh_c = np.tanh(c_new)
    h_new = o * tanh_c
    return (h_new, c_new), (c, i, f, g, o, tanh_c, w_hh)


def lstm_cell_backward(dstate: State, cache: tuple) -> tuple[np.ndarray, np.ndarray, State]:
    r"""With :math:`\delta_h = \partial L/\partial h'` and :math:`\delta_c = \partial L/\partial c'`
    (from the next step and from c_n):

    .. math::
        \bar\delta_c = \delta_c + \delta_h\, o\, (1 - \tanh^2 c'), \quad
        da_i = \bar\delta_c\, g\, i(1-i),\ da_f = \bar\delta_c\, c\, f(1-f),\
        da_g = \bar\delta_c\, i\, (1-g^2),\ da_o = \delta_h \tanh(c')\, o(1-o),

    :math:`dg^i = dg^h = [da_i, da_f, da_g, da_o]`, :math:`\partial L/\partial h = dg^h W_{hh}`,
    :math:`\partial L/\partial c = \bar\delta_c f`.
    """
    c, i, f, g, o, tanh_c, w_hh = cache
    dh, dc_next = dstate
    dc = dc_next + dh * o * (1 - tanh_c * tanh_c)
    da = np.concatenate([dc * g * i * (1 - i), dc * c * f * (1 - f), dc * i * (1 - g * g),
                         dh * tanh_c * o * (1 - o)], axis=1)
    return da, da, (da @ w_hh, dc * f)


def gru_cell_forward(gi: np.ndarray, state: State, w_hh: np.ndarray,
                     b_hh: np.ndarray | None) -> tuple[State, tuple]:
    r"""GRU cell, gates in torch's order r, z, n:

    .. math::
        r = \sigma(g^i_r + g^h_r),\ z = \sigma(g^i_z + g^h_z),\
        n = \tanh(g^i_n + r \odot g^h_n), \quad h' = (h - n) \odot z + n = (1 - z) \odot n + z \odot h,

    with :math:`g^h = h W_{hh}^T + b_{hh}`: :math:`b_{hn}` sits inside :math:`r \odot (\cdot)`.
    h' is computed as torch's CPU kernel writes it, (h - n) z + n.

    Shape: gi (N, 3H), state (h,) -> (h',), each (N, H).
    """
    h = state[0]
    gh = _hidden_projection(h, w_hh, b_hh)
    gi_r, gi_z, gi_n = np.split(gi, 3, axis=1)
    gh_r, gh_z, gh_n = np.split(gh, 3, axis=1)
    r = _sigmoid(gh_r + gi_r)
    z = _sigmoid(gh_z + gi_z)
    n = np.tanh(gi_n + r * gh_n)
    h_new = (h - n) * z + n
    return (h_new,), (h, r, z, n, gh_n, w_hh)


def gru_cell_backward(dstate: State, cache: tuple) -> tuple[np.ndarray, np.ndarray, State]:
    r"""With :math:`\delta = \partial L/\partial h'`:

    .. math::
        da_n = \delta (1 - z)(1 - n^2),\ da_z = \delta (h - n)\, z(1 - z),\
        da_r = da_n\, g^h_n\, r(1 - r),

    :math:`dg^i = [da_r, da_z, da_n]`, :math:`dg^h = [da_r, da_z, da_n \odot r]` and
    :math:`\partial L/\partial h = dg^h W_{hh} + \delta z`.
    """
    h, r, z, n, gh_n, w_hh = cache
    dh = dstate[0]
    da_n = dh * (1 - z) * (1 - n * n)
    da_z = dh * (h - n) * z * (1 - z)
    da_r = da_n * gh_n * r * (1 - r)
    dgi = np.concatenate([da_r, da_z, da_n], axis=1)
    dgh = np.concatenate([da_r, da_z, da_n * r], axis=1)
    return dgi, dgh, (dgh @ w_hh + dh * z,)
