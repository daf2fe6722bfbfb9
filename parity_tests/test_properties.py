"""Property-based parity with torch: hypothesis draws shapes, sizes, options and values.

Each property says "for every input of this kind, scratch matches torch" (output, dL/dinput with a
random upstream gradient, every parameter gradient; see ``torch_ref/testing.py``). Values come
from hypothesis itself, so its favourite edge cases (zeros, repeated values, the range's ends such
as ±50) are tried.

Two kinds of input are set aside with ``assume``, each for a stated reason:

- a gradient that is ~0 everywhere (fully saturated): the helpers rightly refuse to call 0 == 0 a match;
- an *ill-conditioned* gradient, one that is a cancellation of terms much larger than itself (a
  softmax slice dominated by one class; a cross-entropy prediction that already equals its soft
  target). The parity measure is relative to |b_i| + max|b|, but rounding -- here, the last-ulp
  differences between NumPy's and torch's exp/tanh and their summation orders -- is relative to
  the terms. Such inputs are checked instead against a bound relative to the terms, in
  ``test_ill_conditioned_gradient_matches_torch`` at the end.
"""

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import torch_ref
from scratch import nn
from torch_ref.arrays import random_like
from torch_ref.component import loss_parity, module_parity
from torch_ref.testing import DTYPES, assert_loss_parity, assert_module_parity

SETTINGS = settings(max_examples=25, deadline=None)
dtypes = st.sampled_from(DTYPES)
reductions = st.sampled_from(["mean", "sum", "none"])
seeds = st.integers(0, 2**32 - 1)
CONDITION_LIMIT = 8  # terms may exceed the measure's scale |b_i| + max|b| at most this much (rtol is 16 eps)


def floats(dtype, low, high):
    """Finite floats in [low, high] representable in ``dtype`` (no subnormals: those test the CPU, not us)."""
    low, high = float(dtype(low)), float(dtype(high))  # e.g. 0.1 rounded to float32, as hypothesis requires
    return st.floats(low, high, width=np.finfo(dtype).bits, allow_subnormal=False)


@st.composite
def arrays(draw, dtype, shape, bounds=(1.0, 10.0, 50.0)):
    """An array of ``shape`` with values in ±bound, bound drawn from ``bounds`` (±50 included)."""
    bound = draw(st.sampled_from(bounds))
    return draw(hnp.arrays(dtype, shape, elements=floats(dtype, -bound, bound)))


def shapes(min_dims=1, max_dims=4, min_side=1, max_side=5):
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)


def softmax64(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def upstream(like):
    """The upstream gradient the parity helpers feed (seed 0), in float64, to judge conditioning."""
    return random_like(np.asarray(like), np.random.default_rng(0)).astype(np.float64)


def condition(value, terms):
    """How much larger the terms that a formula sums are than the parity measure's scale |b_i| + max|b|."""
    value = np.abs(value)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.abs(terms) / (value + value.max())
    return float(np.nan_to_num(ratio, nan=np.inf).max()) if ratio.size else 0.0


def assume_well_conditioned(grad, terms, *more_pairs):
    """Keep inputs whose gradient is not ~0 everywhere and where no compared quantity (a gradient,
    then any further (value, terms) pairs) is a cancellation of far larger terms."""
    assume(np.abs(grad).max() > 1e-4)
    for value, value_terms in [(grad, terms), *zip(more_pairs[::2], more_pairs[1::2])]:
        assume(condition(value, value_terms) <= CONDITION_LIMIT)


# ---------------------------------------------------------------------------------- Linear
@SETTINGS
@given(dtype=dtypes, in_features=st.integers(1, 8), out_features=st.integers(1, 8),
       leading=shapes(min_dims=0, max_dims=3, max_side=4), bias=st.booleans(), seed=seeds, data=st.data())
def test_linear_matches_torch(dtype, in_features, out_features, leading, bias, seed, data):
    x = data.draw(arrays(dtype, (*leading, in_features), bounds=(1.0, 100.0)))
    module = nn.Linear(in_features, out_features, bias=bias, dtype=dtype, rng=np.random.default_rng(seed))
    # Every output and gradient is a dot product; set aside those that cancel (e.g. one input feature
    # and a single sample, where dL/dx = g W sums 8 terms of ~0.5 into 1e-3).
    x64, w, b = x.reshape(-1, in_features).astype(np.float64), module.weight.data.astype(np.float64), module.bias
    y = x64 @ w.T + (0 if b is None else b.data)
    g = upstream(y.reshape(*leading, out_features)).reshape(y.shape)
    assume_well_conditioned(g.T @ x64, np.abs(g).T @ np.abs(x64),  # dL/dW, the gradient that must be non-zero
                            g @ w, np.abs(g) @ np.abs(w),  # dL/dx
                            y, np.abs(x64) @ np.abs(w).T + (0 if b is None else np.abs(b.data)),  # output
                            g.sum(axis=0), np.abs(g).sum(axis=0))  # dL/db
    assert_module_parity(module, x)


# ----------------------------------------------------------------------------- activations
@SETTINGS
@given(dtype=dtypes, shape=shapes(), data=st.data())
def test_relu_matches_torch(dtype, shape, data):
    x = data.draw(arrays(dtype, shape))  # zeros included: both engines give gradient 0 there
    assume((x > 0).any())
    assert_module_parity(nn.ReLU(), x)


@SETTINGS
@given(dtype=dtypes, shape=shapes(), data=st.data())
def test_sigmoid_matches_torch(dtype, shape, data):
    x = data.draw(arrays(dtype, shape))
    assume((np.abs(x) < 5).any())  # some element off the flat tails, where sigmoid' < 1e-2
    assert_module_parity(nn.Sigmoid(), x)


# Where tanh(x) rounds to exactly ±1 (|x| > 9.01 in float32, > 19.06 in float64), its gradient is exactly 0.
TANH_SATURATED = {np.float32: 10.0, np.float64: 20.0}


@SETTINGS
@given(dtype=dtypes, shape=shapes(), data=st.data())
def test_tanh_matches_torch(dtype, shape, data):
    # Moderate values and fully saturated ones up to ±50; the band in between is ill-conditioned
    # (1 - y² cancels) and is checked relative to its terms in test_ill_conditioned_gradient_matches_torch.
    sat = TANH_SATURATED[dtype]
    elements = st.one_of(floats(dtype, -2, 2), floats(dtype, sat, 50), floats(dtype, -50, -sat))
    x = data.draw(hnp.arrays(dtype, shape, elements=elements))
    assume((np.abs(x) <= 2).any())
    assert_module_parity(nn.Tanh(), x)


@st.composite
def softmax_case(draw):
    """(x, dim): a slice along ``dim`` has at least 2 entries (a 1-entry softmax is constant)."""
    dtype = draw(dtypes)
    shape = draw(shapes())
    dim = draw(st.integers(-len(shape), len(shape) - 1))
    assume(shape[dim] >= 2)
    shift = draw(floats(dtype, -50, 50))  # a common offset: softmax must be shift-invariant and not overflow
    x = (draw(arrays(dtype, shape)) + dtype(shift)).astype(dtype)
    return x, dim


@SETTINGS
@given(case=softmax_case())
def test_softmax_matches_torch(case):
    x, dim = case
    y, g = softmax64(x.astype(np.float64), dim), upstream(x)
    dot = (g * y).sum(axis=dim, keepdims=True)
    assume_well_conditioned(y * (g - dot), y * (np.abs(g) * y).sum(axis=dim, keepdims=True))
    assert_module_parity(nn.Softmax(dim=dim), x)


@SETTINGS
@given(case=softmax_case())
def test_log_softmax_matches_torch(case):
    x, dim = case
    p, g = softmax64(x.astype(np.float64), dim), upstream(x)
    assume_well_conditioned(g - p * g.sum(axis=dim, keepdims=True), p * np.abs(g).sum(axis=dim, keepdims=True))
    assert_module_parity(nn.LogSoftmax(dim=dim), x)


@SETTINGS
@given(dtype=dtypes, shape=shapes(max_dims=5, max_side=3), data=st.data())
def test_flatten_matches_torch(dtype, shape, data):
    start = data.draw(st.integers(-len(shape), len(shape) - 1))
    end = data.draw(st.integers(start % len(shape), len(shape) - 1))
    x = data.draw(arrays(dtype, shape))
    assert_module_parity(nn.Flatten(start, end), x)


@pytest.mark.parametrize("dtype", DTYPES)
def test_relu_gradient_at_exactly_zero_is_zero_in_both_engines(dtype):
    x = np.array([[-1.5, 0.0, 2.0], [-0.0, 3.0, 0.0]], dtype=dtype)  # +0 and -0 included
    g = np.array([[0.7, -1.3, 0.4], [2.1, -0.6, 0.9]], dtype=dtype)
    module = nn.ReLU()
    module(x)
    scratch_grad = module.backward(g)
    torch_x = torch.tensor(x, requires_grad=True)
    torch_ref.to_torch(module)(torch_x).backward(torch.tensor(g))
    expected = np.array([[0.0, 0.0, 0.4], [0.0, -0.6, 0.0]], dtype=dtype)  # g passes only where x > 0
    np.testing.assert_array_equal(scratch_grad, expected)
    np.testing.assert_array_equal(torch_x.grad.numpy(), expected)


# ---------------------------------------------------------------------------------- losses
@SETTINGS
@given(dtype=dtypes, shape=shapes(min_dims=0), reduction=reductions, data=st.data())
def test_mse_matches_torch(dtype, shape, reduction, data):
    input, target = data.draw(arrays(dtype, shape)), data.draw(arrays(dtype, shape))
    assume(np.abs(input.astype(np.float64) - target).max() > 1e-2)  # dL/dx ∝ x - y
    assert_loss_parity(nn.MSELoss(reduction=reduction), input, target)


def cross_entropy_terms(logits, target, weight, ignore_index, smoothing, reduction):
    """(dL/dlogits, the terms it cancels) in float64, classes last: with coefficients a_nc (weight,
    smoothing, ignore_index folded in), dl_n/dx_nc = p_nc sum_k a_nk - a_nc, times the upstream g_n."""
    class_axis = 0 if logits.ndim == 1 else 1
    p = softmax64(np.moveaxis(logits.astype(np.float64), class_axis, -1), -1)
    n_classes = p.shape[-1]
    w = np.ones(n_classes) if weight is None else weight.astype(np.float64)
    if np.issubdtype(target.dtype, np.integer):
        kept = (target != ignore_index)[..., None]
        a = (1 - smoothing) * np.eye(n_classes)[np.where(target != ignore_index, target, 0)] * kept
        a = (a + smoothing / n_classes * kept) * w
    else:
        a = (np.moveaxis(target.astype(np.float64), class_axis, -1) * (1 - smoothing) + smoothing / n_classes) * w
    total = a.sum(-1, keepdims=True)
    g = upstream(np.empty(p.shape[:-1]))[..., None] if reduction == "none" else 1.0  # a common scalar cancels out
    return (p * total - a) * g, p * total * np.abs(g)


@st.composite
def cross_entropy_case(draw):
    """Logits (N, C, d1, ...) or (C,), class-index or probability targets, and every option."""
    dtype, n_classes = draw(dtypes), draw(st.integers(2, 6))
    batch = draw(st.one_of(st.just(()), shapes(min_dims=1, max_dims=3, max_side=4)))
    logits_shape = (n_classes,) if batch == () else (batch[0], n_classes, *batch[1:])
    shift = draw(floats(dtype, -50, 50))
    logits = (draw(arrays(dtype, logits_shape, bounds=(1.0, 10.0))) + dtype(shift)).astype(dtype)
    weight = draw(st.none() | hnp.arrays(dtype, (n_classes,), elements=floats(dtype, 0.1, 3.0)))
    smoothing, reduction = draw(st.sampled_from([0.0, 0.1, 0.5])), draw(reductions)
    if draw(st.booleans()):  # class indices, some of them possibly ignore_index
        ignore_index = draw(st.sampled_from([-100, 0, n_classes - 1]))
        target = draw(hnp.arrays(np.int64, batch, elements=st.integers(0, n_classes - 1)))
        target = np.where(draw(hnp.arrays(np.bool_, batch)), ignore_index, target)
        assume((target != ignore_index).any())  # an all-ignored batch has loss 0/0 under 'mean'
    else:
        ignore_index = -100
        target = draw(hnp.arrays(dtype, logits_shape, elements=floats(dtype, 0.0, 1.0)))
    assume_well_conditioned(*cross_entropy_terms(logits, target, weight, ignore_index, smoothing, reduction))
    criterion = nn.CrossEntropyLoss(weight=weight, ignore_index=ignore_index, label_smoothing=smoothing,
                                    reduction=reduction)
    return criterion, logits, target


@SETTINGS
@given(case=cross_entropy_case())
def test_cross_entropy_matches_torch(case):
    assert_loss_parity(*case)


@SETTINGS
@given(dtype=dtypes, shape=shapes(), reduction=reductions, weighted=st.booleans(), data=st.data())
def test_bce_matches_torch(dtype, shape, reduction, weighted, data):
    input = data.draw(hnp.arrays(dtype, shape, elements=floats(dtype, 0.0, 1.0)))  # 0 and 1 included
    target = data.draw(hnp.arrays(dtype, shape, elements=floats(dtype, 0.0, 1.0)))
    assume(np.abs(input.astype(np.float64) - target).max() > 1e-2)  # dL/dx ∝ x - y
    weight = data.draw(hnp.arrays(dtype, shape[-1:], elements=floats(dtype, 0.1, 3.0))) if weighted else None
    assert_loss_parity(nn.BCELoss(weight=weight, reduction=reduction), input, target)


# ------------------------------------------------------------- ill-conditioned inputs, set aside above
def tanh_terms(x):
    """dL/dx = g (1 - y²) is computed from the rounded y: an ulp of y moves it by ~eps |g| y²."""
    return np.abs(upstream(x)) * np.tanh(x.astype(np.float64)) ** 2


def tanh_saturating_band(dtype):
    x = np.linspace(3.0, TANH_SATURATED[dtype], 64)
    x = (x * np.resize([1, -1], 64)).reshape(8, 8).astype(dtype)
    return module_parity(nn.Tanh(), x), tanh_terms(x)


def tanh_found_by_hypothesis(dtype):
    x = np.full((3, 5), 5.71875, dtype=dtype)  # float32: NumPy's tanh is 1 ulp above torch's (correctly rounded)
    x[2, 1] = 0.0
    return module_parity(nn.Tanh(), x), tanh_terms(x)


def softmax_terms(x, dim):
    """dL/dx_i = y_i (g_i - sum_j g_j y_j): the difference cancels to ~(1 - y_max) |g|."""
    y, g = softmax64(x.astype(np.float64), dim), upstream(x)
    return y * (np.abs(g) * y).sum(axis=dim, keepdims=True)


def softmax_dominated_by_one_class(dtype):
    x = np.array([[1.0, 6.0], [0.0, 7.0], [2.0, 9.0], [-3.0, 4.0]], dtype=dtype)
    return module_parity(nn.Softmax(dim=1), x), softmax_terms(x, 1)


def softmax_found_by_hypothesis(dtype):
    x = np.array([[1.0], [6.0]], dtype=dtype)
    return module_parity(nn.Softmax(dim=0), x), softmax_terms(x, 0)


def cross_entropy_predicting_its_soft_target(dtype):
    rng = np.random.default_rng(5)
    logits = rng.standard_normal((6, 4))
    target = (softmax64(logits, 1) * (1 + 1e-3 * rng.standard_normal((6, 4)))).astype(dtype)
    _, terms = cross_entropy_terms(logits.astype(dtype), target, None, -100, 0.0, "sum")
    # dl/dx = p sum(t) - t cancels to ~1e-3 p; 'sum' scales it (and its terms) by the upstream g
    return loss_parity(nn.CrossEntropyLoss(reduction="sum"), logits.astype(dtype), target), terms * np.abs(
        upstream(np.empty((), dtype)))


ILL_CONDITIONED = {
    "tanh-saturating-band": tanh_saturating_band,
    "tanh-found-by-hypothesis": tanh_found_by_hypothesis,
    "softmax-dominated-by-one-class": softmax_dominated_by_one_class,
    "softmax-found-by-hypothesis": softmax_found_by_hypothesis,
    "cross-entropy-predicting-its-soft-target": cross_entropy_predicting_its_soft_target,
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", ILL_CONDITIONED)
def test_ill_conditioned_gradient_matches_torch(case, dtype):
    """What the properties set aside: the output still matches to rtol, and dL/dinput to rtol relative
    to the terms it cancels, |a - b| <= rtol (|b| + max|b| + terms); a formula slip is off by ~|b| itself."""
    result, terms = ILL_CONDITIONED[case](dtype)
    output, grad_input = result.comparisons[0], result.comparisons[1]
    assert output.ok, output.describe()
    ours, theirs = (a.astype(np.float64) for a in result.arrays["grad_input"])
    assert np.linalg.norm(theirs) > 1e-6
    assert condition(theirs, terms) > CONDITION_LIMIT  # genuinely a case the properties would discard
    excess = np.abs(ours - theirs) / (grad_input.tol * (np.abs(theirs) + np.abs(theirs).max() + terms))
    assert excess.max() <= 1, f"{case}: {excess.max():.3g}x the term-relative tolerance"


@pytest.mark.parametrize("dtype", DTYPES)
def test_properties_reject_a_saturated_softmax_rather_than_compare_zeros(dtype):
    """The reason for the ``assume``s above: a fully saturated softmax's gradient is ~0, and the
    parity helper fails it as trivial instead of calling 0 == 0 a match."""
    x = np.array([[50.0, -50.0], [-50.0, 50.0]], dtype=dtype)
    with pytest.raises(AssertionError, match="trivial"):
        assert_module_parity(nn.Softmax(dim=1), x)
