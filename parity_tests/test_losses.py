"""Loss parity for every reduction, in both dtypes, with a random upstream gradient."""

import numpy as np
import pytest

from scratch import nn

from .helpers import DTYPES, assert_loss_parity

REDUCTIONS = ["mean", "sum", "none"]


def normal(dtype, *shape, scale=1.0, seed=1):
    return (scale * np.random.default_rng(seed).standard_normal(shape)).astype(dtype)


def probs(dtype, *shape, seed=2):
    return np.random.default_rng(seed).uniform(0.02, 0.98, size=shape).astype(dtype)


def classes(*shape, n=5, seed=3):
    return np.random.default_rng(seed).integers(0, n, size=shape)


LOSSES = {
    "mse": lambda d, r: (nn.MSELoss(reduction=r), normal(d, 8, 5), normal(d, 8, 5, seed=4)),
    "mse-3d": lambda d, r: (nn.MSELoss(reduction=r), normal(d, 2, 3, 4), normal(d, 2, 3, 4, seed=4)),
    "mse-0d": lambda d, r: (nn.MSELoss(reduction=r), normal(d), normal(d, seed=4)),
    "cross-entropy": lambda d, r: (nn.CrossEntropyLoss(reduction=r), normal(d, 8, 5, scale=3), classes(8)),
    "cross-entropy-unbatched": lambda d, r: (nn.CrossEntropyLoss(reduction=r), normal(d, 5), np.array(3)),
    "cross-entropy-k-dim": lambda d, r: (nn.CrossEntropyLoss(reduction=r), normal(d, 4, 5, 3, 2), classes(4, 3, 2)),
    "cross-entropy-weight": lambda d, r: (nn.CrossEntropyLoss(weight=probs(d, 5) * 3, reduction=r),
                                          normal(d, 8, 5), classes(8)),
    "cross-entropy-ignore-index": lambda d, r: (nn.CrossEntropyLoss(ignore_index=1, reduction=r),
                                                normal(d, 12, 5), classes(12)),
    "cross-entropy-label-smoothing": lambda d, r: (nn.CrossEntropyLoss(label_smoothing=0.2, reduction=r),
                                                   normal(d, 8, 5), classes(8)),
    "cross-entropy-all-options": lambda d, r: (
        nn.CrossEntropyLoss(weight=probs(d, 5) * 3, ignore_index=0, label_smoothing=0.3, reduction=r),
        normal(d, 6, 5, 4), classes(6, 4)),
    "cross-entropy-probabilities": lambda d, r: (nn.CrossEntropyLoss(reduction=r), normal(d, 8, 5), probs(d, 8, 5)),
    "cross-entropy-logits-1e4": lambda d, r: (nn.CrossEntropyLoss(reduction=r), normal(d, 8, 5, scale=1e4),
                                              classes(8)),
    "bce": lambda d, r: (nn.BCELoss(reduction=r), probs(d, 8, 5), probs(d, 8, 5, seed=5)),
    "bce-hard-targets": lambda d, r: (nn.BCELoss(reduction=r), probs(d, 8, 5), classes(8, 5, n=2).astype(d)),
    "bce-weight": lambda d, r: (nn.BCELoss(weight=probs(d, 5) * 2, reduction=r), probs(d, 8, 5),
                                probs(d, 8, 5, seed=5)),
    "bce-inputs-at-0-and-1": lambda d, r: (nn.BCELoss(reduction=r), np.array([0.0, 1.0, 0.3, 1.0], dtype=d),
                                           np.array([0.25, 0.5, 1.0, 1.0], dtype=d)),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("case", LOSSES)
def test_loss_matches_torch(case, reduction, dtype):
    criterion, input, target = LOSSES[case](dtype, reduction)
    assert_loss_parity(criterion, input, target)


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


@pytest.mark.parametrize("criterion", [nn.MSELoss(), nn.CrossEntropyLoss(), nn.BCELoss()], ids=type)
def test_reduced_loss_is_a_0d_array_of_the_input_dtype(criterion):
    x = probs(np.float32, 4, 3)
    target = classes(4, n=3) if isinstance(criterion, nn.CrossEntropyLoss) else probs(np.float32, 4, 3, seed=9)
    loss = criterion(x, target)
    assert isinstance(loss, np.ndarray) and loss.shape == () and loss.dtype == np.float32


def test_unreduced_loss_backward_needs_a_gradient():
    criterion = nn.MSELoss(reduction="none")
    criterion(normal(np.float64, 3), normal(np.float64, 3, seed=2))
    with pytest.raises(RuntimeError, match="reduction='none'"):
        criterion.backward()


def test_invalid_reduction_is_rejected():
    with pytest.raises(ValueError, match="not a valid value for reduction"):
        nn.MSELoss(reduction="avg")
