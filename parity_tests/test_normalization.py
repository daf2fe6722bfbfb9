"""BatchNorm1d, BatchNorm2d, LayerNorm, GroupNorm: parity with torch in both dtypes, running statistics
step by step across train/eval switches, finite differences, constant inputs, state dicts and bad inputs.
RMSNorm: parity (eps None and given, affine or not, several normalized shapes), torch's default eps per
dtype, inf and NaN where torch's autograd puts them, finite differences, state_dict keys and bad input."""

import re

import numpy as np
import pytest
import torch

from scratch import nn
from scratch.gradcheck import gradcheck
from torch_ref import from_torch, to_torch
from torch_ref.checks.normalization import randomized
from torch_ref.report import compare_arrays
from torch_ref.tolerance import reduction_length, rtol

from .helpers import DTYPES, assert_gradcheck, assert_module_parity


def normal(dtype, *shape, seed=1):
    """Normal values, spread and shifted off zero mean (seed 1: not the upstream gradient's seed 0)."""
    return (1 + 2 * np.random.default_rng(seed).standard_normal(shape)).astype(dtype)


BN1, BN2, LN, GN = nn.BatchNorm1d, nn.BatchNorm2d, nn.LayerNorm, nn.GroupNorm
# name: (build(dtype) -> module, input shape, eval mode)
CASES = {
    "bn1d-2d-input": (lambda d: BN1(6, dtype=d), (16, 6), False),
    "bn1d-3d-input": (lambda d: BN1(6, dtype=d), (8, 6, 10), False),
    "bn1d-batch-1-length-5": (lambda d: BN1(6, dtype=d), (1, 6, 5), False),
    "bn1d-momentum-none": (lambda d: BN1(6, momentum=None, dtype=d), (16, 6), False),
    "bn1d-momentum-0.5-eps-1e-3": (lambda d: BN1(6, eps=1e-3, momentum=0.5, dtype=d), (8, 6, 3), False),
    "bn1d-affine-false": (lambda d: BN1(6, affine=False, dtype=d), (16, 6), False),
    "bn1d-bias-false": (lambda d: BN1(6, bias=False, dtype=d), (16, 6), False),
    "bn1d-no-running-stats": (lambda d: BN1(6, track_running_stats=False, dtype=d), (8, 6, 4), False),
    "bn1d-no-running-stats-eval": (lambda d: BN1(6, track_running_stats=False, dtype=d), (8, 6, 4), True),
    "bn1d-eval": (lambda d: BN1(6, dtype=d), (16, 6), True),
    "bn1d-eval-3d-affine-false": (lambda d: BN1(6, affine=False, dtype=d), (8, 6, 10), True),
    "bn2d": (lambda d: BN2(4, dtype=d), (8, 4, 5, 6), False),
    "bn2d-batch-1": (lambda d: BN2(4, dtype=d), (1, 4, 5, 6), False),
    "bn2d-momentum-none": (lambda d: BN2(4, momentum=None, dtype=d), (4, 4, 3, 3), False),
    "bn2d-affine-false": (lambda d: BN2(4, affine=False, dtype=d), (4, 4, 3, 3), False),
    "bn2d-no-running-stats": (lambda d: BN2(4, track_running_stats=False, dtype=d), (4, 4, 3, 3), False),
    "bn2d-eval": (lambda d: BN2(4, dtype=d), (8, 4, 5, 6), True),
    "bn2d-wide": (lambda d: BN2(16, dtype=d), (32, 16, 8, 8), False),
    "ln-1d-input": (lambda d: LN(12, dtype=d), (12,), False),
    "ln-2d-input": (lambda d: LN(12, dtype=d), (8, 12), False),
    "ln-3d-input": (lambda d: LN(12, dtype=d), (4, 3, 12), False),
    "ln-shape-2": (lambda d: LN((5, 6), dtype=d), (2, 3, 5, 6), False),
    "ln-shape-3": (lambda d: LN([3, 4, 5], dtype=d), (2, 3, 4, 5), False),
    "ln-no-affine": (lambda d: LN(12, elementwise_affine=False, dtype=d), (4, 3, 12), False),
    "ln-no-bias": (lambda d: LN(12, bias=False, dtype=d), (8, 12), False),
    "ln-eps-0.1-eval": (lambda d: LN(12, eps=0.1, dtype=d), (8, 12), True),
    "ln-wide": (lambda d: LN(512, dtype=d), (16, 512), False),
    "gn-2d-input": (lambda d: GN(2, 6, dtype=d), (8, 6), False),
    "gn-3d-input": (lambda d: GN(3, 6, dtype=d), (4, 6, 7), False),
    "gn-4d-input": (lambda d: GN(3, 6, dtype=d), (4, 6, 5, 4), False),
    "gn-one-group": (lambda d: GN(1, 6, dtype=d), (4, 6, 7), False),
    "gn-group-per-channel": (lambda d: GN(6, 6, dtype=d), (4, 6, 7), False),
    "gn-no-affine": (lambda d: GN(2, 6, affine=False, dtype=d), (4, 6, 3, 3), False),
    "gn-no-bias-eval": (lambda d: GN(2, 6, bias=False, dtype=d), (4, 6, 3, 3), True),
    "gn-batch-1": (lambda d: GN(2, 6, dtype=d), (1, 6, 5), False),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", CASES)
def test_normalization_matches_torch(case, dtype):
    build, shape, eval_mode = CASES[case]
    assert_module_parity(randomized(build(dtype), np.random.default_rng(2), eval=eval_mode), normal(dtype, *shape))


@pytest.mark.parametrize("case", CASES)
def test_normalization_matches_finite_differences(case):
    build, shape, eval_mode = CASES[case]
    if np.prod(shape) > 400:  # two forward passes per element: the wide cases are for parity only
        shape = (2, shape[1]) + (2,) * (len(shape) - 2)
    module = randomized(build(np.float64), np.random.default_rng(2), eval=eval_mode)
    assert_gradcheck(module, normal(np.float64, *shape))


# ------------------------------------------------------- running statistics across steps
MODES = [True, True, False, True, False, False, True, True]  # train/eval switches; False: eval
STATEFUL = {
    "bn1d": lambda d: BN1(5, dtype=d),
    "bn1d-momentum-none": lambda d: BN1(5, momentum=None, dtype=d),
    "bn1d-affine-false": lambda d: BN1(5, affine=False, momentum=0.3, dtype=d),
    "bn2d": lambda d: BN2(5, dtype=d),
    "bn2d-momentum-none": lambda d: BN2(5, momentum=None, dtype=d),
    "bn2d-no-running-stats": lambda d: BN2(5, track_running_stats=False, dtype=d),
}


def assert_same(quantity, ours, theirs, tol, step):
    result = compare_arrays(quantity, ours, theirs, tol)
    assert result.ok, f"step {step}: {result.describe(ours, theirs)}"


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", STATEFUL)
def test_running_statistics_follow_torch_step_by_step(case, dtype):
    module = STATEFUL[case](dtype)
    twin = to_torch(module)
    rng = np.random.default_rng(3)
    shape = (6, 5) if isinstance(module, BN1) else (4, 5, 3, 2)
    for step, training in enumerate(MODES):
        module.train(training)
        twin.train(training)
        x = (rng.uniform(-2, 3) + rng.uniform(0.5, 3) * rng.standard_normal(shape)).astype(dtype)
        grad = rng.standard_normal(shape).astype(dtype)
        x_torch = torch.tensor(x, requires_grad=True)
        out_torch = twin(x_torch)
        out_torch.backward(torch.tensor(grad))
        out = module(x)
        tol = rtol(dtype, reduction_length(x)) * (step + 1)
        assert_same("output", out, out_torch, tol, step)
        assert_same("grad_input", module.backward(grad), x_torch.grad, tol, step)
        buffers = dict(twin.named_buffers())
        assert [name for name, _ in module.named_buffers()] == list(buffers)
        for name, buffer in module.named_buffers():
            assert_same(name, buffer, buffers[name], tol, step)
    if module.track_running_stats:
        assert int(module.num_batches_tracked) == sum(MODES)


# --------------------------------------------------------------------- special inputs
BUILDERS = {
    "bn1d": (lambda d: BN1(4, dtype=d), (8, 4)),
    "bn1d-eval-no-running-stats": (lambda d: BN1(4, track_running_stats=False, dtype=d).eval(), (8, 4, 3)),
    "bn2d": (lambda d: BN2(4, dtype=d), (2, 4, 3, 3)),
    "ln": (lambda d: LN((3, 4), dtype=d), (5, 3, 4)),
    "gn": (lambda d: GN(2, 4, dtype=d), (5, 4, 3)),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", BUILDERS)
def test_constant_input_stays_finite(case, dtype):
    """Zero variance: invstd = 1/sqrt(eps), xhat = 0, y = beta, and nothing overflows or divides by 0."""
    build, shape = BUILDERS[case]
    module = randomized(build(dtype), np.random.default_rng(2))
    x = np.full(shape, 3.7, dtype=dtype)
    grad = np.random.default_rng(4).standard_normal(shape).astype(dtype)
    with np.errstate(all="raise"):
        out = module(x)
        grad_input = module.backward(grad)
    assert out.dtype == dtype and grad_input.dtype == dtype
    assert np.isfinite(out).all() and np.isfinite(grad_input).all()
    bias = module.bias.data.reshape((-1,) + (1,) * (x.ndim - 2)) if not isinstance(module, LN) else module.bias.data
    # y = beta up to the rounding of the folded terms x * gamma / sqrt(eps) that torch rounds too
    folded = 3.7 * np.abs(module.weight.data).max() / np.sqrt(module.eps)
    np.testing.assert_allclose(out, np.broadcast_to(bias, shape), rtol=0, atol=8 * np.finfo(dtype).eps * folded)
    # a constant shift is normalized away: dL/dx sums to zero over every normalized group
    assert abs(grad_input.sum()) < 1e-3 * np.abs(grad_input).sum() + 1e-6


@pytest.mark.parametrize("case", BUILDERS)
def test_state_dict_keys_match_torch_and_load_from_torch(case):
    build, shape = BUILDERS[case]
    module = build(np.float64)
    twin = to_torch(module)
    assert list(module.state_dict()) == list(twin.state_dict())
    twin.train()
    with torch.no_grad():
        for p in twin.parameters():
            p.uniform_(-2, 2)
        twin(torch.randn(*shape, dtype=torch.float64) * 3 + 1)  # moves the running statistics
    module.load_state_dict(twin.state_dict())
    for key, value in twin.state_dict().items():
        np.testing.assert_array_equal(module.state_dict()[key], value.numpy())
        assert module.state_dict()[key].dtype == value.numpy().dtype, key


@pytest.mark.parametrize("torch_module", [
    torch.nn.BatchNorm1d(3, affine=False, dtype=torch.float64), torch.nn.BatchNorm2d(3, momentum=None),
    torch.nn.LayerNorm((2, 3), bias=False, dtype=torch.float64), torch.nn.GroupNorm(3, 6, affine=False)],
    ids=lambda m: type(m).__name__)
def test_from_torch_keeps_options_dtype_and_buffers(torch_module):
    module = from_torch(torch_module)
    assert type(module).__name__ == type(torch_module).__name__
    assert module.extra_repr() == torch_module.extra_repr()
    for key, value in torch_module.state_dict().items():
        assert module.state_dict()[key].dtype == value.numpy().dtype, key


def test_to_double_and_float_convert_running_statistics():
    module = BN2(3)
    assert module.running_mean.dtype == np.float32 and module.num_batches_tracked.dtype == np.int64
    module.double()
    assert {b.dtype for b in (module.running_mean, module.running_var, module.weight.data)} == {np.dtype(np.float64)}
    assert module.num_batches_tracked.dtype == np.int64 and module.num_batches_tracked.shape == ()
    module(normal(np.float64, 2, 3, 2, 2))
    module.float()
    assert module.running_var.dtype == np.float32 and int(module.num_batches_tracked) == 1


def test_no_running_stats_registers_none_buffers_and_affine_false_no_parameters():
    module = BN1(4, affine=False, track_running_stats=False)
    assert module.running_mean is None and module.running_var is None and module.num_batches_tracked is None
    assert module.weight is None and module.bias is None
    assert list(module.state_dict()) == [] == list(module.parameters())
    out = module(normal(np.float64, 5, 4))  # parameter-free: any float dtype, kept
    assert out.dtype == np.float64


# ------------------------------------------------------------------------- bad inputs
BAD = {
    "bn1d-channels": (BN1(4), (8, 5), ValueError, r"BatchNorm1d: expected input with 4 channels.*\(8, 5\)"),
    "bn1d-4d": (BN1(4), (8, 4, 2, 2), ValueError, r"BatchNorm1d: expected 2D or 3D input \(got 4D"),
    "bn2d-channels": (BN2(3), (2, 4, 5, 5), ValueError, r"BatchNorm2d: expected input with 3 channels.*\(2, 4, 5, 5\)"),
    "bn2d-3d": (BN2(3), (2, 3, 5), ValueError, r"BatchNorm2d: expected 4D input \(got 3D"),
    "bn1d-batch-1": (BN1(4), (1, 4), ValueError, r"Expected more than 1 value per channel when training"),
    "bn2d-one-value": (BN2(4), (1, 4, 1, 1), ValueError, r"Expected more than 1 value per channel when training"),
    "bn-no-stats-eval-batch-1": (BN1(4, track_running_stats=False).eval(), (1, 4), ValueError, "more than 1 value"),
    "bn1d-dtype": (BN1(4), np.zeros((3, 4)), TypeError, r"BatchNorm1d: expected input of dtype float32"),
    "bn1d-affine-false-dtype": (BN1(4, affine=False), np.zeros((3, 4)), TypeError, r"dtype float32"),
    "ln-shape": (LN((3, 4)), (2, 3, 5), ValueError, r"LayerNorm: expected input of shape \(\*, 3, 4\).*\(2, 3, 5\)"),
    "ln-too-few-dims": (LN((3, 4)), (4,), ValueError, r"LayerNorm: expected input of shape \(\*, 3, 4\)"),
    "gn-channels": (GN(2, 4), (2, 6, 3), ValueError, r"GroupNorm: expected input of shape \(N, 4, \*\).*\(2, 6, 3\)"),
    "gn-1d": (GN(2, 4), (4,), ValueError, r"GroupNorm: expected input of shape \(N, 4, \*\)"),
    "gn-one-value": (GN(4, 4), (1, 4), ValueError, r"Expected more than 1 value per channel"),
}


@pytest.mark.parametrize("case", BAD)
def test_bad_input_raises_a_clear_error(case):
    module, shape, error, message = BAD[case]
    x = shape if isinstance(shape, np.ndarray) else np.zeros(shape, dtype=np.float32)
    with pytest.raises(error, match=message):
        module(x)
    if error is ValueError and "more than 1 value" not in message:  # torch rejects the same input
        with pytest.raises((ValueError, RuntimeError)):
            to_torch(module)(torch.from_numpy(x))


def test_bad_hyperparameters_are_rejected_like_torch():
    with pytest.raises(ValueError, match=r"num_channels \(4\) must be divisible by num_groups \(3\)"):
        GN(3, 4)
    with pytest.raises(ValueError, match="eps must be positive during training"):
        BN1(3, eps=0.0)(np.ones((2, 3), dtype=np.float32))
    with pytest.raises(ValueError, match="eps must be non-negative"):
        BN1(3, eps=-1.0).eval()(np.ones((2, 3), dtype=np.float32))


# ---------------------------------------------------------------------------------------- RMSNorm
def standard_normal(dtype, *shape, seed=1, scale=1.0):
    return (np.random.default_rng(seed).standard_normal(shape) * scale).astype(dtype)


def with_random_weight(module, seed=3):
    if module.weight is not None:  # ones would hide a missing or misplaced gamma
        module.weight.data[...] = np.random.default_rng(seed).uniform(0.5, 1.5, module.weight.shape)
    return module


RMS_CASES = {
    "1d": lambda d: (nn.RMSNorm(6, dtype=d), (4, 6)),
    "1d-eps": lambda d: (nn.RMSNorm([6], 1e-3, dtype=d), (3, 5, 6)),
    "2d-shape": lambda d: (nn.RMSNorm((2, 6), dtype=d), (3, 2, 6)),
    "no-affine": lambda d: (nn.RMSNorm(6, elementwise_affine=False, dtype=d), (4, 6)),
    "small-values": lambda d: (nn.RMSNorm(6, dtype=d), (4, 6)),  # near the eps: eps's default matters
    "large-batch": lambda d: (nn.RMSNorm(5, 1e-3, dtype=d), (128, 5, 5)),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", RMS_CASES)
def test_rms_norm_parity(case, dtype):
    module, shape = RMS_CASES[case](dtype)
    scale = 1e-4 if case == "small-values" else 1.0
    assert_module_parity(with_random_weight(module), standard_normal(dtype, *shape, scale=scale))


@pytest.mark.parametrize("dtype", DTYPES)
def test_rms_norm_default_eps_is_the_computation_types_epsilon(dtype):
    """eps=None: 1.19e-7 in float32, 2.2e-16 in float64 (torch's opmath epsilon), visible on tiny inputs."""
    x = np.full((1, 4), 1e-4, dtype=dtype)
    eps = float(np.finfo(dtype).eps)
    expected = 1e-4 / np.sqrt(1e-8 + eps)
    ours = nn.RMSNorm(4, dtype=dtype)(x)
    np.testing.assert_allclose(ours, expected, rtol=1e-6)
    theirs = torch.nn.RMSNorm(4, dtype=torch.from_numpy(x).dtype)(torch.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(ours, theirs, rtol=4 * eps)
    assert nn.RMSNorm(4).eps is None and repr(nn.RMSNorm(4)) == repr(torch.nn.RMSNorm(4))


def test_rms_norm_empty_batch_gives_empty_output_and_zero_weight_gradient():
    module = nn.RMSNorm(5, 1e-3)
    out = module(np.zeros((0, 5), np.float32))
    assert out.shape == (0, 5)
    assert module.backward(out).shape == (0, 5)
    np.testing.assert_array_equal(module.weight.grad, np.zeros(5, np.float32))


@pytest.mark.parametrize("affine", [True, False])
def test_rms_norm_finite_differences(affine):
    module = with_random_weight(nn.RMSNorm((2, 3), 1e-3, elementwise_affine=affine, dtype=np.float64))
    result = gradcheck(module, standard_normal(np.float64, 4, 2, 3), rng=np.random.default_rng(99)).raise_on_failure()
    assert {c.quantity for c in result.checks} == ({"input", "weight"} if affine else {"input"})
    assert all(c.norm > 1e-6 for c in result.checks)


def test_rms_norm_state_dict_and_conversion_as_torch():
    ours = with_random_weight(nn.RMSNorm((2, 3), 1e-4))
    assert list(ours.state_dict()) == list(torch.nn.RMSNorm((2, 3)).state_dict()) == ["weight"]
    assert list(nn.RMSNorm(3, elementwise_affine=False).state_dict()) == []
    twin = to_torch(ours)
    assert (twin.normalized_shape, twin.eps, twin.elementwise_affine) == ((2, 3), 1e-4, True)
    np.testing.assert_array_equal(from_torch(twin).weight.data, ours.weight.data)


def test_rms_norm_bad_input():
    with pytest.raises(ValueError, match=re.escape("RMSNorm: expected input of shape (*, 2, 3)")):
        nn.RMSNorm((2, 3))(np.ones((4, 3, 2), np.float32))
    with pytest.raises(TypeError, match="RMSNorm: expected input of dtype float32"):
        nn.RMSNorm(3)(np.ones((4, 3)))
    with pytest.raises(TypeError, match="RMSNorm: expected input of a floating-point dtype"):
        nn.RMSNorm(3)(np.ones((4, 3), np.int64))
    with pytest.raises(ValueError, match="RMSNorm: scratch runs on the CPU only"):
        nn.RMSNorm(3, device="cuda")


def test_rms_norm_mean_square_underflowing_to_zero_with_eps_zero_gives_torchs_inf_and_nan():
    """x^2 = 0 in float32 with eps = 0: rstd = inf. The gradient then holds inf and NaN exactly where torch's
    autograd (through pow, mean, rsqrt, mul) puts them: its order of operations, kept in rms_norm_backward."""
    x = np.array([[1e-30, 1e-30], [0.5, 0.2]], np.float32)
    grad = np.array([[0.3, -0.7], [0.1, 0.2]], np.float32)
    module = nn.RMSNorm(2, 0.0, elementwise_affine=False)
    out = module(x)
    ours = module.backward(grad)
    leaf = torch.tensor(x, requires_grad=True)
    theirs = torch.nn.functional.rms_norm(leaf, (2,), None, 0.0)
    theirs.backward(torch.tensor(grad))
    np.testing.assert_array_equal(out, theirs.detach().numpy())
    np.testing.assert_allclose(ours, leaf.grad.numpy(), rtol=1e-6)  # equal_nan: inf at [0, 0], NaN at [0, 1]
    assert np.isinf(ours[0, 0]) and np.isnan(ours[0, 1])
