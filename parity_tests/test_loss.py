"""The losses beyond their catalog cases (test_catalog.py runs every loss configuration in every reduction
against torch): torch-free finite differences, stability at huge logits, ignored targets, dtypes and
shapes, weights as buffers, and bad inputs and options."""

import numpy as np
import pytest
import torch

import torch_ref
from scratch import nn
from torch_ref.catalog.data import classes as draw_classes
from torch_ref.catalog.data import normal as draw_normal
from torch_ref.catalog.data import positive, probabilities
from torch_ref.report import compare_arrays
from torch_ref.testing import DTYPES, assert_gradcheck_loss, assert_loss_parity, build, catalog_cases
from torch_ref.tolerance import rtol

REDUCTIONS = ["mean", "sum", "none"]


def normal(dtype, *shape, seed=1):
    return draw_normal(np.random.default_rng(seed), dtype, *shape)


def probs(dtype, *shape, seed=2):
    return probabilities(np.random.default_rng(seed), dtype, *shape)


def classes(*shape, n=5, seed=3):
    return draw_classes(np.random.default_rng(seed), *shape, n=n)


def weights(dtype, n=5, seed=6):
    return positive(np.random.default_rng(seed), dtype, n)


# a kink has no derivative for differences to estimate, and 1e4 logits saturate them
SMOOTH = catalog_cases(kind="loss", without=("kink", "extreme"))
MEAN = [case for case in catalog_cases(kind="loss", without=("kink",)) if case.name.endswith(("(mean)", ",mean)"))]


@pytest.mark.parametrize("case", SMOOTH, ids=lambda case: case.name)
def test_gradient_matches_finite_differences(case):
    assert_gradcheck_loss(*build(case, np.float64))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", MEAN, ids=lambda case: case.name)
def test_reduced_loss_is_a_0d_array_and_gradient_keeps_the_dtype(case, dtype):
    criterion, input, target = build(case, dtype)
    inputs = input if isinstance(input, tuple) else (input,)
    loss = criterion(*inputs, target)
    assert isinstance(loss, np.ndarray) and loss.shape == () and loss.dtype == dtype
    grads = criterion.backward()
    for grad, x in zip(grads if isinstance(input, tuple) else (grads,), inputs, strict=True):
        assert grad.dtype == dtype and grad.shape == x.shape


@pytest.mark.parametrize("dtype", DTYPES)
def test_cross_entropy_stays_finite_for_huge_logits(dtype):
    logits = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 1e4]], dtype=dtype)
    criterion = nn.CrossEntropyLoss()
    loss = criterion(logits, np.array([1, 0]))
    grad = criterion.backward()
    assert np.isfinite(loss) and np.all(np.isfinite(grad))
    # row 1 loses 2e4 exactly; row 2 loses 2e4 + log 2 (two logits tie at the top)
    assert loss == pytest.approx(2e4 + np.log(2) / 2, rel=1e-6)


@pytest.mark.parametrize("dtype", DTYPES)
def test_bce_clamps_log_at_minus_100(dtype):
    criterion = nn.BCELoss(reduction="none")
    loss = criterion(np.array([0.0, 1.0], dtype=dtype), np.array([1.0, 0.0], dtype=dtype))
    np.testing.assert_array_equal(loss, [100.0, 100.0])


def test_unreduced_loss_backward_needs_a_gradient():
    criterion = nn.MSELoss(reduction="none")
    criterion(normal(np.float64, 3), normal(np.float64, 3, seed=2))
    with pytest.raises(RuntimeError, match="reduction='none'"):
        criterion.backward()


def test_invalid_reduction_is_rejected():
    with pytest.raises(ValueError, match="not a valid value for reduction"):
        nn.MSELoss(reduction="avg")


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


# ------------------------------------------------------- GaussianNLL, PoissonNLL, MarginRanking, MultiLabel
def central_differences(f, x, eps=1e-6):
    """d f / d x by central differences, element by element (f returns a float)."""
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + eps
        up = f()
        x[i] = old - eps
        down = f()
        x[i] = old
        grad[i] = (up - down) / (2 * eps)
    return grad


@pytest.mark.parametrize("var_shape", [(4, 3), (4, 1), (1, 3), (4,)])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_gaussian_nll_gradients_of_input_and_var_match_finite_differences(var_shape, reduction):
    x, t = normal(np.float64, 4, 3), normal(np.float64, 4, 3, seed=5)
    var = positive(np.random.default_rng(7), np.float64, *var_shape)
    criterion = nn.GaussianNLLLoss(full=True, reduction=reduction)
    upstream = np.random.default_rng(8).standard_normal(criterion(x, t, var).shape)
    dx, dvar = criterion.backward(upstream)
    loss = lambda: float((nn.GaussianNLLLoss(full=True, reduction=reduction)(x, t, var) * upstream).sum())  # noqa: E731
    np.testing.assert_allclose(dx, central_differences(loss, x), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(dvar, central_differences(loss, var), rtol=1e-6, atol=1e-8)
    assert dvar.shape == var.shape and np.abs(dvar).max() > 1e-3


def test_gaussian_nll_refuses_a_negative_or_misshapen_var_like_torch():
    x = np.ones((4, 3))
    negative, wrong = "var has negative entry/entries", "var is of incorrect size"
    for var, message in [(-np.ones((4, 3)), negative), (np.ones((4, 2)), wrong), (-1.0, negative),
                         (np.ones((2, 3, 1)), wrong)]:
        with pytest.raises(ValueError, match=message):
            torch_var = torch.tensor(var) if isinstance(var, np.ndarray) else var
            torch.nn.GaussianNLLLoss()(torch.tensor(x), torch.tensor(x), torch_var)
        with pytest.raises(ValueError, match=f"GaussianNLLLoss: {message}"):
            nn.GaussianNLLLoss()(x, x, var)


def test_gaussian_nll_float_var_has_no_gradient_and_matches_torch():
    x, t = normal(np.float64, 4, 3), normal(np.float64, 4, 3, seed=5)
    criterion = nn.GaussianNLLLoss(eps=0.01)
    loss = criterion(x, t, 0.005)  # below eps: clamped
    dx, dvar = criterion.backward()
    tx = torch.tensor(x, requires_grad=True)
    expected = torch.nn.GaussianNLLLoss(eps=0.01)(tx, torch.tensor(t), 0.005)
    expected.backward()
    assert dvar is None
    np.testing.assert_allclose(loss, expected.item(), rtol=1e-12)
    np.testing.assert_allclose(dx, tx.grad.numpy(), rtol=1e-12)


def test_multilabel_margin_ignores_labels_after_the_first_minus_one_like_torch():
    x = normal(np.float64, 3, 5)
    target = np.array([[1, -1, 4, 4, 2], [-1, 0, 1, 2, 3], [0, 4, -1, 3, 3]])  # labels after -1 are ignored
    assert_loss_parity(nn.MultiLabelMarginLoss(reduction="none"), x, target)
    for bad in (7, -2):  # torch checks every entry, even after a -1
        with pytest.raises(RuntimeError, match="out of range"):
            torch.nn.MultiLabelMarginLoss()(torch.tensor(x), torch.tensor([[0, -1, bad, 0, 0]] * 3))
        with pytest.raises(IndexError, match=f"MultiLabelMarginLoss: target {bad} is out of range for 5 classes"):
            nn.MultiLabelMarginLoss()(x, np.array([[0, -1, bad, 0, 0]] * 3))


def test_margin_ranking_refuses_inputs_of_other_ranks_like_torch():
    x = np.ones(3)
    with pytest.raises(RuntimeError, match="All input tensors should have same dimension"):
        torch.nn.MarginRankingLoss()(torch.tensor(x), torch.ones(1, 3, dtype=torch.float64), torch.tensor(x))
    with pytest.raises(ValueError, match="MarginRankingLoss: margin_ranking_loss : All input tensors should have same"):
        nn.MarginRankingLoss()(x, np.ones((1, 3)), x)


NEW_LOSSES = [nn.GaussianNLLLoss(), nn.GaussianNLLLoss(full=True, eps=0.1), nn.PoissonNLLLoss(),
              nn.PoissonNLLLoss(False, True, eps=0.5), nn.MarginRankingLoss(0.3), nn.MultiLabelMarginLoss(),
              nn.MultiLabelSoftMarginLoss(weight=np.ones(3))]


@pytest.mark.parametrize("module", NEW_LOSSES, ids=repr)
def test_new_losses_round_trip_with_torchs_options(module):
    twin = torch_ref.to_torch(module)
    assert repr(twin) == repr(module)
    back = torch_ref.from_torch(twin)
    for name in ("full", "eps", "log_input", "margin", "reduction"):
        assert getattr(back, name, None) == getattr(module, name, None) == getattr(twin, name, None)


def test_new_losses_defaults_are_torchs():
    tn = torch.nn
    for ours, theirs in [(nn.GaussianNLLLoss(), tn.GaussianNLLLoss()), (nn.PoissonNLLLoss(), tn.PoissonNLLLoss()),
                         (nn.MarginRankingLoss(), tn.MarginRankingLoss())]:
        for name in ("full", "eps", "log_input", "margin", "reduction"):
            assert getattr(ours, name, None) == getattr(theirs, name, None), (ours, name)


CROSS_ENTROPY_OPTIONS = [{}, {"weight": "w"}, {"ignore_index": 1}, {"label_smoothing": 0.1}, {"probabilities": True}]


@pytest.mark.parametrize("options", CROSS_ENTROPY_OPTIONS, ids=lambda o: ",".join(o) or "plain")
@pytest.mark.parametrize("dtype", DTYPES)
def test_cross_entropy_fused_softmax_keeps_the_loss_bits_and_its_cache_serves_the_module_once(options, dtype):
    """The loss keeps e = exp(x - max) for backward instead of log p: the loss is still the bits of log_softmax's
    picked entries; the gradient e * g / sum e is within the tolerance of exp(log p) * g - onehot; the functional
    backward leaves its cache as it was, and the module's (which writes over it) gives the same bits."""
    from scratch.nn.functional import cross_entropy_backward, cross_entropy_forward, log_softmax
    x, y = normal(dtype, 6, 5) * 3, classes(6)
    weight = weights(dtype) if "weight" in options else None
    target = probs(dtype, 6, 5) if "probabilities" in options else y
    kwargs = {"ignore_index": options.get("ignore_index", -100), "label_smoothing": options.get("label_smoothing", 0)}
    loss, cache = cross_entropy_forward(x, target, weight, reduction="none", **kwargs)
    grad = normal(dtype, *loss.shape, seed=7)
    first, second = cross_entropy_backward(grad, cache), cross_entropy_backward(grad, cache)
    np.testing.assert_array_equal(first, second)
    module = nn.CrossEntropyLoss(weight, reduction="none", **kwargs)
    np.testing.assert_array_equal(module(x, target), loss)
    np.testing.assert_array_equal(module.backward(grad), first)
    if options in ({}, {"weight": "w"}):  # one-hot a: the loss is -w_y log p_y, log p from log_softmax
        w = np.ones(5, dtype) if weight is None else weight
        logp = log_softmax(x, dim=1)
        np.testing.assert_array_equal(loss, -(w[y] * logp[np.arange(6), y]))
        expected = w[y][:, None] * (np.exp(logp) - np.eye(5, dtype=dtype)[y]) * grad[:, None]
        np.testing.assert_allclose(first, expected, rtol=rtol(dtype, 5), atol=rtol(dtype, 5) * np.abs(expected).max())
