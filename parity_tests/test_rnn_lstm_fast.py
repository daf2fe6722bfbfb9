"""The LSTM layer's fast path (``functional._rnn_lstm``, a padded batch) against the cell pair it fuses
(``lstm_cell_forward`` / ``lstm_cell_backward`` run step by step, the weight gradients by one matmul each):
the same operations in the same order, so every output and gradient is equal bit for bit, in both dtypes,
in both directions, with and without biases."""

import numpy as np
import pytest

from scratch.nn.functional import lstm_cell_backward, lstm_cell_forward
from scratch.nn.functional.rnn import recurrent_layer_backward, recurrent_layer_forward

T, N, H_IN, H = 6, 4, 5, 7


def by_cells(x, state0, weights, dout, dstate_n, reverse):
    """The reference: the cell pair step by step (steps t = 0..T-1, or T-1..0), BPTT in reverse order."""
    w_ih, w_hh, b_ih, b_hh = weights
    gi = x @ w_ih.T + (0 if b_ih is None else b_ih)
    order = range(T - 1, -1, -1) if reverse else range(T)
    state, caches, outs = state0, {}, np.empty((T * N, H), dtype=x.dtype)
    for t in order:
        state, caches[t] = lstm_cell_forward(gi[t * N:(t + 1) * N], state, w_hh, b_hh)
        outs[t * N:(t + 1) * N] = state[0]
    final, dstate, dg = state, dstate_n, np.empty_like(gi)
    h_prev = np.empty_like(outs)
    for t in reversed(order):
        dh = dstate[0] + dout[t * N:(t + 1) * N]
        dg[t * N:(t + 1) * N], _, dstate = lstm_cell_backward((dh, dstate[1]), caches[t])
    for t in order:  # each step's previous h: the output of the step before it ran, or h_0
        before = t + 1 if reverse else t - 1
        h_prev[t * N:(t + 1) * N] = state0[0] if before in (-1, T) else outs[before * N:(before + 1) * N]
    grads = (dg.T @ x, dg.T @ h_prev, None if b_ih is None else dg.sum(axis=0))
    return outs, final, dg @ w_ih, dstate, grads


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("bias", [True, False])
def test_fast_path_is_the_cell_pair_bit_for_bit(dtype, reverse, bias):
    rng = np.random.default_rng(3)
    shapes = [(T * N, H_IN), (N, H), (N, H), (4 * H, H_IN), (4 * H, H), (4 * H,), (4 * H,), (T * N, H), (N, H), (N, H)]
    arrays = [rng.standard_normal(shape).astype(dtype) for shape in shapes]
    x, h0, c0, w_ih, w_hh, b_ih, b_hh, dout, dh_n, dc_n = arrays
    weights = (w_ih, w_hh, b_ih if bias else None, b_hh if bias else None)
    (out, final), cache = recurrent_layer_forward(x, (h0, c0), weights, "LSTM", [N] * T, reverse)
    assert cache.lstm is not None  # the fast path ran
    dx, dstate0, dweights = recurrent_layer_backward(dout, (dh_n, dc_n), cache)
    ref_out, ref_final, ref_dx, ref_dstate0, ref_grads = by_cells(x, (h0, c0), weights, dout, (dh_n, dc_n), reverse)
    pairs = [(out, ref_out), *zip(final, ref_final), (dx, ref_dx), *zip(dstate0, ref_dstate0),
             *zip(dweights[:3], ref_grads)]
    for got, want in pairs:
        if want is None:
            assert got is None
        else:
            assert got.dtype == dtype and np.array_equal(got, want)
    assert np.abs(dweights[1]).max() > 0.1  # a gradient that could be wrong
