"""CosineSimilarity and PairwiseDistance beyond the catalog: finite differences, torch's eps placement and
clamped norms, p = 0, broadcasting, reprs and bad inputs."""

import numpy as np
import pytest
import torch

from scratch import nn
from torch_ref.catalog.data import normal
from torch_ref.testing import assert_gradcheck, build, catalog_cases

# torch's gradient where a norm is clamped is not the derivative (the clamp is invisible to its autograd), and a
# zero vector is a point without one: those two cases are compared with torch only (test_catalog.py)
NOT_DIFFERENTIATED = ("CosineSimilarity(eps=0.5,small norms)", "CosineSimilarity(a zero vector)")


@pytest.mark.parametrize("case", [c for c in catalog_cases("CosineSimilarity", "PairwiseDistance", kind="module")
                                  if c.name not in NOT_DIFFERENTIATED], ids=lambda c: c.name)
def test_distances_match_finite_differences(case):
    module, inputs = build(case, np.float64)
    assert_gradcheck(module, *inputs)


def test_pairwise_distance_adds_eps_to_the_difference():
    x = np.array([[1.0, 2.0], [3.0, -1.0]])
    out = nn.PairwiseDistance(p=1.0, eps=0.25)(x, x)
    np.testing.assert_allclose(out, [0.5, 0.5])  # ||0 + eps||_1 over 2 values, not ||0||_1 + eps
    np.testing.assert_allclose(out, torch.nn.PairwiseDistance(1.0, 0.25)(torch.tensor(x), torch.tensor(x)).numpy())


def test_pairwise_distance_p0_counts_and_has_zero_gradient():
    x1, x2 = np.array([[1.0, 2.0, 3.0]]), np.array([[1.0, 0.0, 3.0]])
    module = nn.PairwiseDistance(p=0.0, eps=0.0)
    np.testing.assert_array_equal(module(x1, x2), [1.0])
    grads = module.backward(np.ones(1))
    assert all(not g.any() for g in grads)  # torch gives no gradient at all (None): the count is flat


def test_cosine_similarity_clamps_each_norm():
    """Each input is divided by max(||x||, eps) (torch's kernel), not the product of the norms by eps."""
    x1, x2 = np.array([[0.1, 0.0]]), np.array([[0.2, 0.0]])
    out = nn.CosineSimilarity(dim=1, eps=0.5)(x1, x2)
    np.testing.assert_allclose(out, [0.1 / 0.5 * 0.2 / 0.5])
    np.testing.assert_allclose(out, torch.nn.CosineSimilarity(1, 0.5)(torch.tensor(x1), torch.tensor(x2)).numpy())


def test_broadcast_gradients_are_summed_back():
    rng = np.random.default_rng(0)
    x1, x2 = normal(rng, np.float64, 5), normal(rng, np.float64, 4, 5)
    module = nn.PairwiseDistance()
    out = module(x1, x2)
    grad1, grad2 = module.backward(np.ones_like(out))
    assert grad1.shape == (5,) and grad2.shape == (4, 5)
    np.testing.assert_allclose(grad1, -grad2.sum(axis=0))


@pytest.mark.parametrize("cls", ["CosineSimilarity", "PairwiseDistance"])
def test_repr_and_state_dict_match_torch(cls):
    assert repr(getattr(nn, cls)()) == repr(getattr(torch.nn, cls)())
    assert not getattr(nn, cls)().state_dict()
    assert nn.PairwiseDistance(3.0).norm == torch.nn.PairwiseDistance(3.0).norm == 3.0  # torch's attribute name


def test_bad_inputs_name_the_module():
    with pytest.raises(ValueError, match="CosineSimilarity: x1 and x2 must be broadcastable"):
        nn.CosineSimilarity()(np.ones((2, 3)), np.ones((4, 3)))
    with pytest.raises(TypeError, match="PairwiseDistance: expected x1 and x2 of the same dtype"):
        nn.PairwiseDistance()(np.ones((2, 3)), np.ones((2, 3), np.float32))
    with pytest.raises(IndexError, match="CosineSimilarity: dim out of range"):
        nn.CosineSimilarity(dim=2)(np.ones((2, 3)), np.ones((2, 3)))
    with pytest.raises(TypeError, match="PairwiseDistance: expected x2 of a floating-point dtype"):
        nn.PairwiseDistance()(np.ones((2, 3)), np.ones((2, 3), np.int64))
