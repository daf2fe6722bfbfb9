"""Numerical stability, matching torch: extreme logits and activations, Softplus past its threshold,
BCELoss at probabilities 0 and 1, normalization of a constant input. float32 kept through every op:
test_stability_float32.py.

Every parity check runs under ``RAISE`` (stability_helpers.py): an overflow, a division by zero or an invalid
operation (a NaN made) anywhere in scratch raises.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import torch_ref
from scratch import nn
from torch_ref.arrays import random_like
from torch_ref.component import module_parity
from torch_ref.testing import DTYPES, assert_loss_parity, assert_module_parity
from torch_ref.tolerance import relative_error

from .stability_helpers import RAISE


def extreme_logits(rng, dtype, big=1e4, n=8, c=5):
    """(n, c) logits from {-big, -1, 0, 1, big}, some rows with two tied maxima (a softmax of 1/2, 1/2),
    the first row the mixed [big, -big, 0, ...]."""
    x = rng.choice([-big, -1.0, 0.0, 1.0, big], size=(n, c))
    x[0, :3] = [big, -big, 0.0]
    x[1, :2] = big
    x[2, :2] = -big
    return x.astype(dtype)


def classes(rng, n=8, c=5):
    return rng.integers(0, c, n)


def soft_targets(dtype, rng, n=8, c=5):
    p = rng.uniform(0.05, 1, (n, c))
    return (p / p.sum(axis=1, keepdims=True)).astype(dtype)


# --------------------------------------------------------------------------- logits of ±1e4
def weights(rng, dtype, low=0.5, high=2.0):
    return rng.uniform(low, high, 5).astype(dtype)


def fractions(dtype, rng):
    return rng.uniform(0, 1, (8, 5)).astype(dtype)


LOGIT_LOSSES = {  # name: (criterion(dtype, rng), target(dtype, rng)), applied to (8, 5) logits of ±big
    "CrossEntropyLoss(classes)": (lambda d, r: nn.CrossEntropyLoss(), lambda d, r: classes(r)),
    "CrossEntropyLoss(classes,sum)": (lambda d, r: nn.CrossEntropyLoss(reduction="sum"), lambda d, r: classes(r)),
    "CrossEntropyLoss(probabilities)": (lambda d, r: nn.CrossEntropyLoss(), soft_targets),
    "CrossEntropyLoss(label_smoothing)": (lambda d, r: nn.CrossEntropyLoss(label_smoothing=0.2),
                                          lambda d, r: classes(r)),
    "CrossEntropyLoss(probabilities,label_smoothing,none)": (
        lambda d, r: nn.CrossEntropyLoss(label_smoothing=0.1, reduction="none"), soft_targets),
    "CrossEntropyLoss(weight,ignore_index,label_smoothing)": (
        lambda d, r: nn.CrossEntropyLoss(weight=weights(r, d), ignore_index=1, label_smoothing=0.1),
        lambda d, r: classes(r)),
    "CrossEntropyLoss(weight,probabilities)": (lambda d, r: nn.CrossEntropyLoss(weight=weights(r, d)), soft_targets),
    "BCEWithLogitsLoss": (lambda d, r: nn.BCEWithLogitsLoss(), fractions),
    "BCEWithLogitsLoss(0/1 targets,none)": (lambda d, r: nn.BCEWithLogitsLoss(reduction="none"),
                                            lambda d, r: r.integers(0, 2, (8, 5)).astype(d)),
    "BCEWithLogitsLoss(weight,pos_weight)": (
        lambda d, r: nn.BCEWithLogitsLoss(weight=weights(r, d), pos_weight=weights(r, d, 0.5, 3.0)), fractions),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("big", [1e4, 1e30])
@pytest.mark.parametrize("case", LOGIT_LOSSES)
def test_a_loss_of_huge_logits_is_finite_and_equals_torchs(case, big, dtype):
    rng = np.random.default_rng(0)
    make_criterion, make_target = LOGIT_LOSSES[case]
    criterion, logits, target = make_criterion(dtype, rng), extreme_logits(rng, dtype, big), make_target(dtype, rng)
    with np.errstate(**RAISE):
        result = assert_loss_parity(criterion, logits, target)
    assert all(np.isfinite(ours).all() for ours, _ in result.arrays.values())


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("big", [1e4, 1e30])
@pytest.mark.parametrize("module", [nn.LogSoftmax(dim=1), nn.Softmax(dim=1), nn.LogSoftmax(dim=0), nn.Softmax(dim=0)],
                         ids=repr)
def test_softmaxes_of_huge_logits_are_finite_and_equal_torchs(module, big, dtype):
    x = extreme_logits(np.random.default_rng(1), dtype, big, n=6, c=6)
    with np.errstate(**RAISE):
        result = assert_module_parity(module, x)
    assert all(np.isfinite(ours).all() for ours, _ in result.arrays.values())


@pytest.mark.parametrize("dtype", DTYPES)
def test_a_k_dimensional_cross_entropy_of_logits_of_1e4_equals_torchs(dtype):
    rng = np.random.default_rng(0)
    logits = extreme_logits(rng, dtype, n=12).reshape(3, 4, 5).transpose(0, 2, 1).copy()  # (N, C, d)
    with np.errstate(**RAISE):
        assert_loss_parity(nn.CrossEntropyLoss(weight=weights(rng, dtype)), logits, rng.integers(0, 5, (3, 4)))


@pytest.mark.parametrize("dtype", DTYPES)
def test_nll_of_log_softmax_of_1e4_equals_torchs(dtype):
    rng = np.random.default_rng(0)
    log_probabilities = nn.LogSoftmax(dim=1)(extreme_logits(rng, dtype))
    with np.errstate(**RAISE):
        assert_loss_parity(nn.NLLLoss(), log_probabilities, classes(rng))


def masked_logits(rng, dtype):
    """(6, 5) logits with -inf (a mask) in a whole column and in two more places, never at the target 2."""
    x = rng.standard_normal((6, 5))
    x[:, 3] = -np.inf
    x[0, :2] = -np.inf
    return x.astype(dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", ["Softmax", "LogSoftmax", "CrossEntropyLoss", "CrossEntropyLoss(weight,sum)"])
def test_masked_logits_of_minus_inf_give_torchs_finite_gradients(case, dtype):
    rng = np.random.default_rng(11)
    x = masked_logits(rng, dtype)
    with np.errstate(**RAISE):
        if case.startswith("CrossEntropyLoss"):
            weight = weights(rng, dtype) if "weight" in case else None
            criterion = nn.CrossEntropyLoss(weight=weight, reduction="sum" if "sum" in case else "mean")
            result = assert_loss_parity(criterion, x, np.array([2, 0, 1, 4, 2, 2]))
        else:
            result = assert_module_parity(getattr(nn, case)(dim=1), x)
    assert np.isfinite(result.arrays["grad_input"][0]).all()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", ["batchmean", "sum", "none"])
def test_kl_divergence_with_zero_target_probabilities_is_finite_like_torch(reduction, dtype):
    rng = np.random.default_rng(12)
    target = rng.dirichlet(np.ones(5), 8)
    target[:, 0] = 0  # 0 log 0 = 0, as torch's xlogy
    target[1] = [0, 0, 1, 0, 0]
    log_probabilities = np.log(rng.dirichlet(np.ones(5), 8)).astype(dtype)
    with np.errstate(**RAISE):
        result = assert_loss_parity(nn.KLDivLoss(reduction=reduction), log_probabilities, target.astype(dtype))
    assert all(np.isfinite(ours).all() for ours, _ in result.arrays.values())


@pytest.mark.parametrize("dtype", DTYPES)
def test_cosine_embedding_of_a_zero_vector_is_finite_like_torch(dtype):
    rng = np.random.default_rng(13)
    x1, x2 = rng.standard_normal((6, 4)).astype(dtype), rng.standard_normal((6, 4)).astype(dtype)
    x1[0] = 0
    x2[1] = 0
    with np.errstate(**RAISE):
        result = assert_loss_parity(nn.CosineEmbeddingLoss(margin=0.1, reduction="sum"), (x1, x2),
                                    np.array([1, -1, 1, -1, 1, -1]))
    assert all(np.isfinite(ours).all() for ours, _ in result.arrays.values())


# --------------------------------------------------------------------------- activations at extremes
ELEMENTWISE = {
    "Sigmoid": nn.Sigmoid, "Tanh": nn.Tanh, "SiLU": nn.SiLU, "Softplus": nn.Softplus,
    "Softplus(beta=0.5,threshold=2)": lambda: nn.Softplus(0.5, 2.0), "ELU": nn.ELU, "SELU": nn.SELU,
    "CELU(alpha=0.3)": lambda: nn.CELU(0.3), "GELU": nn.GELU, "GELU(tanh)": lambda: nn.GELU(approximate="tanh"),
    "Mish": nn.Mish, "Softsign": nn.Softsign, "LeakyReLU": nn.LeakyReLU, "ReLU": nn.ReLU, "ReLU6": nn.ReLU6,
    "Hardtanh": nn.Hardtanh, "PReLU": lambda: nn.PReLU(init=0.3, dtype=np.float64), "Identity": nn.Identity,
}
# torch's own output or gradient is NaN at ±inf for these (inf * 0 in SiLU, Mish and the GELUs, inf / inf in
# Softsign, inf - inf in PReLU's weight gradient), so there is no finite answer to match there
NAN_IN_TORCH_AT_INF = {"SiLU", "GELU", "GELU(tanh)", "Mish", "Softsign", "PReLU"}


def extremes(rng, dtype, big):
    """A (4, 6) input: ±big in half the places, moderate values (for a non-trivial gradient) in the rest."""
    x = 3 * rng.standard_normal((4, 6))
    x.reshape(-1)[::2] = np.resize([big, -big, -big, big], 12)
    return x.astype(dtype)


def elementwise_cases():
    cases = []
    for big in (1e3, 1e30, np.inf):
        for name in ELEMENTWISE:
            for dtype in DTYPES:
                if big == np.inf and name in NAN_IN_TORCH_AT_INF:
                    continue
                if big == 1e30 and name == "GELU(tanh)" and dtype is np.float32:
                    continue  # torch's gradient is NaN: its x^3 overflows float32 to inf, then inf * 0
                cases.append(pytest.param(name, big, dtype, id=f"{name}-{big:g}-{dtype.__name__}"))
    return cases


@pytest.mark.parametrize(("name", "big", "dtype"), elementwise_cases())
def test_an_activation_at_extremes_warns_nothing_and_equals_torch(name, big, dtype):
    module = ELEMENTWISE[name]()
    if name == "PReLU":
        module = module.to(dtype)
    x = extremes(np.random.default_rng(3), dtype, big)
    with np.errstate(**RAISE):
        result = assert_module_parity(module, x)
    for quantity, (ours, _) in result.arrays.items():  # inf only where the true value is inf, never NaN
        assert not np.isnan(ours).any(), f"{quantity} has NaN"
        if quantity != "output":
            assert np.isfinite(ours).all(), f"{quantity} is not finite"


def test_the_activations_without_a_finite_answer_at_inf_really_give_nan_in_torch():
    for name in NAN_IN_TORCH_AT_INF:
        x = torch.tensor([1.0, np.inf, -np.inf, -np.inf], dtype=torch.float64, requires_grad=True)
        twin = torch_ref.to_torch(ELEMENTWISE[name]())
        out = twin(x)
        out.backward(torch.tensor([0.5, -1.5, 2.0, -0.5], dtype=torch.float64))
        grads = [x.grad] + [p.grad for p in twin.parameters()]
        assert out.isnan().any() or any(g.isnan().any() for g in grads), name


# --------------------------------------------------------------------------- Softplus past its threshold
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("beta", "threshold"), [(1.0, 20.0), (0.5, 1.0), (2.0, 5.0), (3.0, 0.5), (0.1, 30.0)])
def test_softplus_past_its_threshold_is_exactly_linear(beta, threshold, dtype):
    rng = np.random.default_rng(4)
    x = rng.uniform(-2, 2, (6, 8)) * threshold / beta
    x[0, :4] = np.nextafter(threshold / beta, np.inf), 2 * threshold / beta, 1e4, 1e30
    x = x.astype(dtype)
    module = nn.Softplus(beta, threshold)
    with np.errstate(**RAISE):
        assert_module_parity(module, x)
        out = module(x)
        grad_output = random_like(out, rng)
        dx = module.backward(grad_output)
    past = x * dtype(beta) > dtype(threshold)
    assert past.sum() >= 8 and (~past).sum() >= 8
    np.testing.assert_array_equal(out[past], x[past])
    np.testing.assert_array_equal(dx[past], grad_output[past])
    assert (out[~past] >= x[~past]).all()  # softplus(x) > x, rounding to x just below the threshold


# --------------------------------------------------------------------------- BCELoss at 0 and 1
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("targets", ["binary", "fractional"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_bce_at_probabilities_0_and_1_clamps_the_log_at_minus_100_like_torch(dtype, targets, reduction):
    rng = np.random.default_rng(5)
    p = rng.choice([0.0, 1.0, 0.3, 0.8], size=(6, 5)).astype(dtype)
    y = rng.integers(0, 2, (6, 5)) if targets == "binary" else rng.uniform(0, 1, (6, 5))
    y[0, :4] = [0, 1, 1, 0]
    p[0, :4] = [1, 0, 1, 0]  # fully wrong then fully right: 100 each, then 0
    criterion = nn.BCELoss(weight=rng.uniform(0.5, 2, 5).astype(dtype), reduction=reduction)
    with np.errstate(**RAISE):
        assert_loss_parity(criterion, p, y.astype(dtype))
        loss = nn.BCELoss(reduction="none")(p[:1, :4], y[:1, :4].astype(dtype))
    np.testing.assert_array_equal(loss, np.array([[100, 100, 0, 0]], dtype=dtype))


# --------------------------------------------------------------------------- normalization of a constant input
NORMS = {  # name: make(dtype) -> (module, input shape)
    "BatchNorm1d": lambda d: (nn.BatchNorm1d(4, dtype=d), (8, 4)),
    "BatchNorm1d(N,C,L)": lambda d: (nn.BatchNorm1d(4, dtype=d), (4, 4, 3)),
    "BatchNorm2d": lambda d: (nn.BatchNorm2d(3, dtype=d), (2, 3, 4, 4)),
    "LayerNorm": lambda d: (nn.LayerNorm(6, dtype=d), (4, 6)),
    "LayerNorm(2-D shape)": lambda d: (nn.LayerNorm((2, 3), dtype=d), (3, 2, 3)),
    "GroupNorm": lambda d: (nn.GroupNorm(2, 4, dtype=d), (3, 4, 5)),
}


def normalization_input(rng, dtype, shape, kind):
    return np.full(shape, 2.7, dtype) if kind == "constant" else (1e-20 * rng.standard_normal(shape)).astype(dtype)


def cancelled_terms(module, x, grad_output):
    """The size of the terms that the output and dL/dweight of a constant input cancel. Both engines compute
    torch's fused y = x a + (b - mean a) with a = weight / sqrt(var + eps): for a constant input that is
    b plus the rounding of terms |x| |a|, and weight.grad = sum g xhat sums that rounding times g. So these
    two are held to the policy's rtol relative to their terms (tolerance.py, "Where the claim stops").
    The variance is 0 in every case here (the batch's, or the running one in eval), so a = weight / sqrt(eps)."""
    invstd = 1 / np.sqrt(module.eps)
    big_x = float(np.max(np.abs(x))) + float(np.max(np.abs(getattr(module, "running_mean", 0.0))))
    return {"output": big_x * invstd * float(np.max(np.abs(module.weight.data))),
            "weight.grad": big_x * invstd * float(np.sum(np.abs(grad_output)))}


NORM_MODES = [(name, "train") for name in NORMS] + [(name, "eval") for name in NORMS if name.startswith("BatchNorm")]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", ["constant", "spread 1e-20"])
@pytest.mark.parametrize(("name", "mode"), NORM_MODES)
def test_normalizing_a_constant_input_stays_finite_and_equals_torch(name, mode, kind, dtype):
    rng = np.random.default_rng(6)
    module, shape = NORMS[name](dtype)
    for p in module.parameters():  # random affine parameters, so the output is not all zeros
        p.data[...] = rng.uniform(0.5, 2, p.shape)
    if mode == "eval":  # with the running statistics of a channel that was constant in training
        module.eval()
        module.running_var[...] = 0
        module.running_mean[...] = rng.standard_normal(module.running_mean.shape)
    x = normalization_input(rng, dtype, shape, kind)
    grad_output = rng.standard_normal(shape).astype(dtype)
    with np.errstate(**RAISE):
        result = module_parity(module, x, grad_output=grad_output)
    terms = cancelled_terms(module, x, grad_output) if kind == "constant" else {}
    for c in result.comparisons:
        ours, theirs = result.arrays[c.quantity]
        if c.quantity in terms:  # weight.grad may be trivially small here: sum(g * xhat) with xhat ~ 0
            rel = relative_error(ours, theirs, scale=terms[c.quantity])[1]
            assert rel <= c.tol, f"{c.quantity}: rel err {rel:.3e} relative to terms {terms[c.quantity]:.3e}"
        elif c.quantity == "weight.grad":  # a spread of 1e-20: xhat ~ 1e-18, so the gradient is tiny, not wrong
            assert c.max_rel_err <= c.tol, c.describe(ours, theirs)
        else:
            assert c.ok, c.describe(ours, theirs)
        assert np.isfinite(ours).all(), f"{c.quantity} is not finite"
