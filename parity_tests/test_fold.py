"""Fold and Unfold (their catalog parity: test_catalog.py): finite differences, fold as unfold's transpose,
fold(unfold(x)) = x times the number of blocks covering each pixel, and torch's errors, naming the module."""

import numpy as np
import pytest
import torch

from scratch import nn
from torch_ref.catalog.data import normal
from torch_ref.testing import assert_gradcheck, build, catalog_cases

CASES = catalog_cases("Fold", "Unfold", kind="module")


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_finite_differences(case):
    module, inputs = build(case, np.float64)
    assert_gradcheck(module, *inputs)


def test_fold_is_the_transpose_of_unfold():
    """<unfold(x), c> = <x, fold(c)> for random x and c: each op's gradient is the other."""
    rng = np.random.default_rng(0)
    options = {"kernel_size": (2, 3), "dilation": (2, 1), "padding": (1, 2), "stride": (2, 1)}
    x = normal(rng, np.float64, 2, 3, 7, 6)
    cols = nn.Unfold(**options)(x)
    c = rng.standard_normal(cols.shape)
    assert np.isclose(np.sum(cols * c), np.sum(x * nn.Fold((7, 6), **options)(c)), rtol=1e-12)


def test_fold_of_unfold_counts_the_blocks():
    x = normal(np.random.default_rng(1), np.float64, 1, 2, 5, 5)
    counts = nn.Fold(5, 3, padding=1)(nn.Unfold(3, padding=1)(np.ones_like(x)))
    np.testing.assert_allclose(nn.Fold(5, 3, padding=1)(nn.Unfold(3, padding=1)(x)), x * counts, rtol=1e-14)
    assert counts[0, 0, 2, 2] == 9 and counts[0, 0, 0, 0] == 4


def test_repr_matches_torch():
    assert repr(nn.Fold((4, 5), 2, stride=(1, 2))) == repr(torch.nn.Fold((4, 5), 2, stride=(1, 2)))
    assert repr(nn.Unfold(3, dilation=2, padding=1)) == repr(torch.nn.Unfold(3, dilation=2, padding=1))


BAD = [
    (nn.Unfold(2), (3, 4), "3-D or 4-D"),
    (nn.Unfold(2), (1, 3, 4, 4, 4), "3-D or 4-D"),
    (nn.Unfold(5), (1, 3, 4, 4), "sliding blocks as"),
    (nn.Unfold(0), (1, 3, 4, 4), "kernel size should be greater than zero"),
    (nn.Unfold(2, stride=0), (1, 3, 4, 4), "stride should be greater than zero"),
    (nn.Unfold(2, padding=-1), (1, 3, 4, 4), "padding should be greater than or equal to zero"),
    (nn.Fold(4, 2), (12, 8), "number of sliding blocks 3 \\* 3 = 9"),
    (nn.Fold(4, 2), (2, 11, 9), "divisible by the product of kernel_size"),
    (nn.Fold(4, 2), (2, 3, 4, 9), "2-D or 3-D"),
]


@pytest.mark.parametrize(("module", "shape", "message"), BAD, ids=lambda v: str(v))
def test_bad_inputs_are_refused_as_torch_does(module, shape, message):
    with pytest.raises(ValueError, match=message) as error:
        module(np.ones(shape))
    assert type(module).__name__ in str(error.value)
    twin = getattr(torch.nn, type(module).__name__)(**{k: getattr(module, k) for k in vars(module)
                                                      if k in ("output_size", "kernel_size", "dilation", "padding",
                                                               "stride")})
    with pytest.raises((RuntimeError, IndexError, ValueError)):
        twin(torch.ones(shape))
