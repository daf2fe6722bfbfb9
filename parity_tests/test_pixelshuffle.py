"""PixelShuffle and PixelUnshuffle (their catalog parity: test_catalog.py): each is the other's inverse,
finite differences, and torch's errors naming the module."""

import numpy as np
import pytest
import torch

from scratch import nn
from torch_ref.catalog.data import normal
from torch_ref.testing import assert_gradcheck, build, catalog_cases

CASES = catalog_cases("PixelShuffle", "PixelUnshuffle", kind="module")


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_finite_differences(case):
    module, inputs = build(case, np.float64)
    assert_gradcheck(module, *inputs)


def test_each_is_the_others_inverse():
    x = normal(np.random.default_rng(0), np.float32, 2, 18, 2, 3)
    y = nn.PixelShuffle(3)(x)
    assert y.shape == (2, 2, 6, 9)
    np.testing.assert_array_equal(nn.PixelUnshuffle(3)(y), x)
    assert y[1, 1, 4, 5] == x[1, 9 + 1 * 3 + 2, 1, 1]  # y[c, h r + i, w r + j] = x[c r^2 + i r + j, h, w]


BAD = [
    (nn.PixelShuffle(2), (8, 3), "at least 3 dimensions"),
    (nn.PixelShuffle(2), (7, 3, 3), "divisible by the square of upscale_factor"),
    (nn.PixelShuffle(0), (8, 3, 3), "positive upscale_factor"),
    (nn.PixelUnshuffle(2), (8, 3, 4), "height to be divisible by downscale_factor"),
    (nn.PixelUnshuffle(2), (8, 4, 3), "width to be divisible by downscale_factor"),
    (nn.PixelUnshuffle(-1), (8, 4, 4), "positive downscale_factor"),
]


@pytest.mark.parametrize(("module", "shape", "message"), BAD, ids=lambda v: str(v))
def test_bad_inputs_are_refused_as_torch_does(module, shape, message):
    with pytest.raises(ValueError, match=message) as error:
        module(np.ones(shape))
    assert type(module).__name__ in str(error.value)
    factor = getattr(module, "upscale_factor", getattr(module, "downscale_factor", None))
    with pytest.raises(RuntimeError):
        getattr(torch.nn, type(module).__name__)(factor)(torch.ones(shape))


def test_repr_matches_torch():
    assert repr(nn.PixelShuffle(3)) == repr(torch.nn.PixelShuffle(3))
    assert repr(nn.PixelUnshuffle(2)) == repr(torch.nn.PixelUnshuffle(2))
