"""Muon beyond its catalog cases and optim_db's (which run it beside torch, every parameter and state buffer
compared after every step): torch's validation and messages, the 2-D restriction, the bfloat16 emulation bit
for bit against torch's, state_dict round trips and the state exchange with torch in both directions."""

import numpy as np
import pytest
import torch
from torch.optim._muon import _zeropower_via_newtonschulz

from scratch import nn, optim
from scratch.nn import Parameter
from scratch.optim._newton_schulz import bfloat16, zeropower_via_newtonschulz
from torch_ref import optimizer_state_from_torch, optimizer_state_to_torch, to_torch_optimizer
from torch_ref.component import MATRIX_PARAMETER_SHAPES, feed_gradients, twin_parameters
from torch_ref.testing import assert_same_state
from torch_ref.tolerance import trajectory_rtol

OPTIONS = {"lr": 0.02, "momentum": 0.9, "weight_decay": 0.05}
GROUPS = [{}, {"lr": 0.05, "nesterov": False, "adjust_lr_fn": "match_rms_adamw"}]
COEFFICIENTS = (3.4445, -4.7750, 2.0315)


def make_params(seed=0, dtype=np.float64):
    """A tall, a wide and a square matrix and a frozen one, for both engines."""
    return twin_parameters(dtype, np.random.default_rng(seed), MATRIX_PARAMETER_SHAPES)


def build(module, params, options=OPTIONS, groups=GROUPS):
    """``module.Muon`` over ``params`` (a dict), dealt out in order into ``groups``."""
    names = list(params)
    split = np.array_split(np.arange(len(names)), len(groups))
    return module.Muon([{"params": [params[names[i]] for i in idx], **group} for idx, group in zip(split, groups)],
                       **options)


INVALID = [{"lr": -0.1}, {"lr": float("nan")}, {"momentum": -0.5}, {"weight_decay": -1.0},
           {"adjust_lr_fn": "arbitrary"}]


@pytest.mark.parametrize("options", INVALID, ids=str)
def test_invalid_hyperparameters_raise_like_torch(options):
    with pytest.raises(ValueError) as torch_error:
        torch.optim.Muon([torch.nn.Parameter(torch.zeros(2, 2))], **options)
    with pytest.raises(ValueError) as error:
        optim.Muon([Parameter(np.zeros((2, 2)))], **options)
    assert str(error.value) == str(torch_error.value)


def test_a_tensor_lr_must_have_one_element_like_torch():
    with pytest.raises(ValueError, match="Tensor lr must be 1-element"):
        torch.optim.Muon([torch.nn.Parameter(torch.zeros(2, 2))], lr=torch.tensor([0.1, 0.2]))
    with pytest.raises(ValueError, match="Tensor lr must be 1-element"):
        optim.Muon([Parameter(np.zeros((2, 2)))], lr=np.array([0.1, 0.2]))


@pytest.mark.parametrize("shape", [(3,), (2, 3, 4), ()])
def test_only_matrices_are_taken_with_torchs_message(shape):
    with pytest.raises(ValueError, match="Muon only supports 2D parameters") as torch_error:
        torch.optim.Muon([torch.nn.Parameter(torch.zeros(2, 2)), torch.nn.Parameter(torch.zeros(shape))])
    with pytest.raises(ValueError) as error:
        optim.Muon([Parameter(np.zeros((2, 2))), Parameter(np.zeros(shape))])
    # torch prints the size as a torch.Size, scratch as the shape tuple
    assert str(error.value) == str(torch_error.value).replace(f"torch.Size({list(shape)})", str(shape))


def test_a_vector_added_later_fails_at_step_as_in_torch():
    """torch checks the shapes in the constructor only: a group added later fails at its first step."""
    ours = optim.Muon([Parameter(np.ones((2, 2)))])
    theirs = torch.optim.Muon([torch.nn.Parameter(torch.ones(2, 2))])
    vector, torch_vector = Parameter(np.ones(3)), torch.nn.Parameter(torch.ones(3))
    ours.add_param_group({"params": [vector]})
    theirs.add_param_group({"params": [torch_vector]})
    vector.grad, torch_vector.grad = np.ones(3), torch.ones(3)
    with pytest.raises(ValueError) as torch_error:
        theirs.step()
    with pytest.raises(ValueError) as error:
        ours.step()
    assert str(error.value) == str(torch_error.value) == "Param gradient must be a 2D matrix"


@pytest.mark.parametrize("options", [{"ns_steps": 100}, {"ns_coefficients": (3.0, -4.0)}], ids=str)
def test_newton_schulz_options_fail_at_step_as_in_torch(options):
    ours, theirs = Parameter(np.ones((2, 3))), torch.nn.Parameter(torch.ones(2, 3))
    opt, torch_opt = optim.Muon([ours], **options), torch.optim.Muon([theirs], **options)
    ours.grad, theirs.grad = np.ones((2, 3)), torch.ones(2, 3)
    with pytest.raises(ValueError) as torch_error:
        torch_opt.step()
    with pytest.raises(ValueError) as error:
        opt.step()
    assert str(error.value) == str(torch_error.value)


def test_param_group_options_and_repr_equal_torchs():
    ours = optim.Muon([Parameter(np.zeros((2, 2)))], lr=0.5)
    theirs = torch.optim.Muon([torch.nn.Parameter(torch.zeros(2, 2))], lr=0.5)
    assert {k: v for k, v in ours.param_groups[0].items() if k != "params"} == {
        k: v for k, v in theirs.param_groups[0].items() if k != "params"}
    assert repr(ours) == repr(theirs)


SPECIAL = [0.0, -0.0, 1.0, 1 + 2**-8, 1 + 3 * 2**-8, 1 + 2**-8 + 2**-20, 3.3895313892515355e38, 3.4e38,
           float("inf"), -float("inf"), 1e-40, -1e-45, 2**-133, 1 + 2**-8 + 2**-30]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bfloat16_rounds_as_torch_does(dtype):
    """Ties to even (1 + 2^-8 down, 1 + 3·2^-8 up), a tie broken by a lower bit, overflow to inf, subnormals,
    a float64 tie made by its rounding to float32 (1 + 2^-8 + 2^-30), and random patterns of every exponent."""
    rng = np.random.default_rng(0)
    bits = rng.integers(0, 2**32, 200_000, dtype=np.uint64).astype(np.uint32)
    patterns = bits.view(np.float32)
    values = np.concatenate([np.array(SPECIAL, dtype), patterns[~np.isnan(patterns)].astype(dtype)])
    expected = torch.tensor(values).bfloat16().float().numpy()
    np.testing.assert_array_equal(bfloat16(values).view(np.uint32), expected.view(np.uint32))
    assert np.isnan(bfloat16(np.array([np.nan], dtype))).all()


SHAPES = [(10, 5), (5, 10), (4, 3), (3, 5), (7, 7), (1, 6), (6, 1), (1, 1), (16, 16)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_newton_schulz_is_torchs_bit_for_bit(shape, dtype):
    """torch's orthogonalization in bfloat16, on random matrices of several scales, with torch's and other
    coefficients and step counts, and on a zero matrix (its norm clamped to eps)."""
    rng = np.random.default_rng(sum(shape))
    for scale, steps, coefficients in [(1.0, 5, COEFFICIENTS), (1e-3, 5, COEFFICIENTS), (50.0, 6, COEFFICIENTS),
                                       (1.0, 3, (3.4, -4.7, 2.0)), (0.0, 5, COEFFICIENTS)]:
        for _ in range(10):
            grad = (rng.standard_normal(shape) * scale).astype(dtype)
            expected = _zeropower_via_newtonschulz(torch.tensor(grad), coefficients, steps, 1e-7).float().numpy()
            actual = zeropower_via_newtonschulz(grad, coefficients, steps, 1e-7)
            np.testing.assert_array_equal(actual, expected, err_msg=f"scale {scale}, {steps} steps")
            assert actual.dtype == np.float32 and actual.shape == shape


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_updates_are_torchs_over_many_steps(dtype):
    """Two groups (nesterov and not, both learning-rate adjustments), 40 steps: float32 bit for bit (the
    bfloat16 input and every fused multiply-add mirrored), float64 within one rounding."""
    ours, theirs = make_params(1, dtype)
    opt, torch_opt = build(optim, ours), build(torch.optim, theirs)
    rng = np.random.default_rng(2)
    for step in range(40):
        feed_gradients(ours, theirs, rng, step)
        opt.step()
        torch_opt.step()
        if dtype == np.float32:
            for key, p in ours.items():
                np.testing.assert_array_equal(p.data, theirs[key].detach().numpy(), err_msg=f"step {step}: {key}")
        assert_same_state(ours, theirs, opt, torch_opt, trajectory_rtol(dtype, 1, 1), step)


def test_state_is_the_momentum_buffer_alone_as_in_torch():
    ours, theirs = make_params()
    opt, torch_opt = build(optim, ours), build(torch.optim, theirs)
    feed_gradients(ours, theirs, np.random.default_rng(3), 1)
    opt.step()
    torch_opt.step()
    saved, torch_saved = opt.state_dict(), torch_opt.state_dict()
    assert {i: list(v) for i, v in saved["state"].items()} == {i: list(v) for i, v in torch_saved["state"].items()}
    assert {i: list(v) for i, v in saved["state"].items()} == {0: ["momentum_buffer"], 1: ["momentum_buffer"],
                                                              2: ["momentum_buffer"]}
    assert saved["param_groups"] == torch_saved["param_groups"]


def test_state_dict_round_trip_continues_the_same_trajectory():
    ours, _ = make_params()
    rng = np.random.default_rng(2)
    grads = [{k: rng.standard_normal(p.shape) for k, p in ours.items()} for _ in range(12)]

    def run(optimizer, steps):
        for step_grads in steps:
            for key, p in ours.items():
                p.grad = None if key == "frozen" else step_grads[key]
            optimizer.step()

    opt = build(optim, ours)
    run(opt, grads[:6])
    saved, saved_params = opt.state_dict(), {k: p.data.copy() for k, p in ours.items()}
    run(opt, grads[6:])
    expected = {k: p.data.copy() for k, p in ours.items()}
    for key, p in ours.items():
        p.data[...] = saved_params[key]
    fresh = build(optim, ours)
    fresh.load_state_dict(saved)
    run(fresh, grads[6:])
    for key, p in ours.items():
        np.testing.assert_array_equal(p.data, expected[key], err_msg=key)


TRAIN, CONTINUE = 10, 30


def _continue_both(ours, theirs, opt, torch_opt, rng):
    for step in range(TRAIN, TRAIN + CONTINUE):
        feed_gradients(ours, theirs, rng, step)
        opt.step()
        torch_opt.step()
        assert_same_state(ours, theirs, opt, torch_opt, trajectory_rtol(np.float64, 1, step + 1 - TRAIN), step)


def test_torch_state_continues_in_scratch():
    ours, theirs = make_params()
    rng = np.random.default_rng(3)
    torch_opt = build(torch.optim, theirs)
    for step in range(TRAIN):
        feed_gradients(ours, theirs, rng, step)
        torch_opt.step()
    opt = build(optim, ours)
    opt.load_state_dict(optimizer_state_from_torch(torch_opt.state_dict()))
    for key, p in ours.items():
        p.data[...] = theirs[key].detach().numpy()
    _continue_both(ours, theirs, opt, torch_opt, rng)


def test_scratch_state_continues_in_torch():
    ours, theirs = make_params()
    rng = np.random.default_rng(4)
    opt = build(optim, ours)
    for step in range(TRAIN):
        feed_gradients(ours, theirs, rng, step)
        opt.step()
    torch_opt = to_torch_optimizer(opt, {id(p): theirs[key] for key, p in ours.items()})
    assert [{k: v for k, v in g.items() if k != "params"} for g in torch_opt.param_groups] == [
        {k: v for k, v in g.items() if k != "params"} for g in opt.param_groups]
    torch_opt.load_state_dict(optimizer_state_to_torch(opt.state_dict()))
    with torch.no_grad():
        for key, p in ours.items():
            theirs[key].copy_(torch.from_numpy(p.data))
    _continue_both(ours, theirs, opt, torch_opt, rng)


def test_named_parameters_give_torchs_param_names_and_the_same_updates():
    model = nn.Linear(4, 3, bias=False, dtype=np.float64, rng=np.random.default_rng(0))
    twin = torch.nn.Linear(4, 3, bias=False, dtype=torch.float64)
    with torch.no_grad():
        twin.weight.copy_(torch.from_numpy(model.weight.data))
    opt, torch_opt = optim.Muon(model.named_parameters(), lr=0.02), torch.optim.Muon(twin.named_parameters(), lr=0.02)
    assert opt.param_groups[0]["param_names"] == torch_opt.param_groups[0]["param_names"] == ["weight"]
    rng = np.random.default_rng(1)
    for _ in range(3):
        model.weight.grad = rng.standard_normal((3, 4))
        twin.weight.grad = torch.from_numpy(model.weight.grad.copy())
        opt.step()
        torch_opt.step()
    np.testing.assert_allclose(model.weight.data, twin.weight.detach().numpy(), rtol=trajectory_rtol(np.float64, 1, 3))
    assert opt.state_dict()["param_groups"][0]["param_names"] == ["weight"]
