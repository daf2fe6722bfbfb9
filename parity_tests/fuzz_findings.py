"""The fuzz verdicts: how an example is judged, and the known findings (scratch's deliberate differences from
torch are in fuzz_deliberate.py)."""

from __future__ import annotations

import copy
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from scratch import nn
from torch_ref.arrays import leaves, tree_map
from torch_ref.component import loss_parity, loss_parity_of, module_parity
from torch_ref.report import Comparison, ParityResult
from torch_ref.tolerance import MIN_GRAD_NORM, relative_error

from .fuzz_deliberate import DELIBERATE, ELEMENTWISE_LOSSES
from .fuzz_engine import Case, build, fresh_inputs, outcome, run_scratch, run_torch


# --------------------------------------------------------------------------------- verdicts
@dataclass
class Verdict:
    kind: str  # "ok", or the finding: crash, unnamed, warning, stricter, laxer, mismatch
    detail: str = ""


def _names(case: Case) -> set[str]:
    """The class names a clear error may give: the module's, or for a container, a layer's inside it; a lazy
    module's (LazyConv2d) or, after its first call materialized it, the class it became (Conv2d)."""
    return {case.name, "Linear"} if case.name == "Sequential" else {case.name, _became(case)}


def _became(case: Case) -> str:
    """The class a module is after its first call: a lazy module's ``cls_to_become`` (LazyLinear: Linear), whose
    deliberate differences and known findings it shares; any other module's own."""
    return case.name.removeprefix("Lazy")


def _deliberate(case: Case, kind: str) -> bool:
    return any(d.name == _became(case) and d.kind == kind and d.matches(case) for d in DELIBERATE)


def _rejection(case: Case, error: BaseException, torch_error: BaseException | None) -> Verdict:
    """Judge scratch's exception: a ValueError, TypeError or (an index out of range) IndexError naming
    the module, for an input torch rejects too or a deliberate difference."""
    said = f"{type(error).__name__}: {error}"
    if isinstance(error, Warning):
        return Verdict("warning", said)
    named = any(name in str(error) for name in _names(case))
    if named and _deliberate(case, "stricter"):
        return Verdict("ok")
    if not isinstance(error, (ValueError, TypeError, IndexError)):
        return Verdict("crash", said)
    if not named:
        return Verdict("unnamed", said)
    if torch_error is None:
        return Verdict("stricter", f"scratch: {said}; torch accepts")
    return Verdict("ok")


def _parity(module: nn.Module, case: Case, inputs: tuple) -> ParityResult:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if case.name == "GaussianNLLLoss":  # input, target, var: the gradients of input and var
            return loss_parity_of(module, inputs, (0, 2))
        if case.name in ("CTCLoss", "AdaptiveLogSoftmaxWithLoss"):  # integer targets: the float input's gradient
            # (the adaptive softmax's outputs are (output, loss), each with its upstream gradient)
            return module_parity(module, *inputs)
        if case.name.startswith("Triplet"):  # anchor, positive, negative: no target, three gradients
            return module_parity(module, *inputs)
        if case.is_loss:
            return loss_parity(module, inputs[0] if len(inputs) == 2 else inputs[:-1], inputs[-1])
        return module_parity(module, *inputs)


def _recast(module: nn.Module, case: Case, dtype: Any) -> ParityResult:
    """The comparison rerun with the module's weights and every float input cast to ``dtype``."""
    inputs = tree_map(lambda x: np.asarray(x, dtype) if np.asarray(x).dtype.kind == "f" else x, fresh_inputs(case))
    with np.errstate(over="ignore"):  # running statistics of a huge input (a lazy norm's first call) overflow: inf
        module = copy.deepcopy(module).to(dtype)
    return _parity(module, case, inputs)


def _terms(module: nn.Module, case: Case, result: ParityResult) -> dict[str, float]:
    """Per quantity, the size of the terms torch's value is a sum of, as far as rounding sees them: how far
    torch's float32 (or float16) value is from its float64 one, in float32 (float16) epsilons. A
    well-conditioned value gives about its own size; a cancellation of far larger terms (a normalization over
    one or two elements, a saturated tanh) gives the terms' size, and rounding in either engine is relative to
    that (see tolerance.py)."""
    half = any(np.asarray(x).dtype == np.float16 for x in leaves(case.inputs))
    low = np.float16 if half else np.float32  # float16 rounds where float32 may be exact: measure in its own eps
    low_result, high_result = _recast(module, case, low), _recast(module, case, np.float64)
    terms = {}
    for quantity in result.arrays:
        a, b = (r.arrays[quantity][1].astype(np.float64) for r in (low_result, high_result))
        finite = np.isfinite(a) & np.isfinite(b)
        terms[quantity] = float(np.abs(a[finite] - b[finite]).max(initial=0.0)) / float(np.finfo(low).eps)
    return terms


def _compare(module: nn.Module, case: Case) -> Verdict:
    """Parity by the tolerance policy; what fails it is judged again relative to the terms (see _terms)."""
    if getattr(module, "has_uninitialized_params", lambda: False)():  # lazy: its first call materializes it (from
        with warnings.catch_warnings():  # scratch's generator); the twin then gets those weights
            warnings.simplefilter("ignore")
            module(*fresh_inputs(case))
    original = copy.deepcopy(module)  # for _terms: the same weights, buffers and dropout generator state
    result = _parity(module, case, fresh_inputs(case))
    failed = [c for c in result.comparisons if not c.ok]
    terms = _terms(original, case, result) if failed else {}
    bad = [c.describe(*result.arrays.get(c.quantity, ())) for c in failed if not _matches(c, result, terms)]
    return Verdict("mismatch", "\n".join(bad)) if bad and not _deliberate(case, "mismatch") else Verdict("ok")


def _matches(c: Comparison, result: ParityResult, terms: dict[str, float]) -> bool:
    """Within the tolerance relative to |b_i| + max|b| + the terms; a gradient that is trivial (~0) in
    torch may also be trivial in scratch (the measure's scale is then the ~0 gradient itself)."""
    if c.quantity not in result.arrays:  # backward returned the wrong number of gradients
        return False
    ours, theirs = result.arrays[c.quantity]
    finite = np.abs(theirs[np.isfinite(theirs)].astype(np.float64))
    if c.problem.startswith("shape/dtype"):
        return False
    if relative_error(ours, theirs, float(finite.max(initial=0.0)) + terms.get(c.quantity, 0.0))[1] <= c.tol:
        return True
    return c.problem.startswith("trivial") and bool(np.linalg.norm(ours.astype(np.float64)) <= MIN_GRAD_NORM)


def judge(case: Case) -> Verdict:
    torch_error = outcome(lambda: run_torch(case))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the UserWarnings torch gives too (dropout with one layer, ...)
            module = build(case)
    except Exception as error:
        return _rejection(case, error, torch_error)
    error = outcome(lambda: run_scratch(copy.deepcopy(module), case))
    if error is not None:
        return _rejection(case, error, torch_error)
    if torch_error is None:
        return _compare(module, case)
    if _deliberate(case, "laxer"):
        return Verdict("ok")
    return Verdict("laxer", f"scratch accepts; torch: {type(torch_error).__name__}: {torch_error}")


# ------------------------------------------------------------------------------- known findings
@dataclass(frozen=True)
class KnownFinding:
    """A reported, unfixed finding: in the modules ``names``, a fuzz example that ``matches`` and gives a
    finding of one of ``kinds`` does not fail the fuzz test; ``example(name)`` must still give one (or
    test_known_finding_still_reproduces fails, so a fixed module is struck from ``names``)."""

    what: str
    names: tuple[str, ...]
    kinds: tuple[str, ...]
    matches: Callable[[Case], bool]
    example: Callable[[str], Case]


def _float_expected(case: Case) -> list[np.ndarray]:
    """The inputs that must be floats: every input but a loss's target and Embedding's indices."""
    if case.name == "Embedding":
        return []
    if case.name.startswith("MaxUnpool"):
        return [np.asarray(case.inputs[0])]
    return [np.asarray(x) for x in leaves(case.inputs[:-1] if case.is_loss else case.inputs)]


def _floats(case: Case) -> list[np.ndarray]:
    """Every float array of the case: inputs, targets and options (a loss's weight)."""
    arrays = [np.asarray(x) for x in [*leaves(case.inputs), *case.options.values()] if isinstance(x, np.ndarray)]
    return [x for x in arrays if x.dtype.kind == "f"]


def _extreme(case: Case) -> bool:
    """Some float array holds inf, nan, |x| >= 1e3 (exp and squares overflow) or 0 < |x| < 1e-30 (1 / x
    overflows), or is float16; or eps = 0 (a constant group divides by 0)."""
    with np.errstate(all="ignore"):
        return case.options.get("eps") == 0 or any(
            x.dtype == np.float16 or not (np.abs(x) < 1e3).all() or ((np.abs(x) < 1e-30) & (x != 0)).any()
            for x in _floats(case))


def _simple(name: str, x: np.ndarray) -> Case:
    """``name`` with its default options (the few that need one get it) on input ``x`` (and a like target)."""
    options = {"Softmax": {"dim": -1}, "LogSoftmax": {"dim": -1}, "Unflatten": {"dim": -1, "unflattened_size": (2, 2)},
               "KLDivLoss": {"reduction": "batchmean"}, "MaxPool1d": {"kernel_size": 2, "padding": 1, "dilation": 2},
               "MaxPool2d": {"kernel_size": 2, "padding": 1, "dilation": 2},
               "AdaptiveAvgPool2d": {"output_size": 0}, "LayerNorm": {"normalized_shape": ()}}.get(name, {})
    if name == "CosineEmbeddingLoss":
        return Case(name, options, (x, x[::-1].copy(), np.ones(x.shape[:1], np.int64)))
    if name in ("MultiMarginLoss", "NLLLoss", "CrossEntropyLoss"):
        return Case(name, options, (x, np.zeros(x.shape[:1], np.int64)))
    if name in ("LayerNorm", "GroupNorm"):
        return Case(name, {"normalized_shape": 2} if name == "LayerNorm" else {"num_groups": 1, "num_channels": 2},
                    (x,), x.dtype)
    return Case(name, options, (x, x[::-1].copy()) if name.endswith("Loss") else (x,))


EXTREME = np.array([[np.inf, -np.inf, 1.0], [np.nan, 1e30, 2.0]])


def _extreme_example(name: str) -> Case:
    layers = {"Linear": {"in_features": 3, "out_features": 2}, "Sequential": {"in_features": 3, "hidden": 2},
              "BatchNorm1d": {"num_features": 3}, **{rnn: {"input_size": 3, "hidden_size": 2} for rnn in RNNS + CELLS}}
    if "BatchNorm" in name:  # BatchNorm1d-3d and the lazy ones: 3 channels, the extremes along the batch
        dims = int(name[-2])
        x = EXTREME if dims == 1 else EXTREME.T.reshape(1, 3, 2, *(1,) * (dims - 1)).copy()
        return Case(name, {} if name.startswith("Lazy") else {"num_features": 3}, (x,), np.float64)
    if name.startswith("InstanceNorm"):  # one channel of two values, unbatched
        x = np.array([np.inf, -0.132], np.float32).reshape(1, *(1,) * (int(name[-2]) - 1), 2)
        return Case(name, {"num_features": 1}, (x,), np.float32, train=False)
    if name == "KLDivLoss":
        return Case(name, {"log_target": True}, (np.array([0.1]), np.array([1e30])))
    if name == "LayerNorm":
        return Case(name, {"normalized_shape": 2}, (np.array([[np.inf, 1.0]]),), np.float64)
    if name == "CosineEmbeddingLoss":
        x = np.array([[1e30, 1.0]], np.float32)
        return Case(name, {}, (x, x.copy(), np.array([1])))
    small = {"HuberLoss": ([0.125], [1e30]), "MSELoss": ([0.0], [1e30]), "SmoothL1Loss": ([0.125], [1e30]),
             "BCEWithLogitsLoss": ([0.0], [np.inf]), "L1Loss": ([np.inf], [np.inf])}
    if name in small:
        return Case(name, {}, tuple(np.array(v, np.float32) for v in small[name]))
    if name == "GroupNorm":
        return Case(name, {"num_groups": 1, "num_channels": 2, "affine": False}, (np.array([[[np.inf], [1.0]]]),))
    if name in ("LeakyReLU", "ELU"):
        return Case(name, {"negative_slope" if name == "LeakyReLU" else "alpha": 0.0}, (np.array([np.inf, 1257.0]),))
    if name == "NLLLoss":
        return Case(name, {"ignore_index": 0}, (np.array([np.inf, 1.0]), np.array(0)))
    if name == "CrossEntropyLoss":
        return Case(name, {"weight": np.array([1e-45], np.float32)}, (np.array([0.125], np.float32), np.array(0)))
    if name == "BCELoss":
        return Case(name, {}, (np.array(0.5, np.float32), np.array(np.inf, np.float32)))
    if name == "PReLU":
        return Case(name, {"init": 0.0}, (np.array([[np.inf, -0.125]], np.float32),), np.float32)
    if name in layers:
        return Case(name, layers[name], (EXTREME.copy(),), np.float64)
    return _simple(name, EXTREME.copy())


def _nan_example(name: str) -> Case:
    if name == "SmoothL1Loss":
        return Case(name, {"beta": 0.0}, (np.array([np.nan, 1.0]), np.array([0.5, 0.25])))
    if name == "RNN":
        options = {"input_size": 1, "hidden_size": 1, "nonlinearity": "relu", "bias": False}
        return Case(name, options, (np.array([[0.1]], np.float32), np.array([[np.nan]], np.float32)), np.float32)
    return _simple(name, np.array([[np.nan, 1.0], [-1.0, 0.5]]))


def _has_nan(case: Case) -> bool:
    return any(np.isnan(x).any() for x in _floats(case))


def _empty(case: Case) -> bool:
    return any(np.asarray(x).size == 0 for x in leaves(case.inputs))


def _empty_example(name: str) -> Case:
    return _simple(name, np.ones((0, 3) if name.endswith("Loss") else (3, 0)))


RNNS = ("RNN", "LSTM", "GRU")
CELLS = ("RNNCell", "LSTMCell", "GRUCell")
ACTIVATIONS = ("CELU", "ELU", "GELU", "Hardtanh", "LeakyReLU", "LogSoftmax", "Mish", "ReLU", "ReLU6", "SELU", "SiLU",
               "Sigmoid", "Softmax", "Softplus", "Softsign", "Tanh")
LOSSES = (*ELEMENTWISE_LOSSES, "CrossEntropyLoss", "NLLLoss", "MultiMarginLoss", "CosineEmbeddingLoss")
KNOWN_FINDINGS: list[KnownFinding] = [
    KnownFinding("an integer or bool input where floats are needed is not refused with a clear TypeError",
                 ("Identity", "Flatten", "Unflatten"),
                 ("laxer", "unnamed", "crash", "warning"),
                 lambda case: any(x.dtype.kind in "biu" for x in _float_expected(case)),
                 lambda name: _simple(name, np.arange(-4, 4).reshape(2, 4) % 2 == 0)),
    KnownFinding("a NumPy RuntimeWarning (overflow, invalid, divide) on inf, nan or huge inputs, where torch "
                 "silently gives inf or nan", ("GELU", "LogSoftmax", "Mish", "SiLU", "Softmax", "Softsign",
                                               "HingeEmbeddingLoss", "CrossEntropyLoss", "MultiMarginLoss", "Linear",
                                               "KLDivLoss", "LayerNorm", "CosineEmbeddingLoss", "HuberLoss",
                                               "MSELoss", "SmoothL1Loss", "BCEWithLogitsLoss", "L1Loss", "GroupNorm",
                                               "LeakyReLU", "ELU", "NLLLoss", "PReLU",
                                               "Sequential", "BatchNorm1d", "BatchNorm2d", "BatchNorm3d",
                                               "LazyBatchNorm1d", "LazyBatchNorm2d", "LazyBatchNorm3d",
                                               "InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d", *RNNS, *CELLS),
                 ("warning",), _extreme, _extreme_example),
    KnownFinding("a 0-size input: a crash, an unnamed error or a warning where torch gives an empty result or nan",
                 ("KLDivLoss",),
                 ("crash", "unnamed", "warning"), _empty, _empty_example),
    KnownFinding("float16 is computed in float16, so squares and exps overflow (and BCELoss's 1e-12 clamp underflows) "
                 "with a RuntimeWarning where torch, computing in float32, stays finite",
                 ("KLDivLoss", "SmoothL1Loss", "CosineEmbeddingLoss", "Softplus", "HuberLoss", "MSELoss",
                  "BCEWithLogitsLoss", "BCELoss", "GELU"),
                 ("warning", "mismatch"), lambda case: any(x.dtype == np.float16 for x in _float_expected(case)),
                 lambda name: _simple(name, np.array([[0.0, -0.0], [0.0, 0.0]] if name == "BCELoss" else
                                                     [[-4.125]] if name == "GELU" else
                                                     [[473.5, 1e4], [-300.0, 0.5]], np.float16))),
    KnownFinding("the gradient at a NaN input of ELU, SELU, CELU, Hardswish (NaN) and Hardtanh, ReLU6, Hardshrink "
                 "(0): scratch gives what torch's vectorized kernel gives, but torch's scalar tail, which handles "
                 "small tensors, passes the gradient on", ("CELU", "ELU", "SELU", "Hardtanh", "ReLU6", "Hardswish",
                                                           "Hardshrink"), ("mismatch",), _has_nan, _nan_example),
    KnownFinding("GaussianNLLLoss in float16 is computed in float16: 1 / var overflows for var clamped to 1e-6, so "
                 "dL/dvar can be nan (inf - inf) where torch, computing in float32, gives -inf",
                 ("GaussianNLLLoss",), ("mismatch", "warning"),
                 lambda case: any(x.dtype == np.float16 for x in _float_expected(case)),
                 lambda name: Case(name, {}, (np.full((2, 2), 300.0, np.float16), np.zeros((2, 2), np.float16),
                                              np.zeros((2, 2), np.float16)))),
    KnownFinding("AdaptiveAvgPool3d in float16: torch's CPU kernel sums each window in float16, so a window "
                 "summing past 65504 gives inf where scratch, accumulating in float32 (as torch's 1d and 2d "
                 "kernels do), gives the mean", ("AdaptiveAvgPool3d",), ("mismatch",),
                 lambda case: any(x.dtype == np.float16 for x in _float_expected(case)),
                 lambda name: Case(name, {"output_size": 2}, (np.full((1, 1, 3, 3, 3), 3e4, np.float16),))),
    KnownFinding("Softplus(beta=0) divides by zero with a RuntimeWarning; torch gives inf or nan silently",
                 ("Softplus",), ("warning",), lambda case: case.options["beta"] == 0,
                 lambda name: Case(name, {"beta": 0.0}, (np.array([0.5, -1.0]),))),
    KnownFinding("float32 variance overflow (|x| > 1e19): torch gives nan, scratch stays finite",
                 ("LayerNorm", "GroupNorm"), ("mismatch",),
                 lambda case: any(x.dtype == np.float32 and (np.abs(x) > 1e19).any() for x in _float_expected(case)),
                 lambda name: _simple(name, np.array([[1e30, 1.0], [2.0, -1.0]], np.float32))),
    KnownFinding("interpolation where huge (|x| >= 1e29) values cancel: scratch applies one axis after the other "
                 "as torch's generic kernel does, torch's float32 bilinear kernel sums the weighted corners in an "
                 "order not yet pinned down, so what survives the cancellation differs (agreement to round-off "
                 "otherwise, test_upsampling.py)", ("Upsample",), ("mismatch",),
                 lambda case: any((np.abs(x[np.isfinite(x)]) >= 1e29).any() for x in _float_expected(case)),
                 lambda name: Case(name, {"scale_factor": 0.5, "mode": "bilinear"},
                                   (np.array([[[[-1e30, -0.132], [1e30, 0.105]]]], np.float32),))),
]


# Findings fixed since they were found; test_fuzz.py checks each example stays "ok".
FIXED_FINDINGS: list[tuple[str, tuple[str, ...], Callable[[str], Case]]] = [
    ("float16 distances are computed in float32, as torch's: eps = 1e-6 squared no longer underflows",
     ("PairwiseDistance", "TripletMarginLoss", "TripletMarginWithDistanceLoss"),
     lambda name: Case(name, {}, (np.ones((2, 3), np.float16),) * (2 if name == "PairwiseDistance" else 3))),
    ("a float32 distance with an entry near 1e30 overflows to inf as torch's float32 sum does",
     ("PairwiseDistance", "TripletMarginLoss", "TripletMarginWithDistanceLoss"),
     lambda name: Case(name, {}, (np.array([[1e30, 0.5, 1.0]], np.float32), np.zeros((1, 3), np.float32),
                                  np.ones((1, 3), np.float32))[: 2 if name == "PairwiseDistance" else 3])),
    ("the gradient at a NaN input passes on (torch's masks are x <= 0; sign(NaN) is 0 in L1Loss)",
     ("ReLU", "L1Loss", "SmoothL1Loss", "RNN"), _nan_example),
    ("ELU, SELU and CELU use expm1 as torch does: a tiny negative x keeps its value",
     ("ELU", "SELU", "CELU"), lambda name: _simple(name, np.array([-1e-30], np.float32))),
    ("a 0-size input to Softmax and LogSoftmax gives an empty result", ("Softmax", "LogSoftmax"), _empty_example),
    ("a BCELoss target outside [0, 1] is refused, as torch does", ("BCELoss",),
     lambda name: Case(name, {}, (np.full(3, 0.5), np.array([0.0, 1.5, -0.5])))),
    ("Linear with 0 in_features gives empty gradients", ("Linear",),
     lambda name: Case(name, {"in_features": 0, "out_features": 1, "bias": False}, (np.empty(0, np.float32),),
                       np.float32)),
    ("a bad dropout probability is refused with torch's message after the module's name", ("Dropout", "Dropout2d"),
     lambda name: Case(name, {"p": 1.5}, (np.ones((1, 2, 3, 3), np.float32),), np.float32)),
    ("a NaN or inf in AdaptiveAvgPool2d's input stays in the windows that hold it", ("AdaptiveAvgPool2d",),
     lambda name: Case(name, {"output_size": 2}, (np.array([[[np.nan, 1.0]]]),))),
    ("output_size 0 is refused, as torch's backward refuses it", ("AdaptiveAvgPool1d", "AdaptiveAvgPool2d",
                                                                 "AdaptiveAvgPool3d"),
     lambda name: Case(name, {"output_size": 0}, (np.ones((1, 2) + (3,) * int(name[-2])),))),
    ("class-probability targets with ignore_index >= 0 are refused, as torch does", ("CrossEntropyLoss",),
     lambda name: Case(name, {"ignore_index": 0}, (np.ones((2, 3)), np.full((2, 3), 0.3)))),
    ("adaptive average pooling to all ones is a mean, as torch's: empty dims give NaN (or an empty output)",
     ("AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveAvgPool3d"),
     lambda name: Case(name, {"output_size": 1}, (np.ones((2,) + (0,) * int(name[-2]), np.float16),))),
    ("InstanceNorm refuses running statistics of the wrong size even for an empty batch, as torch's update does",
     ("InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d"),  # (C = 1 would broadcast: accepted, as in torch)
     lambda name: Case(name, {"num_features": 3, "track_running_stats": True},
                       (np.ones((0, 2) + (2,) * int(name[-2]), np.float32),), np.float32)),
    ("momentum 0 and a batch variance beyond float32: the running variance is NaN (0 inf), as torch's",
     ("BatchNorm1d", "InstanceNorm1d"),
     lambda name: Case(name, {"num_features": 1, "momentum": 0.0, **({"track_running_stats": True}
                                                                     if name == "InstanceNorm1d" else {})},
                       (np.array([[1e30], [-0.132]], np.float32).reshape((2, 1) if name[0] == "B" else (1, 2)),),
                       np.float32)),
]


def known(case: Case, verdict: Verdict) -> bool:
    return any(_became(case) in k.names and verdict.kind in k.kinds and k.matches(case) for k in KNOWN_FINDINGS)


