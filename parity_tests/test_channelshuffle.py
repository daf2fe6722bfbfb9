"""ChannelShuffle (its catalog parity: test_catalog.py): the permutation it applies, finite differences,
and torch's errors naming the module."""

import numpy as np
import pytest
import torch

from scratch import nn
from torch_ref.testing import assert_gradcheck, build, catalog_cases

CASES = catalog_cases("ChannelShuffle", kind="module")


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_finite_differences(case):
    module, inputs = build(case, np.float64)
    assert_gradcheck(module, *inputs)


def test_the_permutation():
    x = np.arange(6.0).reshape(1, 6, 1)
    np.testing.assert_array_equal(nn.ChannelShuffle(2)(x).ravel(), [0, 3, 1, 4, 2, 5])
    np.testing.assert_array_equal(nn.ChannelShuffle(3)(x).ravel(), [0, 2, 4, 1, 3, 5])


@pytest.mark.parametrize(("groups", "shape", "message"), [
    (2, (4, 6), "> 2 dims"), (4, (2, 6, 3), "divisible by groups"), (0, (2, 6, 3), "must be positive")])
def test_bad_inputs_are_refused_as_torch_does(groups, shape, message):
    with pytest.raises(ValueError, match=f"ChannelShuffle.*{message}"):
        nn.ChannelShuffle(groups)(np.ones(shape))
    with pytest.raises(RuntimeError):
        torch.nn.ChannelShuffle(groups)(torch.ones(shape))
