"""CTCLoss beyond its catalog cases: finite differences through a log_softmax (torch's gradient is exact only
there), impossible alignments (inf loss, NaN gradient) and the zero-length corner cases side by side with torch,
the clamped target length of 'mean', the inputs torch refuses, repr and twins."""

import numpy as np
import pytest
import torch

import torch_ref
from scratch import nn
from scratch.gradcheck import gradcheck
from torch_ref.catalog.data import log_probabilities, normal
from torch_ref.tolerance import rtol

T = torch.nn
TARGETS = np.array([[1, 2, 2, 3], [3, 3, 3, 0], [1, 0, 0, 0]])
INPUT_LENGTHS, TARGET_LENGTHS = np.array([10, 8, 4]), np.array([4, 3, 1])


def _both(criterion, log_probs, targets, input_lengths, target_lengths, seed=0):
    """(loss, dL/dlog_probs) of scratch's criterion and of its torch twin, for one random upstream gradient."""
    loss = criterion(log_probs, targets, input_lengths, target_lengths)
    grad = np.random.default_rng(seed).standard_normal(np.shape(loss)).astype(loss.dtype)
    ours = criterion.backward(grad)
    x = torch.tensor(log_probs, requires_grad=True)
    as_torch = [torch.tensor(v) if isinstance(v, np.ndarray) else v for v in (targets, input_lengths, target_lengths)]
    theirs = torch_ref.to_torch(criterion)(x, *as_torch)
    theirs.backward(torch.tensor(grad))
    return (loss, ours), (theirs.detach().numpy(), x.grad.numpy())


class LogSoftmaxCTC(nn.Module):
    """CTC of log_softmax(logits): the composition torch's CTC gradient is exact for."""

    def __init__(self, reduction):
        super().__init__()
        self.log_softmax, self.ctc = nn.LogSoftmax(dim=-1), nn.CTCLoss(reduction=reduction)

    def forward(self, logits, targets, input_lengths, target_lengths):
        return self.ctc(self.log_softmax(logits), targets, input_lengths, target_lengths)

    def backward(self, grad):
        return self.log_softmax.backward(self.ctc.backward(grad))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_gradient_through_log_softmax_matches_finite_differences(reduction):
    logits = normal(np.random.default_rng(0), np.float64, 10, 3, 5)
    result = gradcheck(LogSoftmaxCTC(reduction), logits, TARGETS, INPUT_LENGTHS, TARGET_LENGTHS,
                       rng=np.random.default_rng(1))
    result.raise_on_failure()
    assert result.checks[0].norm > 1e-3


def test_gradient_is_torchs_not_the_partial_derivative():
    """torch's quirk, matched: dL/dlog_probs = g (y - gamma / y) carries the term g y, which the log_softmax
    before it cancels; beyond a sample's input length the gradient is 0."""
    lp = log_probabilities(np.random.default_rng(2), np.float64, 10, 3, 5)
    criterion = nn.CTCLoss(reduction="sum")
    criterion(lp, TARGETS, INPUT_LENGTHS, TARGET_LENGTHS)
    grad = criterion.backward()
    sums = grad.sum(axis=-1)  # sum_k y_k - sum_k gamma(k) / y_k = 1 - 1 at every step inside the input
    np.testing.assert_allclose(sums[np.arange(10)[:, None] < INPUT_LENGTHS], 0, atol=1e-12)
    assert np.all(grad[8:, 1] == 0) and np.all(grad[4:, 2] == 0) and np.abs(grad[:4, 2]).max() > 1e-3


@pytest.mark.parametrize("zero_infinity", [False, True])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_impossible_alignment_and_empty_input_as_torch(reduction, zero_infinity):
    """Sample 1 needs 7 steps for 3 3 3 and gets 4 (inf loss; NaN gradient unless zero_infinity zeroes both);
    sample 2 has no input and an empty target (loss -0), sample 3 no input and a target (inf)."""
    lp = log_probabilities(np.random.default_rng(3), np.float64, 6, 4, 5)
    targets, il, tl = np.array([[1, 2, 2], [3, 3, 3], [0, 0, 0], [4, 0, 0]]), (6, 4, 0, 0), (3, 3, 0, 1)
    criterion = nn.CTCLoss(reduction=reduction, zero_infinity=zero_infinity)
    (loss, grad), (torch_loss, torch_grad) = _both(criterion, lp, targets, il, tl)
    np.testing.assert_allclose(loss, torch_loss, rtol=rtol(np.float64, 30))
    np.testing.assert_allclose(grad, torch_grad, rtol=rtol(np.float64, 30), atol=1e-15)  # NaNs in the same places
    assert np.array_equal(np.isnan(grad), np.isnan(torch_grad))
    assert np.all(grad[:, 2:] == 0) and np.all(grad[4:, 1] == 0)
    assert np.isnan(grad[:4, 1]).all() != zero_infinity
    if reduction == "none":
        assert np.signbit(loss[2]) and loss[2] == 0 and (loss[3] == np.inf) != zero_infinity


def test_mean_divides_by_target_lengths_clamped_to_one():
    lp = log_probabilities(np.random.default_rng(4), np.float32, 5, 2, 3)
    per_sample = nn.CTCLoss(reduction="none")(lp, np.array([[1, 2], [0, 0]]), (5, 5), (2, 0))
    mean = nn.CTCLoss()(lp, np.array([[1, 2], [0, 0]]), (5, 5), (2, 0))
    assert mean.dtype == np.float32 and mean.shape == ()
    np.testing.assert_allclose(mean, (per_sample[0] / 2 + per_sample[1]) / 2, rtol=rtol(np.float32, 2))


def test_unbatched_and_float32_keep_shape_and_dtype():
    lp = log_probabilities(np.random.default_rng(5), np.float32, 7, 4)
    criterion = nn.CTCLoss(reduction="none")
    (loss, grad), (torch_loss, torch_grad) = _both(criterion, lp, np.array([1, 3, 3]), np.array(7), np.array(3))
    assert loss.shape == () and loss.dtype == np.float32 and grad.shape == (7, 4) and grad.dtype == np.float32
    np.testing.assert_allclose(loss, torch_loss, rtol=rtol(np.float32, 28))
    np.testing.assert_allclose(grad, torch_grad, rtol=rtol(np.float32, 28), atol=rtol(np.float32, 28))


LP = log_probabilities(np.random.default_rng(6), np.float64, 6, 2, 4)
BAD = {
    "float targets": (LP, np.array([[1.0, 2.0], [1.0, 1.0]]), (6, 6), (2, 2), TypeError, False),
    "float lengths": (LP, np.array([[1, 2], [1, 1]]), np.array([6.0, 6.0]), (2, 2), TypeError, True),
    "lengths of another size": (LP, np.array([[1, 2], [1, 1]]), (6, 6, 6), (2, 2), ValueError, True),
    "input length past T": (LP, np.array([[1, 2], [1, 1]]), (6, 7), (2, 2), ValueError, True),
    "negative target length": (LP, np.array([[1, 2], [1, 1]]), (6, 6), (-1, 2), ValueError, True),
    "padded targets too short": (LP, np.array([[1, 2], [1, 1]]), (6, 6), (2, 3), ValueError, True),
    "concatenated of another size": (LP, np.array([1, 2, 3]), (6, 6), (2, 2), ValueError, True),
    "3-D targets": (LP, np.ones((2, 2, 1), dtype=np.int64), (6, 6), (2, 2), ValueError, True),
    "4-D log_probs": (LP[..., None], np.array([[1, 2], [1, 1]]), (6, 6), (2, 2), ValueError, True),
    "empty log_probs": (LP[:0], np.array([[1, 2], [1, 1]]), (0, 0), (0, 0), ValueError, True),
    "label out of range": (LP, np.array([[1, 4], [1, 1]]), (6, 6), (2, 2), ValueError, False),
}


@pytest.mark.parametrize("what", sorted(BAD))
def test_bad_inputs_are_refused_naming_the_module(what):
    *args, error, torch_refuses = BAD[what]
    with pytest.raises(error, match="CTCLoss"):
        nn.CTCLoss()(*args)
    if torch_refuses:
        with pytest.raises((RuntimeError, TypeError, ValueError)):
            T.CTCLoss()(*[torch.tensor(a) if isinstance(a, np.ndarray) else a for a in args])


def test_blank_out_of_range_is_refused():
    with pytest.raises(ValueError, match="CTCLoss: blank must be in label range"):
        nn.CTCLoss(blank=4)(LP, np.array([[1, 2], [1, 1]]), (6, 6), (2, 2))
    with pytest.raises(RuntimeError, match="blank must be in label range"):
        T.CTCLoss(blank=4)(torch.tensor(LP), torch.tensor([[1, 2], [1, 1]]), (6, 6), (2, 2))
    with pytest.raises(ValueError, match=r"CTCLoss: .*reduction"):
        nn.CTCLoss(reduction="average")


def test_repr_and_twins_both_ways():
    assert repr(nn.CTCLoss(blank=3, zero_infinity=True)) == repr(T.CTCLoss(blank=3, zero_infinity=True)) == "CTCLoss()"
    twin = torch_ref.to_torch(nn.CTCLoss(blank=3, reduction="sum", zero_infinity=True))
    assert isinstance(twin, T.CTCLoss) and (twin.blank, twin.reduction, twin.zero_infinity) == (3, "sum", True)
    back = torch_ref.from_torch(T.CTCLoss(blank=2, reduction="none"))
    assert isinstance(back, nn.CTCLoss) and (back.blank, back.reduction, back.zero_infinity) == (2, "none", False)
