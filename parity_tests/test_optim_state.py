"""Optimizer state across engines: a state_dict trained in one engine, converted and loaded into the
other, continues the same trajectory; both directions, every optimizer, every step compared."""

import numpy as np
import pytest
import torch

from scratch import optim
from torch_ref import optimizer_state_from_torch, optimizer_state_to_torch
from torch_ref.component import feed_gradients, twin_parameters
from torch_ref.convert import TORCH_ONLY_OPTIONS
from torch_ref.testing import assert_same_state
from torch_ref.tolerance import trajectory_rtol

TRAIN, CONTINUE = 10, 40  # steps in the first engine, then in both

# name: (constructor options, one dict of options per param group)
CASES = {
    "SGD": ({"lr": 0.1, "momentum": 0.9, "nesterov": True}, [{}, {"lr": 0.05, "weight_decay": 0.1}]),
    "Adam": ({"lr": 0.01, "amsgrad": True}, [{}, {"betas": (0.5, 0.9), "weight_decay": 0.1}]),
    "AdamW": ({"lr": 0.01, "weight_decay": 0.1}, [{"amsgrad": True}, {"maximize": True}]),
    "RMSprop": ({"momentum": 0.9, "centered": True}, [{}, {"lr": 0.1, "alpha": 0.9, "weight_decay": 0.1}]),
    "Adagrad": ({"lr": 0.1, "lr_decay": 0.01, "initial_accumulator_value": 0.2}, [{}, {"weight_decay": 0.1}]),
    "Adadelta": ({"rho": 0.8, "eps": 1e-4}, [{}, {"lr": 0.5, "maximize": True}]),
    "NAdam": ({"lr": 0.01, "momentum_decay": 0.01}, [{}, {"weight_decay": 0.1, "decoupled_weight_decay": True}]),
    "RAdam": ({"lr": 0.01, "weight_decay": 0.1}, [{}, {"betas": (0.8, 0.99), "decoupled_weight_decay": True}]),
    "Adamax": ({"lr": 0.01}, [{}, {"betas": (0.5, 0.9), "weight_decay": 0.1}]),
    "Rprop": ({"lr": 0.05}, [{}, {"etas": (0.3, 1.5), "step_sizes": (1e-3, 0.5), "maximize": True}]),
    "ASGD": ({"lr": 0.05, "lambd": 0.1, "t0": 5}, [{}, {"alpha": 0.5, "weight_decay": 0.1}]),
    "Adafactor": ({"lr": 0.05, "beta2_decay": -0.5},
                  [{}, {"eps": (1e-6, 1e-2), "weight_decay": 0.1, "maximize": True}]),
}


def make_params(seed=0):
    return twin_parameters(np.float64, np.random.default_rng(seed))


def build(module, name, params):
    """``module.<name>`` over ``params`` (a dict), dealt out in order into the case's param groups."""
    options, groups = CASES[name]
    names = list(params)
    split = np.array_split(np.arange(len(names)), len(groups))
    return getattr(module, name)([{"params": [params[names[i]] for i in idx], **group}
                                  for idx, group in zip(split, groups)], **options)


def train(ours, theirs, optimizers, steps, rng):
    for step in steps:
        feed_gradients(ours, theirs, rng, step)
        for optimizer in optimizers:
            optimizer.step()


def continue_both(ours, theirs, opt, torch_opt, rng):
    for step in range(TRAIN, TRAIN + CONTINUE):
        train(ours, theirs, [opt, torch_opt], [step], rng)
        assert_same_state(ours, theirs, opt, torch_opt, trajectory_rtol(np.float64, 1, step + 1 - TRAIN), step)


@pytest.mark.parametrize("name", CASES)
def test_torch_state_continues_in_scratch(name):
    ours, theirs = make_params()
    rng = np.random.default_rng(3)
    torch_opt = build(torch.optim, name, theirs)
    train(ours, theirs, [torch_opt], range(TRAIN), rng)
    opt = build(optim, name, ours)
    opt.load_state_dict(optimizer_state_from_torch(torch_opt.state_dict()))
    for key, p in ours.items():
        p.data[...] = theirs[key].detach().numpy()
    continue_both(ours, theirs, opt, torch_opt, rng)


@pytest.mark.parametrize("name", CASES)
def test_scratch_state_continues_in_torch(name):
    ours, theirs = make_params()
    rng = np.random.default_rng(4)
    opt = build(optim, name, ours)
    train(ours, theirs, [opt], range(TRAIN), rng)
    torch_opt = build(torch.optim, name, theirs)
    torch_opt.load_state_dict(optimizer_state_to_torch(opt.state_dict()))
    with torch.no_grad():
        for key, p in ours.items():
            theirs[key].copy_(torch.from_numpy(p.data))
    continue_both(ours, theirs, opt, torch_opt, rng)


@pytest.mark.parametrize("name", CASES)
def test_scratch_format_has_numbers_arrays_and_no_kernel_options(name):
    ours, theirs = make_params()
    torch_opt = build(torch.optim, name, theirs)
    train(ours, theirs, [torch_opt], range(3), np.random.default_rng(5))
    converted = optimizer_state_from_torch(torch_opt.state_dict())
    assert converted["state"], "nothing to convert"
    for values in converted["state"].values():
        assert type(values.get("step", 0.0)) is float
        assert all(isinstance(v, np.ndarray) for k, v in values.items() if k != "step")
    for group in converted["param_groups"]:
        assert not set(group) & set(TORCH_ONLY_OPTIONS)
    assert [set(g) for g in converted["param_groups"]] == [set(g) for g in build(optim, name, ours).param_groups]


# torch's SGD.__setstate__ defaults fused to False where its constructor has None: both mean unfused
RESTORED_AS = {("SGD", "fused"): False}


@pytest.mark.parametrize("name", CASES)
def test_torch_restores_its_kernel_options_and_state_through_scratchs_format(name):
    ours, theirs = make_params()
    torch_opt = build(torch.optim, name, theirs)
    train(ours, theirs, [torch_opt], range(3), np.random.default_rng(6))
    original = torch_opt.state_dict()
    fresh = build(torch.optim, name, theirs)
    fresh.load_state_dict(optimizer_state_to_torch(optimizer_state_from_torch(original)))
    restored = fresh.state_dict()
    expected_groups = [{k: RESTORED_AS.get((name, k), v) for k, v in group.items()}
                       for group in original["param_groups"]]
    assert restored["param_groups"] == expected_groups
    assert restored["state"].keys() == original["state"].keys()
    for index, values in original["state"].items():
        assert restored["state"][index].keys() == values.keys()
        for key, value in values.items():
            again = restored["state"][index][key]
            assert again.dtype == value.dtype and torch.equal(again, value), f"state {index}.{key}"


def test_nadam_state_from_torch_loads_directly_into_scratch():
    """scratch's NAdam also takes torch's own state_dict, tensors and all, keeping mu_product float32."""
    ours, theirs = make_params()
    rng = np.random.default_rng(7)
    torch_opt = build(torch.optim, "NAdam", theirs)
    train(ours, theirs, [torch_opt], range(TRAIN), rng)
    opt = build(optim, "NAdam", ours)
    opt.load_state_dict(torch_opt.state_dict())
    for key, p in ours.items():
        p.data[...] = theirs[key].detach().numpy()
    continue_both(ours, theirs, opt, torch_opt, rng)
