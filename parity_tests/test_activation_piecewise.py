"""Threshold, Hardshrink, Hardsigmoid, Hardswish and RReLU beyond their catalog cases: finite differences away
from the kinks, RReLU's random slopes (bounds, seeding, replay in torch, the eval slope), reprs, defaults and
invalid arguments. The kink values themselves are in test_activation.py."""

import numpy as np
import pytest
import torch

import torch_ref
from scratch import nn
from torch_ref.catalog.data import normal as draw_normal
from torch_ref.testing import DTYPES, assert_gradcheck, assert_module_parity

T = torch.nn


def away(*shape, kinks, seed=0):
    """A float64 normal input times 3 with every element at least 0.1 from each kink."""
    x = draw_normal(np.random.default_rng(seed), np.float64, *shape, scale=3)
    for k in kinks:
        x = np.where(np.abs(x - k) < 0.1, k + 0.2 * np.sign(x - k + 1e-9), x)
    return x


GRADCHECK = {
    "threshold": lambda: (nn.Threshold(0.5, 2.0), away(4, 5, kinks=[0.5])),
    "hardshrink": lambda: (nn.Hardshrink(1.0), away(4, 5, kinks=[1.0, -1.0])),
    "hardsigmoid": lambda: (nn.Hardsigmoid(), away(4, 5, kinks=[-3.0, 3.0])),
    "hardswish": lambda: (nn.Hardswish(), away(4, 5, kinks=[-3.0, 3.0])),
    "hardswish-inplace": lambda: (nn.Hardswish(inplace=True), away(4, 5, kinks=[-3.0, 3.0])),
    "rrelu-eval": lambda: (nn.RReLU(0.1, 0.4).eval(), away(4, 5, kinks=[0.0])),
}


@pytest.mark.parametrize("case", GRADCHECK)
def test_backward_matches_finite_differences(case):
    assert_gradcheck(*GRADCHECK[case]())


def test_hardsigmoid_gradient_is_torchs_float32_sixth_in_float64():
    x = np.array([0.1, -2.0, 2.9], dtype=np.float64)
    module = nn.Hardsigmoid()
    module(x)
    np.testing.assert_array_equal(module.backward(np.ones(3)), np.full(3, float(np.float32(1 / 6))))


@pytest.mark.parametrize("dtype", DTYPES)
def test_rrelu_training_slopes_lie_in_the_bounds_and_are_replayed_in_torch(dtype):
    x = draw_normal(np.random.default_rng(0), dtype, 40, 30, scale=3)
    module = nn.RReLU(0.2, 0.6, rng=np.random.default_rng(5))
    assert_module_parity(module, x)  # the twin multiplies by the module's last slopes
    negative = module.noise[x <= 0]
    assert negative.dtype == dtype and negative.min() >= np.float32(0.2) and negative.max() <= np.float32(0.6)
    assert negative.std() > 0.05  # drawn per element, not one slope
    np.testing.assert_array_equal(module.noise[x > 0], 1)


def test_rrelu_slopes_come_from_its_rng_and_the_global_seed():
    x = -np.ones((5, 7))
    first = nn.RReLU(rng=np.random.default_rng(3))(x)
    np.testing.assert_array_equal(first, nn.RReLU(rng=np.random.default_rng(3))(x))
    assert not np.array_equal(first, nn.RReLU(rng=np.random.default_rng(4))(x))
    from scratch import random as scratch_random
    scratch_random.manual_seed(11)
    a = nn.RReLU()(x)
    scratch_random.manual_seed(11)
    np.testing.assert_array_equal(a, nn.RReLU()(x))


@pytest.mark.parametrize("dtype", DTYPES)
def test_rrelu_eval_uses_the_mean_slope(dtype):
    x = np.array([-2.0, 0.0, 3.0], dtype=dtype)
    module = nn.RReLU(0.1, 0.3).eval()
    out = module(x)
    assert out.dtype == dtype and module.noise is None
    np.testing.assert_allclose(out, [-0.4, 0.0, 3.0], rtol=1e-6)
    np.testing.assert_allclose(module.backward(np.ones(3, dtype=dtype)), [0.2, 0.2, 1.0], rtol=1e-6)


@pytest.mark.parametrize("training", [True, False])
def test_rrelu_rejects_lower_above_upper_like_torch(training):
    x = np.ones(3)
    with pytest.raises(RuntimeError, match="Lower bound should be less than or equal to the upper bound"):
        T.RReLU(0.5, 0.2).train(training)(torch.tensor(x))
    with pytest.raises(ValueError, match="RReLU: Lower bound should be less than or equal to the upper bound"):
        nn.RReLU(0.5, 0.2).train(training)(x)


REPRS = [nn.Threshold(0.1, 20.0), nn.Threshold(1, 2, True), nn.Hardshrink(), nn.Hardshrink(2.0), nn.Hardsigmoid(),
         nn.Hardsigmoid(True), nn.Hardswish(True), nn.RReLU(), nn.RReLU(0.2, 0.4, True)]


@pytest.mark.parametrize("module", REPRS, ids=repr)
def test_repr_and_round_trip_equal_torchs(module):
    twin = torch_ref.to_torch(module)
    assert repr(module) == repr(twin)
    assert repr(torch_ref.from_torch(twin)) == repr(module)


def test_defaults_are_torchs():
    for ours, theirs in [(nn.Hardshrink(), T.Hardshrink()), (nn.Hardsigmoid(), T.Hardsigmoid()),
                         (nn.Hardswish(), T.Hardswish()), (nn.RReLU(), T.RReLU())]:
        for name in ("lambd", "inplace", "lower", "upper"):
            assert getattr(ours, name, None) == getattr(theirs, name, None), (ours, name)


@pytest.mark.parametrize("module", [nn.Threshold(0.0, 1.0), nn.Hardshrink(), nn.Hardswish(), nn.RReLU()], ids=repr)
def test_integer_input_is_refused_naming_the_module(module):
    with pytest.raises(TypeError, match=type(module).__name__):
        module(np.arange(3))
