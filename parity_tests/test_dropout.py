"""Dropout, Dropout1d/2d/3d, AlphaDropout, FeatureAlphaDropout (their parity with torch on the catalog's
cases: test_catalog.py; the twin applies the scratch module's last mask, see torch_ref/twins/dropout.py):
3-D inputs to Dropout2d, unbatched inputs, warnings and errors, p=1, the drop rate, alpha dropout's
moments, reproducibility, finite differences."""

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


ALL = ["Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout", "FeatureAlphaDropout"]


@pytest.mark.parametrize("p", [-0.1, 1.5])
@pytest.mark.parametrize("cls", ALL)
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


@pytest.mark.parametrize(("module", "shape"), [
    (fixed_mask(nn.Dropout, 0.4), (5, 6, 3, 2)), (fixed_mask(nn.Dropout2d, 0.5), (5, 6, 3, 2)),
    (fixed_mask(nn.Dropout, 0.4).eval(), (5, 6, 3, 2)), (fixed_mask(nn.Dropout1d, 0.5), (6, 5)),
    (fixed_mask(nn.Dropout3d, 0.5), (3, 6, 2, 2, 2)), (fixed_mask(nn.AlphaDropout, 0.3), (5, 6, 3)),
    (fixed_mask(nn.FeatureAlphaDropout, 0.5), (5, 6, 3))],
    ids=["dropout-train", "dropout2d-train", "eval", "dropout1d-unbatched", "dropout3d", "alpha", "feature-alpha"])
def test_finite_differences_with_a_fixed_mask(module, shape):
    x = normal(rng(0), np.float64, *shape)
    assert_gradcheck(module, x)  # works on a float64 copy; the module's own run below draws the same mask
    module(x)
    if module.training:
        assert module.mask.any() and not module.mask.all(), "the fixed mask must drop some and keep some"


@pytest.mark.parametrize("cls", ALL)
def test_twins_state_dict_repr_and_conversion(cls):
    for ours, theirs in [(getattr(nn, cls)(0.2, True), getattr(torch.nn, cls)(0.2, True)),
                         (getattr(nn, cls)(), getattr(torch.nn, cls)())]:
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


# ------------------------------------------------------------- Dropout1d, Dropout3d, the alpha dropouts
def warnings_of(module, x):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            module(x)
        except Exception as error:  # the warnings before an error are compared too
            return [str(w.message) for w in caught], type(error).__name__
    return [str(w.message) for w in caught], None


@pytest.mark.parametrize("shape", [(), (5,), (4, 5), (2, 3, 4), (2, 3, 4, 5), (2, 3, 2, 2, 2), (1, 2, 3, 2, 2, 2)])
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("cls", ["Dropout1d", "Dropout3d", "FeatureAlphaDropout"])
def test_warnings_and_refusals_as_torch(cls, shape, training):
    """Same warnings; an error exactly where torch raises (torch's RuntimeError is a ValueError in scratch)."""
    ours, our_error = warnings_of(getattr(nn, cls)(0.5).train(training), np.ones(shape))
    theirs, their_error = warnings_of(getattr(torch.nn, cls)(0.5).train(training), torch.ones(shape))
    assert [m.removeprefix(f"{cls}: ") for m in ours] == theirs
    assert (our_error, their_error) in ((None, None), ("ValueError", "RuntimeError"))


def test_dropout1d_and_3d_unbatched_masks_are_per_channel():
    module = nn.Dropout1d(0.5, rng=rng())
    module(np.ones((6, 5)))
    assert module.mask.shape == (6, 1)
    module = nn.Dropout3d(0.5, rng=rng())
    module(np.ones((6, 2, 2, 2)))
    assert module.mask.shape == (6, 1, 1, 1)
    with pytest.raises(ValueError, match=r"Dropout1d: dropout1d: Expected 2D or 3D input, but received a 4D input"):
        nn.Dropout1d().eval()(np.ones((2, 3, 4, 5)))


@pytest.mark.parametrize("p", [0.2, 0.5])
def test_alpha_dropout_keeps_zero_mean_and_unit_variance(p):
    n = 400_000
    x = np.random.default_rng(3).standard_normal(n)
    out = nn.AlphaDropout(p, rng=rng(4))(x)
    assert abs(out.mean()) <= 5 / np.sqrt(n) and abs(out.var() - 1) <= 5 * np.sqrt(2 / n), (out.mean(), out.var())
    module = nn.AlphaDropout(p, rng=rng(4))
    out = module(x)
    keep = module.mask
    alpha = 1.7580993408473766
    a = 1 / np.sqrt((alpha**2 * p + 1) * (1 - p))
    np.testing.assert_allclose(out[~keep], -alpha * a * (1 - p), rtol=1e-15)  # SELU's saturation, rescaled
    np.testing.assert_allclose(out[keep], x[keep] * a + alpha * a * p, rtol=1e-13, atol=1e-15)
    assert abs(np.mean(~keep) - p) <= 5 * np.sqrt(p * (1 - p) / n)


@pytest.mark.parametrize("cls", ["AlphaDropout", "FeatureAlphaDropout"])
def test_alpha_dropouts_ignore_inplace_as_torch(cls):
    x = normal(rng(0), np.float32, 4, 5, 3)
    before = x.copy()
    out = getattr(nn, cls)(0.5, inplace=True, rng=rng())(x)
    assert out is not x
    np.testing.assert_array_equal(x, before)


@pytest.mark.parametrize("cls", ["Dropout1d", "Dropout3d", "AlphaDropout", "FeatureAlphaDropout"])
def test_p1_and_p0_follow_torchs_kernel(cls):
    shape = (2, 3, 4) if cls == "Dropout1d" else (2, 3, 2, 2, 2)
    x = normal(rng(0), np.float64, *shape)
    x.flat[0] = np.inf
    out = getattr(nn, cls)(1.0)(x.copy())
    np.testing.assert_array_equal(out, getattr(torch.nn, cls)(1.0)(torch.tensor(x)).numpy())  # x * 0: nan at inf
    assert getattr(nn, cls)(0.0)(x) is x
