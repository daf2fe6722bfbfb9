"""The fuzz engine: value strategies, one example (``Case``), and running it in scratch and in torch."""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from hypothesis import strategies as st

import scratch.nn
from scratch import nn
from torch_ref.arrays import leaves, random_like, tree_map
from torch_ref.convert import TORCH_DTYPES

CI_EXAMPLES = 30
NOT_FUZZED = {  # abstract bases: nothing to run on their own
    "Module": "the abstract base: its forward raises NotImplementedError by design",
    "RNNBase": "the base of RNN, LSTM and GRU, fuzzed through them",
    "RNNCellBase": "the base of RNNCell, LSTMCell and GRUCell, fuzzed through them",
    **{name: "a container without a forward of its own, as torch's (test_container.py)"
       for name in ("ModuleList", "ModuleDict", "ParameterList", "ParameterDict")},
    "NonDynamicallyQuantizableLinear": "Linear under the name torch gives MultiheadAttention's out_proj",
    "MultiheadAttention": "no recipe yet: parity over every option and mask in test_attention.py",
    **{name: "no recipe yet: parity in train and eval, every mask and layout in test_transformer.py"
       for name in ("TransformerEncoderLayer", "TransformerDecoderLayer", "TransformerEncoder", "TransformerDecoder",
                    "Transformer")},
}


# ------------------------------------------------------------------------------------ values
SPECIALS = [0.0, -0.0, 1e30, -1e30, 1e-30, -1e-30, 1e-45, np.inf, -np.inf, np.nan, 1e4, -1e4]
FLOATS = [np.float32, np.float64]
ODD_DTYPES = [np.float16, np.int64, np.bool_]


@st.composite
def dtypes(draw, odd: bool = True) -> Any:
    """float32 or float64 mostly; with ``odd``, float16, int64 or bool one time in eight."""
    if odd and draw(st.integers(0, 7)) == 0:
        return draw(st.sampled_from(ODD_DTYPES))
    return draw(st.sampled_from(FLOATS))


@st.composite
def arrays(draw, shape: tuple, dtype: Any, low: float | None = None, high: float | None = None) -> np.ndarray:
    """Random normals times a drawn scale (uniform in [low, high] if given), with special values planted."""
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    if low is not None:
        x = rng.uniform(low, high, shape)
    else:
        x = rng.standard_normal(shape) * draw(st.sampled_from([1.0, 3.0, 1e4]))
    if x.size and draw(st.integers(0, 2)) == 0:  # special values at a few drawn places
        for _ in range(draw(st.integers(1, 3))):
            x.flat[draw(st.integers(0, x.size - 1))] = draw(st.sampled_from(SPECIALS))
    with np.errstate(all="ignore"):  # 1e30 overflows float16, nan has no int: what the cast gives is the input
        return np.asarray(x, dtype=dtype)


def classes(draw, shape: tuple, n: int) -> np.ndarray:
    """Class indices: in range mostly, sometimes one out of range (n or -1); int64, sometimes int32 or float."""
    target = np.asarray(np.random.default_rng(draw(st.integers(0, 2**16))).integers(0, max(n, 1), shape))
    if target.size and draw(st.integers(0, 5)) == 0:
        target.flat[0] = draw(st.sampled_from([n, -1, -100]))
    return target.astype(draw(st.sampled_from([np.int64] * 6 + [np.int32, np.float32])))


def shapes(draw, core: tuple, batch: bool = True, unbatched: bool = True, wrong: bool = True) -> tuple:
    """``(N, *core)`` with N in 0..3, or ``core`` (unbatched), or a wrong number of dims (one in ten)."""
    choice = draw(st.integers(0, 9))
    if wrong and choice == 0:
        return draw(st.sampled_from([(), (2,), (1, 2, 3, 2, 1)]))
    if (unbatched and choice <= 2) or not batch:
        return core
    return (draw(st.sampled_from([0, 1, 2, 3])), *core)


# ---------------------------------------------------------------------------- the two engines
@dataclass
class Case:
    """One fuzz example: a module's options and the inputs its forward gets (a loss's target last)."""

    name: str
    options: dict = field(default_factory=dict)
    inputs: tuple = ()
    dtype: Any = None  # the parameters' dtype, for a module that owns some
    train: bool = True
    seed: int = 0

    @property
    def is_loss(self) -> bool:
        return self.name.endswith("Loss")


def _extras(case: Case, torch_side: bool = False) -> dict:
    """The dtype (and, in scratch, the rng) keywords a constructor takes."""
    params = inspect.signature(scratch.nn.__dict__[case.name]).parameters
    extra = {}
    if "dtype" in params and case.dtype is not None:
        extra["dtype"] = TORCH_DTYPES[np.dtype(case.dtype)] if torch_side else case.dtype
    if "rng" in params and not torch_side:
        extra["rng"] = np.random.default_rng(case.seed)
    return extra


def build(case: Case, engine: Any = nn) -> Any:
    """The module in ``engine`` (scratch.nn or torch.nn), from the case's options, in its train/eval mode."""
    torch_side = engine is torch.nn
    if case.name == "Sequential":
        extra = _extras(Case("Linear", dtype=case.dtype, seed=case.seed), torch_side)
        a, b = case.options["in_features"], case.options["hidden"]
        module = engine.Sequential(engine.Linear(a, b, **extra), engine.Tanh(), engine.Linear(b, 2, **extra))
    else:
        options = {k: torch.tensor(v) if torch_side and isinstance(v, np.ndarray) else v
                   for k, v in case.options.items()}
        module = getattr(engine, case.name)(**options, **_extras(case, torch_side))
    module.train(case.train)
    return module


def fresh_inputs(case: Case) -> tuple:
    return tree_map(lambda x: np.array(x, copy=True), case.inputs)


def run_scratch(module: nn.Module, case: Case) -> None:
    """Forward, then backward with a random upstream gradient; a NumPy RuntimeWarning raises."""
    rng = np.random.default_rng(1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        warnings.simplefilter("error", RuntimeWarning)
        out = module(*fresh_inputs(case))
        grads = tree_map(lambda o: random_like(o, rng), out)
        module.backward(*grads) if isinstance(out, tuple) else module.backward(grads)


def run_torch(case: Case) -> None:
    """torch's own module, forward and backward; every float-expected input requires grad, so an
    integer or bool one is rejected (torch cannot train on it)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        module = build(case, torch.nn)
    inputs = fresh_inputs(case)
    leaves_in = inputs[:-1] if case.is_loss else inputs
    # fed as clones, as in module_parity, so an in-place module is not applied to a leaf that requires grad
    tensors = tuple(_tensors(case, i, arg) for i, arg in enumerate(leaves_in))
    if case.is_loss:
        tensors = (*tensors, torch.tensor(inputs[-1]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        outs = [o for o in leaves(module(*tensors)) if o.requires_grad]
        rng = np.random.default_rng(1)
        torch.autograd.backward(outs, [torch.from_numpy(random_like(o.detach().numpy(), rng)) for o in outs])


def _tensors(case: Case, position: int, arg: Any) -> Any:
    """Each leaf as a fresh tensor that requires grad where the input is float-expected (so that torch refuses
    an integer one there, as scratch does): not Embedding's and EmbeddingBag's integer leaves (indices, offsets),
    nor CTCLoss's (targets, lengths), not MaxUnpool's indices (its 2nd input)."""
    indexed = case.name in ("Embedding", "EmbeddingBag", "CTCLoss")
    unpool_indices = case.name.startswith("MaxUnpool") and position == 1
    return tree_map(lambda x: torch.tensor(x, requires_grad=not unpool_indices and (
        not indexed or np.asarray(x).dtype.kind == "f")).clone(), arg)


def outcome(run: Callable[[], Any]) -> BaseException | None:
    try:
        run()
    except Exception as error:
        return error
    return None


