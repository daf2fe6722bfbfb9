"""Recurrent cells: RNNCell (tanh, relu), LSTMCell and GRUCell, each batched, without bias, and unbatched (1-D
input and state), all with a state: without one (zeros) dL/dW_hh is exactly 0, which a catalog case calls
trivial; ``parity_tests/test_rnn_cell.py`` checks hx=None against torch."""

from __future__ import annotations

import numpy as np

from scratch import nn

from .case import Case, Make, module_case
from .data import normal

N, H_IN, H = 3, 4, 6
CELLS = {"RNNCell(tanh)": lambda **kw: nn.RNNCell(H_IN, H, **kw),
         "RNNCell(relu)": lambda **kw: nn.RNNCell(H_IN, H, nonlinearity="relu", **kw),
         "LSTMCell": lambda **kw: nn.LSTMCell(H_IN, H, **kw), "GRUCell": lambda **kw: nn.GRUCell(H_IN, H, **kw)}
# name: (batch shape, bias)
LAYOUTS = {"": ((N,), True), "bias=False": ((N,), False), "unbatched": ((), True)}


def make_cell(kind: str, batch: tuple[int, ...], bias: bool) -> Make:
    def make(dtype: np.dtype, rng: np.random.Generator) -> tuple[nn.Module, list]:
        module = CELLS[kind](bias=bias, dtype=dtype, rng=rng)
        x = normal(rng, dtype, *batch, H_IN)
        states = tuple(normal(rng, dtype, *batch, H) for _ in range(2))
        return module, [x, states if kind == "LSTMCell" else states[0]]
    return make


def _name(kind: str, layout: str) -> str:
    return f"{kind}[{layout}]" if layout else kind


CASES: list[Case] = [module_case(_name(kind, layout), make_cell(kind, *options))
                     for kind in CELLS for layout, options in LAYOUTS.items()]
