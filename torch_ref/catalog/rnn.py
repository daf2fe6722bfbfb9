"""Recurrent layers: RNN (tanh, relu), LSTM and GRU, each in three layouts (one plain layer;
two bidirectional batch_first layers with an initial state; no bias with an initial state), and LSTM with
projections (proj_size) in the same three; and each on a PackedSequence of unsorted lengths (enforce_sorted=False),
with two layers, both directions, an initial state and proj_size.
``parity_tests/test_rnn.py`` runs every combination of ``OPTIONS`` through the same ``make``."""

from __future__ import annotations

import itertools

import numpy as np

from scratch import nn
from scratch.nn.utils.rnn import pack_padded_sequence

from .case import Case, Make, module_case
from .data import normal

L, N, H_IN, H = 5, 3, 4, 6
PROJ = 3  # LSTM's proj_size
LAYERS = {"RNN(tanh)": lambda **kw: nn.RNN(H_IN, H, nonlinearity="tanh", **kw),
          "RNN(relu)": lambda **kw: nn.RNN(H_IN, H, nonlinearity="relu", **kw),
          "LSTM": lambda **kw: nn.LSTM(H_IN, H, **kw), "GRU": lambda **kw: nn.GRU(H_IN, H, **kw)}


def make_rnn(kind: str, num_layers: int, bidirectional: bool, batch_first: bool, bias: bool, with_state: bool,
             proj_size: int = 0) -> Make:
    """With ``proj_size`` (LSTM only), h_0 has proj_size features and c_0 hidden_size."""
    def make(dtype: np.dtype, rng: np.random.Generator) -> tuple[nn.Module, list]:
        module = LAYERS[kind](num_layers=num_layers, bidirectional=bidirectional, batch_first=batch_first, bias=bias,
                              dtype=dtype, rng=rng, **({"proj_size": proj_size} if proj_size else {}))
        x = normal(rng, dtype, N, L, H_IN) if batch_first else normal(rng, dtype, L, N, H_IN)
        if not with_state:
            return module, [x]
        states = [normal(rng, dtype, num_layers * (2 if bidirectional else 1), N, size) for size in (proj_size or H, H)]
        return module, [x, tuple(states) if kind == "LSTM" else states[0]]
    return make


def rnn_name(kind: str, num_layers: int, bidirectional: bool, batch_first: bool, bias: bool, with_state: bool,
             proj_size: int = 0) -> str:
    flags = [f"proj_size={proj_size}"] * bool(proj_size) + [f"num_layers={num_layers}"]
    flags += ["bidirectional"] * bidirectional + ["batch_first"] * batch_first
    flags += ["bias=False"] * (not bias) + ["h_0"] * with_state
    return f"{kind}[{','.join(flags)}]"


# num_layers, bidirectional, batch_first, bias, with an initial state
OPTIONS = list(itertools.product((1, 2), (False, True), (False, True), (True, False), (False, True)))
LAYOUTS = [(1, False, False, True, False), (2, True, True, True, True), (1, False, False, False, True)]


def _cases() -> list[Case]:
    checks = [module_case(rnn_name(kind, *options), make_rnn(kind, *options))
              for kind in LAYERS for options in LAYOUTS]
    checks += [module_case(rnn_name("LSTM", *options, proj_size=PROJ), make_rnn("LSTM", *options, proj_size=PROJ))
               for options in LAYOUTS]
    checks.append(module_case("GRU[unbatched,h_0]", lambda d, r: (nn.GRU(H_IN, H, dtype=d, rng=r), [
        normal(r, d, L, H_IN), normal(r, d, 1, H)])))
    return checks


CASES: list[Case] = _cases()


def _dropout_eval(kind: str) -> Make:
    """Two layers with dropout between them, in eval mode (no dropout), as torch; training draws masks that
    torch cannot be handed (``parity_tests/test_rnn.py`` checks that against torch layer by layer)."""
    def make(dtype: np.dtype, rng: np.random.Generator) -> tuple[nn.Module, list]:
        module = LAYERS[kind](num_layers=2, dropout=0.5, dtype=dtype, rng=rng).eval()
        return module, [normal(rng, dtype, L, N, H_IN)]
    return make


CASES += [module_case(f"{kind}[num_layers=2,dropout=0.5,eval]", _dropout_eval(kind)) for kind in LAYERS]


# ------------------------------------------------------------------ packed sequences
PACKED_LENGTHS = [3, L, 1, 4]  # unsorted, one sequence of length 1: packed with enforce_sorted=False


def make_packed(kind: str, num_layers: int = 1, bidirectional: bool = False, with_state: bool = False,
                proj_size: int = 0, enforce_sorted: bool = False) -> Make:
    """A PackedSequence of ``PACKED_LENGTHS`` (sorted in decreasing order with ``enforce_sorted``), padded with
    NaN past each sequence's end: packing must drop the padding, so a NaN in the output means a row leaked."""
    def make(dtype: np.dtype, rng: np.random.Generator) -> tuple[nn.Module, list]:
        module = LAYERS[kind](num_layers=num_layers, bidirectional=bidirectional, dtype=dtype, rng=rng,
                              **({"proj_size": proj_size} if proj_size else {}))
        lengths = sorted(PACKED_LENGTHS, reverse=True) if enforce_sorted else PACKED_LENGTHS
        x = normal(rng, dtype, L, len(lengths), H_IN)
        x[np.arange(L)[:, None] >= np.array(lengths)[None, :]] = np.nan
        packed = pack_padded_sequence(x, lengths, enforce_sorted=enforce_sorted)
        if not with_state:
            return module, [packed]
        size = num_layers * (2 if bidirectional else 1)
        states = [normal(rng, dtype, size, len(lengths), h) for h in (proj_size or H, H)]
        return module, [packed, tuple(states) if kind == "LSTM" else states[0]]
    return make


CASES += [module_case(f"{kind}[packed]", make_packed(kind)) for kind in LAYERS]
CASES += [
    module_case("LSTM[packed,enforce_sorted]", make_packed("LSTM", enforce_sorted=True)),
    module_case("GRU[packed,num_layers=2,bidirectional,h_0]", make_packed("GRU", 2, True, True)),
    module_case("RNN(tanh)[packed,bidirectional,h_0]", make_packed("RNN(tanh)", 1, True, True)),
    module_case("RNN(relu)[packed,num_layers=2,h_0]", make_packed("RNN(relu)", 2, False, True)),
    module_case("LSTM[packed,num_layers=2,bidirectional,h_0]", make_packed("LSTM", 2, True, True)),
    module_case("LSTM[packed,proj_size=3,num_layers=2,bidirectional,h_0]", make_packed("LSTM", 2, True, True, PROJ)),
]
