"""Dropout and Dropout2d (their parity with torch on the catalog's cases: test_catalog.py; the twin applies
the scratch module's last mask, see torch_ref/twins/dropout.py): 3-D inputs to Dropout2d, warnings, p=1,
the drop rate, reproducibility, finite differences."""

import re
import warnings

import numpy as np
import pytest
import torch

import scratch
from scratch import nn
from torch_ref.catalog.data import normal
from torch_ref.convert import from_torch, to_torch
from torch_ref.testing import DTYPES, assert_gradcheck, assert_module_parity


def rng(seed=1):
    return np.random.default_rng(seed)


@pytest.mark.filterwarnings("ignore:dropout2d. Received a 3D input:UserWarning")
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("training", [True, False])
def test_dropout2d_3d_input_is_n_c_l(dtype, training):
    """torch reads a 3-D input as (N, C, L): one draw per (n, c), broadcast along L."""
    module = nn.Dropout2d(0.5, rng=rng()).train(training)
    assert_module_parity(module, normal(rng(0), dtype, 6, 8, 5))
    assert module.mask is None if not training else module.mask.shape == (6, 8, 1)


@pytest.mark.parametrize("shape", [(2, 3, 4), (4, 5), (2, 3, 4, 5, 6), (2, 3, 4, 5)])
@pytest.mark.parametrize("training", [True, False])
def test_dropout2d_warns_as_torch(shape, training):
    def messages(module, x):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            module(x)
        return [str(w.message) for w in caught if issubclass(w.category, UserWarning)]

    ours = messages(nn.Dropout2d().train(training), np.ones(shape))
    theirs = messages(torch.nn.Dropout2d().train(training), torch.ones(shape))
    assert ours == theirs
    assert bool(ours) == (len(shape) not in (4,))


def test_dropout2d_needs_two_dims_to_draw_a_mask():
    with pytest.raises(ValueError, match="Dropout2d: Feature dropout requires at least 2 dimensions"), \
            pytest.warns(UserWarning, match="1-D input"):
        nn.Dropout2d(0.5)(np.ones(5))
    with pytest.raises(RuntimeError, match="at least 2 dimensions"), pytest.warns(UserWarning):
        torch.nn.Dropout2d(0.5)(torch.ones(5))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("cls", ["Dropout", "Dropout2d"])
def test_p1_gives_zeros_and_zero_gradient_as_torch(cls, dtype):
    x = normal(rng(0), dtype, 2, 3, 4, 5)
    x[0, 0, 0, 0] = np.inf  # inf * 0 = nan in both engines
    grad = normal(rng(7), dtype, 2, 3, 4, 5)
    module = getattr(nn, cls)(1.0)
    out, dx = module(x.copy()), module.backward(grad)
    t = torch.tensor(x, requires_grad=True)
    theirs = getattr(torch.nn, cls)(1.0)(t)
    theirs.backward(torch.tensor(grad))
    np.testing.assert_array_equal(out, theirs.detach().numpy())
    np.testing.assert_array_equal(dx, t.grad.numpy())
    assert np.isnan(out[0, 0, 0, 0]) and not np.any(out.reshape(-1)[1:]) and not np.any(dx)
    assert out.dtype == dx.dtype == dtype


@pytest.mark.parametrize("p", [-0.1, 1.5])
@pytest.mark.parametrize("cls", ["Dropout", "Dropout2d"])
def test_bad_p_raises_torchs_error_after_the_modules_name(cls, p):
    with pytest.raises(ValueError) as theirs:
        getattr(torch.nn, cls)(p)
    with pytest.raises(ValueError, match=f"^{cls}: {re.escape(str(theirs.value))}$"):
        getattr(nn, cls)(p)


def test_inplace_overwrites_and_returns_the_input():
    x = normal(rng(0), np.float32, 6, 7)
    module = nn.Dropout(0.5, inplace=True, rng=rng())
    expected = nn.Dropout(0.5, rng=rng())(x.copy())
    out = module(x)
    assert out is x
    np.testing.assert_array_equal(x, expected)


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_drop_rate_and_mean_are_within_5_sigma(p):
    n = 200_000
    x = np.random.default_rng(3).uniform(1.0, 2.0, n)
    out = nn.Dropout(p, rng=rng(4))(x)
    dropped = np.mean(out == 0)
    assert abs(dropped - p) <= 5 * np.sqrt(p * (1 - p) / n), dropped
    assert abs(out.mean() - x.mean()) <= 5 * out.std() / np.sqrt(n), (out.mean(), x.mean())
    np.testing.assert_allclose(out[out != 0], x[out != 0] / (1 - p), rtol=1e-15)


def test_dropout2d_drops_whole_channels_at_rate_p():
    p, (n, c) = 0.3, (200, 150)
    x = np.random.default_rng(3).uniform(1.0, 2.0, (n, c, 4, 3))
    out = nn.Dropout2d(p, rng=rng(5))(x)
    zero = (out == 0).reshape(n, c, -1)
    assert np.all(zero.all(axis=2) | ~zero.any(axis=2)), "a channel was partly dropped"
    kept = ~zero[:, :, 0]
    np.testing.assert_allclose(out[kept], x[kept] / (1 - p), rtol=1e-15)
    assert abs(np.mean(~kept) - p) <= 5 * np.sqrt(p * (1 - p) / (n * c))


def test_reproducible_with_rng_and_manual_seed_and_numpy_global_state_untouched():
    x = np.ones((50, 40))
    state = np.random.get_state()[1].copy()
    assert np.array_equal(nn.Dropout(rng=rng(9))(x), nn.Dropout(rng=rng(9))(x))
    assert not np.array_equal(nn.Dropout(rng=rng(9))(x), nn.Dropout(rng=rng(10))(x))
    scratch.manual_seed(123)
    first = nn.Dropout2d()(np.ones((30, 40, 2, 2)))
    scratch.manual_seed(123)
    again = nn.Dropout2d()(np.ones((30, 40, 2, 2)))
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, nn.Dropout2d()(np.ones((30, 40, 2, 2))))  # the stream moves on
    np.testing.assert_array_equal(np.random.get_state()[1], state)


def fixed_mask(cls, *args):
    """``cls`` whose every forward redraws the same mask (a fresh generator from one seed), so the
    finite differences of gradcheck, which reruns forward, see one fixed function y = x * noise."""
    class FixedMask(cls):
        def forward(self, input):
            self.rng = np.random.default_rng(11)
            return super().forward(input)
    return FixedMask(*args)


@pytest.mark.parametrize("module", [fixed_mask(nn.Dropout, 0.4), fixed_mask(nn.Dropout2d, 0.5),
                                    fixed_mask(nn.Dropout, 0.4).eval()],
                         ids=["dropout-train", "dropout2d-train", "eval"])
def test_finite_differences_with_a_fixed_mask(module):
    x = normal(rng(0), np.float64, 5, 6, 3, 2)
    assert_gradcheck(module, x)  # works on a float64 copy; the module's own run below draws the same mask
    module(x)
    if module.training:
        assert module.mask.any() and not module.mask.all(), "the fixed mask must drop some and keep some"


def test_twins_state_dict_repr_and_conversion():
    for ours, theirs in [(nn.Dropout(0.2, True), torch.nn.Dropout(0.2, True)), (nn.Dropout2d(), torch.nn.Dropout2d())]:
        twin = to_torch(ours)
        assert isinstance(twin, type(theirs)) and repr(twin) == repr(theirs) == repr(ours)
        assert twin.state_dict().keys() == theirs.state_dict().keys() == ours.state_dict().keys()
        back = from_torch(theirs)
        assert type(back) is type(ours) and (back.p, back.inplace) == (theirs.p, theirs.inplace)


def test_twin_refuses_to_run_before_the_scratch_forward():
    twin = to_torch(nn.Dropout(0.5))
    with pytest.raises(RuntimeError, match="run the scratch module's forward"):
        twin(torch.ones(3, 4))


def test_backward_before_forward_raises():
    with pytest.raises(RuntimeError, match=r"Dropout\.backward called before forward"):
        nn.Dropout().backward(np.ones(3))
