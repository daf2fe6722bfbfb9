"""LogSigmoid, Tanhshrink, Softmin, Softmax2d and GLU beyond their catalog cases: finite differences, saturation
without floating-point warnings, the shapes GLU and Softmax2d refuse, Softmin's legacy dim, reprs."""

import warnings

import numpy as np
import pytest
import torch

import torch_ref
from scratch import nn
from torch_ref.catalog.data import normal as draw_normal
from torch_ref.testing import DTYPES, assert_gradcheck, assert_module_parity

T = torch.nn


def normal(*shape, scale=2.0, dtype=np.float64, seed=0):
    return draw_normal(np.random.default_rng(seed), dtype, *shape, scale=scale)


GRADCHECK = {
    "logsigmoid": lambda: (nn.LogSigmoid(), normal(4, 5)),
    "tanhshrink": lambda: (nn.Tanhshrink(), normal(4, 5)),
    "softmin": lambda: (nn.Softmin(dim=1), normal(4, 5)),
    "softmax2d": lambda: (nn.Softmax2d(), normal(2, 3, 2, 2)),
    "glu": lambda: (nn.GLU(), normal(3, 4)),
    "glu-dim0": lambda: (nn.GLU(dim=0), normal(4, 3)),
}


@pytest.mark.parametrize("case", GRADCHECK)
def test_backward_matches_finite_differences(case):
    assert_gradcheck(*GRADCHECK[case]())


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("module", [nn.LogSigmoid(), nn.Tanhshrink(), nn.GLU()], ids=repr)
def test_extreme_inputs_match_torch_without_warnings(module, dtype):
    x = np.array([[-1e4, -800.0, -40.0, 0.0], [1e4, 800.0, 40.0, -0.0]], dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert_module_parity(module, x)


@pytest.mark.parametrize("shape", [(3, 5), (7,), (2, 3, 4, 5, 6)])
def test_softmax2d_refuses_other_than_3d_or_4d_like_torch(shape):
    with pytest.raises(ValueError, match=f"Softmax2d: expected input to be 3D or 4D, got {len(shape)}D instead"):
        T.Softmax2d()(torch.zeros(shape))
    with pytest.raises(ValueError, match=f"Softmax2d: expected input to be 3D or 4D, got {len(shape)}D instead"):
        nn.Softmax2d()(np.zeros(shape))


def test_glu_refuses_an_odd_dim_a_scalar_and_a_bad_dim():
    with pytest.raises(RuntimeError, match="Halving dimension must be even, but dimension 1 is size 5"):
        T.GLU()(torch.zeros(3, 5))
    with pytest.raises(ValueError, match="GLU: Halving dimension must be even, but dimension 1 is size 5"):
        nn.GLU()(np.zeros((3, 5)))
    with pytest.raises(ValueError, match="GLU: glu does not support scalars"):
        nn.GLU()(np.zeros(()))
    with pytest.raises(IndexError, match="GLU: dim out of range"):
        nn.GLU(dim=2)(np.zeros((3, 4)))


def test_softmin_without_dim_takes_torchs_legacy_dim_with_its_warning():
    x = normal(3, 4)
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmin"):
        out = nn.Softmin()(x)
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmin"):
        np.testing.assert_allclose(out, T.Softmin()(torch.tensor(x)).numpy(), rtol=1e-12)


REPRS = [nn.LogSigmoid(), nn.Tanhshrink(), nn.Softmin(), nn.Softmin(1), nn.Softmax2d(), nn.GLU(), nn.GLU(0)]


@pytest.mark.parametrize("module", REPRS, ids=repr)
def test_repr_and_round_trip_equal_torchs(module):
    twin = torch_ref.to_torch(module)
    assert repr(module) == repr(twin)
    assert repr(torch_ref.from_torch(twin)) == repr(module)
