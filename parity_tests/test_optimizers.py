"""Optimizer parity: the same precomputed gradients into both engines, every parameter and every
state buffer compared after every step (SGD, Adam, AdamW here; the others in test_optimizers_dense.py);
then, for every optimizer, torch's validation, param-group options, repr and a state_dict round trip."""

import numpy as np
import pytest
import torch

from scratch import optim
from scratch.nn import Parameter
from torch_ref.tolerance import trajectory_rtol

from .helpers import assert_same_state, check_optimizer_trajectory, feed_gradients, make_params

ALL = ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "NAdam", "RAdam"]
CASES = {
    "sgd": ("SGD", [{"lr": 0.1}]),
    "sgd-momentum": ("SGD", [{"lr": 0.1, "momentum": 0.9}]),
    "sgd-dampening": ("SGD", [{"lr": 0.1, "momentum": 0.9, "dampening": 0.3}]),
    "sgd-nesterov": ("SGD", [{"lr": 0.1, "momentum": 0.9, "nesterov": True}]),
    "sgd-weight-decay": ("SGD", [{"lr": 0.1, "momentum": 0.5, "weight_decay": 0.1}]),
    "sgd-maximize": ("SGD", [{"lr": 0.1, "momentum": 0.9, "maximize": True}]),
    "sgd-large-lr": ("SGD", [{"lr": 10.0, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01}]),
    "adam": ("Adam", [{"lr": 0.01}]),
    "adam-weight-decay": ("Adam", [{"lr": 0.01, "weight_decay": 0.1}]),
    "adam-amsgrad": ("Adam", [{"lr": 0.01, "amsgrad": True}]),
    "adam-maximize": ("Adam", [{"lr": 0.01, "maximize": True}]),
    "adam-everything": ("Adam", [{"lr": 0.01, "amsgrad": True, "weight_decay": 0.1, "maximize": True,
                                  "betas": (0.8, 0.99), "eps": 1e-6}]),
    "adam-small-beta1": ("Adam", [{"lr": 0.01, "betas": (0.3, 0.9)}]),  # torch's lerp takes its other branch
    "adam-large-lr": ("Adam", [{"lr": 10.0, "amsgrad": True}]),
    "adamw": ("AdamW", [{"lr": 0.01}]),
    "adamw-amsgrad": ("AdamW", [{"lr": 0.01, "amsgrad": True}]),
    "adamw-large-weight-decay": ("AdamW", [{"lr": 0.01, "weight_decay": 5.0}]),
    "adamw-large-lr": ("AdamW", [{"lr": 10.0, "weight_decay": 0.01}]),
    "sgd-two-groups": ("SGD", [{"lr": 0.1, "momentum": 0.9}, {"lr": 0.01, "weight_decay": 0.1}]),
    "adam-two-groups": ("Adam", [{"lr": 0.01, "amsgrad": True}, {"lr": 0.1, "betas": (0.5, 0.9)}]),
}


@pytest.mark.parametrize("case", CASES)
def test_optimizer_matches_torch_at_every_step(case):
    check_optimizer_trajectory(*CASES[case])


INVALID = [
    ("SGD", {"lr": -0.1}), ("SGD", {"momentum": -0.5}), ("SGD", {"weight_decay": -1.0}),
    ("SGD", {"nesterov": True}), ("SGD", {"nesterov": True, "momentum": 0.9, "dampening": 0.1}),
    ("Adam", {"lr": -1.0}), ("Adam", {"eps": -1e-8}), ("Adam", {"betas": (1.0, 0.999)}),
    ("Adam", {"betas": (0.9, -0.1)}), ("Adam", {"weight_decay": -0.1}), ("AdamW", {"betas": (0.9, 1.0)}),
    ("RMSprop", {"lr": -0.1}), ("RMSprop", {"lr": float("nan")}), ("RMSprop", {"eps": -1e-8}),
    ("RMSprop", {"momentum": -0.5}), ("RMSprop", {"weight_decay": -1.0}), ("RMSprop", {"alpha": -0.9}),
    ("Adagrad", {"lr": -0.1}), ("Adagrad", {"lr_decay": -0.1}), ("Adagrad", {"weight_decay": -1.0}),
    ("Adagrad", {"initial_accumulator_value": -0.1}), ("Adagrad", {"eps": -1e-10}),
    ("Adadelta", {"lr": -1.0}), ("Adadelta", {"rho": 1.5}), ("Adadelta", {"rho": -0.1}),
    ("Adadelta", {"eps": -1e-6}), ("Adadelta", {"weight_decay": -1.0}),
    ("NAdam", {"lr": -1.0}), ("NAdam", {"eps": -1e-8}), ("NAdam", {"betas": (1.0, 0.999)}),
    ("NAdam", {"betas": (0.9, -0.1)}), ("NAdam", {"weight_decay": -0.1}), ("NAdam", {"momentum_decay": -4e-3}),
    ("RAdam", {"lr": -1.0}), ("RAdam", {"eps": -1e-8}), ("RAdam", {"betas": (-0.1, 0.999)}),
    ("RAdam", {"betas": (0.9, 1.0)}), ("RAdam", {"weight_decay": -0.1}),
]


@pytest.mark.parametrize(("name", "options"), INVALID, ids=str)
def test_invalid_hyperparameters_raise_like_torch(name, options):
    with pytest.raises(ValueError) as torch_error:
        getattr(torch.optim, name)([torch.nn.Parameter(torch.zeros(1))], **options)
    with pytest.raises(ValueError) as error:
        getattr(optim, name)([Parameter(np.zeros(1))], **options)
    assert str(error.value) == str(torch_error.value)


def test_bad_params_are_rejected_like_torch():
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD([], lr=0.1)
    with pytest.raises(TypeError):
        optim.SGD(Parameter(np.zeros(1)), lr=0.1)
    p = Parameter(np.zeros(1))
    with pytest.raises(ValueError, match="more than one parameter group"):
        optim.SGD([{"params": [p]}, {"params": [p]}], lr=0.1)


@pytest.mark.parametrize("name", ALL)
def test_param_group_options_equal_torchs(name):
    ours = getattr(optim, name)([Parameter(np.zeros(2))]).param_groups[0]
    theirs = getattr(torch.optim, name)([torch.nn.Parameter(torch.zeros(2))]).param_groups[0]
    kernel_options = {"foreach", "fused", "capturable", "differentiable"}  # torch's kernel choices
    assert {k: v for k, v in ours.items() if k != "params"} == {
        k: v for k, v in theirs.items() if k not in kernel_options | {"params"}}


ROUND_TRIP = {
    "SGD": {"lr": 0.1, "momentum": 0.9},
    "Adam": {"lr": 0.01, "amsgrad": True},
    "AdamW": {"lr": 0.01},
    "RMSprop": {"momentum": 0.9, "centered": True, "weight_decay": 0.1},
    "Adagrad": {"lr": 0.1, "lr_decay": 0.01, "initial_accumulator_value": 0.1},
    "Adadelta": {"rho": 0.8, "weight_decay": 0.1},
    "NAdam": {"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True},
    "RAdam": {"lr": 0.01, "weight_decay": 0.1},
}


@pytest.mark.parametrize("name", ALL)
def test_state_dict_round_trip_continues_the_same_trajectory(name):
    ours, _ = make_params()
    rng = np.random.default_rng(2)
    grads = [{k: rng.standard_normal(p.shape) for k, p in ours.items()} for _ in range(12)]

    def run(optimizer, steps):
        for step_grads in steps:
            for key, p in ours.items():
                p.grad = None if key == "frozen" else step_grads[key]
            optimizer.step()

    opt = getattr(optim, name)(list(ours.values()), **ROUND_TRIP[name])
    run(opt, grads[:6])
    saved, saved_params = opt.state_dict(), {k: p.data.copy() for k, p in ours.items()}
    run(opt, grads[6:])
    expected = {k: p.data.copy() for k, p in ours.items()}
    for key, p in ours.items():
        p.data[...] = saved_params[key]
    fresh = getattr(optim, name)(list(ours.values()), **ROUND_TRIP[name])
    fresh.load_state_dict(saved)
    run(fresh, grads[6:])
    for key, p in ours.items():
        np.testing.assert_array_equal(p.data, expected[key], err_msg=key)
    assert {k: (type(v), np.shape(v)) for k, v in fresh.state[ours["weight"]].items()} == {
        k: (type(v), np.shape(v)) for k, v in opt.state[ours["weight"]].items()}


def test_torch_state_dict_loads_into_scratch():
    ours, theirs = make_params()
    torch_opt = torch.optim.Adam(list(theirs.values()), lr=0.01)
    rng = np.random.default_rng(3)
    for step in range(3):
        feed_gradients(ours, theirs, rng, step)
        torch_opt.step()
    opt = optim.Adam(list(ours.values()), lr=0.01)
    opt.load_state_dict(torch_opt.state_dict())
    for key, p in ours.items():
        p.data[...] = theirs[key].detach().numpy()
    for step in range(3, 8):
        feed_gradients(ours, theirs, rng, step)
        opt.step()
        torch_opt.step()
        assert_same_state(ours, theirs, opt, torch_opt, trajectory_rtol(np.float64, 1, step + 1), step)


@pytest.mark.parametrize("name", ALL)
def test_repr_is_torchs_without_its_kernel_options(name):
    theirs = repr(getattr(torch.optim, name)([torch.nn.Parameter(torch.zeros(2))], lr=0.5))
    kernel_options = ("capturable", "differentiable", "foreach", "fused")
    expected = "\n".join(line for line in theirs.split("\n") if line.strip().split(":")[0] not in kernel_options)
    assert repr(getattr(optim, name)([Parameter(np.zeros(2))], lr=0.5)) == expected


def test_a_duplicate_parameter_warns_like_torch():
    with pytest.warns(UserWarning) as theirs:
        p = torch.nn.Parameter(torch.zeros(1))
        torch.optim.SGD([p, p], lr=0.1)
    with pytest.warns(UserWarning) as ours:
        q = Parameter(np.zeros(1))
        optim.SGD([q, q], lr=0.1)
    assert str(ours[0].message) == str(theirs[0].message)
