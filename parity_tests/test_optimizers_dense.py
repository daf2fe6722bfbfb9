"""RMSprop, Adagrad, Adadelta, NAdam and RAdam against torch: the same precomputed gradients into both
engines, every parameter and every state buffer compared after every step; and their quirks.
(test_optimizers.py checks every optimizer's validation, options, repr and state_dict round trip.)"""

import numpy as np
import pytest
import torch

from scratch import optim
from torch_ref.tolerance import trajectory_rtol

from .helpers import check_optimizer_trajectory, make_params

CASES = {
    "rmsprop": ("RMSprop", [{}]),
    "rmsprop-momentum": ("RMSprop", [{"momentum": 0.9}]),
    "rmsprop-centered": ("RMSprop", [{"centered": True}]),
    "rmsprop-centered-momentum": ("RMSprop", [{"centered": True, "momentum": 0.5, "alpha": 0.9}]),
    "rmsprop-small-alpha": ("RMSprop", [{"alpha": 0.3, "centered": True}]),  # torch's lerp takes its other branch
    "rmsprop-weight-decay": ("RMSprop", [{"weight_decay": 0.1, "eps": 1e-3}]),
    "rmsprop-maximize": ("RMSprop", [{"maximize": True, "momentum": 0.9, "centered": True}]),
    "rmsprop-large-lr": ("RMSprop", [{"lr": 10.0, "momentum": 0.9, "weight_decay": 0.01}]),
    "adagrad": ("Adagrad", [{}]),
    "adagrad-lr-decay": ("Adagrad", [{"lr": 0.1, "lr_decay": 0.05}]),
    "adagrad-weight-decay": ("Adagrad", [{"lr": 0.1, "weight_decay": 0.1}]),
    "adagrad-eps": ("Adagrad", [{"lr": 0.1, "eps": 1e-2}]),
    "adagrad-maximize": ("Adagrad", [{"lr": 0.1, "maximize": True, "lr_decay": 0.01}]),
    "adagrad-large-lr": ("Adagrad", [{"lr": 10.0, "weight_decay": 0.01}]),
    "adadelta": ("Adadelta", [{}]),
    "adadelta-rho": ("Adadelta", [{"rho": 0.5, "eps": 1e-3}]),
    "adadelta-weight-decay": ("Adadelta", [{"weight_decay": 0.1, "eps": 1e-4}]),
    "adadelta-maximize": ("Adadelta", [{"maximize": True, "rho": 0.95}]),
    "adadelta-large-lr": ("Adadelta", [{"lr": 10.0, "weight_decay": 0.01}]),
    "nadam": ("NAdam", [{}]),
    "nadam-weight-decay": ("NAdam", [{"lr": 0.01, "weight_decay": 0.1}]),
    "nadam-decoupled": ("NAdam", [{"lr": 0.01, "weight_decay": 0.5, "decoupled_weight_decay": True}]),
    "nadam-momentum-decay": ("NAdam", [{"lr": 0.01, "momentum_decay": 0.1, "betas": (0.8, 0.99), "eps": 1e-4}]),
    "nadam-small-beta1": ("NAdam", [{"lr": 0.01, "betas": (0.3, 0.9)}]),  # the lerp's other branch
    "nadam-maximize": ("NAdam", [{"lr": 0.01, "maximize": True, "weight_decay": 0.01}]),
    "nadam-large-lr": ("NAdam", [{"lr": 10.0}]),
    "radam": ("RAdam", [{}]),
    "radam-weight-decay": ("RAdam", [{"lr": 0.01, "weight_decay": 0.1}]),
    "radam-decoupled": ("RAdam", [{"lr": 0.01, "weight_decay": 0.5, "decoupled_weight_decay": True}]),
    "radam-unrectified": ("RAdam", [{"lr": 0.01, "betas": (0.9, 0.5)}]),  # rho_t never exceeds 5
    "radam-small-beta1": ("RAdam", [{"lr": 0.01, "betas": (0.3, 0.9), "eps": 1e-4}]),
    "radam-maximize": ("RAdam", [{"lr": 0.01, "maximize": True}]),
    "radam-large-lr": ("RAdam", [{"lr": 10.0, "weight_decay": 0.01}]),
    "rmsprop-two-groups": ("RMSprop", [{"momentum": 0.9, "centered": True}, {"lr": 0.1, "alpha": 0.9}]),
    "adagrad-two-groups": ("Adagrad", [{"lr": 0.1, "lr_decay": 0.1},
                                       {"lr": 0.5, "weight_decay": 0.1, "initial_accumulator_value": 0.3}]),
    "adadelta-two-groups": ("Adadelta", [{"rho": 0.5}, {"lr": 0.1, "maximize": True}]),
    "nadam-two-groups": ("NAdam", [{"lr": 0.01}, {"lr": 0.1, "weight_decay": 0.1, "decoupled_weight_decay": True,
                                                  "momentum_decay": 0.05}]),
    "radam-two-groups": ("RAdam", [{"lr": 0.01}, {"lr": 0.1, "betas": (0.5, 0.9), "weight_decay": 0.1}]),
}


@pytest.mark.parametrize("case", CASES)
def test_optimizer_matches_torch_at_every_step(case):
    check_optimizer_trajectory(*CASES[case])


def test_nadam_mu_product_stays_float32_through_load_state_dict():
    ours, _ = make_params()
    opt = optim.NAdam(list(ours.values()), lr=0.01)
    ours["weight"].grad = np.ones(ours["weight"].shape)
    opt.step()
    fresh = optim.NAdam(list(ours.values()), lr=0.01)
    fresh.load_state_dict(opt.state_dict())
    product = fresh.state[ours["weight"]]["mu_product"]
    assert isinstance(product, np.ndarray) and product.shape == () and product.dtype == np.float32
    assert product == opt.state[ours["weight"]]["mu_product"] != 1.0


def test_adagrad_makes_state_for_every_parameter_at_construction_as_torch():
    ours, theirs = make_params()
    opt = optim.Adagrad(list(ours.values()), initial_accumulator_value=0.25)
    torch_opt = torch.optim.Adagrad(list(theirs.values()), initial_accumulator_value=0.25)
    for key, p in ours.items():
        assert opt.state[p]["step"] == torch_opt.state[theirs[key]]["step"].item() == 0.0
        np.testing.assert_array_equal(opt.state[p]["sum"], torch_opt.state[theirs[key]]["sum"].numpy())


def test_adagrad_makes_state_for_a_parameter_group_added_later_as_torch():
    ours, theirs = make_params()
    opt = optim.Adagrad([ours["weight"]], lr=0.1, initial_accumulator_value=0.5)
    torch_opt = torch.optim.Adagrad([theirs["weight"]], lr=0.1, initial_accumulator_value=0.5)
    opt.add_param_group({"params": [ours["bias"]]})
    torch_opt.add_param_group({"params": [theirs["bias"]]})
    rng = np.random.default_rng(5)
    for _ in range(3):
        for key in ("weight", "bias"):
            ours[key].grad = rng.standard_normal(ours[key].shape)
            theirs[key].grad = torch.tensor(ours[key].grad)
        opt.step()
        torch_opt.step()
    for key in ("weight", "bias"):
        np.testing.assert_allclose(ours[key].data, theirs[key].detach().numpy(), rtol=trajectory_rtol(np.float64, 1, 3))
