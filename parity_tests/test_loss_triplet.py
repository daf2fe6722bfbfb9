"""The triplet losses beyond their catalog cases: PairwiseDistance, which they use, under finite differences
(every p); the swap's tie, the distance a TripletMarginWithDistanceLoss takes (a Module, run once per loss; a
pure pair), reprs and twins both ways, and the options and inputs torch refuses."""

import functools

import numpy as np
import pytest
import torch

import torch_ref
from scratch import nn
from scratch.gradcheck import gradcheck
from scratch.nn import functional as F
from torch_ref.catalog.data import normal as draw_normal
from torch_ref.testing import assert_module_parity

T = torch.nn


def normal(*shape, seed=0, dtype=np.float64):
    return draw_normal(np.random.default_rng(seed), dtype, *shape)


@pytest.mark.parametrize("p", [2.0, 1.0, 3.0, 1.5, 0.5])
def test_pairwise_distance_matches_finite_differences(p):
    result = gradcheck(nn.PairwiseDistance(p=p), normal(4, 5), normal(4, 5, seed=1), rng=np.random.default_rng(0))
    result.raise_on_failure()
    assert {check.quantity for check in result.checks} == {"input[0]", "input[1]"}
    assert min(check.norm for check in result.checks) > 1e-3


def test_pairwise_distance_at_zero_distance_has_torchs_zero_gradient():
    x1 = normal(3, 4)
    x2 = x1 + 1e-6
    x1 = x2 - 1e-6  # x1 - x2 + eps = 0 exactly in some entries
    result = assert_module_parity(nn.PairwiseDistance(), x1, x2)
    assert np.isfinite(result.arrays["grad_input[0]"][0]).all()


@pytest.mark.parametrize("swap", [False, True])
def test_triplet_gradients_of_all_three_inputs_match_finite_differences(swap):
    a, p, n = normal(5, 4), normal(5, 4, seed=1), normal(5, 4, seed=2)
    assert_module_parity(nn.TripletMarginLoss(margin=2.0, swap=swap, reduction="none"), a, p, n)
    criterion = nn.TripletMarginLoss(margin=2.0, swap=swap, reduction="sum")
    criterion(a, p, n)
    grads = criterion.backward()

    def loss():
        return float(nn.TripletMarginLoss(margin=2.0, swap=swap, reduction="sum")(a, p, n))

    for x, g in zip((a, p, n), grads, strict=True):
        numeric = np.zeros_like(x)
        for i in np.ndindex(x.shape):
            old = x[i]
            x[i] = old + 1e-6
            up = loss()
            x[i] = old - 1e-6
            numeric[i] = (up - loss()) / 2e-6
            x[i] = old
        np.testing.assert_allclose(g, numeric, rtol=1e-6, atol=1e-8)


def test_triplet_swap_tie_splits_the_gradient_like_torch():
    a, n = normal(4, 3), normal(4, 3, seed=1)
    result = assert_module_parity(nn.TripletMarginLoss(swap=True, margin=5.0), a, a.copy(), n)
    assert np.abs(result.arrays["grad_input[2]"][0]).max() > 1e-3


class CountingDistance(nn.PairwiseDistance):
    """A PairwiseDistance that counts its forwards and backwards (its twin is PairwiseDistance's)."""

    def __init__(self):
        super().__init__(p=1.0)
        self.calls = []

    def forward(self, x1, x2):
        self.calls.append(("forward", x1.shape))
        return super().forward(x1, x2)

    def backward(self, grad_output):
        self.calls.append(("backward", grad_output.shape))
        return super().backward(grad_output)


@pytest.mark.parametrize("swap", [False, True])
def test_a_distance_module_runs_one_forward_and_one_backward_on_the_stacked_pairs(swap):
    distance = CountingDistance()
    criterion = nn.TripletMarginWithDistanceLoss(distance_function=distance, swap=swap)
    assert_module_parity(criterion, normal(6, 4), normal(6, 4, seed=1), normal(6, 4, seed=2))
    k = 3 if swap else 2
    assert distance.calls == [("forward", (6 * k, 4)), ("backward", (6 * k,))]


def test_a_distance_pair_crosses_to_torch_and_back():
    pair = (functools.partial(F.pairwise_distance_forward, p=1.0, eps=0.0), F.pairwise_distance_backward)
    criterion = nn.TripletMarginWithDistanceLoss(distance_function=pair, swap=True, reduction="none")
    assert_module_parity(criterion, normal(6), normal(6, seed=1), normal(6, seed=2))
    back = torch_ref.from_torch(torch_ref.to_torch(criterion))
    assert back.distance_function[0].keywords == {"p": 1.0, "eps": 0.0}


def test_reprs_and_defaults_are_torchs():
    for ours, theirs in [(nn.TripletMarginLoss(), T.TripletMarginLoss()), (nn.PairwiseDistance(), T.PairwiseDistance()),
                         (nn.TripletMarginWithDistanceLoss(), T.TripletMarginWithDistanceLoss())]:
        assert repr(ours) == repr(theirs)
        for name in ("margin", "p", "eps", "swap", "norm", "keepdim", "reduction"):
            assert getattr(ours, name, None) == getattr(theirs, name, None), (ours, name)
    assert repr(torch_ref.from_torch(T.PairwiseDistance(p=3.0, keepdim=True))) == "PairwiseDistance()"
    assert torch_ref.from_torch(T.PairwiseDistance(p=3.0, keepdim=True)).norm == 3.0


@pytest.mark.parametrize("cls", [nn.TripletMarginLoss, nn.TripletMarginWithDistanceLoss])
def test_margin_must_be_positive_like_torch(cls):
    with pytest.raises(ValueError, match=f"{cls.__name__}: expected margin to be greater than 0, got 0.0 instead"):
        getattr(T, cls.__name__)(margin=0.0)
    with pytest.raises(ValueError, match=f"{cls.__name__}: expected margin to be greater than 0, got 0.0 instead"):
        cls(margin=0.0)


def test_triplet_inputs_of_other_ranks_are_refused_like_torch():
    with pytest.raises(RuntimeError, match="expected to have the same number of dimensions"):
        T.TripletMarginLoss()(torch.ones(2, 3), torch.ones(3), torch.ones(2, 3))
    with pytest.raises(ValueError, match="TripletMarginLoss: The anchor, positive, and negative tensors are expected"):
        nn.TripletMarginLoss()(np.ones((2, 3)), np.ones(3), np.ones((2, 3)))


def test_a_distance_without_a_backward_is_refused():
    with pytest.raises(TypeError, match="TripletMarginWithDistanceLoss: distance_function must be a scratch Module"):
        nn.TripletMarginWithDistanceLoss(distance_function=lambda x, y: np.abs(x - y).sum(-1))
