r"""The LSTM layer's time loop over whole-sequence buffers: the fast path of ``functional.rnn`` for one
direction of a plain LSTM (no projection) over a padded batch (every step runs all N rows).

The math is ``functional.rnn_cell``'s ``lstm_cell_forward`` / ``lstm_cell_backward``, the same operations on
each element in the same order, so the same bits; only where the arrays live changes. Why a separate loop:
at the bench's shapes (N = 32, H = 256) a step's elementwise work is a few microseconds per NumPy call, so
what the generic loop adds around the cell (an allocation per intermediate, a per-step cache tuple, the
state merge, a (N, 4H) copy of each step's gate gradient into the sequence's array, dL/dh copied for a
projection there is none of) is a large share of the step. Here every step writes into preallocated
arrays with ``out=``:

- forward, per step: the hidden projection into one (4H, N) scratch array (transposed, see below), the gates
  in place in the step's rows of the input projection (which becomes the (S, 4H) gates array [i, f, 1, o]),
  and g, c', tanh c', h' into the step's rows of (S, H) arrays: 15 NumPy calls and no allocation (the
  generic loop: 15 calls and 5 new arrays);
- backward, per step: the gate gradients straight into the step's rows of the (S, 4H) array that the
  weight gradients take after the loop, dL/dh and dL/dc carried in two (N, H) arrays: 17 NumPy calls,
  the hidden GEMM included, and no allocation (the generic loop: 21 calls and 7 new arrays).

Each step's rows of every buffer are one contiguous block, so its GEMM reads and writes contiguous memory.
The forward's hidden GEMM is taken transposed, :math:`(h W_{hh}^T)^T = W_{hh} h^T` into a (4H, N) array, and
added transposed: OpenBLAS (through NumPy's row-major call) runs this (4H, H) x (H, N) product about 1.4x
faster than the (N, H) x (H, 4H) one at N = 32, with the same bits (each entry the same dot product, k in
the same order: compared bit for bit with the untransposed product at the bench's and the tests' shapes, both
dtypes), which pays for the strided add (about 24 us). b_hh is added to that array as a (4H, N) copy made once per
call: broadcast from a (4H, 1) column, the add runs 4H inner loops of N and costs 3x more (9 vs 3 us).
parity_tests/test_rnn_lstm_fast.py checks this loop against the cell pair bit for bit.

Why the gates are not kept transposed, (4H, N) a step, through both loops (which would make every gate's
elementwise call contiguous and drop the strided add): backward's hidden GEMM would become
:math:`W_{hh}^T da^T`, whose bits OpenBLAS does not keep equal to :math:`da\,W_{hh}`'s at every shape (they differ
at N = 3, H = 20, both dtypes), nor those of dL/dx taken from a transposed :math:`dg`; and keeping backward's
(N, 4H) layout behind a transposed forward costs about 1 ms of transposing copies, more than the forward saves.

Shape: gates (S, 4H) with S = T N, state (h_0, c_0) each (N, H), W_hh (4H, H), b_hh (4H,) or None.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

__all__: list[str] = []  # the fast path of functional.rnn, not an op of its own


class LSTMSequenceCache(NamedTuple):
    """What ``lstm_sequence_backward`` needs, row blocks in the input's order (one block of N rows a step)."""

    gates: np.ndarray  #: (S, 4H): i, f, 1, o of each step (the g columns set to 1)
    g: np.ndarray  #: (S, H): tanh(a_g)
    c: np.ndarray  #: (S, H): the new cell state c' of each step
    tanh_c: np.ndarray  #: (S, H): tanh(c')
    c0: np.ndarray  #: (N, H): the initial cell state
    w_hh: np.ndarray
    steps: tuple[tuple[int, int], ...]  #: (first row, N) of each step in the order they ran


def lstm_sequence_forward(gates: np.ndarray, state0: tuple[np.ndarray, np.ndarray], w_hh: np.ndarray,
                          b_hh: np.ndarray | None, steps: Sequence[tuple[int, int]]
                          ) -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray], LSTMSequenceCache]:
    r"""The LSTM time loop, ``lstm_cell_forward``'s math a step (see ``functional.rnn_cell``); ``gates`` holds
    the input projections :math:`g^i_t` and is overwritten with the gates. Returns the outputs h_t (S, H), each
    step's previous hidden state (S, H), the final (h, c) and the cache.
    """
    h, c_prev = state0
    hidden = c_prev.shape[1]
    hs, h_prev, g, c, tanh_c = (np.empty((gates.shape[0], hidden), dtype=gates.dtype) for _ in range(5))
    hidden_proj = np.empty((4 * hidden, h.shape[0]), dtype=gates.dtype)  # transposed: see the module docstring
    ig = np.empty_like(c_prev)
    # b_hh repeated over the N columns once: adding it contiguous costs a third of the broadcast add (4H rows of N)
    b_cols = None if b_hh is None else np.repeat(b_hh[:, None], h.shape[0], axis=1)
    cols = [slice(k * hidden, (k + 1) * hidden) for k in range(4)]
    with np.errstate(over="ignore", under="ignore"):  # the sigmoid's e^{-x} = inf or 0 give the limits
        for start, n in steps:
            rows = slice(start, start + n)
            step, g_t, c_t, tanh_t, h_t = gates[rows], g[rows], c[rows], tanh_c[rows], hs[rows]
            h_prev[rows] = h
            np.matmul(w_hh, h.T, out=hidden_proj)  # (h W_hh^T)^T
            if b_cols is not None:
                hidden_proj += b_cols
            step += hidden_proj.T  # g^i + (h W_hh^T + b_hh): the cell's sum, the same bits
            np.tanh(step[:, cols[2]], out=g_t)
            np.negative(step, out=step)  # the sigmoid of all 4H columns, i, f and o used
            np.exp(step, out=step)
            step += 1
            np.divide(1, step, out=step)
            np.multiply(step[:, cols[1]], c_prev, out=c_t)  # f c
            c_t += np.multiply(step[:, cols[0]], g_t, out=ig)  # + i g
            step[:, cols[2]] = 1  # [i, f, 1, o]: backward multiplies its four gates' columns by it in one call
            np.tanh(c_t, out=tanh_t)
            np.multiply(step[:, cols[3]], tanh_t, out=h_t)
            h, c_prev = h_t, c_t
    return hs, h_prev, (h, c_prev), LSTMSequenceCache(gates, g, c, tanh_c, state0[1], w_hh, tuple(steps))


def lstm_sequence_backward(dout: np.ndarray, dstate_n: tuple[np.ndarray, ...], cache: LSTMSequenceCache,
                           dgates: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r"""BPTT of ``lstm_sequence_forward``, ``lstm_cell_backward``'s math a step (see ``functional.rnn_cell``):
    writes :math:`dg_t = [da_i, da_f, da_g, da_o]` into ``dgates`` (S, 4H) and returns dL/d(h_0, c_0).
    """
    gates, g, c, tanh_c, c0, w_hh, steps = cache
    hidden, batch = c.shape[1], c0.shape[0]
    dh, dc, prod, factor = (np.empty((batch, hidden), dtype=dgates.dtype) for _ in range(4))
    one_minus = np.empty((batch, 4 * hidden), dtype=dgates.dtype)
    cols = [slice(k * hidden, (k + 1) * hidden) for k in range(4)]
    om_g = one_minus[:, cols[2]]
    dh_next = dstate_n[0]
    dc[...] = dstate_n[1]
    for k in range(len(steps) - 1, -1, -1):
        rows = slice(steps[k][0], steps[k][0] + batch)
        step, da, g_t, tanh_t = gates[rows], dgates[rows], g[rows], tanh_c[rows]
        c_before = c0 if k == 0 else c[steps[k - 1][0]:steps[k - 1][0] + batch]
        o = step[:, cols[3]]
        np.add(dh_next, dout[rows], out=dh)
        np.multiply(dh, o, out=prod)
        np.multiply(tanh_t, tanh_t, out=factor)
        np.subtract(1, factor, out=factor)
        prod *= factor
        dc += prod  # dc_next + dh o (1 - tanh^2 c'), the same sum
        np.subtract(1, step, out=one_minus)  # [1 - i, 1 - f, (unused), 1 - o]
        np.multiply(g_t, g_t, out=om_g)
        np.subtract(1, om_g, out=om_g)
        np.multiply(dc, g_t, out=da[:, cols[0]])
        np.multiply(dc, c_before, out=da[:, cols[1]])
        np.multiply(dc, step[:, cols[0]], out=da[:, cols[2]])
        np.multiply(dh, tanh_t, out=da[:, cols[3]])
        da *= step  # times [i, f, 1, o]: da_g unchanged (x 1 is exact)
        da *= one_minus
        np.matmul(da, w_hh, out=dh)  # dL/dh of the step before
        dc *= step[:, cols[1]]  # dL/dc of the step before: dc f
        dh_next = dh
    return dh, dc
