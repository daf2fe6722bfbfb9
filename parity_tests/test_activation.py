"""The activations beyond their catalog cases (test_catalog.py): torch's gradient at each kink, saturation
without floating-point errors, torch-free finite differences, dtypes, in-place variants, PReLU's channel
rules, invalid arguments, and the NumPy erf that GELU rests on."""


import numpy as np
import pytest
import torch

import torch_ref
from scratch import nn
from scratch.nn.functional.activation import RELU_BIT_MASK_MIN, hardtanh_forward
from torch_ref.catalog.case import inplace_parity
from torch_ref.catalog.data import normal as draw_normal
from torch_ref.catalog.data import with_kinks as draw_with_kinks
from torch_ref.testing import DTYPES, assert_gradcheck, assert_module_parity, build, catalog_cases

T = torch.nn


def normal(dtype, *shape, scale=1.0, seed=0):
    return draw_normal(np.random.default_rng(seed), dtype, *shape, scale=scale)


def with_kinks(dtype, *kinks, scale=3.0):
    """An (8, 10) normal input with every third element set to one of ``kinks``."""
    return draw_with_kinks(np.random.default_rng(0), dtype, 8, 10, kinks=kinks, scale=scale)


def prelu(num_parameters, dtype, seed=2):
    module = nn.PReLU(num_parameters, dtype=dtype)
    module.weight.data[...] = np.random.default_rng(seed).uniform(-0.5, 0.5, num_parameters)
    return module


KINKS = {  # torch's gradient at each kink, for an upstream gradient g
    "leaky-relu": (lambda: nn.LeakyReLU(0.2), [0.0, -0.0], lambda g: 0.2 * g),
    "elu": (lambda: nn.ELU(alpha=0.7), [0.0, -0.0], lambda g: 0.7 * g),
    "celu": (lambda: nn.CELU(alpha=1.7), [0.0], lambda g: g * (1.0 / np.float32(1.7)) * 1.7),
    "hardtanh": (lambda: nn.Hardtanh(-0.3, 2.0), [-0.3, 2.0], lambda g: 0 * g),
    "relu6": (lambda: nn.ReLU6(), [0.0, 6.0], lambda g: 0 * g),
    "threshold": (lambda: nn.Threshold(0.5, 2.0), [0.5], lambda g: 0 * g),
    "hardshrink": (lambda: nn.Hardshrink(1.5), [1.5, -1.5], lambda g: 0 * g),
    "hardsigmoid": (lambda: nn.Hardsigmoid(), [-3.0, 3.0], lambda g: 0 * g),
    "hardswish-at-minus-3": (lambda: nn.Hardswish(), [-3.0], lambda g: 0 * g),
    "hardswish-at-3": (lambda: nn.Hardswish(), [3.0], lambda g: g),
    "rrelu-eval": (lambda: nn.RReLU(0.2, 0.5).eval(), [0.0, -0.0], lambda g: 0.35 * g),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", KINKS)
def test_gradient_at_the_kinks_is_torchs(case, dtype):
    make, kinks, expected = KINKS[case]
    x = with_kinks(dtype, *kinks)
    arrays = assert_module_parity(make(), x).arrays
    scratch_grad, torch_grad = arrays["grad_input"]
    at = np.isin(x, np.asarray(kinks, dtype=dtype))
    np.testing.assert_array_equal(arrays["output"][0][at], arrays["output"][1][at])  # the kink values themselves
    np.testing.assert_array_equal(scratch_grad[at], torch_grad[at])
    g = np.random.default_rng(0).standard_normal(x.shape)[at]  # assert_module_parity's upstream gradient
    np.testing.assert_allclose(scratch_grad[at], expected(g).astype(dtype), rtol=1e-6)


@pytest.mark.parametrize("dtype", DTYPES)
def test_softplus_past_threshold_is_the_identity(dtype):
    x = normal(dtype, 8, 10, scale=10)
    module = nn.Softplus(beta=0.5, threshold=1.0)
    result = assert_module_parity(module, x)
    past = x * dtype(0.5) > 1.0
    assert past.any() and (~past).any()
    np.testing.assert_array_equal(result.arrays["output"][0][past], x[past])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("module", [nn.ELU(), nn.SELU(), nn.CELU(alpha=0.3)], ids=repr)
def test_exponential_units_saturate_at_large_negative_inputs(module, dtype):
    x = np.array([[-1e4, -800.0, -100.0, -30.0, 0.5, 2.0]], dtype=dtype)
    with np.errstate(all="raise"):
        out = assert_module_parity(module, x).arrays["output"][0]
    alpha, scale = (1.6732632423543772848170429916717, 1.0507009873554804934193349852946) \
        if isinstance(module, nn.SELU) else (module.alpha, 1.0)
    np.testing.assert_allclose(out[0, :3], -alpha * scale, rtol=1e-6)


EXTREMES = [-3e4, -1e4, -800.0, -100.0, -40.0, -12.0, 12.0, 40.0, 100.0, 800.0, 1e4, 3e4]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("module", [nn.GELU(), nn.GELU(approximate="tanh"), nn.SiLU(), nn.Mish(), nn.Softplus(),
                                    nn.Softsign(), nn.ELU()], ids=repr)
def test_large_inputs_give_torchs_finite_values_without_floating_point_errors(module, dtype):
    x = np.array([EXTREMES, [0.5, -0.5, 1.0, -1.0, 2.0, -2.0, 3.0, -3.0, 0.1, -0.1, 4.0, -4.0]], dtype=dtype)
    with np.errstate(all="raise"):
        result = assert_module_parity(module, x)
    for quantity in ("output", "grad_input"):
        assert np.isfinite(result.arrays[quantity][1]).all()  # torch's values are finite ...
        assert np.isfinite(result.arrays[quantity][0]).all()  # ... and so are scratch's


# ------------------------------------------------------------------------------ finite differences
def off_kinks(*shape, kinks=(0.0,), seed=3):
    """Normal values times 2 kept at least 0.1 away from every kink."""
    x = 2 * np.random.default_rng(seed).standard_normal(shape)
    for kink in kinks:
        near = np.abs(x - kink) < 0.1
        x[near] = kink + np.where(x[near] >= kink, 0.1, -0.1) + x[near] - kink
    return x


def away(*shape, kinks, seed=3):
    x = off_kinks(*shape, kinks=kinks, seed=seed)
    assert min(np.abs(x - k).min() for k in kinks) >= 0.1 - 1e-12
    return x


GRADCHECK = {
    "leaky-relu": lambda: (nn.LeakyReLU(0.2), away(4, 5, kinks=[0.0])),
    "leaky-relu-inplace": lambda: (nn.LeakyReLU(0.2, inplace=True), away(4, 5, kinks=[0.0])),
    "elu": lambda: (nn.ELU(alpha=0.7), away(4, 5, kinks=[0.0])),
    "elu-inplace": lambda: (nn.ELU(alpha=0.7, inplace=True), away(4, 5, kinks=[0.0])),
    "selu": lambda: (nn.SELU(), away(4, 5, kinks=[0.0])),
    "celu": lambda: (nn.CELU(alpha=0.5), away(4, 5, kinks=[0.0])),
    "celu-inplace": lambda: (nn.CELU(alpha=0.5, inplace=True), away(4, 5, kinks=[0.0])),
    "gelu": lambda: (nn.GELU(), normal(np.float64, 4, 5, scale=2)),
    "gelu-tanh": lambda: (nn.GELU(approximate="tanh"), normal(np.float64, 4, 5, scale=2)),
    "silu": lambda: (nn.SiLU(), normal(np.float64, 4, 5, scale=2)),
    "silu-inplace": lambda: (nn.SiLU(inplace=True), normal(np.float64, 4, 5, scale=2)),
    "mish": lambda: (nn.Mish(), normal(np.float64, 4, 5, scale=2)),
    "mish-inplace": lambda: (nn.Mish(inplace=True), normal(np.float64, 4, 5, scale=2)),
    "softplus": lambda: (nn.Softplus(), normal(np.float64, 4, 5, scale=2)),
    "softplus-beta-threshold": lambda: (nn.Softplus(beta=2.0, threshold=5.0), away(4, 5, kinks=[2.5])),
    "softsign": lambda: (nn.Softsign(), away(4, 5, kinks=[0.0])),
    "hardtanh": lambda: (nn.Hardtanh(-0.3, 2.0), away(4, 5, kinks=[-0.3, 2.0])),
    "hardtanh-inplace": lambda: (nn.Hardtanh(-0.3, 2.0, inplace=True), away(4, 5, kinks=[-0.3, 2.0])),
    "relu6": lambda: (nn.ReLU6(), 2 + 2 * away(4, 5, kinks=[-1.0, 2.0])),
    "prelu": lambda: (prelu(1, np.float64), away(4, 5, kinks=[0.0])),
    "prelu-channels": lambda: (prelu(3, np.float64), away(2, 3, 4, kinks=[0.0])),
}


@pytest.mark.parametrize("case", GRADCHECK)
def test_backward_matches_finite_differences(case):
    assert_gradcheck(*GRADCHECK[case]())


# ------------------------------------------------------------------------------ dtypes and in place
PARAMETER_FREE = [nn.LeakyReLU(), nn.ELU(), nn.SELU(), nn.CELU(0.3), nn.GELU(), nn.GELU("tanh"), nn.SiLU(), nn.Mish(),
                  nn.Softplus(), nn.Softsign(), nn.Hardtanh(), nn.ReLU6()]


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("module", PARAMETER_FREE, ids=repr)
def test_parameter_free_activations_keep_the_input_dtype(module, dtype):
    out = module(normal(dtype, 3, 4, scale=2))
    grad = module.backward(normal(dtype, 3, 4, seed=5))
    assert out.dtype == dtype and grad.dtype == dtype


INPLACE = catalog_cases(kind="inplace")  # every module with an inplace option, built with it on


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", INPLACE, ids=lambda case: case.name)
def test_inplace_overwrites_the_input_like_torch(case, dtype):
    module, _ = build(case, dtype)
    x = with_kinks(dtype, 0.0)
    result = inplace_parity(module, x, np.random.default_rng(0))
    assert result.ok, "\n".join(result.failures())
    out = module(x)
    assert out is x  # the result is the input array itself, as torch's in-place ops return their input


@pytest.mark.parametrize("make", [lambda: nn.LeakyReLU(-0.1, inplace=True), lambda: nn.ELU(-0.5, inplace=True),
                                  lambda: nn.CELU(-0.5, inplace=True)], ids=["leaky-relu", "elu", "celu"])
def test_inplace_backward_with_a_negative_slope_is_refused_like_torch(make):
    module, x = make(), -np.ones(3)
    twin = torch_ref.to_torch(module)
    with pytest.raises(RuntimeError, match="negative slope"):
        out = twin(torch.tensor(x, requires_grad=True).clone())
        out.backward(torch.randn_like(out))
    out = module(x)
    with pytest.raises(ValueError, match="in-place backward with a negative"):
        module.backward(np.ones_like(out))


# ------------------------------------------------------------------------------ PReLU
def test_prelu_state_dict_and_repr_equal_torchs():
    ours, theirs = nn.PReLU(3, init=0.1), T.PReLU(3, init=0.1)
    assert [(k, v.shape, v.dtype) for k, v in ours.state_dict().items()] == \
        [(k, tuple(v.shape), np.float32) for k, v in theirs.state_dict().items()]
    np.testing.assert_array_equal(ours.weight.data, theirs.weight.detach().numpy())
    assert nn.PReLU(dtype=np.float64).weight.dtype == np.float64


@pytest.mark.parametrize("shape", [(3,), (), (2, 4), (2, 4, 3)], ids=str)
def test_prelu_channel_mismatch_is_rejected_like_torch(shape):
    with pytest.raises(RuntimeError):
        T.PReLU(3)(torch.ones(shape))
    with pytest.raises(ValueError, match=r"PReLU: .*num_parameters"):
        nn.PReLU(3)(np.ones(shape, dtype=np.float32))


def test_prelu_rejects_another_dtype_naming_both():
    with pytest.raises(RuntimeError):
        T.PReLU()(torch.ones(2, dtype=torch.float64))
    with pytest.raises(TypeError, match=r"float32.*float64"):
        nn.PReLU()(np.ones(2))


def test_prelu_gradients_accumulate():
    module, x = prelu(3, np.float64), normal(np.float64, 4, 3, 2)
    g = normal(np.float64, 4, 3, 2, seed=1)
    module(x)
    module.backward(g)
    first = module.weight.grad.copy()
    module(x)
    module.backward(g)
    np.testing.assert_allclose(module.weight.grad, 2 * first)
    assert np.abs(first).min() > 0


# ------------------------------------------------------------------------------ options and errors
REPRS = [nn.LeakyReLU(), nn.LeakyReLU(0.2, True), nn.ELU(), nn.ELU(0.5, True), nn.SELU(), nn.SELU(True),
         nn.CELU(), nn.CELU(2.0, True), nn.GELU(), nn.GELU("tanh"), nn.SiLU(), nn.SiLU(True), nn.Mish(True),
         nn.Softplus(), nn.Softplus(2.0, 5.0), nn.Softsign(), nn.Hardtanh(), nn.Hardtanh(-2.0, 3.0, True),
         nn.ReLU6(), nn.ReLU6(True), nn.PReLU(), nn.PReLU(4)]


@pytest.mark.parametrize("module", REPRS, ids=repr)
def test_repr_and_round_trip_equal_torchs(module):
    twin = torch_ref.to_torch(module)
    assert repr(module) == repr(twin)
    assert repr(torch_ref.from_torch(twin)) == repr(module)


def test_defaults_are_torchs():
    for ours, theirs in [(nn.LeakyReLU(), T.LeakyReLU()), (nn.ELU(), T.ELU()), (nn.CELU(), T.CELU()),
                         (nn.Softplus(), T.Softplus()), (nn.Hardtanh(), T.Hardtanh()), (nn.ReLU6(), T.ReLU6()),
                         (nn.GELU(), T.GELU()), (nn.PReLU(), T.PReLU())]:
        for name in ("negative_slope", "alpha", "inplace", "beta", "threshold", "min_val", "max_val", "approximate",
                     "num_parameters", "init"):
            assert getattr(ours, name, None) == getattr(theirs, name, None), (ours, name)


def test_gelu_rejects_an_unknown_approximation_like_torch():
    x = np.ones(2, dtype=np.float32)
    with pytest.raises(RuntimeError, match="approximate"):
        T.GELU("bogus")(torch.ones(2))
    with pytest.raises(ValueError, match=r"GELU: approximate .*'bogus'"):
        nn.GELU("bogus")(x)


def test_celu_rejects_alpha_0_like_torch():
    with pytest.raises(RuntimeError, match="alpha cannot be 0"):
        T.CELU(0.0)(torch.ones(2))
    with pytest.raises(ValueError, match="alpha cannot be 0"):
        nn.CELU(0.0)(np.ones(2))


@pytest.mark.parametrize("bounds", [(1.0, 1.0), (2.0, -1.0)])
def test_hardtanh_rejects_max_not_above_min_like_torch(bounds):
    with pytest.raises(AssertionError):
        T.Hardtanh(*bounds)
    with pytest.raises(ValueError, match=r"max_val \(.*\) must be greater than min_val"):
        nn.Hardtanh(*bounds)
    with pytest.raises(ValueError, match="min_val cannot be greater"):
        hardtanh_forward(np.ones(2), 2.0, -1.0)


def test_hardtanh_takes_torchs_deprecated_keywords():
    with pytest.warns(FutureWarning, match="is deprecated and renamed"):
        ours = nn.Hardtanh(min_value=-2.0, max_value=3.0)
    with pytest.warns(FutureWarning):
        theirs = T.Hardtanh(min_value=-2.0, max_value=3.0)
    assert repr(ours) == repr(theirs)


# ------------------------------------------------------------------------------ ReLU, Sigmoid, Softmax
@pytest.mark.parametrize("dtype", DTYPES)
def test_relu_gradient_at_zero_is_zero_in_both_engines(dtype):
    module, (x,) = build("ReLU(at kink 0)", dtype)
    result = assert_module_parity(module, x)
    scratch_grad, torch_grad = result.arrays["grad_input"]
    assert (x == 0).any() and np.all(scratch_grad[x == 0] == 0) and np.all(torch_grad[x == 0] == 0)


@pytest.mark.parametrize("dtype", DTYPES)
def test_parameter_free_modules_keep_the_input_dtype(dtype):
    x = normal(dtype, 3, 4)
    for module in (nn.ReLU(), nn.Sigmoid(), nn.Tanh(), nn.Softmax(dim=1), nn.LogSoftmax(dim=1), nn.Flatten()):
        out = module(x)
        assert out.dtype == dtype, type(module).__name__
        assert module.backward(np.ones_like(out)).dtype == dtype, type(module).__name__


def test_sigmoid_saturates_without_overflow_warnings():
    with np.errstate(over="raise"):
        out = nn.Sigmoid()(np.array([-1000.0, 1000.0], dtype=np.float32))
    np.testing.assert_array_equal(out, [0.0, 1.0])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("size", [1, 7, 64, 1001])
def test_tanh_backward_equals_torchs_kernel_bit_for_bit(dtype, size):
    """Given the same y, dL/dx = g (1 - y²) is torch's to the bit: its kernel rounds 1 - y² once (a fused
    multiply-add), which matters where y is near ±1 and 1 - y² cancels; scalar tail and vector body alike."""
    rng = np.random.default_rng(size)
    x = (rng.standard_normal(size) * np.resize([0.3, 3.0, 8.0, 15.0], size)).astype(dtype)
    y = torch.tanh(torch.from_numpy(x)).numpy()
    g = rng.standard_normal(size).astype(dtype)
    theirs = torch.ops.aten.tanh_backward(torch.from_numpy(g), torch.from_numpy(y)).numpy()
    ours = nn.functional.tanh_backward(g, y)
    assert ours.dtype == dtype
    np.testing.assert_array_equal(ours, theirs)
    assert not np.array_equal(g * (1 - y * y), theirs) or size == 1  # the plain formula rounds twice


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("size", [15, RELU_BIT_MASK_MIN], ids=["boolean mask", "bit mask"])
def test_relu_backward_is_torchs_bit_for_bit_with_either_mask(dtype, size):
    """Both forms of ReLU's mask (scratch/nn/functional/activation.py) give torch's gradient bit for bit, with
    0, -0, NaN and infinities planted in the input and the upstream gradient (masked ones become +0)."""
    rng = np.random.default_rng(7)
    x, grad = (rng.standard_normal(size).astype(dtype) for _ in range(2))
    x[:5], grad[5:10], grad[:3] = [0, -0.0, np.nan, np.inf, -np.inf], [np.nan, np.inf, -np.inf, -0.0, 0], np.nan
    relu = nn.ReLU()
    relu(x.copy())
    ours = relu.backward(grad)
    tx = torch.from_numpy(x).requires_grad_()
    torch.relu(tx).backward(torch.from_numpy(grad))
    expected = tx.grad.numpy()
    assert ours.dtype == dtype
    np.testing.assert_array_equal(ours.view(f"u{ours.itemsize}"), expected.view(f"u{expected.itemsize}"))
