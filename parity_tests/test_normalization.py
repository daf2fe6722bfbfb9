"""BatchNorm1d/2d/3d, LayerNorm, GroupNorm: finite differences on the catalog's cases (their parity
with torch: test_catalog.py), running statistics step by step across train/eval switches, constant
inputs, state dicts and bad inputs. RMSNorm: parity (eps None and given, affine or not, several normalized
shapes), torch's default eps per dtype, inf and NaN where torch's autograd puts them, finite differences,
state_dict keys and bad input."""

import re

import numpy as np
import pytest
import torch

from scratch import nn
from scratch.gradcheck import gradcheck
from torch_ref import from_torch, to_torch
from torch_ref.catalog.data import normal
from torch_ref.catalog.normalization import randomized
from torch_ref.testing import DTYPES, assert_close, assert_gradcheck, assert_module_parity, build, catalog_cases
from torch_ref.tolerance import reduction_length, rtol

BN1, BN2, LN, GN = nn.BatchNorm1d, nn.BatchNorm2d, nn.LayerNorm, nn.GroupNorm
NORMS = catalog_cases("BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "LayerNorm", "GroupNorm", kind="module")


@pytest.mark.parametrize("case", NORMS, ids=lambda c: c.name)
def test_normalization_matches_finite_differences(case):
    module, (x,) = build(case, np.float64)
    if x.size > 400:  # two forward passes per element: the wide cases run on a few samples of their width
        x = normal(np.random.default_rng(1), np.float64, 2, x.shape[1], *(2,) * (x.ndim - 2), scale=2) + 1
    assert_gradcheck(module, x)


# ------------------------------------------------------- running statistics across steps
MODES = [True, True, False, True, False, False, True, True]  # train/eval switches; False: eval
STATEFUL = {
    "bn1d": lambda d: BN1(5, dtype=d),
    "bn1d-momentum-none": lambda d: BN1(5, momentum=None, dtype=d),
    "bn1d-affine-false": lambda d: BN1(5, affine=False, momentum=0.3, dtype=d),
    "bn2d": lambda d: BN2(5, dtype=d),
    "bn2d-momentum-none": lambda d: BN2(5, momentum=None, dtype=d),
    "bn2d-no-running-stats": lambda d: BN2(5, track_running_stats=False, dtype=d),
    "bn3d-momentum-none": lambda d: nn.BatchNorm3d(5, momentum=None, dtype=d),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", STATEFUL)
def test_running_statistics_follow_torch_step_by_step(case, dtype):
    module = STATEFUL[case](dtype)
    twin = to_torch(module)
    rng = np.random.default_rng(3)
    shape = (6, 5) if isinstance(module, BN1) else (4, 5, 3, 2) if isinstance(module, BN2) else (2, 5, 3, 2, 2)
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
        assert_close(out, out_torch, tol, f"step {step}: output")
        assert_close(module.backward(grad), x_torch.grad, tol, f"step {step}: grad_input")
        buffers = dict(twin.named_buffers())
        assert [name for name, _ in module.named_buffers()] == list(buffers)
        for name, buffer in module.named_buffers():
            assert_close(buffer, buffers[name], tol, f"step {step}: {name}")
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
    module(normal(np.random.default_rng(1), np.float64, 2, 3, 2, 2))
    module.float()
    assert module.running_var.dtype == np.float32 and int(module.num_batches_tracked) == 1


def test_no_running_stats_registers_none_buffers_and_affine_false_no_parameters():
    module = BN1(4, affine=False, track_running_stats=False)
    assert module.running_mean is None and module.running_var is None and module.num_batches_tracked is None
    assert module.weight is None and module.bias is None
    assert list(module.state_dict()) == [] == list(module.parameters())
    out = module(normal(np.random.default_rng(1), np.float64, 5, 4))  # parameter-free: any float dtype, kept
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


@pytest.mark.parametrize(("eps", "training"), [(0.0, True), (-1.0, True), (-1.0, False)])
def test_batch_norm_reports_a_bad_eps_before_a_mismatched_dtype_like_torch(eps, training):
    """torch's F.batch_norm checks eps before its kernel sees the dtypes (torch's error inputs for
    BatchNorm give a float64 input to a float32 module with eps <= 0): the eps error is raised."""
    x = normal(np.random.default_rng(1), np.float64, 4, 3)
    with pytest.raises(ValueError, match="BatchNorm1d: batch_norm eps must be"):
        BN1(3, eps=eps).train(training)(x)
    with pytest.raises(ValueError, match="batch_norm eps must be"):
        torch.nn.BatchNorm1d(3, eps=eps).train(training)(torch.from_numpy(x))


def test_batch_norm_counts_a_batch_of_the_wrong_dtype_before_rejecting_it_like_torch():
    """torch increments num_batches_tracked, then its kernel rejects the mixed dtypes."""
    x = normal(np.random.default_rng(1), np.float64, 4, 3)
    with pytest.raises(TypeError, match=r"BatchNorm1d: expected input of dtype float32 .*got float64"):
        BN1(3)(x)
    ours, theirs = BN1(3), torch.nn.BatchNorm1d(3)
    with pytest.raises(TypeError):
        ours(x)
    with pytest.raises(RuntimeError, match="mixed dtype"):
        theirs(torch.from_numpy(x))
    assert int(ours.num_batches_tracked) == int(theirs.num_batches_tracked) == 1


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


@pytest.mark.parametrize("scale", [1e19, 1e38])
def test_float32_batch_norm_beyond_torchs_range_is_the_true_answer(scale):
    """Deliberate (``functional/normalization._moments``): torch's float32 statistics overflow and its output
    is 0; scratch's float64 statistics give the true normalized output, and a running_var beyond float32's
    range is inf in both."""
    x64 = np.random.default_rng(0).standard_normal((8, 3)) * scale
    x = x64.astype(np.float32)
    module, twin = nn.BatchNorm1d(3), torch.nn.BatchNorm1d(3)
    out = module(x)
    torch_out = twin(torch.from_numpy(x))
    truth = (x64 - x64.mean(axis=0)) / np.sqrt(x64.var(axis=0))
    np.testing.assert_allclose(out, truth, rtol=1e-6, atol=1e-6)
    assert torch.any(torch.all(torch_out == 0, dim=0))  # a channel whose float32 variance overflowed
    ours, theirs = np.isinf(module.running_var), torch.isinf(twin.running_var).numpy()
    assert np.all(theirs[ours]) and (ours.all() if scale > 1e20 else not ours.any())  # inf only beyond float32
