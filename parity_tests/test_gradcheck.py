"""Torch-free gradient checks: every module's and loss's backward against central differences.

``scratch.gradcheck`` works in float64 on a copy of the module, with a random upstream gradient,
perturbing every input and parameter element; each case below is one line. The last tests check
the checker itself: it must catch wrong backward passes and leave the module untouched.
"""

import numpy as np
import pytest

from scratch import nn
from scratch.gradcheck import GradcheckError, gradcheck, gradcheck_loss
from torch_ref.testing import assert_gradcheck, assert_gradcheck_loss

REDUCTIONS = ["mean", "sum", "none"]


# ------------------------------------------------------------------------------ data
def normal(*shape, scale=1.0, seed=0):
    return scale * np.random.default_rng(seed).standard_normal(shape)


def off_kink(*shape, seed=0):
    """Normal values pushed at least 0.1 away from 0, where ReLU has no derivative."""
    x = normal(*shape, seed=seed)
    return np.sign(x) * (0.1 + np.abs(x))


def probs(*shape, seed=2):
    """Probabilities inside [0.1, 0.9], so input ± eps stays inside BCE's domain."""
    return np.random.default_rng(seed).uniform(0.1, 0.9, size=shape)


def classes(*shape, n=4, seed=3):
    return np.random.default_rng(seed).integers(0, n, size=shape)


def with_ignored(*shape, n=4, ignore=-100, seed=3):
    target = classes(*shape, n=n, seed=seed)
    target.reshape(-1)[::3] = ignore  # a third of the samples are ignored; the rest still carry gradient
    return target


def soft_targets(*shape, seed=4):
    e = np.exp(normal(*shape, seed=seed))
    return e / e.sum(axis=1, keepdims=True)


def rng(seed=0):
    return np.random.default_rng(seed)


# ----------------------------------------------------------------------------- cases
def mlp():
    r = rng(1)
    return nn.Sequential(nn.Linear(4, 6, rng=r), nn.Tanh(), nn.Linear(6, 5, rng=r), nn.ReLU(),
                         nn.Linear(5, 3, rng=r), nn.Sigmoid())


MODULES = {
    "linear": lambda: (nn.Linear(4, 3, rng=rng()), normal(5, 4)),
    "linear-no-bias": lambda: (nn.Linear(4, 3, bias=False, rng=rng()), normal(5, 4)),
    "linear-3d-input": lambda: (nn.Linear(4, 3, rng=rng()), normal(2, 3, 4)),
    "linear-3d-input-no-bias": lambda: (nn.Linear(4, 3, bias=False, rng=rng()), normal(2, 3, 4)),
    "linear-float64": lambda: (nn.Linear(3, 2, dtype=np.float64, rng=rng()), normal(4, 3)),
    "relu": lambda: (nn.ReLU(), off_kink(4, 5)),
    "relu-inplace": lambda: (nn.ReLU(inplace=True), off_kink(4, 5)),
    "sigmoid": lambda: (nn.Sigmoid(), normal(4, 5, scale=2)),
    "tanh": lambda: (nn.Tanh(), normal(4, 5, scale=2)),
    "softmax-dim0": lambda: (nn.Softmax(dim=0), normal(4, 5, scale=2)),
    "softmax-dim1": lambda: (nn.Softmax(dim=1), normal(4, 5, scale=2)),
    "softmax-dim-1-3d": lambda: (nn.Softmax(dim=-1), normal(2, 3, 4, scale=2)),
    "log-softmax-dim1": lambda: (nn.LogSoftmax(dim=1), normal(4, 5, scale=2)),
    "log-softmax-dim0": lambda: (nn.LogSoftmax(dim=0), normal(4, 5, scale=2)),
    "log-softmax-dim-1-3d": lambda: (nn.LogSoftmax(dim=-1), normal(2, 3, 4, scale=2)),
    "identity": lambda: (nn.Identity(), normal(3, 4)),
    "flatten": lambda: (nn.Flatten(), normal(2, 3, 2, 2)),
    "flatten-0-1": lambda: (nn.Flatten(0, 1), normal(2, 3, 2)),
    "sequential-mlp": lambda: (mlp(), normal(5, 4)),
}

LOSSES = {
    "mse": lambda r: (nn.MSELoss(reduction=r), normal(4, 3), normal(4, 3, seed=1)),
    "mse-3d": lambda r: (nn.MSELoss(reduction=r), normal(2, 3, 2), normal(2, 3, 2, seed=1)),
    "cross-entropy": lambda r: (nn.CrossEntropyLoss(reduction=r), normal(5, 4, scale=2), classes(5)),
    "cross-entropy-unbatched": lambda r: (nn.CrossEntropyLoss(reduction=r), normal(4), np.array(2)),
    "cross-entropy-weight": lambda r: (nn.CrossEntropyLoss(weight=probs(4) * 3, reduction=r), normal(5, 4),
                                       classes(5)),
    "cross-entropy-ignore-index": lambda r: (nn.CrossEntropyLoss(reduction=r), normal(6, 4), with_ignored(6)),
    "cross-entropy-ignore-index-1": lambda r: (nn.CrossEntropyLoss(ignore_index=1, reduction=r), normal(6, 4),
                                               classes(6)),
    "cross-entropy-label-smoothing": lambda r: (nn.CrossEntropyLoss(label_smoothing=0.2, reduction=r),
                                                normal(5, 4), classes(5)),
    "cross-entropy-k-dim": lambda r: (nn.CrossEntropyLoss(reduction=r), normal(3, 4, 2), classes(3, 2)),
    "cross-entropy-k-dim-all-options": lambda r: (
        nn.CrossEntropyLoss(weight=probs(4) * 3, ignore_index=0, label_smoothing=0.3, reduction=r),
        normal(3, 4, 2), classes(3, 2)),
    "cross-entropy-probabilities": lambda r: (nn.CrossEntropyLoss(reduction=r), normal(5, 4), soft_targets(5, 4)),
    "cross-entropy-probabilities-smoothed": lambda r: (
        nn.CrossEntropyLoss(weight=probs(4) * 3, label_smoothing=0.1, reduction=r), normal(3, 4, 2),
        soft_targets(3, 4, 2)),
    "bce": lambda r: (nn.BCELoss(reduction=r), probs(4, 3), probs(4, 3, seed=5)),
    "bce-hard-targets": lambda r: (nn.BCELoss(reduction=r), probs(4, 3), classes(4, 3, n=2).astype(float)),
    "bce-weight": lambda r: (nn.BCELoss(weight=probs(3) * 2, reduction=r), probs(4, 3), probs(4, 3, seed=5)),
}


@pytest.mark.parametrize("case", MODULES)
def test_module_backward_matches_finite_differences(case):
    assert_gradcheck(*MODULES[case]())


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("case", LOSSES)
def test_loss_backward_matches_finite_differences(case, reduction):
    assert_gradcheck_loss(*LOSSES[case](reduction))


# --------------------------------------------------------------------- the checker itself
class SigmoidWithoutDerivative(nn.Sigmoid):
    """The seed-002 slip: passes dL/dy through as if sigmoid' were 1."""

    def backward(self, grad_output):
        return grad_output


class LinearWithTransposedX(nn.Linear):
    """dW = x^T δ instead of δ^T x: right shape only for a square layer, still wrong."""

    def backward(self, grad_output):
        grad_input = super().backward(grad_output)
        self.weight.grad = self.weight.grad.T.copy()
        return grad_input


class LinearThatForgetsBias(nn.Linear):
    def backward(self, grad_output):
        grad_input = super().backward(grad_output)
        self.bias.grad = None
        return grad_input


class SoftmaxWithZeroGradient(nn.Softmax):
    """Returns 0, which is the true dL/dx when the upstream gradient is all ones (softmax sums to 1)."""

    def backward(self, grad_output):
        return np.zeros_like(grad_output)


class MSEWithoutMean(nn.MSELoss):
    """Forgets the 1/N of reduction='mean' in backward."""

    def forward(self, input, target):
        self.n = input.size
        return super().forward(input, target)

    def backward(self, grad=None):
        return super().backward(grad) * self.n


MUTANTS = {
    "sigmoid-without-derivative": (lambda: gradcheck(SigmoidWithoutDerivative(), normal(3, 4)), "input"),
    "linear-transposed-weight-grad": (lambda: gradcheck(LinearWithTransposedX(3, 3, rng=rng()), normal(4, 3)),
                                      "weight"),
    "linear-forgets-bias": (lambda: gradcheck(LinearThatForgetsBias(3, 2, rng=rng()), normal(4, 3)), "bias"),
    "softmax-zero-gradient": (lambda: gradcheck(SoftmaxWithZeroGradient(dim=1), normal(3, 4)), "input"),
    "mse-without-mean": (lambda: gradcheck_loss(MSEWithoutMean(), normal(3, 4), normal(3, 4, seed=1)), "input"),
}


@pytest.mark.parametrize("case", MUTANTS)
def test_checker_catches_a_wrong_backward(case):
    run, culprit = MUTANTS[case]
    result = run()
    assert not result.ok and result.worst.quantity == culprit, result.describe()
    with pytest.raises(GradcheckError, match=f"worst: {culprit}"):
        result.raise_on_failure()


def test_all_ones_upstream_hides_what_a_random_one_catches():
    x = normal(3, 4)
    with pytest.warns(UserWarning, match="constant"):
        blind = gradcheck(SoftmaxWithZeroGradient(dim=1), x, grad_output=np.ones((3, 4)))
    assert blind.ok  # the reason gradcheck's default upstream gradient is random
    assert not gradcheck(SoftmaxWithZeroGradient(dim=1), x).ok


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_checker_leaves_the_module_exactly_as_it_was(dtype):
    model = nn.Sequential(nn.Linear(3, 4, dtype=dtype, rng=rng()), nn.Tanh(), nn.Linear(4, 2, dtype=dtype, rng=rng(1)))
    x = normal(5, 3).astype(dtype)
    model(x)
    model.backward(normal(5, 2, seed=7).astype(dtype))  # some gradient already accumulated
    before = {name: (p.data.copy(), p.grad.copy()) for name, p in model.named_parameters()}
    x_before = x.copy()
    assert_gradcheck(model, x)
    for name, p in model.named_parameters():
        assert p.dtype == dtype and p.grad.dtype == dtype, name
        np.testing.assert_array_equal(p.data, before[name][0], err_msg=name)
        np.testing.assert_array_equal(p.grad, before[name][1], err_msg=name)
    np.testing.assert_array_equal(x, x_before)
