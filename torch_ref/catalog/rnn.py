"""Recurrent layers: RNN (tanh, relu), LSTM and GRU, each in three layouts (one plain layer;
two bidirectional batch_first layers with an initial state; no bias with an initial state), and LSTM with
projections (proj_size) in the same three.
``parity_tests/test_rnn.py`` runs every combination of ``OPTIONS`` through the same ``make``."""

from __future__ import annotations

import itertools

import numpy as np

from scratch import nn

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
