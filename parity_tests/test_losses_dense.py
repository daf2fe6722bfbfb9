"""The losses of issue 3 (and CrossEntropyLoss's corners): parity with torch in both dtypes and every
reduction, finite differences, kinks, stability, buffers and bad inputs."""

import numpy as np
import pytest
import torch

import torch_ref
from scratch import nn
from scratch.gradcheck import gradcheck_loss
from torch_ref.report import compare_arrays
from torch_ref.tolerance import rtol

from .helpers import DTYPES, MIN_NORM, UPSTREAM_SEED, assert_gradcheck_loss, assert_loss_parity

REDUCTIONS = ["mean", "sum", "none"]


def normal(dtype, *shape, scale=1.0, seed=1):
    return (scale * np.random.default_rng(seed).standard_normal(shape)).astype(dtype)


def probs(dtype, *shape, seed=2):
    return np.random.default_rng(seed).uniform(0.02, 0.98, size=shape).astype(dtype)


def log_probs(dtype, *shape, seed=2):
    p = np.random.default_rng(seed).uniform(0.02, 1, size=shape)
    return np.log(p / p.sum(axis=-1, keepdims=True)).astype(dtype)


def classes(*shape, n=5, seed=3):
    return np.random.default_rng(seed).integers(0, n, size=shape)


def signs(dtype, *shape, seed=4):
    return np.where(np.random.default_rng(seed).random(shape) < 0.5, -1, 1).astype(dtype)


def weights(dtype, n=5, seed=6):
    return np.random.default_rng(seed).uniform(0.5, 2, n).astype(dtype)


def pair(dtype, *shape):
    return normal(dtype, *shape), normal(dtype, *shape, seed=7)


# (dtype, reduction) -> (criterion, input, target); input is a tuple for CosineEmbeddingLoss
LOSSES = {
    "l1": lambda d, r: (nn.L1Loss(reduction=r), normal(d, 8, 5), normal(d, 8, 5, seed=5)),
    "l1-3d": lambda d, r: (nn.L1Loss(reduction=r), normal(d, 2, 3, 4), normal(d, 2, 3, 4, seed=5)),
    "l1-0d": lambda d, r: (nn.L1Loss(reduction=r), normal(d), normal(d, seed=5)),
    "huber": lambda d, r: (nn.HuberLoss(reduction=r), normal(d, 8, 5, scale=2), normal(d, 8, 5, seed=5)),
    "huber-delta": lambda d, r: (nn.HuberLoss(reduction=r, delta=0.4), normal(d, 4, 3, 2), normal(d, 4, 3, 2, seed=5)),
    "smooth-l1": lambda d, r: (nn.SmoothL1Loss(reduction=r), normal(d, 8, 5, scale=2), normal(d, 8, 5, seed=5)),
    "smooth-l1-beta": lambda d, r: (nn.SmoothL1Loss(reduction=r, beta=0.3), normal(d, 8, 5), normal(d, 8, 5, seed=5)),
    "smooth-l1-beta-0": lambda d, r: (nn.SmoothL1Loss(reduction=r, beta=0.0), normal(d, 8, 5), normal(d, 8, 5, seed=5)),
    "nll": lambda d, r: (nn.NLLLoss(reduction=r), log_probs(d, 8, 5), classes(8)),
    "nll-unbatched": lambda d, r: (nn.NLLLoss(reduction=r), log_probs(d, 5), np.array(3)),
    "nll-weight-ignore": lambda d, r: (nn.NLLLoss(weights(d), ignore_index=1, reduction=r), log_probs(d, 12, 5),
                                       classes(12)),
    "nll-k-dim": lambda d, r: (nn.NLLLoss(weights(d), ignore_index=0, reduction=r), normal(d, 4, 5, 3, 2),
                               classes(4, 3, 2)),
    "bce-logits": lambda d, r: (nn.BCEWithLogitsLoss(reduction=r), normal(d, 8, 5, scale=3), probs(d, 8, 5)),
    "bce-logits-weights": lambda d, r: (nn.BCEWithLogitsLoss(weights(d), reduction=r, pos_weight=weights(d, seed=8)),
                                        normal(d, 8, 5, scale=3), probs(d, 8, 5)),
    "bce-logits-3d-hard": lambda d, r: (nn.BCEWithLogitsLoss(reduction=r, pos_weight=weights(d, 4)),
                                        normal(d, 2, 3, 4, scale=3), classes(2, 3, 4, n=2).astype(d)),
    "bce-logits-1e4": lambda d, r: (nn.BCEWithLogitsLoss(weights(d), reduction=r, pos_weight=weights(d, seed=8)),
                                    normal(d, 8, 5, scale=1e4), probs(d, 8, 5)),
    "bce-logits-broadcast-weight": lambda d, r: (nn.BCEWithLogitsLoss(weights(d, 4)[:, None], reduction=r),
                                                 normal(d, 4, 3, scale=3), probs(d, 4, 3)),
    "kl-div": lambda d, r: (nn.KLDivLoss(reduction=r), log_probs(d, 8, 5), probs(d, 8, 5, seed=5)),
    "kl-div-log-target": lambda d, r: (nn.KLDivLoss(reduction=r, log_target=True), log_probs(d, 8, 5),
                                       log_probs(d, 8, 5, seed=5)),
    "kl-div-zero-target": lambda d, r: (nn.KLDivLoss(reduction=r), log_probs(d, 4, 3),
                                        np.array([[0, 0.5, 0.5], [1, 0, 0], [0.2, 0.3, 0.5], [0, 0, 1]], dtype=d)),
    "multi-margin": lambda d, r: (nn.MultiMarginLoss(reduction=r), normal(d, 8, 5), classes(8)),
    "multi-margin-p2-weight": lambda d, r: (nn.MultiMarginLoss(p=2, margin=0.6, weight=weights(d), reduction=r),
                                            normal(d, 8, 5), classes(8)),
    "multi-margin-unbatched": lambda d, r: (nn.MultiMarginLoss(reduction=r), normal(d, 5), np.array(2)),
    "multi-margin-unbatched-1d-target": lambda d, r: (nn.MultiMarginLoss(reduction=r), normal(d, 5), np.array([0])),
    "hinge-embedding": lambda d, r: (nn.HingeEmbeddingLoss(reduction=r), normal(d, 8, 5, scale=2), signs(d, 8, 5)),
    "hinge-embedding-margin": lambda d, r: (nn.HingeEmbeddingLoss(margin=0.3, reduction=r), normal(d, 2, 3, 4),
                                            signs(d, 2, 3, 4)),
    "hinge-embedding-int-target-0d": lambda d, r: (nn.HingeEmbeddingLoss(reduction=r), np.array(0.3, dtype=d),
                                                   np.array(-1)),
    "soft-margin": lambda d, r: (nn.SoftMarginLoss(reduction=r), normal(d, 8, 5, scale=2), signs(d, 8, 5)),
    "cosine-embedding": lambda d, r: (nn.CosineEmbeddingLoss(reduction=r), pair(d, 8, 6), signs(np.int64, 8)),
    "cosine-embedding-margin": lambda d, r: (nn.CosineEmbeddingLoss(margin=-0.2, reduction=r), pair(d, 8, 6),
                                             signs(d, 8)),
    "cosine-embedding-unbatched": lambda d, r: (nn.CosineEmbeddingLoss(reduction=r), pair(d, 6), np.array(1)),
    # CrossEntropyLoss: options not covered by test_losses.py
    "ce-probabilities-smoothing-weight-k-dim": lambda d, r: (
        nn.CrossEntropyLoss(weights(d), label_smoothing=0.2, reduction=r), normal(d, 3, 5, 4),
        np.moveaxis(probs(d, 3, 4, 5), -1, 1) / 2.5),
    "ce-weight-ignore-k-dim": lambda d, r: (nn.CrossEntropyLoss(weights(d), ignore_index=4, reduction=r),
                                            normal(d, 3, 5, 2, 2), classes(3, 2, 2)),
    # exactly at the kinks: torch's subgradient is matched
    "l1-at-kink": lambda d, r: (nn.L1Loss(reduction=r), np.array([1.0, 2.0, -3.0, 0.5], dtype=d),
                                np.array([1.0, 1.0, -3.0, 2.0], dtype=d)),
    "huber-at-kink": lambda d, r: (nn.HuberLoss(reduction=r, delta=0.5), np.array([0.5, -0.5, 0.25, 2.0], dtype=d),
                                   np.zeros(4, dtype=d)),
    "smooth-l1-at-kink": lambda d, r: (nn.SmoothL1Loss(reduction=r, beta=0.5), np.array([0.5, -0.5, 0.25], dtype=d),
                                       np.zeros(3, dtype=d)),
    "hinge-at-kink": lambda d, r: (nn.HingeEmbeddingLoss(margin=1.0, reduction=r),
                                   np.array([1.0, 0.5, 1.0, 2.0], dtype=d), np.array([-1, -1, 1, -1], dtype=d)),
    "multi-margin-at-kink": lambda d, r: (nn.MultiMarginLoss(reduction=r),
                                          np.array([[1.0, 0.0, 2.0], [0.5, 0.25, 0.0]], dtype=d), np.array([2, 1])),
    "cosine-at-kink": lambda d, r: (nn.CosineEmbeddingLoss(reduction=r),
                                    (np.array([[1.0, 0.0], [1.0, 2.0]], dtype=d), np.array([[0.0, 1.0], [2.0, 1.0]],
                                                                                          dtype=d)),
                                    np.array([-1, -1])),
}
LOSSES["kl-div-0d"] = lambda d, r: (nn.KLDivLoss(reduction=r), np.array(-0.7, dtype=d), np.array(0.4, dtype=d))
BATCHMEAN = {name: LOSSES[name] for name in ("kl-div", "kl-div-log-target", "kl-div-zero-target", "kl-div-0d")}
LOSS_CASES = [(name, r) for name in LOSSES for r in REDUCTIONS] + [(name, "batchmean") for name in BATCHMEAN]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("case", "reduction"), LOSS_CASES)
def test_loss_matches_torch(case, reduction, dtype):
    criterion, input, target = LOSSES[case](dtype, reduction)
    assert_loss_parity(criterion, input, target)


# a kink has no derivative for differences to estimate, and 1e4 logits saturate them
SMOOTH_CASES = [(name, r) for name, r in LOSS_CASES if not name.endswith(("kink", "1e4"))]


@pytest.mark.parametrize(("case", "reduction"), SMOOTH_CASES)
def test_gradient_matches_finite_differences(case, reduction):
    criterion, input, target = LOSSES[case](np.float64, reduction)
    if not isinstance(input, tuple):
        assert_gradcheck_loss(criterion, input, target)
        return
    result = gradcheck_loss(criterion, input, target, rng=np.random.default_rng(UPSTREAM_SEED)).raise_on_failure()
    assert {check.quantity for check in result.checks} == {"input[0]", "input[1]"}
    assert all(check.norm > MIN_NORM for check in result.checks)


# ------------------------------------------------------------------------------- stability
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_with_logits_is_finite_and_exact_at_huge_logits(reduction, dtype):
    logits = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 30.0]], dtype=dtype)
    target = np.array([[0.0, 1.0, 0.5], [0.0, 1.0, 0.25]], dtype=dtype)
    criterion = nn.BCEWithLogitsLoss(pos_weight=np.array([2.0, 0.5, 3.0], dtype=dtype), reduction=reduction)
    with np.errstate(all="raise"):
        result = assert_loss_parity(criterion, logits, target)
    loss, grad = result.arrays["output"][0], result.arrays["grad_input"][0]
    assert np.all(np.isfinite(loss)) and np.all(np.isfinite(grad))


@pytest.mark.parametrize("criterion", [nn.CrossEntropyLoss(), nn.NLLLoss(), nn.CrossEntropyLoss(label_smoothing=0.1)],
                         ids=repr)
def test_every_target_ignored_gives_torch_nan_loss_and_zero_gradient(criterion):
    x, target = normal(np.float32, 3, 4), np.full(3, -100)
    loss, grad = criterion(x, target), criterion.backward()
    twin_input = torch.tensor(x, requires_grad=True)
    twin_loss = torch_ref.to_torch(criterion)(twin_input, torch.tensor(target))
    twin_loss.backward()
    assert np.isnan(loss) and torch.isnan(twin_loss)
    np.testing.assert_array_equal(grad, twin_input.grad.numpy())


def test_soft_margin_overflows_to_inf_like_torch():
    x, y = np.array([-1e4, 2.0], dtype=np.float32), np.array([1.0, 1.0], dtype=np.float32)
    loss = nn.SoftMarginLoss(reduction="none")(x, y)
    expected = torch.nn.SoftMarginLoss(reduction="none")(torch.tensor(x), torch.tensor(y))
    assert loss[0] == np.inf
    assert compare_arrays("output", loss, expected, rtol(np.float32)).ok


# ------------------------------------------------------------------------- dtypes and shapes
ALL_LOSSES = [name for name in LOSSES if not name.endswith("kink")]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", ALL_LOSSES)
def test_reduced_loss_is_a_0d_array_and_gradient_keeps_the_dtype(case, dtype):
    criterion, input, target = LOSSES[case](dtype, "mean")
    inputs = input if isinstance(input, tuple) else (input,)
    loss = criterion(*inputs, target)
    assert isinstance(loss, np.ndarray) and loss.shape == () and loss.dtype == dtype
    grads = criterion.backward()
    for grad, x in zip(grads if isinstance(input, tuple) else (grads,), inputs, strict=True):
        assert grad.dtype == dtype and grad.shape == x.shape


def test_kl_div_alone_accepts_batchmean():
    assert nn.KLDivLoss(reduction="batchmean").reduction == "batchmean"
    for cls in (nn.L1Loss, nn.NLLLoss, nn.BCEWithLogitsLoss, nn.SoftMarginLoss, nn.CosineEmbeddingLoss):
        with pytest.raises(ValueError, match="batchmean is not a valid value for reduction"):
            cls(reduction="batchmean")
    with pytest.raises(ValueError, match="not a valid value for reduction"):
        nn.KLDivLoss(reduction="avg")


# ----------------------------------------------------------------------------- buffers
BUFFERED = {
    "nll": lambda: (nn.NLLLoss(weights(np.float32)), torch.nn.NLLLoss(torch.ones(5))),
    "multi-margin": lambda: (nn.MultiMarginLoss(weight=weights(np.float32)),
                             torch.nn.MultiMarginLoss(weight=torch.ones(5))),
    "bce-logits": lambda: (nn.BCEWithLogitsLoss(weights(np.float32), pos_weight=weights(np.float32, seed=8)),
                           torch.nn.BCEWithLogitsLoss(torch.ones(5), pos_weight=torch.ones(5))),
    "bce-logits-no-weights": lambda: (nn.BCEWithLogitsLoss(), torch.nn.BCEWithLogitsLoss()),
}


@pytest.mark.parametrize("case", BUFFERED)
def test_weights_are_buffers_like_torch(case):
    ours, theirs = BUFFERED[case]()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [name for name, _ in ours.named_buffers()] == [name for name, _ in theirs.named_buffers()]
    assert list(ours.parameters()) == []
    ours.to(np.float64)
    assert all(buffer.dtype == np.float64 for buffer in ours.buffers())
    back = torch_ref.from_torch(torch_ref.to_torch(ours))
    for key, value in ours.state_dict().items():
        np.testing.assert_array_equal(back.state_dict()[key], value)


def test_weight_is_copied_not_aliased():
    w = weights(np.float64)
    criterion = nn.BCEWithLogitsLoss(pos_weight=w)
    w[0] = 100.0
    assert criterion.pos_weight[0] != 100.0


# --------------------------------------------------------------------------------- bad input
X, T = normal(np.float32, 4, 3), normal(np.float32, 4, 3, seed=5)
BAD = [
    (nn.L1Loss(), (X, T[:, :2]), ValueError, r"L1Loss: target shape \(4, 2\) must equal input shape \(4, 3\)"),
    (nn.HuberLoss(), (X, T.astype(np.float64)), TypeError, "HuberLoss: target dtype float64 must equal input dtype"),
    (nn.SmoothL1Loss(), (X, T.T), ValueError, r"SmoothL1Loss: target shape \(3, 4\)"),
    (nn.KLDivLoss(), (X, T[:2]), ValueError, r"KLDivLoss: target shape \(2, 3\)"),
    (nn.BCEWithLogitsLoss(), (X, T[:3]), ValueError, r"BCEWithLogitsLoss: target size \(3, 3\) must be the same"),
    (nn.BCEWithLogitsLoss(pos_weight=np.ones(4, np.float32)), (X, T), ValueError,
     r"pos_weight of shape \(4,\) must broadcast to the input shape \(4, 3\)"),
    (nn.BCEWithLogitsLoss(weight=np.ones(3)), (X, T), TypeError, "BCEWithLogitsLoss: weight dtype float64"),
    (nn.NLLLoss(), (X, np.array([0, 1, 3, 2])), IndexError, "NLLLoss: target 3 is out of bounds for 3 classes"),
    (nn.NLLLoss(), (X, np.array([0, -1, 2, 2])), IndexError, "NLLLoss: target -1 is out of bounds"),
    (nn.NLLLoss(), (X, np.array([0.0, 1, 2, 2])), TypeError, "NLLLoss: target must hold integer class indices"),
    (nn.NLLLoss(), (X, np.array([0, 1, 2])), ValueError, r"NLLLoss: expected class-index target of shape \(4,\)"),
    (nn.NLLLoss(np.ones(4, np.float32)), (X, np.array([0, 1, 2, 2])), ValueError,
     r"NLLLoss: weight must have shape \(3,\)"),
    (nn.CrossEntropyLoss(), (X, np.array([0, 1, 2, 2], dtype=bool)), TypeError,
     "CrossEntropyLoss: target must hold integer class indices"),
    (nn.CrossEntropyLoss(), (X, np.array([0, 5, 2, 2])), IndexError, "CrossEntropyLoss: target 5 is out of bounds"),
    (nn.MultiMarginLoss(), (X, np.array([0, 1, 3, 2])), IndexError, "MultiMarginLoss: target 3 is out of range"),
    (nn.MultiMarginLoss(), (X, np.array([0, 1])), ValueError, r"MultiMarginLoss: expected a target of shape \(4,\)"),
    (nn.MultiMarginLoss(), (X, T), TypeError, "MultiMarginLoss: target must hold integer class indices"),
    (nn.MultiMarginLoss(), (normal(np.float32, 2, 3, 4), np.array([0, 1])), ValueError, "MultiMarginLoss: expected"),
    (nn.HingeEmbeddingLoss(), (X, T[0]), ValueError, "HingeEmbeddingLoss: target shape"),
    (nn.SoftMarginLoss(), (X, T[:, 0]), ValueError, "SoftMarginLoss: target shape"),
    (nn.CosineEmbeddingLoss(), (X, T, np.ones(3)), ValueError, r"CosineEmbeddingLoss: .*target \(3,\)"),
    (nn.CosineEmbeddingLoss(), (X, T[:, :2], np.ones(4)), ValueError, "CosineEmbeddingLoss: input1 and input2 must"),
    (nn.CosineEmbeddingLoss(), (X, T.astype(np.float64), np.ones(4)), TypeError, "share one float dtype"),
    (nn.CosineEmbeddingLoss(), (X, T, np.ones((4, 1))), ValueError, "CosineEmbeddingLoss: expected inputs"),
]


@pytest.mark.parametrize(("criterion", "args", "error", "match"), BAD, ids=lambda v: getattr(v, "__name__", None))
def test_bad_input_is_rejected_with_a_clear_message(criterion, args, error, match):
    with pytest.raises(error, match=match):
        criterion(*args)


@pytest.mark.parametrize(("make", "match"), [
    (lambda: nn.HuberLoss(delta=0.0), "delta must be positive"),
    (lambda: nn.SmoothL1Loss(beta=-1.0), "beta must be non-negative"),
    (lambda: nn.MultiMarginLoss(p=3), "only p == 1 and p == 2 supported"),
    (lambda: nn.MultiMarginLoss(weight=np.ones((2, 3))), "expected weight to be None or 1D tensor, got 2D"),
])
def test_invalid_hyperparameters_are_rejected(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_huber_delta_must_be_a_number_like_torch():
    with pytest.raises(TypeError, match="delta must be a float or int"):
        nn.HuberLoss(delta="1")
    with pytest.raises(TypeError, match="delta must be a float or int"):
        torch.nn.HuberLoss(delta="1")


def test_kl_div_mean_warns_like_torch():
    input, target = np.log(probs(np.float64, 2, 3)), probs(np.float64, 2, 3, seed=5)
    with pytest.warns(UserWarning) as theirs:
        torch.nn.KLDivLoss()(torch.tensor(input), torch.tensor(target))
    with pytest.warns(UserWarning) as ours:
        nn.KLDivLoss()(input, target)
    assert [str(w.message) for w in ours] == [str(w.message) for w in theirs]
