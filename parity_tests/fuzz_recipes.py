"""The fuzz recipes: for every module and loss of ``scratch.nn``, how to draw its options, shapes, dtypes and values."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from hypothesis import strategies as st

from scratch.nn.modules import activation, activation_composite, activation_piecewise

from .fuzz_engine import ODD_DTYPES, Case, arrays, classes, dtypes, shapes
from .fuzz_recipes_losses import RECIPES as LOSS_RECIPES

# ------------------------------------------------------------------------------------ recipes
Draw = Callable[[Any], Any]
ELEMENTWISE_OPTIONS: dict[str, Callable[[Draw], dict]] = {
    "ReLU": lambda d: {"inplace": d(st.booleans())},
    "Sigmoid": lambda d: {},
    "Tanh": lambda d: {},
    "Softsign": lambda d: {},
    "SELU": lambda d: {"inplace": d(st.booleans())},
    "SiLU": lambda d: {"inplace": d(st.booleans())},
    "Mish": lambda d: {"inplace": d(st.booleans())},
    "ReLU6": lambda d: {"inplace": d(st.booleans())},
    "LeakyReLU": lambda d: {"negative_slope": d(st.sampled_from([0.01, 0.0, 0.2, 2.0, -0.5])),
                            "inplace": d(st.booleans())},
    "ELU": lambda d: {"alpha": d(st.sampled_from([1.0, 0.5, 0.0, -1.0])), "inplace": d(st.booleans())},
    "CELU": lambda d: {"alpha": d(st.sampled_from([1.0, 0.5, 2.0, 0.0, -1.0])), "inplace": d(st.booleans())},
    "GELU": lambda d: {"approximate": d(st.sampled_from(["none", "tanh", "erf"]))},
    "Softplus": lambda d: {"beta": d(st.sampled_from([1.0, 2.0, 0.5, 0.0, -1.0])),
                           "threshold": d(st.sampled_from([20.0, 1.0, 0.0, -1.0]))},
    "Hardtanh": lambda d: dict(zip(("min_val", "max_val"), d(st.sampled_from([(-1.0, 1.0), (-2.0, 0.5),
                                                                               (1.0, -1.0), (0.5, 0.5)])),
                                   strict=True), inplace=d(st.booleans())),
    "Identity": lambda d: {},
    "Threshold": lambda d: {"threshold": d(st.sampled_from([0.0, 0.5, -1.0])), "value": d(st.sampled_from([0.0, 20.0])),
                            "inplace": d(st.booleans())},
    "Hardshrink": lambda d: {"lambd": d(st.sampled_from([0.5, 0.0, 2.0, -1.0]))},
    "Hardsigmoid": lambda d: {"inplace": d(st.booleans())},
    "Hardswish": lambda d: {"inplace": d(st.booleans())},
    "RReLU": lambda d: dict(zip(("lower", "upper"), d(st.sampled_from([(0.125, 1 / 3), (0.3, 0.3), (0.5, 0.2),
                                                                         (-1.0, 2.0)])), strict=True),
                            inplace=d(st.booleans())),
    "Softmin": lambda d: {"dim": d(st.sampled_from([None, 0, 1, -1, 2, -3]))},
    "GLU": lambda d: {"dim": d(st.sampled_from([-1, 0, 1, 2, -3]))},
    "Softmax": lambda d: {"dim": d(st.sampled_from([None, 0, 1, -1, 2, -3]))},
    "LogSoftmax": lambda d: {"dim": d(st.sampled_from([None, 0, 1, -1, 2, -3]))},
    "Flatten": lambda d: {"start_dim": d(st.integers(-4, 3)), "end_dim": d(st.integers(-4, 3))},
    "Dropout": lambda d: {"p": d(st.sampled_from([0.0, 0.3, 0.5, 1.0, -0.1, 1.5])), "inplace": d(st.booleans())},
    "Dropout2d": lambda d: {"p": d(st.sampled_from([0.0, 0.3, 1.0, -0.1, 1.5])), "inplace": d(st.booleans())},
}


def any_shape(draw: Draw) -> tuple:
    return draw(st.lists(st.integers(0, 4), min_size=0, max_size=4).map(tuple))


def elementwise(name: str) -> Callable[[Draw], Case]:
    """Any shape (0-d, 0-size included), any dtype, the module's options in and out of range."""
    def recipe(draw: Draw) -> Case:
        shape = any_shape(draw)
        options = ELEMENTWISE_OPTIONS.get(name, lambda draw: {})(draw)  # by default, the default options
        return Case(name, options, (draw(arrays(shape, draw(dtypes()))),),
                    train=draw(st.booleans()) if name.startswith("Dropout") or name == "RReLU" else True,
                    seed=draw(st.integers(0, 9)))
    return recipe


def prelu(draw: Draw) -> Case:
    dtype, channels = draw(dtypes(odd=False)), draw(st.integers(1, 3))
    shape = shapes(draw, (channels, 2))
    options = {"num_parameters": draw(st.sampled_from([1, channels, channels + 1])),
               "init": draw(st.sampled_from([0.25, -1.0, 0.0]))}
    return Case("PReLU", options, (draw(arrays(shape, draw(st.sampled_from([dtype, dtype, np.float16])))),), dtype)


def unflatten(draw: Draw) -> Case:
    shape = (draw(st.integers(0, 2)), 6, 2)
    options = {"dim": draw(st.sampled_from([1, -2, 0, 3])),
               "unflattened_size": draw(st.sampled_from([(2, 3), (3, -1), (4, 2), (6,), (-1, -1)]))}
    return Case("Unflatten", options, (draw(arrays(shape, draw(dtypes()))),))


def features(draw: Draw) -> int:
    return draw(st.sampled_from([1, 2, 3, 3, 0, -1]))


def linear(draw: Draw) -> Case:
    dtype, n_in, n_out = draw(dtypes(odd=False)), features(draw), features(draw)
    leading = draw(st.sampled_from([(), (0,), (1,), (3,), (2, 2)]))
    width = draw(st.sampled_from([n_in, n_in, 4])) if n_in >= 0 else 2
    x = draw(arrays((*leading, width), draw(st.sampled_from([dtype] * 4 + ODD_DTYPES))))
    return Case("Linear", {"in_features": n_in, "out_features": n_out, "bias": draw(st.booleans())}, (x,), dtype,
                seed=draw(st.integers(0, 9)))


def sequential(draw: Draw) -> Case:
    dtype, n_in, hidden = draw(dtypes(odd=False)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    x = draw(arrays(shapes(draw, (n_in,)), dtype))
    return Case("Sequential", {"in_features": n_in, "hidden": hidden}, (x,), dtype, seed=draw(st.integers(0, 9)))


def conv(name: str) -> Callable[[Draw], Case]:
    """Conv1d, Conv2d, ConvTranspose2d: channels, kernel, stride, padding, dilation, groups in and out of range."""
    dims = 1 if name == "Conv1d" else 2

    def recipe(draw: Draw) -> Case:
        dtype, groups = draw(dtypes(odd=False)), draw(st.sampled_from([1, 1, 2, 0]))
        c_in, c_out = 2 * draw(st.integers(1, 2)), 2 * draw(st.integers(0, 2))
        options = {"in_channels": c_in, "out_channels": c_out, "kernel_size": draw(st.sampled_from([1, 2, 3, 0])),
                   "stride": draw(st.sampled_from([1, 2, 0])), "padding": draw(st.sampled_from([0, 1, -1])),
                   "dilation": draw(st.sampled_from([1, 2, 0])), "groups": groups, "bias": draw(st.booleans())}
        if name == "ConvTranspose2d":
            options["output_padding"] = draw(st.sampled_from([0, 1, 2]))
        else:
            options["padding_mode"] = draw(st.sampled_from(["zeros", "zeros", "reflect", "replicate", "circular"]))
            options["padding"] = draw(st.sampled_from([options["padding"], "same", "valid"]))
        x = draw(arrays(shapes(draw, (draw(st.sampled_from([c_in, c_in, 3])),) + (draw(st.integers(1, 5)),) * dims),
                        draw(st.sampled_from([dtype] * 5 + ODD_DTYPES))))
        return Case(name, options, (x,), dtype, seed=draw(st.integers(0, 9)))
    return recipe


def pool(name: str) -> Callable[[Draw], Case]:
    """MaxPool1d/2d, AvgPool2d: kernel, stride, padding (up to half the kernel, and beyond), modes."""
    dims = 1 if name == "MaxPool1d" else 2

    def recipe(draw: Draw) -> Case:
        kernel = draw(st.sampled_from([1, 2, 3, 0]))
        options = {"kernel_size": kernel, "stride": draw(st.sampled_from([None, 1, 2, 0])),
                   "padding": draw(st.sampled_from([0, 1, 2])), "ceil_mode": draw(st.booleans())}
        if name == "AvgPool2d":
            options |= {"count_include_pad": draw(st.booleans()),
                        "divisor_override": draw(st.sampled_from([None, None, 1, 3, 0]))}
        else:
            options |= {"dilation": draw(st.sampled_from([1, 2, 0])), "return_indices": draw(st.booleans())}
        shape = shapes(draw, (draw(st.integers(1, 2)),) + (draw(st.integers(1, 5)),) * dims)
        if name != "AvgPool2d" and len(shape) > dims and _padding_only_window(shape[-dims:], options):
            options["dilation"] = 1  # torch 2.13's backward writes out of bounds there (test_pooling.py)
        return Case(name, options, (draw(arrays(shape, draw(dtypes()))),))
    return recipe


def _padding_only_window(sizes: tuple, options: dict) -> bool:
    """Whether a max-pooling window would hold padding only (its dilated cells all miss the input)."""
    k, p, d = options["kernel_size"], options["padding"], options["dilation"]
    s = options["stride"] or k
    if min(k, s, d) <= 0:
        return False  # an invalid option: both engines refuse it before any window is read
    for n in sizes:
        span = d * (k - 1) + 1
        out = (n + 2 * p - span + (s - 1 if options["ceil_mode"] else 0)) // s + 1
        if options["ceil_mode"] and (out - 1) * s >= n + p:
            out -= 1
        for i in range(max(out, 0)):
            if not any(0 <= i * s - p + a * d < n for a in range(k)):
                return True
    return False


def adaptive_avg_pool(draw: Draw) -> Case:
    size = draw(st.sampled_from([1, 2, 3, (2, None), (None, 1), (1, 3), 0]))
    shape = shapes(draw, (2, draw(st.integers(0, 5)), draw(st.integers(1, 5))))
    return Case("AdaptiveAvgPool2d", {"output_size": size}, (draw(arrays(shape, draw(dtypes()))),))


def batch_norm(name: str) -> Callable[[Draw], Case]:
    def recipe(draw: Draw) -> Case:
        dtype, channels = draw(dtypes(odd=False)), draw(st.integers(1, 3))
        options = {"num_features": draw(st.sampled_from([channels, channels, channels + 1])),
                   "eps": draw(st.sampled_from([1e-5, 0.0, 1.0])),
                   "momentum": draw(st.sampled_from([0.1, None, 0.0, 1.0])), "affine": draw(st.booleans()),
                   "track_running_stats": draw(st.booleans())}
        spatial = draw(st.sampled_from([(), (3,)])) if name == "BatchNorm1d" else (2, draw(st.integers(1, 2)))
        shape = shapes(draw, (channels, *spatial), unbatched=False)
        return Case(name, options, (draw(arrays(shape, dtype)),), dtype, train=draw(st.booleans()),
                    seed=draw(st.integers(0, 9)))
    return recipe


def layer_norm(draw: Draw) -> Case:
    dtype, shape = draw(dtypes(odd=False)), (draw(st.integers(0, 2)), 3, 2)
    normalized = draw(st.sampled_from([(2,), (3, 2), 2, (3,), (2, 3, 2), ()]))
    options = {"normalized_shape": normalized, "eps": draw(st.sampled_from([1e-5, 0.0])),
               "elementwise_affine": draw(st.booleans()), "bias": draw(st.booleans())}
    return Case("LayerNorm", options, (draw(arrays(shape, dtype)),), dtype, seed=draw(st.integers(0, 9)))


def rms_norm(draw: Draw) -> Case:
    dtype, shape = draw(dtypes(odd=False)), (draw(st.integers(0, 2)), 3, 2)
    normalized = draw(st.sampled_from([(2,), (3, 2), 2, (3,), (2, 3, 2)]))
    options = {"normalized_shape": normalized, "eps": draw(st.sampled_from([None, 1e-5, 0.0])),
               "elementwise_affine": draw(st.booleans())}
    return Case("RMSNorm", options, (draw(arrays(shape, dtype)),), dtype, seed=draw(st.integers(0, 9)))


def group_norm(draw: Draw) -> Case:
    dtype, channels = draw(dtypes(odd=False)), draw(st.sampled_from([2, 4]))
    options = {"num_groups": draw(st.sampled_from([1, 2, 3, 0])), "num_channels": channels,
               "eps": draw(st.sampled_from([1e-5, 0.0])), "affine": draw(st.booleans())}
    shape = shapes(draw, (draw(st.sampled_from([channels, channels, 3])), draw(st.integers(1, 3))), unbatched=False)
    return Case("GroupNorm", options, (draw(arrays(shape, dtype)),), dtype, seed=draw(st.integers(0, 9)))


def embedding(draw: Draw) -> Case:
    n = draw(st.sampled_from([1, 4, 5]))
    options = {"num_embeddings": n, "embedding_dim": draw(st.sampled_from([1, 3, 0])),
               "padding_idx": draw(st.sampled_from([None, 0, -1, n, -n - 1])),
               "max_norm": draw(st.sampled_from([None, None, 1.0])), "norm_type": draw(st.sampled_from([2.0, 1.0])),
               "scale_grad_by_freq": draw(st.booleans())}
    x = classes(draw, draw(st.sampled_from([(), (0,), (3,), (2, 3)])), n)
    return Case("Embedding", options, (x,), draw(dtypes(odd=False)), seed=draw(st.integers(0, 9)))


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
        inputs = (x,) if draw(st.booleans()) else (x, tuple(states) if name == "LSTM" else states[0])
        # dropout between layers draws different masks in the two engines: compare such a stack in eval mode
        train = draw(st.booleans()) and not (options["dropout"] and options["num_layers"] > 1)
        return Case(name, options, inputs, dtype, train=train, seed=draw(st.integers(0, 9)))
    return recipe


def reduction(draw: Draw, *more: str) -> str:
    return draw(st.sampled_from(["mean", "sum", "none", "mean", *more, "average"]))


def regression(name: str) -> Callable[[Draw], Case]:
    """MSE, L1, Huber, SmoothL1, SoftMargin, HingeEmbedding, BCE, BCEWithLogits, KLDiv: elementwise losses."""
    def recipe(draw: Draw) -> Case:
        dtype, shape = draw(dtypes()), any_shape(draw)
        options = {"reduction": reduction(draw, "batchmean") if name == "KLDivLoss" else reduction(draw)}
        low, high = (0.0, 1.0) if name in ("BCELoss", "BCEWithLogitsLoss") else (None, None)
        if name == "HuberLoss":
            options["delta"] = draw(st.sampled_from([1.0, 0.5, 0.0, -1.0]))
        if name == "SmoothL1Loss":
            options["beta"] = draw(st.sampled_from([1.0, 0.5, 0.0, -1.0]))
        if name == "HingeEmbeddingLoss":
            options["margin"] = draw(st.sampled_from([1.0, 0.0, -1.0]))
        if name == "KLDivLoss":
            options["log_target"] = draw(st.booleans())
        if name in ("BCELoss", "BCEWithLogitsLoss") and shape and draw(st.booleans()):
            options["weight"] = draw(arrays(shape[-1:], dtype, 0.0, 2.0))
        if name == "BCEWithLogitsLoss" and shape and draw(st.booleans()):
            options["pos_weight"] = draw(arrays(shape[-1:], dtype, 0.0, 2.0))
        x = draw(arrays(shape, dtype, *((0.0, 1.0) if name == "BCELoss" and draw(st.booleans()) else (None, None))))
        if name in ("SoftMarginLoss", "HingeEmbeddingLoss"):
            with np.errstate(invalid="ignore"):  # the sign of a planted nan, cast to int64
                sign = np.sign(draw(arrays(shape, np.float64)))
                target = sign.astype(draw(st.sampled_from([dtype, dtype, np.int64])))
        else:
            target = draw(arrays(draw(st.sampled_from([shape] * 6 + [shape[1:], (*shape, 1)])), dtype, low, high))
        return Case(name, options, (x, target))
    return recipe


def classification(name: str) -> Callable[[Draw], Case]:
    """CrossEntropy, NLL, MultiMargin: (N, C), (C,) or (N, C, d) scores, class (or probability) targets."""
    def recipe(draw: Draw) -> Case:
        dtype, n = draw(dtypes()), draw(st.integers(1, 4))
        batch = draw(st.sampled_from([(), (0,), (1,), (3,), (2, 2)] if name != "MultiMarginLoss" else [(), (0,), (3,)]))
        shape = (n,) if batch == () else (batch[0], n, *batch[1:])
        shape = draw(st.sampled_from([shape] * 9 + [(2, n, 1, 1, 1)]))
        options = {"reduction": reduction(draw)}
        if draw(st.booleans()):
            options["weight"] = draw(arrays((draw(st.sampled_from([n, n, n + 1])),), dtype, 0.0, 2.0))
        if name == "MultiMarginLoss":
            options |= {"p": draw(st.sampled_from([1, 2, 3])), "margin": draw(st.sampled_from([1.0, 0.0, -1.0]))}
        else:
            options["ignore_index"] = draw(st.sampled_from([-100, 0, n - 1]))
        if name == "CrossEntropyLoss":
            options["label_smoothing"] = draw(st.sampled_from([0.0, 0.1, 1.0, -0.1, 1.5]))
        target = classes(draw, batch, n)
        if name == "CrossEntropyLoss" and draw(st.integers(0, 3)) == 0:  # class probabilities
            target = draw(arrays(shape, dtype, 0.0, 1.0))
        return Case(name, options, (draw(arrays(shape, dtype)), target))
    return recipe


def cosine_embedding(draw: Draw) -> Case:
    dtype, shape = draw(dtypes()), draw(st.sampled_from([(3, 4), (0, 4), (1, 1), (4,), (2, 2, 2)]))
    x1, x2 = draw(arrays(shape, dtype)), draw(arrays(draw(st.sampled_from([shape] * 5 + [(3, 2)])), dtype))
    target = np.where(draw(arrays(shape[:1] if len(shape) > 1 else (), np.float64)) > 0, 1, -1)
    target = target.astype(draw(st.sampled_from([np.int64, np.int64, dtype])))
    options = {"margin": draw(st.sampled_from([0.0, 0.5, -1.0, 2.0])), "reduction": reduction(draw)}
    return Case("CosineEmbeddingLoss", options, (x1, x2, target))


RECIPES: dict[str, Callable[[Draw], Case]] = {
    # a new activation is fuzzed with no edit here
    **{name: elementwise(name) for module in (activation, activation_piecewise, activation_composite)
       for name in module.__all__},
    **{name: elementwise(name) for name in ELEMENTWISE_OPTIONS},
    "PReLU": prelu, "Unflatten": unflatten, "Linear": linear, "Sequential": sequential,
    **{name: conv(name) for name in ("Conv1d", "Conv2d", "ConvTranspose2d")},
    **{name: pool(name) for name in ("MaxPool1d", "MaxPool2d", "AvgPool2d")},
    "AdaptiveAvgPool2d": adaptive_avg_pool,
    **{name: batch_norm(name) for name in ("BatchNorm1d", "BatchNorm2d")},
    "LayerNorm": layer_norm, "RMSNorm": rms_norm, "GroupNorm": group_norm, "Embedding": embedding,
    **{name: rnn(name) for name in ("RNN", "LSTM", "GRU")},
    **{name: regression(name) for name in ("MSELoss", "L1Loss", "HuberLoss", "SmoothL1Loss", "SoftMarginLoss",
                                           "HingeEmbeddingLoss", "BCELoss", "BCEWithLogitsLoss", "KLDivLoss")},
    **{name: classification(name) for name in ("CrossEntropyLoss", "NLLLoss", "MultiMarginLoss")},
    "CosineEmbeddingLoss": cosine_embedding,
    **LOSS_RECIPES,
}


