"""Bad input gets a clear error (issue 7, "Clear errors"): one line per case, torch's side run live.

scratch must raise ``exc`` with a message matching ``match`` (naming the class, for modules and losses);
torch, given the same call, must raise too (``RAISES``, any exception type) or, where scratch deliberately
differs (the comment on the line says why), accept it (``ACCEPTS``). The rules (``scratch/nn/modules/_checks.py``):
inputs are np.ndarray (torch refuses non-tensors); float layers take floating arrays only, any float dtype,
float16 included, for parameter-free ones (torch computes some on ints: scratch has no type promotion);
layers with parameters take their dtype only; ValueError for a bad value or shape, TypeError for a bad type
or dtype, IndexError for an index or dim out of range, as torch's.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
import torch

import scratch.nn as snn
import scratch.optim as soptim
from scratch.nn import Parameter
from scratch.optim import lr_scheduler as ssched

RAISES, ACCEPTS = "raises", "accepts"
R = np.random.default_rng(7)


def x(*shape: int, dtype: Any = np.float32) -> np.ndarray:
    return R.standard_normal(shape).astype(dtype)


def ints(*shape: int, high: int = 3) -> np.ndarray:
    return R.integers(0, high, size=shape)


def idx(*values: Any) -> np.ndarray:
    return np.array(values)


@dataclass(frozen=True)
class Bad:
    id: str
    scratch: Callable[[], Any]
    torch: Callable[[], Any]
    exc: type[Exception]
    match: str
    torch_does: str
    named: str | None  # the class name the message must contain


def _tensor(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return torch.from_numpy(value.copy())
    return tuple(_tensor(v) for v in value) if isinstance(value, tuple) else value


def call(name: str, label: str, args: tuple, *inputs: Any, exc: type[Exception] = ValueError, match: str,
         torch_does: str = RAISES, double: bool = False, **kwargs: Any) -> Bad:
    """``name(*args, **kwargs)``, cast to float64 if ``double``, called on ``inputs`` if any."""
    def run(lib: Any, convert: Callable[[Any], Any]) -> Any:
        module = getattr(lib, name)(*args, **kwargs)
        module = module.double() if double else module
        return module(*[convert(v) for v in inputs]) if inputs else module

    return Bad(f"{name}-{label}", lambda: run(snn, lambda v: v), lambda: run(torch.nn, _tensor), exc, match,
               torch_does, name)


def ctor(name: str, label: str, *args: Any, **kwargs: Any) -> Bad:
    """A constructor given bad hyperparameters."""
    return call(name, label, args, **kwargs)


def _params(kind: str, lib: Any) -> Any:
    p = Parameter(np.zeros(2)) if lib is snn else torch.nn.Parameter(torch.zeros(2))
    return {"one": [p], "empty": [], "int": 3, "single": p, "set": [{"params": {p}}],
            "twice": [{"params": [p]}, {"params": [p]}], "array": [np.zeros(2) if lib is snn else torch.zeros(2)]}[kind]


def opt(name: str, label: str, *, exc: type[Exception] = ValueError, match: str, torch_does: str = RAISES,
        params: str = "one", **kwargs: Any) -> Bad:
    """An optimizer given bad hyperparameters or bad params."""
    return Bad(f"{name}-{label}", lambda: getattr(soptim, name)(_params(params, snn), **kwargs),
               lambda: getattr(torch.optim, name)(_params(params, torch.nn), **kwargs), exc, match, torch_does, None)


def sched(name: str, label: str, *, exc: type[Exception] = ValueError, match: str, optimizer: str = "SGD",
          steps: int = 0, step_args: tuple = (), **kwargs: Any) -> Bad:
    """A scheduler given bad hyperparameters, or stepped ``steps`` times with ``step_args``."""
    def run(optim_lib: Any, sched_lib: Any, lib: Any) -> Any:
        opt_kwargs = {"lr": 0.1, "momentum": 0.9} if optimizer == "SGD" else {"lr": 0.1}
        target = object() if optimizer == "none" else getattr(optim_lib, optimizer)(_params("one", lib), **opt_kwargs)
        scheduler = getattr(sched_lib, name)(target, **kwargs)
        for _ in range(steps):
            scheduler.step(*step_args)

    return Bad(f"{name}-{label}", lambda: run(soptim, ssched, snn),
               lambda: run(torch.optim, torch.optim.lr_scheduler, torch.nn), exc, match, RAISES, None)


# ------------------------------------------------------------------------------------------------ cases
LIST = [[0.5, -1.0], [2.0, 3.0]]
NAN = float("nan")

TORCH_INT_OK = ("Hardtanh", "ReLU", "ReLU6", "Sigmoid", "Softsign", "Tanh")
ACTIVATIONS = ["CELU", "ELU", "GELU", "Hardtanh", "LeakyReLU", "Mish", "ReLU", "ReLU6", "SELU", "SiLU", "Sigmoid",
               "Softplus", "Softsign", "Tanh"]

MODULE_CASES = [
    # ---- elementwise activations: a list, an int and a bool input; float16 is accepted, as in torch
    *[call(a, "list", (), LIST, exc=TypeError, match=r"numpy\.ndarray.*list") for a in ACTIVATIONS],
    # torch computes ReLU, Tanh, ... on ints (or promotes them): scratch has no type promotion and refuses them all
    *[call(a, "int", (), ints(2, 3), exc=TypeError, match=r"floating.*int64",
           torch_does=ACCEPTS if a in TORCH_INT_OK else RAISES) for a in ACTIVATIONS],
    *[call(a, "bool", (), ints(2, 3) > 0, exc=TypeError, match=r"floating.*bool",
           torch_does=ACCEPTS if a in ("Sigmoid", "Tanh") else RAISES) for a in ACTIVATIONS],
    call("Softmax", "dim-out-of-range", (), x(2, 3), dim=2, exc=IndexError, match=r"dim.*\[-2, 1\].*2"),
    call("LogSoftmax", "dim-out-of-range", (), x(2, 3), dim=-3, exc=IndexError, match=r"dim.*\[-2, 1\].*-3"),
    call("Softmax", "int", (), ints(2, 3), dim=1, exc=TypeError, match=r"floating.*int64"),
    call("LogSoftmax", "int", (), ints(2, 3), dim=1, exc=TypeError, match=r"floating.*int64"),
    call("PReLU", "channels", (3,), x(2, 4), match=r"3 channels.*\(2, 4\)"),
    call("PReLU", "dtype", (), x(2, 4, dtype=np.float64), exc=TypeError, match=r"float32.*float64"),
    call("PReLU", "int", (), ints(2, 4), exc=TypeError, match=r"float32.*int64"),
    ctor("Hardtanh", "max-below-min", 1.0, -1.0, match=r"max_val \(-1\.0\).*min_val \(1\.0\)"),
    call("GELU", "approximate", (), x(2), approximate="tan", match=r"'none' or 'tanh'.*'tan'"),
    # ---- Linear
    call("Linear", "features", (3, 2), x(4, 5), match=r"\(\*, 3\).*\(4, 5\)"),
    call("Linear", "0-d", (3, 2), x(), match=r"\(\*, 3\).*\(\)"),
    call("Linear", "int", (3, 2), ints(4, 3), exc=TypeError, match=r"float32.*int64"),
    call("Linear", "float16", (3, 2), x(4, 3, dtype=np.float16), exc=TypeError, match=r"float32.*float16"),
    call("Linear", "dtype", (3, 2), x(4, 3, dtype=np.float64), exc=TypeError, match=r"float32.*float64"),
    call("Linear", "list", (3, 2), [[1.0, 2.0, 3.0]], exc=TypeError, match=r"numpy\.ndarray.*list"),
    ctor("Linear", "negative", -1, 2, match=r"in_features.*-1"),
    # ---- convolutions
    call("Conv1d", "ndim", (2, 4, 3), x(5), match=r"2-D.*3-D.*\(5,\)"),
    call("Conv1d", "channels", (2, 4, 3), x(1, 3, 8), match=r"\(N, 2, L\).*\(1, 3, 8\)"),
    call("Conv2d", "ndim", (2, 4, 3), x(2, 2, 8, 8, 1), match=r"3-D.*4-D.*\(2, 2, 8, 8, 1\)"),
    call("Conv2d", "channels", (2, 4, 3), x(1, 3, 8, 8), match=r"\(N, 2, H, W\).*\(1, 3, 8, 8\)"),
    call("Conv2d", "kernel-too-large", (2, 4, 5), x(1, 2, 4, 4), match=r"\(4, 4\) is smaller than.*kernel \(5, 5\)"),
    call("Conv1d", "kernel-too-large", (2, 4, 5), x(1, 2, 3), match=r"\(3,\) is smaller than.*kernel \(5,\)"),
    call("Conv2d", "int", (2, 4, 3), ints(1, 2, 5, 5), exc=TypeError, match=r"float32.*int64"),
    call("ConvTranspose2d", "channels", (2, 4, 3), x(1, 3, 5, 5), match=r"\(N, 2, H, W\).*\(1, 3, 5, 5\)"),
    call("ConvTranspose2d", "ndim", (2, 4, 3), x(5, 5), match=r"3-D.*4-D.*\(5, 5\)"),
    ctor("Conv2d", "groups", 3, 4, 3, groups=2, match=r"in_channels must be divisible by groups"),
    call("Conv2d", "stride-0", (2, 4, 3), x(1, 2, 5, 5), stride=0, match=r"stride must be >= 1.*\(0, 0\)"),
    ctor("Conv2d", "negative-channels", -2, 4, 3, match=r"in_channels.*-2"),
    ctor("Conv2d", "padding-string", 2, 4, 3, padding="full", match=r"Invalid padding string 'full'"),
    ctor("Conv2d", "same-strided", 2, 4, 3, padding="same", stride=2, match=r"padding='same'.*strided"),
    ctor("Conv2d", "padding-mode", 2, 4, 3, padding_mode="wrap", match=r"padding_mode.*'wrap'"),
    # ---- pooling
    call("MaxPool2d", "ndim", (2,), x(4, 4), match=r"3-D.*4-D.*\(4, 4\)"),
    call("MaxPool1d", "ndim", (2,), x(4), match=r"2-D.*3-D.*\(4,\)"),
    call("AvgPool2d", "ndim", (2,), x(1, 1, 1, 4, 4), match=r"3-D.*4-D.*\(1, 1, 1, 4, 4\)"),
    call("AdaptiveAvgPool2d", "ndim", (2,), x(4), match=r"3-D.*4-D.*\(4,\)"),
    call("MaxPool2d", "kernel-too-large", (5,), x(1, 2, 3, 3), match=r"3x3.*output size.*too small"),
    call("AvgPool2d", "kernel-too-large", (5,), x(1, 2, 3, 3), match=r"3x3.*output size.*too small"),
    # torch pools int arrays; scratch refuses them, as every float layer
    call("MaxPool2d", "int", (2,), ints(1, 1, 4, 4), exc=TypeError, match=r"floating.*int64", torch_does=ACCEPTS),
    call("AvgPool2d", "int", (2,), ints(1, 1, 4, 4), exc=TypeError, match=r"floating.*int64", torch_does=ACCEPTS),
    call("AdaptiveAvgPool2d", "int", (2,), ints(1, 1, 4, 4), exc=TypeError, match=r"floating.*int64"),
    call("MaxPool2d", "padding-over-half", (2,), x(1, 1, 4, 4), padding=2, match=r"half of kernel size.*pad=\(2, 2\)"),
    call("MaxPool2d", "stride-0", (2,), x(1, 1, 4, 4), stride=0, match=r"stride.*greater than zero.*\(0, 0\)"),
    call("AdaptiveAvgPool2d", "negative", (-1,), x(1, 1, 4, 4), match=r"output_size.*-1"),
    # ---- normalization
    call("BatchNorm1d", "ndim", (3,), x(2, 3, 4, 5), match=r"2D or 3D.*4D.*\(2, 3, 4, 5\)"),
    call("BatchNorm1d", "channels", (3,), x(2, 4), match=r"3 channels.*\(2, 4\)"),
    call("BatchNorm2d", "ndim", (3,), x(2, 3, 4), match=r"4D.*3D.*\(2, 3, 4\)"),
    call("BatchNorm2d", "channels", (3,), x(2, 4, 2, 2), match=r"3 channels.*\(2, 4, 2, 2\)"),
    call("BatchNorm1d", "one-value-per-channel", (3,), x(1, 3), match=r"more than 1 value per channel.*\[1, 3\]"),
    call("BatchNorm1d", "int", (3,), ints(2, 3), exc=TypeError, match=r"float32.*int64"),
    call("BatchNorm1d", "dtype", (3,), x(2, 3), double=True, exc=TypeError, match=r"float64.*float32"),
    ctor("BatchNorm1d", "negative", -3, match=r"num_features.*-3"),
    call("LayerNorm", "trailing-shape", (4,), x(2, 3), match=r"\(\*, 4\).*\(2, 3\)"),
    call("LayerNorm", "int", (3,), ints(2, 3), exc=TypeError, match=r"float32.*int64"),
    call("GroupNorm", "channels", (2, 4), x(2, 6, 3), match=r"\(N, 4, \*\).*\(2, 6, 3\)"),
    call("GroupNorm", "ndim", (2, 4), x(4), match=r"\(N, 4, \*\).*\(4,\)"),
    ctor("GroupNorm", "divisible", 3, 4, match=r"num_channels \(4\).*divisible by num_groups \(3\)"),
    # torch's num_channels % num_groups raises ZeroDivisionError; scratch a ValueError that names num_groups
    ctor("GroupNorm", "zero-groups", 0, 4, match=r"num_groups must be >= 1, got 0"),
    ctor("LayerNorm", "negative", (3, -2), match=r"normalized_shape must be >= 0, got -2"),
    call("LayerNorm", "empty-shape", ((),), x(2, 3), match=r"normalized_shape.*at least 1-dimensional.*\(\)"),
    # ---- dropout
    ctor("Dropout", "p-above-1", 1.5, match=r"dropout probability.*between 0 and 1.*1\.5"),
    ctor("Dropout2d", "p-negative", -0.1, match=r"dropout probability.*between 0 and 1.*-0\.1"),
    call("Dropout", "int", (), ints(2, 3), exc=TypeError, match=r"floating.*int64"),
    call("Dropout", "list", (), LIST, exc=TypeError, match=r"numpy\.ndarray.*list"),
    call("Dropout2d", "1-d", (), x(5), match=r"at least 2 dimensions.*\(5,\)"),
    # ---- flatten
    call("Flatten", "start-out-of-range", (3,), x(2, 3), exc=IndexError, match=r"start_dim.*\[-2, 1\].*3"),
    call("Flatten", "end-out-of-range", (0, -4), x(2, 3, 4), exc=IndexError, match=r"end_dim.*\[-3, 2\].*-4"),
    call("Flatten", "start-after-end", (1, 0), x(2, 3, 4), match=r"start_dim 1 comes after end_dim 0"),
    call("Flatten", "list", (), LIST, exc=TypeError, match=r"numpy\.ndarray.*list"),
    call("Unflatten", "sizes", (1, (2, 2)), x(2, 6), match=r"\[2, 2\].*multiply up to.*6"),
    call("Unflatten", "dim", (3, (2, 3)), x(2, 6), exc=IndexError, match=r"dim.*\[-2, 1\].*3"),
    ctor("Unflatten", "sizes-type", 1, 6, exc=TypeError, match=r"unflattened_size.*int"),
    # ---- embedding
    call("Embedding", "index-too-large", (5, 2), idx(1, 5), exc=IndexError, match=r"index 5.*num_embeddings=5"),
    call("Embedding", "index-negative", (5, 2), idx(-1, 2), exc=IndexError, match=r"index -1.*num_embeddings=5"),
    call("Embedding", "float-index", (5, 2), idx(1.0, 2.0), exc=TypeError, match=r"integer.*float64"),
    call("Embedding", "list", (5, 2), [1, 2], exc=TypeError, match=r"numpy\.ndarray.*list"),
    ctor("Embedding", "padding-idx", 5, 2, padding_idx=5, match=r"padding_idx.*5"),
    ctor("Embedding", "negative", -5, 2, match=r"num_embeddings.*-5"),
    ctor("Embedding", "dim-negative", 5, -2, match=r"embedding_dim.*-2"),
    # ---- recurrent
    call("RNN", "input-size", (3, 4), x(5, 2, 2), match=r"\(L, N, 3\).*\(5, 2, 2\)"),
    call("LSTM", "ndim", (3, 4), x(5, 2, 2, 3), match=r"\(L, N, 3\).*\(5, 2, 2, 3\)"),
    call("GRU", "h0-shape", (3, 4), x(5, 2, 3), x(1, 3, 4), match=r"h_0 of shape \(1, 2, 4\).*\(1, 3, 4\)"),
    call("LSTM", "c0-shape", (3, 4), x(5, 2, 3), (x(1, 2, 4), x(1, 2, 5)), match=r"c_0 of shape \(1, 2, 4\).*1, 2, 5"),
    # torch's RNNBase.check_input raises ValueError for an input of another dtype than the weights', so does scratch
    call("GRU", "dtype", (3, 4), x(5, 2, 3, dtype=np.float64), exc=ValueError, match=r"float64.*float32"),
    call("RNN", "h0-dtype", (3, 4), x(5, 2, 3), x(1, 2, 4, dtype=np.float64), exc=TypeError, match=r"h_0.*32.*64"),
    call("RNN", "int", (3, 4), ints(5, 2, 3), exc=TypeError, match=r"float32.*int64"),
    call("GRU", "empty-sequence", (3, 4), x(0, 2, 3), match=r"length at least 1.*\(0, 2, 3\)"),
    call("LSTM", "list", (3, 4), LIST, exc=TypeError, match=r"numpy\.ndarray.*list"),
    ctor("LSTM", "hidden-0", 3, 0, match=r"hidden_size.*0"),
    ctor("GRU", "layers-0", 3, 4, num_layers=0, match=r"num_layers.*0"),
    ctor("RNN", "nonlinearity", 3, 4, nonlinearity="gelu", match=r"nonlinearity 'gelu'"),
    ctor("LSTM", "dropout", 3, 4, dropout=1.5, match=r"dropout.*\[0, 1\].*1\.5"),
]

PAIRWISE = ["MSELoss", "L1Loss", "HuberLoss", "SmoothL1Loss", "SoftMarginLoss", "BCEWithLogitsLoss", "KLDivLoss",
            "HingeEmbeddingLoss"]
P = R.uniform(0.1, 0.9, size=(2, 3)).astype(np.float32)
SIGNS = np.where(R.random((2, 3)) < 0.5, -1.0, 1.0).astype(np.float32)
GOOD = {  # valid inputs of each loss, so torch (which checks reduction at the call) sees the bad option alone
    **{loss: (x(2, 3), x(2, 3)) for loss in ["MSELoss", "L1Loss", "HuberLoss", "SmoothL1Loss"]},
    "SoftMarginLoss": (x(2, 3), SIGNS), "HingeEmbeddingLoss": (x(2, 3), SIGNS), "BCEWithLogitsLoss": (x(2, 3), P),
    "KLDivLoss": (np.log(P), P), "BCELoss": (P, P), "CrossEntropyLoss": (x(2, 3), ints(2)),
    "NLLLoss": (x(2, 3), ints(2)), "MultiMarginLoss": (x(2, 3), ints(2)),
    "CosineEmbeddingLoss": (x(2, 3), x(2, 3), SIGNS[:, 0]),
}

LOSS_CASES = [
    # ---- every loss: a bad reduction; pairwise losses: target shape, target dtype, int input, a list
    *[call(loss, "reduction", (), *inputs, reduction="average", match=r"'?average'? is not a valid value for reduction")
      for loss, inputs in GOOD.items()],
    *[call(loss, "target-shape", (), x(2, 3), x(2, 4), match=r"\(2, 4\).*\(2, 3\)") for loss in PAIRWISE],
    # torch broadcasts a target of another (broadcastable) shape, with a warning: scratch refuses it
    *[call(loss, "target-broadcast", (), x(2, 3), x(3), match=r"\(3,\).*\(2, 3\)",
           torch_does=RAISES if loss == "BCEWithLogitsLoss" else ACCEPTS) for loss in PAIRWISE],
    # torch promotes a float64 target against a float32 input: scratch has no type promotion
    *[call(loss, "target-dtype", (), x(2, 3), x(2, 3, dtype=np.float64), exc=TypeError, match=r"float64.*float32",
           torch_does=ACCEPTS) for loss in PAIRWISE],
    *[call(loss, "int-input", (), ints(2, 3), ints(2, 3), exc=TypeError, match=r"floating.*int64")
      for loss in PAIRWISE],
    *[call(loss, "list-target", (), x(2, 2), LIST, exc=TypeError, match=r"target.*numpy\.ndarray.*list")
      for loss in PAIRWISE],
    *[call(loss, "list", (), LIST, x(2, 2), exc=TypeError, match=r"numpy\.ndarray.*list") for loss in PAIRWISE],
    call("BCELoss", "target-shape", (), P, P[:, :2], match=r"\(2, 2\).*\(2, 3\)"),
    call("BCELoss", "out-of-range", (), P + 1, P, match=r"between 0 and 1"),
    call("BCELoss", "nan-input", (), np.where(P > 0.5, NAN, P).astype(np.float32), P, match=r"between 0 and 1"),
    call("BCELoss", "int-input", (), ints(2, 3, high=2), ints(2, 3, high=2), exc=TypeError, match=r"floating.*int64"),
    call("BCEWithLogitsLoss", "pos-weight", (), x(2, 3), P, pos_weight=np.ones(4, np.float32),
         match=r"pos_weight.*\(4,\).*\(2, 3\)"),
    # torch rejects these options at the first call, scratch already at construction
    call("HuberLoss", "delta", (), *GOOD["HuberLoss"], delta=-1.0, match=r"delta.*-1\.0"),
    call("SmoothL1Loss", "beta", (), *GOOD["SmoothL1Loss"], beta=-1.0, match=r"beta.*-1\.0"),
    call("CrossEntropyLoss", "label-smoothing", (), *GOOD["CrossEntropyLoss"], label_smoothing=1.5,
         match=r"between 0\.0 and 1\.0.*1\.5"),
    # ---- class-index losses
    call("CrossEntropyLoss", "target-too-large", (), x(2, 3), idx(0, 3), exc=IndexError, match=r"target 3.*3 classes"),
    call("CrossEntropyLoss", "target-negative", (), x(2, 3), idx(0, -1), exc=IndexError, match=r"target -1.*3 classes"),
    call("CrossEntropyLoss", "target-batch", (), x(2, 3), idx(0, 1, 2), match=r"\(2,\).*\(3,\)"),
    call("CrossEntropyLoss", "float-target-shape", (), x(2, 3), idx(0.0, 1.0).astype(np.float32),
         match=r"\(2,\).*\(2, 3\)"),
    call("CrossEntropyLoss", "0-d-input", (), x(), np.array(0), match=r"class dimension"),
    call("CrossEntropyLoss", "int-input", (), ints(2, 3), idx(0, 1), exc=TypeError, match=r"floating.*int64"),
    call("CrossEntropyLoss", "bool-target", (), x(2, 3), idx(True, False), exc=TypeError, match=r"integer.*bool"),
    call("CrossEntropyLoss", "weight-size", (), x(2, 3), idx(0, 1), weight=np.ones(4, np.float32),
         match=r"\(3,\).*\(4,\)"),
    call("NLLLoss", "target-too-large", (), x(2, 3), idx(0, 7), exc=IndexError, match=r"target 7.*3 classes"),
    call("NLLLoss", "target-negative", (), x(2, 3), idx(-2, 0), exc=IndexError, match=r"target -2.*3 classes"),
    call("NLLLoss", "float-target", (), x(2, 3), idx(0.0, 1.0), exc=TypeError, match=r"integer.*float64"),
    call("NLLLoss", "target-batch", (), x(2, 3, 4), ints(2, 5), match=r"\(2, 4\).*\(2, 5\)"),
    call("MultiMarginLoss", "target-too-large", (), x(2, 3), idx(0, 3), exc=IndexError, match=r"target 3.*3 classes"),
    call("MultiMarginLoss", "target-negative", (), x(2, 3), idx(-1, 0), exc=IndexError, match=r"target -1.*3 classes"),
    call("MultiMarginLoss", "ndim", (), x(2, 3, 4), ints(2), match=r"\(C,\) or \(N, C\).*\(2, 3, 4\)"),
    call("MultiMarginLoss", "float-target", (), x(2, 3), idx(0.0, 1.0), exc=TypeError, match=r"integer.*float64"),
    call("MultiMarginLoss", "target-batch", (), x(2, 3), ints(3), match=r"\(2,\).*\(3,\)"),
    ctor("MultiMarginLoss", "p", p=3, match=r"p == 1 and p == 2.*3"),
    # ---- CosineEmbeddingLoss
    call("CosineEmbeddingLoss", "inputs-shape", (), x(2, 3), x(2, 4), np.ones(2, np.float32),
         match=r"\(2, 3\).*\(2, 4\)"),
    call("CosineEmbeddingLoss", "target-shape", (), x(2, 3), x(2, 3), np.ones(3, np.float32), match=r"\(3,\)"),
    call("CosineEmbeddingLoss", "ndim", (), x(2, 3, 4), x(2, 3, 4), np.ones(2, np.float32), match=r"\(2, 3, 4\)"),
    # torch computes a cosine of int vectors; scratch refuses ints, as every float layer
    call("CosineEmbeddingLoss", "int-inputs", (), ints(2, 3), ints(2, 3), np.ones(2), exc=TypeError,
         match=r"floating.*int64", torch_does=ACCEPTS),
]

OPTIMIZERS = ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "NAdam", "RAdam", "Adamax", "Rprop", "ASGD"]

OPTIMIZER_CASES = [
    *[opt(o, "lr-negative", lr=-0.1, match=r"Invalid learning rate: -0\.1") for o in OPTIMIZERS],
    *[opt(o, "lr-nan", lr=NAN, match=r"Invalid learning rate: nan") for o in OPTIMIZERS if o != "SGD"],  # SGD: lr < 0
    *[opt(o, "weight-decay", weight_decay=-1e-2, match=r"Invalid weight_decay value: -0\.01")
      for o in OPTIMIZERS if o != "Rprop"],
    *[opt(o, "empty", params="empty", match=r"empty parameter list") for o in OPTIMIZERS],
    *[opt(o, "not-iterable", params="int", exc=TypeError, match=r"int") for o in OPTIMIZERS],
    *[opt(o, "one-param", params="single", exc=TypeError, match=r"iterable of Tensors or dicts.*Parameter")
      for o in OPTIMIZERS],
    *[opt(o, "set", params="set", exc=TypeError, match=r"ordered collections") for o in OPTIMIZERS],
    # torch optimizes any leaf tensor; scratch needs Parameters (the gradient lives on them)
    *[opt(o, "array", params="array", exc=TypeError, match=r"Parameters.*ndarray", torch_does=ACCEPTS)
      for o in OPTIMIZERS],
    *[opt(o, "param-in-two-groups", params="twice", match=r"more than one parameter group") for o in OPTIMIZERS],
    *[opt(o, "eps", eps=-1e-8, match=r"Invalid epsilon value: -1e-08")
      for o in ["Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "NAdam", "RAdam", "Adamax"]],
    *[opt(o, f"beta{i}", betas=betas, match=rf"Invalid beta parameter at index {i}: {betas[i]}")
      for o in ["Adam", "AdamW", "NAdam", "RAdam", "Adamax"] for i, betas in enumerate([(1.0, 0.999), (0.9, -0.1)])],
    opt("Adam", "beta-nan", betas=(NAN, 0.999), match=r"Invalid beta parameter at index 0: nan"),
    opt("SGD", "momentum", momentum=-0.5, match=r"Invalid momentum value: -0\.5"),
    opt("SGD", "nesterov-no-momentum", nesterov=True, match=r"Nesterov momentum requires a momentum"),
    opt("SGD", "nesterov-dampening", nesterov=True, momentum=0.9, dampening=0.1,
        match=r"Nesterov momentum requires a momentum and zero dampening"),
    opt("RMSprop", "momentum", momentum=-0.5, match=r"Invalid momentum value: -0\.5"),
    opt("RMSprop", "alpha", alpha=-0.5, match=r"Invalid alpha value: -0\.5"),
    opt("Adadelta", "rho", rho=1.5, match=r"Invalid rho value: 1\.5"),
    opt("Adagrad", "lr-decay", lr_decay=-1.0, match=r"Invalid lr_decay value: -1\.0"),
    opt("Adagrad", "initial-accumulator", initial_accumulator_value=-1.0,
        match=r"Invalid initial_accumulator_value value: -1\.0"),
    opt("NAdam", "momentum-decay", momentum_decay=-1.0, match=r"Invalid momentum_decay value: -1\.0"),
    opt("Rprop", "etas", etas=(0.5, 0.9), match=r"Invalid eta values: 0\.5, 0\.9"),
]

SCHEDULER_CASES = [
    sched("StepLR", "not-an-optimizer", exc=TypeError, match=r"not an Optimizer", optimizer="none", step_size=2),
    sched("LambdaLR", "lambdas", lr_lambda=[lambda e: 1.0, lambda e: 1.0], match=r"Expected 1 lr_lambdas, but got 2"),
    sched("MultiplicativeLR", "lambda-type", lr_lambda=[0.5], exc=TypeError, match=r"function.*float"),
    sched("ConstantLR", "factor", factor=1.5, match=r"factor expected to be between 0 and 1"),
    sched("LinearLR", "start-factor", start_factor=0.0, match=r"Starting multiplicative factor"),
    sched("LinearLR", "end-factor", end_factor=1.5, match=r"Ending multiplicative factor"),
    sched("CosineAnnealingWarmRestarts", "T0", T_0=0, match=r"positive integer T_0, but got 0"),
    sched("CosineAnnealingWarmRestarts", "T-mult", T_0=2, T_mult=0, match=r"T_mult >= 1, but got 0"),
    sched("CosineAnnealingWarmRestarts", "epoch", T_0=2, steps=1, step_args=(-1,), match=r"non-negative epoch.*-1"),
    sched("ReduceLROnPlateau", "factor", factor=1.0, match=r"Factor should be < 1\.0"),
    sched("ReduceLROnPlateau", "mode", mode="up", match=r"mode up is unknown"),
    sched("ReduceLROnPlateau", "threshold-mode", threshold_mode="pct", match=r"threshold mode pct is unknown"),
    sched("ReduceLROnPlateau", "min-lrs", min_lr=[0.1, 0.2], match=r"expected 1 min_lrs, got 2"),
    sched("CyclicLR", "mode", base_lr=0.01, max_lr=0.1, mode="sine", match=r"mode is invalid and scale_fn is None"),
    sched("CyclicLR", "no-momentum", base_lr=0.01, max_lr=0.1, optimizer="Adagrad",
          match=r"must support momentum or beta1"),
    sched("OneCycleLR", "total-steps", max_lr=0.1, total_steps=0, match=r"positive integer total_steps, but got 0"),
    sched("OneCycleLR", "no-length", max_lr=0.1, match=r"total_steps OR \(epochs AND steps_per_epoch\)"),
    sched("OneCycleLR", "epochs", max_lr=0.1, epochs=0, steps_per_epoch=3, match=r"positive integer epochs.*0"),
    sched("OneCycleLR", "pct-start", max_lr=0.1, total_steps=10, pct_start=1.5,
          match=r"float between 0 and 1 pct_start, but got 1\.5"),
    sched("OneCycleLR", "anneal", max_lr=0.1, total_steps=10, anneal_strategy="step",
          match=r"'cos' or 'linear', instead got step"),
    sched("OneCycleLR", "past-the-end", max_lr=0.1, total_steps=2, steps=3, match=r"Tried to step 3 times.*2"),
    sched("StepLR", "resume-without-initial-lr", step_size=2, last_epoch=3, exc=KeyError, match=r"initial_lr"),
]

CASES = MODULE_CASES + LOSS_CASES + OPTIMIZER_CASES + SCHEDULER_CASES


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_bad_input(case: Bad) -> None:
    """scratch raises ``case.exc`` with a message matching ``case.match`` that names the class; torch agrees."""
    with warnings.catch_warnings(), pytest.raises(case.exc) as info:
        warnings.simplefilter("ignore")  # the notes both engines give before some errors (Dropout2d on 1-D)
        case.scratch()
    message = str(info.value)
    assert re.search(case.match, message), f"message {message!r} does not match {case.match!r}"
    if case.named is not None:
        assert case.named in message, f"message {message!r} does not name {case.named}"
    with warnings.catch_warnings():  # torch's own notes (a broadcast target, a scheduler stepped first)
        warnings.simplefilter("ignore")
        if case.torch_does == RAISES:
            with pytest.raises(Exception):  # noqa: B017 - torch's exception types vary (RuntimeError, ...)
                case.torch()
        else:
            case.torch()


def test_case_ids_are_unique() -> None:
    ids = [case.id for case in CASES]
    assert len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})
