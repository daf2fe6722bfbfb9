"""Fuzz recipes of the recurrent layers (RNN, LSTM, GRU) and cells (RNNCell, LSTMCell, GRUCell): options in
and out of range, odd shapes (empty batches, unbatched, a wrong input size), dtypes and special values."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from hypothesis import strategies as st

from .fuzz_engine import Case, arrays, dtypes

Draw = Callable[[Any], Any]


def rnn(name: str) -> Callable[[Draw], Case]:
    def recipe(draw: Draw) -> Case:
        dtype, n_in, hidden = draw(dtypes(odd=False)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
        options = {"input_size": n_in, "hidden_size": draw(st.sampled_from([hidden, hidden, 0])),
                   "num_layers": draw(st.sampled_from([1, 2, 0])), "bias": draw(st.booleans()),
                   "batch_first": draw(st.booleans()), "bidirectional": draw(st.booleans()),
                   "dropout": draw(st.sampled_from([0.0, 0.0, 0.5, 1.5]))}
        if name == "RNN":
            options["nonlinearity"] = draw(st.sampled_from(["tanh", "relu", "gelu"]))
        if name == "LSTM":
            options["proj_size"] = draw(st.sampled_from([0, 0, 0, 1]))
        seq = draw(st.integers(1, 3))
        batch = draw(st.sampled_from([(), (0,), (1,), (2,)]))
        x_shape = (*batch, seq, n_in) if options["batch_first"] and batch else (seq, *batch, n_in)
        x = draw(arrays(draw(st.sampled_from([x_shape] * 9 + [(seq, 2, n_in + 1)])), dtype))
        h_shape = ((2 if options["bidirectional"] else 1) * max(options["num_layers"], 1), *batch, hidden)
        states = [draw(arrays(h_shape, dtype)) for _ in range(2 if name == "LSTM" else 1)]
        if options.get("proj_size") and draw(st.integers(0, 3)):  # h_0 of proj_size features, mostly
            states[0] = draw(arrays((*h_shape[:-1], options["proj_size"]), dtype))
        inputs = (x,) if draw(st.booleans()) else (x, tuple(states) if name == "LSTM" else states[0])
        # dropout between layers draws different masks in the two engines: compare such a stack in eval mode
        train = draw(st.booleans()) and not (options["dropout"] and options["num_layers"] > 1)
        return Case(name, options, inputs, dtype, train=train, seed=draw(st.integers(0, 9)))
    return recipe


def cell(name: str) -> Callable[[Draw], Case]:
    """RNNCell, LSTMCell, GRUCell: batched (N in 0..2) or unbatched, hx given or not (a tuple for LSTMCell),
    sometimes a wrong input size, a state of the wrong size or dims, hidden_size 0, an unknown nonlinearity."""
    def recipe(draw: Draw) -> Case:
        dtype, n_in, hidden = draw(dtypes(odd=False)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
        other = np.float64 if dtype == np.float32 else np.float32  # an input of another dtype than the weights'
        x_dtype = draw(st.sampled_from([dtype] * 8 + [other, np.float16, np.int64]))
        options = {"input_size": n_in, "hidden_size": draw(st.sampled_from([hidden] * 5 + [0])),
                   "bias": draw(st.booleans())}
        if name == "RNNCell":
            options["nonlinearity"] = draw(st.sampled_from(["tanh", "relu", "tanh", "relu", "gelu"]))
        batch = draw(st.sampled_from([(), (0,), (1,), (2,), (2,)]))
        x = draw(arrays(draw(st.sampled_from([(*batch, n_in)] * 9 + [(*batch, n_in + 1)])), x_dtype))
        h_shape = draw(st.sampled_from([(*batch, hidden)] * 9 + [(*batch, hidden + 1), (1, *batch, hidden)]))
        states = tuple(draw(arrays(h_shape, dtype)) for _ in range(2 if name == "LSTMCell" else 1))
        inputs = (x,) if draw(st.booleans()) else (x, states if name == "LSTMCell" else states[0])
        return Case(name, options, inputs, dtype, seed=draw(st.integers(0, 9)))
    return recipe


RECURRENT_RECIPES: dict[str, Callable[[Draw], Case]] = {
    **{name: rnn(name) for name in ("RNN", "LSTM", "GRU")},
    **{name: cell(name) for name in ("RNNCell", "LSTMCell", "GRUCell")},
}
