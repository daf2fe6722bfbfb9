"""Gradient clipping against torch.nn.utils: the returned total norm and every clipped gradient, in both dtypes."""

import math
import warnings

import numpy as np
import pytest
import torch

from scratch import nn
from scratch.nn.utils import clip_grad_norm_, clip_grad_value_
from torch_ref.catalog.clip_grad import make_params, torch_twins
from torch_ref.testing import DTYPES, assert_close
from torch_ref.tolerance import rtol

NORM_TYPES = [1.0, 2.0, 3.0, math.inf, 0.5, -1.0, 0.0, -math.inf]
# max_norm far above the total norm (nothing clipped, the coefficient 1 is still multiplied in) or far below
REGIMES = {"below": (1e4, 0.1), "above": (0.5, 1.0)}


def assert_same_grads(params, twins, tol):
    for i, (param, twin) in enumerate(zip(params, twins)):
        if twin.grad is None:
            assert param.grad is None, f"param {i}: torch's grad is None, scratch's is not"
        else:
            assert_close(param.grad, twin.grad, tol, f"param {i} grad")


def tolerance(dtype, params):
    return rtol(dtype, sum(p.size for p in params) + len(params))


@pytest.mark.parametrize("regime", REGIMES)
@pytest.mark.parametrize("norm_type", NORM_TYPES, ids=str)
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
def test_clip_grad_norm_matches_torch(dtype, norm_type, regime):
    max_norm, scale = REGIMES[regime]
    params = make_params(np.dtype(dtype), np.random.default_rng(3), scale)
    twins = torch_twins(params)
    before = [None if p.grad is None else p.grad.copy() for p in params]
    total = clip_grad_norm_(params, max_norm, norm_type)
    torch_total = torch.nn.utils.clip_grad_norm_(twins, max_norm, norm_type)
    assert isinstance(total, np.ndarray) and total.shape == () and total.dtype == dtype
    assert_close(total, torch_total, tolerance(dtype, params), "total norm")
    assert_same_grads(params, twins, tolerance(dtype, params))
    clipped = any(p.grad is not None and not np.array_equal(p.grad, g) for p, g in zip(params, before))
    assert clipped == (max_norm < torch_total.item() + 1e-6)
    if norm_type in (1.0, 2.0, 3.0, math.inf):
        assert clipped == (regime == "above")


@pytest.mark.parametrize("norm_type", [1.0, 2.0, 3.0, math.inf], ids=str)
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
def test_clipped_gradients_have_the_max_norm(dtype, norm_type):
    params = make_params(np.dtype(dtype), np.random.default_rng(4), scale=2.0, without_grad=None)
    total = clip_grad_norm_(params, 0.7, norm_type)
    after = clip_grad_norm_(params, 1e9, norm_type)
    assert total > 0.7
    np.testing.assert_allclose(after, 0.7 * total / (total + 1e-6), rtol=tolerance(dtype, params))


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
def test_a_single_parameter_a_generator_and_foreach_are_accepted(dtype):
    for foreach in (None, True, False):
        params = make_params(np.dtype(dtype), np.random.default_rng(5), without_grad=None)
        twins = torch_twins(params)
        total = clip_grad_norm_(params[0], 1.0, foreach=foreach)
        torch_total = torch.nn.utils.clip_grad_norm_(twins[0], 1.0, foreach=foreach)
        assert_close(total, torch_total, tolerance(dtype, params), "single parameter")
        total = clip_grad_norm_((p for p in params[1:]), 0.3, 3.0, foreach=foreach)
        torch_total = torch.nn.utils.clip_grad_norm_((t for t in twins[1:]), 0.3, 3.0, foreach=foreach)
        assert_close(total, torch_total, tolerance(dtype, params), "generator")
        assert_same_grads(params, twins, tolerance(dtype, params))


def test_parameters_without_grads_are_skipped_and_nothing_gives_torchs_zero():
    params = make_params(np.dtype(np.float64), np.random.default_rng(6), shapes=[(3,), (4,)], without_grad=0)
    params[1].grad = None
    total = clip_grad_norm_(params, 1.0)
    assert all(p.grad is None for p in params)
    torch_total = torch.nn.utils.clip_grad_norm_([], 1.0)
    assert total.dtype == np.float32 and float(total) == torch_total.item() == 0.0  # torch.tensor(0.0)


def test_an_empty_generator_warns_like_torch():
    with pytest.warns(UserWarning, match="empty generator") as ours:
        assert float(clip_grad_norm_((p for p in []), 1.0)) == 0.0
    with pytest.warns(UserWarning) as theirs:
        torch.nn.utils.clip_grad_norm_((p for p in []), 1.0)
    assert str(ours[0].message) == str(theirs[0].message)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        clip_grad_norm_([], 1.0)  # a list is not a generator: no warning, as torch


@pytest.mark.parametrize("bad", [np.inf, np.nan])
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
def test_a_nonfinite_norm_raises_only_when_asked_and_else_scales_like_torch(dtype, bad):
    params = make_params(np.dtype(dtype), np.random.default_rng(7), without_grad=None)
    params[1].grad[0] = bad
    twins = torch_twins(params)
    with pytest.raises(RuntimeError, match="non-finite") as ours:
        clip_grad_norm_(params, 1.0, error_if_nonfinite=True)
    with pytest.raises(RuntimeError) as theirs:
        torch.nn.utils.clip_grad_norm_(twins, 1.0, error_if_nonfinite=True)
    assert str(ours.value) == str(theirs.value)
    total = clip_grad_norm_(params, 1.0)
    torch_total = torch.nn.utils.clip_grad_norm_(twins, 1.0)
    assert_close(total, torch_total, 0.0, "non-finite total norm")
    assert_same_grads(params, twins, 0.0)


def test_mixed_dtypes_promote_the_norm_and_keep_each_grad_dtype():
    rng = np.random.default_rng(8)
    params = make_params(np.dtype(np.float32), rng, shapes=[(5, 3)], without_grad=None)
    params += make_params(np.dtype(np.float64), rng, shapes=[(4,)], without_grad=None)
    twins = torch_twins(params)
    total = clip_grad_norm_(params, 0.5)
    torch_total = torch.nn.utils.clip_grad_norm_(twins, 0.5)
    assert total.dtype == np.float64 and [p.grad.dtype for p in params] == [np.float32, np.float64]
    assert_close(total, torch_total, rtol(np.float32, 16), "mixed total norm")
    assert_same_grads(params, twins, rtol(np.float32, 16))


def test_the_inf_norm_of_an_empty_gradient_is_an_error_like_torch():
    param = nn.Parameter(np.zeros(0))
    param.grad = np.zeros(0)
    twin = torch.nn.Parameter(torch.zeros(0))
    twin.grad = torch.zeros(0)
    for norm_type in (math.inf, -math.inf):
        with pytest.raises(RuntimeError, match="on an empty tensor") as ours:
            clip_grad_norm_(param, 1.0, norm_type)
        with pytest.raises(RuntimeError) as theirs:
            torch.nn.utils.clip_grad_norm_(twin, 1.0, norm_type)
        assert str(ours.value) == str(theirs.value)


@pytest.mark.parametrize("clip_value", [0.5, 2.0, 0.0, -0.3], ids=str)
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
def test_clip_grad_value_matches_torch(dtype, clip_value):
    params = make_params(np.dtype(dtype), np.random.default_rng(9), scale=2.0)
    params[0].grad[0, :2] = np.nan
    twins = torch_twins(params)
    clip_grad_value_(params, clip_value)
    torch.nn.utils.clip_grad_value_(twins, clip_value)
    assert_same_grads(params, twins, 0.0)
    assert all(p.grad is None or p.grad.dtype == dtype for p in params)


def test_clip_grad_value_takes_a_single_parameter_and_a_generator():
    params = make_params(np.dtype(np.float32), np.random.default_rng(10), scale=3.0, without_grad=None)
    twins = torch_twins(params)
    clip_grad_value_(params[0], 1.0, foreach=True)
    torch.nn.utils.clip_grad_value_(twins[0], 1.0, foreach=True)
    clip_grad_value_((p for p in params[1:]), 0.2)
    torch.nn.utils.clip_grad_value_((t for t in twins[1:]), 0.2)
    assert_same_grads(params, twins, 0.0)
    assert np.abs(params[0].grad).max() == 1.0 and np.abs(params[1].grad).max() == np.float32(0.2)
