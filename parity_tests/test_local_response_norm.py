"""LocalResponseNorm and CrossMapLRN2d beyond the catalog: finite differences (LocalResponseNorm; CrossMapLRN2d's
gradient is torch's hand-written one, not the derivative of its forward), CrossMapLRN2d's legacy window,
inf and NaN where torch puts them, reprs and bad inputs."""

import numpy as np
import pytest
import torch
from torch.nn.modules._functions import CrossMapLRN2d as TorchCrossMapLRN2d

from scratch import nn
from scratch.gradcheck import gradcheck
from torch_ref.catalog.data import normal
from torch_ref.testing import assert_gradcheck, assert_module_parity, build, catalog_cases


@pytest.mark.parametrize("case", catalog_cases("LocalResponseNorm", kind="module"), ids=lambda c: c.name)
def test_local_response_norm_matches_finite_differences(case):
    module, (x,) = build(case, np.float64)
    assert_gradcheck(module, x)


@pytest.mark.parametrize("size", [2, 3, 4, 5, 9])
def test_cross_map_window_is_torchs_legacy_window(size):
    """With beta = -1, k = 0, alpha = size: y_c / x_c = sum_{j in W(c)} x_j^2, so one-hot squares read off W."""
    channels = 7
    x = np.ones((1, channels, 1, 1))
    base = nn.CrossMapLRN2d(size, float(size), -1.0, 0.0)(x)
    windows = np.empty((channels, channels))
    for j in range(channels):  # one probe per channel, in the test only
        probe = x.copy()
        probe[0, j] = np.sqrt(2.0)
        windows[:, j] = (nn.CrossMapLRN2d(size, float(size), -1.0, 0.0)(probe) / probe - base)[0, :, 0, 0]
    pre_pad = int((size - 1) / 2 + 1)
    c, j = np.arange(channels)[:, None], np.arange(channels)[None, :]
    expected = (np.abs(j - c) < pre_pad) | ((j == 0) & (c >= pre_pad))
    np.testing.assert_allclose(windows, expected.astype(float), atol=1e-12)
    torch_out = TorchCrossMapLRN2d.apply(torch.tensor(x), size, float(size), -1.0, 0.0).numpy()
    np.testing.assert_allclose(base, torch_out, rtol=1e-15)


def test_cross_map_gradient_is_torchs_not_the_derivative():
    """torch's backward uses a window shifted from its forward's: scratch returns torch's gradient (the catalog
    compares it), which finite differences of the forward do not give."""
    module = nn.CrossMapLRN2d(3, 0.5, 0.75, 1.0)
    x = normal(np.random.default_rng(0), np.float64, 2, 5, 2, 2, scale=2)
    assert_module_parity(module, x)
    assert not gradcheck(module, x).ok


def test_cross_map_size_one_backward_is_refused_as_in_torch():
    module = nn.CrossMapLRN2d(1)
    x = normal(np.random.default_rng(0), np.float32, 2, 4, 2, 2)
    out = module(x)
    with pytest.raises(ValueError, match=r"CrossMapLRN2d.backward: torch's backward fails for size=1"):
        module.backward(np.ones_like(out))


@pytest.mark.parametrize("cls", [nn.LocalResponseNorm, nn.CrossMapLRN2d], ids=lambda c: c.__name__)
def test_special_values_land_where_torchs_do(cls):
    """An inf, a NaN and a square that overflows: CrossMapLRN2d's running sum leaves NaN behind an inf, as torch's."""
    rng = np.random.default_rng(1)
    x = normal(rng, np.float64, 2, 6, 3, 3)
    x[0, 1, 0, 0], x[1, 3, 2, 1], x[1, 0, 1, 1] = np.inf, np.nan, -1e200
    grad = normal(rng, np.float64, *x.shape)
    module, twin = cls(3, 0.5, 0.75, 1.0), getattr(torch.nn, cls.__name__)(3, 0.5, 0.75, 1.0)
    x_torch = torch.tensor(x, requires_grad=True)
    out_torch = twin(x_torch)
    out_torch.backward(torch.tensor(grad))
    for ours, theirs in ((module(x), out_torch.detach()), (module.backward(grad), x_torch.grad)):
        np.testing.assert_allclose(ours, theirs.numpy(), rtol=1e-13, atol=1e-300)  # NaN, inf in the same places


def test_empty_input_is_returned_as_it_is():
    x = np.zeros((0, 3, 4), dtype=np.float32)
    module = nn.LocalResponseNorm(2)
    assert module(x) is x
    assert module.backward(x).shape == x.shape


@pytest.mark.parametrize("cls", [nn.LocalResponseNorm, nn.CrossMapLRN2d], ids=lambda c: c.__name__)
def test_repr_matches_torch(cls):
    assert repr(cls(3, 1e-3, 0.5, 2)) == repr(getattr(torch.nn, cls.__name__)(3, 1e-3, 0.5, 2))
    assert repr(cls(4)) == repr(getattr(torch.nn, cls.__name__)(4))


def test_bad_inputs_name_the_module():
    with pytest.raises(ValueError, match=r"LocalResponseNorm: Expected 3D or higher dimensionality input \(got 2"):
        nn.LocalResponseNorm(2)(np.zeros((2, 3), dtype=np.float32))
    with pytest.raises(ValueError, match="CrossMapLRN2d: Expected input to be 4D, got 3D instead"):
        nn.CrossMapLRN2d(2)(np.zeros((2, 3, 4), dtype=np.float32))
    with pytest.raises(ValueError, match="LocalResponseNorm: size must be >= 1, got 0"):
        nn.LocalResponseNorm(0)
    with pytest.raises(TypeError, match="CrossMapLRN2d: expected input of a floating-point dtype"):
        nn.CrossMapLRN2d(2)(np.zeros((2, 3, 4, 4), dtype=np.int64))
