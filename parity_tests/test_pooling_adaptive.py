"""AdaptiveAvgPool1d/3d and AdaptiveMaxPool1d/2d/3d beyond their catalog cases (parity with torch:
test_catalog.py): max ties and NaNs routed exactly as torch, return_indices, finite differences, NaN and inf
kept in their windows, dtype kept, and errors naming the module where torch rejects the input too.
AdaptiveAvgPool2d: test_pooling.py."""

import numpy as np
import pytest
import torch

from scratch import nn
from torch_ref import to_torch
from torch_ref.catalog.data import normal
from torch_ref.testing import DTYPES, assert_gradcheck, build, catalog_cases

from .test_pooling import _raises_like_torch, built, distinct, ties

ADAPTIVE = catalog_cases("AdaptiveAvgPool1d", "AdaptiveAvgPool3d", "AdaptiveMaxPool1d", "AdaptiveMaxPool2d",
                         "AdaptiveMaxPool3d", kind="module")
ADAPTIVE_MAX = catalog_cases("AdaptiveMaxPool1d", "AdaptiveMaxPool2d", "AdaptiveMaxPool3d", kind="module")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", ADAPTIVE_MAX, ids=lambda c: c.name)
def test_adaptive_max_ties_route_the_gradient_exactly_as_torch(case, dtype):
    module, shape = built(case)
    x = ties(dtype, shape)
    g = normal(np.random.default_rng(7), dtype, *module(x).shape)
    ours_out, ours_grad = module(x), module.backward(g)
    leaf = torch.tensor(x, requires_grad=True)
    theirs = to_torch(module)(leaf)
    theirs.backward(torch.tensor(g))
    np.testing.assert_array_equal(ours_out, theirs.detach().numpy())
    np.testing.assert_array_equal(ours_grad, leaf.grad.numpy())


@pytest.mark.parametrize("case", ADAPTIVE_MAX, ids=lambda c: c.name)
def test_adaptive_max_indices_nans_and_minus_inf_windows_as_torch(case):
    module, shape = built(case, return_indices=True)
    for x in (distinct(np.float64, shape), ties(np.float64, shape)):
        x = x.copy()
        x.reshape(-1)[::5] = np.nan
        x[..., :2] = -np.inf
        out, indices = module(x)
        theirs, their_indices = to_torch(module)(torch.tensor(x))
        assert indices.dtype == np.int64
        np.testing.assert_array_equal(indices, their_indices.numpy())
        np.testing.assert_array_equal(out, theirs.numpy())


@pytest.mark.parametrize("case", ADAPTIVE, ids=lambda c: c.name)
def test_gradient_matches_finite_differences(case):
    module, shape = built(case)
    assert_gradcheck(module, distinct(np.float64, shape))


@pytest.mark.parametrize("cls", [nn.AdaptiveAvgPool1d, nn.AdaptiveAvgPool3d])
def test_adaptive_avg_pool_keeps_nan_and_inf_in_their_windows_like_torch(cls):
    shape = (2, 3, 11) if cls is nn.AdaptiveAvgPool1d else (2, 3, 5, 4, 6)
    size = 4 if cls is nn.AdaptiveAvgPool1d else (3, 2, 4)
    x = np.random.default_rng(1).standard_normal(shape)
    x.reshape(-1)[[0, 17, 40]] = [np.nan, np.inf, -np.inf]
    pool = cls(size)
    out = pool(x)
    grad = np.random.default_rng(2).standard_normal(out.shape)
    grad.reshape(-1)[[1, 5]] = [np.inf, np.nan]
    dx = pool.backward(grad)
    leaf = torch.tensor(x, requires_grad=True)
    twin_out = getattr(torch.nn, cls.__name__)(size)(leaf)
    twin_out.backward(torch.tensor(grad))
    np.testing.assert_allclose(out, twin_out.detach().numpy(), rtol=1e-14, atol=1e-15)  # NaN == NaN here
    np.testing.assert_allclose(dx, leaf.grad.numpy(), rtol=1e-14, atol=1e-15)
    assert np.isfinite(out).sum() > out.size // 2


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("case", ["AdaptiveAvgPool1d(does not divide)", "AdaptiveAvgPool3d(does not divide)",
                                  "AdaptiveMaxPool2d(does not divide)", "AdaptiveMaxPool3d(None,unbatched)"])
def test_dtype_is_kept(case, dtype):
    module, shape = built(case)
    out = module(normal(np.random.default_rng(1), dtype, *shape))
    grad = module.backward(normal(np.random.default_rng(2), dtype, *out.shape))
    assert out.dtype == dtype and grad.dtype == dtype and grad.shape == shape


def test_empty_batch_matches_torch():
    for case in ("AdaptiveAvgPool1d(does not divide)", "AdaptiveMaxPool3d(does not divide,return_indices)"):
        module, (x,) = build(case, np.float32)
        module.return_indices = False
        x = x[:0]
        assert module(x).shape == tuple(to_torch(module)(torch.tensor(x)).shape)


X1 = normal(np.random.default_rng(1), np.float32, 2, 3, 5)
X3 = normal(np.random.default_rng(1), np.float32, 2, 3, 4, 5, 5)
BAD = {
    "avg1d-4d-input": (lambda n: n.AdaptiveAvgPool1d(2), X3[0], ValueError),
    "avg3d-3d-input": (lambda n: n.AdaptiveAvgPool3d(2), X1, ValueError),
    "avg3d-tuple-of-two": (lambda n: n.AdaptiveAvgPool3d((2, 2)), X3, ValueError),
    "max2d-negative-size": (lambda n: n.AdaptiveMaxPool2d((2, -1)), X3[0], ValueError),
    "max3d-2d-input": (lambda n: n.AdaptiveMaxPool3d(2), X1[0], ValueError),
    "max3d-empty-spatial": (lambda n: n.AdaptiveMaxPool3d(2), X3[:, :, :0], ValueError),
}


@pytest.mark.parametrize("case", BAD)
def test_bad_inputs_and_arguments_raise_like_torch(case):
    _raises_like_torch(*BAD[case])


def test_errors_name_the_module():
    with pytest.raises(ValueError, match=r"AdaptiveMaxPool1d: output_size must hold positive ints"):
        nn.AdaptiveMaxPool1d(0)(X1)
    with pytest.raises(ValueError, match=r"AdaptiveAvgPool3d: expected a 4-D \(unbatched\) or 5-D \(batched\)"):
        nn.AdaptiveAvgPool3d(2)(X1)
    with pytest.raises(TypeError, match=r"AdaptiveMaxPool2d: expected input of a floating-point dtype"):
        nn.AdaptiveMaxPool2d(2)(X3[0].astype(np.int64))


@pytest.mark.parametrize("case", ["AdaptiveAvgPool1d(global)", "AdaptiveAvgPool3d(None,larger)",
                                  "AdaptiveMaxPool2d(None,return_indices)", "AdaptiveMaxPool3d(global,ties)"])
def test_repr_matches_torchs(case):
    module, _ = built(case)
    assert repr(module) == repr(to_torch(module))
