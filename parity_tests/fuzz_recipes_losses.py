"""Fuzz recipes for the losses with several float inputs or a variance (GaussianNLL, PoissonNLL, MarginRanking,
the multi-label and triplet losses), for CTCLoss, LinearCrossEntropyLoss, AdaptiveLogSoftmaxWithLoss and
PairwiseDistance;
``fuzz_recipes.RECIPES`` includes them."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from hypothesis import strategies as st

from .fuzz_engine import Case, arrays, dtypes

Draw = Callable[[object], object]


def _reduction(draw: Draw) -> str:
    return draw(st.sampled_from(["mean", "sum", "none", "mean", "average"]))


def _batch_shape(draw: Draw) -> tuple:
    return draw(st.sampled_from([(3, 4), (0, 4), (1, 1), (4,), (2, 3, 2), ()]))


def gaussian_nll(draw: Draw) -> Case:
    dtype, shape = draw(dtypes()), _batch_shape(draw)
    var_shape = draw(st.sampled_from([shape, shape[:-1], (*shape[:-1], 1), (1, *shape[1:]), (2, 5), None]))
    bounds = draw(st.sampled_from([(0.0, 2.0), (-1.0, 1.0)]))
    var = 0.5 if var_shape is None else draw(arrays(var_shape, dtype, *bounds))
    options = {"full": draw(st.booleans()), "eps": draw(st.sampled_from([1e-6, 0.1, 0.0])),
               "reduction": _reduction(draw)}
    return Case("GaussianNLLLoss", options, (draw(arrays(shape, dtype)), draw(arrays(shape, dtype)), var))


def poisson_nll(draw: Draw) -> Case:
    dtype, shape = draw(dtypes()), _batch_shape(draw)
    log_input = draw(st.booleans())
    x = draw(arrays(shape, dtype) if log_input else arrays(shape, dtype, 0.0, 4.0))
    options = {"log_input": log_input, "full": draw(st.booleans()), "eps": draw(st.sampled_from([1e-8, 0.5])),
               "reduction": _reduction(draw)}
    return Case("PoissonNLLLoss", options, (x, draw(arrays(shape, dtype, 0.0, 5.0))))


def margin_ranking(draw: Draw) -> Case:
    dtype, shape = draw(dtypes()), draw(st.sampled_from([(5,), (0,), (), (2, 3)]))
    x1, x2 = draw(arrays(shape, dtype)), draw(arrays(draw(st.sampled_from([shape] * 5 + [(1,)])), dtype))
    target = np.where(draw(arrays(shape, np.float64)) > 0, 1, -1).astype(draw(st.sampled_from([dtype, np.int64])))
    options = {"margin": draw(st.sampled_from([0.0, 0.5, -1.0])), "reduction": _reduction(draw)}
    return Case("MarginRankingLoss", options, (x1, x2, target))


def multilabel(name: str) -> Callable[[Draw], Case]:
    def recipe(draw: Draw) -> Case:
        dtype, shape = draw(dtypes()), draw(st.sampled_from([(3, 4), (4,), (1, 1), (0, 3), (2, 2, 2)]))
        options = {"reduction": _reduction(draw)}
        rng = np.random.default_rng(draw(st.integers(0, 99)))
        if name == "MultiLabelMarginLoss":
            target = rng.integers(-1, (shape[-1] if shape else 1) + draw(st.sampled_from([0, 0, 0, 1])), size=shape)
        else:
            target = (rng.random(shape) < 0.5).astype(draw(st.sampled_from([dtype, dtype, np.int64])))
            if shape and draw(st.booleans()):
                options["weight"] = draw(arrays(shape[-1:], dtype))
        return Case(name, options, (draw(arrays(shape, dtype)), target))
    return recipe


def triplet(name: str) -> Callable[[Draw], Case]:
    def recipe(draw: Draw) -> Case:
        dtype, shape = draw(dtypes()), draw(st.sampled_from([(3, 4), (4,), (1, 1), (0, 3), (2, 2, 2)]))
        options = {"margin": draw(st.sampled_from([1.0, 0.5, 0.0])), "swap": draw(st.booleans()),
                   "reduction": _reduction(draw)}
        if name == "TripletMarginLoss":
            options |= {"p": draw(st.sampled_from([2.0, 1.0, 3.0, float("inf")])),
                        "eps": draw(st.sampled_from([1e-6, 0.0]))}
        inputs = tuple(draw(arrays(draw(st.sampled_from([shape] * 6 + [shape[:-1]])), dtype)) for _ in range(3))
        return Case(name, options, inputs)
    return recipe


def ctc(draw: Draw) -> Case:
    """(T, N, C) or (T, C) scores (not normalized: CTC takes any), padded or concatenated targets (labels may
    repeat or equal the blank; sometimes int32, float or out of range), lengths up to T and S (sometimes past
    them, or of the wrong count), so that some alignments are impossible."""
    dtype, steps, classes = draw(dtypes()), draw(st.integers(1, 6)), draw(st.integers(1, 5))
    batch = draw(st.sampled_from([None, 1, 2, 3]))
    rng = np.random.default_rng(draw(st.integers(0, 999)))
    n = batch or 1
    target_lengths = rng.integers(0, 4, size=n)
    input_lengths = np.minimum(rng.integers(0, steps + 3, size=n), steps + draw(st.sampled_from([0, 0, 0, 1])))
    labels = rng.integers(0, classes + draw(st.sampled_from([0] * 7 + [1])), size=(n, 3))
    if draw(st.booleans()):
        targets = np.concatenate([row[:k] for row, k in zip(labels, target_lengths, strict=True)])
    else:
        targets = labels[:, : draw(st.sampled_from([3, 3, 3, 1]))]
    targets = targets.astype(draw(st.sampled_from([np.int64] * 6 + [np.int32, np.float32])))
    shape = (steps, classes) if batch is None else (steps, batch, classes)
    if batch is None:
        input_lengths, target_lengths = input_lengths.reshape(()), target_lengths.reshape(())
    elif draw(st.integers(0, 9)) == 0:
        input_lengths = input_lengths[:-1]
    options = {"blank": draw(st.sampled_from([0, 0, classes - 1, classes])), "reduction": _reduction(draw),
               "zero_infinity": draw(st.booleans())}
    return Case("CTCLoss", options, (draw(arrays(shape, dtype)), targets, input_lengths, target_lengths))


def linear_cross_entropy(draw: Draw) -> Case:
    """An (N, H_in) or (H_in,) input (sometimes of another width or dtype), C classes, out_features; class
    indices (some ignored or out of range) or probabilities; class weights, label smoothing, a bias."""
    dtype, n_in, n_classes = draw(dtypes(odd=False)), draw(st.integers(1, 4)), draw(st.integers(1, 4))
    out_features = draw(st.sampled_from([(), (), (2,), (2, 1)]))
    batch = draw(st.sampled_from([(3,), (1,), (0,), ()] if not out_features else [(3,), (1,), (0,)]))
    width = draw(st.sampled_from([n_in] * 5 + [n_in + 1]))
    x = draw(arrays((*batch, width), draw(st.sampled_from([dtype] * 7 + [np.int64]))))
    rng = np.random.default_rng(draw(st.integers(0, 999)))
    options = {"in_features": n_in, "num_classes": n_classes, "out_features": out_features,
               "bias": draw(st.booleans()), "reduction": _reduction(draw),
               "label_smoothing": draw(st.sampled_from([0.0, 0.0, 0.2, 1.0]))}
    if draw(st.booleans()):
        options["weight"] = rng.uniform(0.0, 2.0, n_classes).astype(dtype)  # special weights: CrossEntropyLoss's recipe
    if draw(st.booleans()):
        p = rng.uniform(0.01, 1.0, size=(*batch, n_classes, *out_features))
        target = (p / p.sum(axis=len(batch), keepdims=True)).astype(dtype)
    else:
        target = rng.integers(0, n_classes + draw(st.sampled_from([0, 0, 0, 1])), size=(*batch, *out_features))
        options["ignore_index"] = draw(st.sampled_from([None, -100, 0, n_classes + 2]))
    return Case("LinearCrossEntropyLoss", options, (x, target), dtype, seed=draw(st.integers(0, 9)))


def adaptive_log_softmax(draw: Draw) -> Case:
    """AdaptiveLogSoftmaxWithLoss: an (N, H_in) or (H_in,) input (sometimes of another width or dtype), valid and
    invalid cutoffs, hidden sizes down to 0 (div_value), a head bias, targets sometimes out of range."""
    dtype, n_in, n_classes = draw(dtypes(odd=False)), draw(st.integers(1, 4)), draw(st.integers(2, 6))
    cutoffs = draw(st.sampled_from([[1], [n_classes - 1], sorted({1, n_classes // 2, n_classes - 1}), [0],
                                    [n_classes], [n_classes - 1, 1]]))
    batch = draw(st.sampled_from([(3,), (5,), (1,), (0,), ()]))
    width = draw(st.sampled_from([n_in] * 5 + [n_in + 1]))
    x = draw(arrays((*batch, width), draw(st.sampled_from([dtype] * 7 + [np.int64]))))
    rng = np.random.default_rng(draw(st.integers(0, 999)))
    target = rng.integers(draw(st.sampled_from([0, 0, 0, -1])), n_classes + draw(st.sampled_from([0, 0, 0, 1])),
                          size=batch)
    options = {"in_features": n_in, "n_classes": n_classes, "cutoffs": cutoffs,
               "div_value": draw(st.sampled_from([4.0, 2.0, 1.0, 0.5])), "head_bias": draw(st.booleans())}
    return Case("AdaptiveLogSoftmaxWithLoss", options, (x, target), dtype, seed=draw(st.integers(0, 9)))


def pairwise_distance(draw: Draw) -> Case:
    dtype, shape = draw(dtypes()), draw(st.sampled_from([(3, 4), (4,), (1, 1), (0, 3), ()]))
    options = {"p": draw(st.sampled_from([2.0, 1.0, 3.0, 0.5, float("inf")])),
               "eps": draw(st.sampled_from([1e-6, 0.0])), "keepdim": draw(st.booleans())}
    return Case("PairwiseDistance", options, (draw(arrays(shape, dtype)), draw(arrays(shape, dtype))))


RECIPES = {
    "GaussianNLLLoss": gaussian_nll, "PoissonNLLLoss": poisson_nll, "MarginRankingLoss": margin_ranking,
    **{name: multilabel(name) for name in ("MultiLabelMarginLoss", "MultiLabelSoftMarginLoss")},
    **{name: triplet(name) for name in ("TripletMarginLoss", "TripletMarginWithDistanceLoss")},
    "PairwiseDistance": pairwise_distance, "CTCLoss": ctc, "LinearCrossEntropyLoss": linear_cross_entropy,
    "AdaptiveLogSoftmaxWithLoss": adaptive_log_softmax,
}
