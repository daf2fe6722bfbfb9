"""End to end: forward, loss, backward and optimizer together, side by side with torch for many steps."""

import numpy as np
import pytest
import torch

import torch_ref
from scratch import nn, optim
from torch_ref.tolerance import relative_error, trajectory_rtol

STEPS = 40


def mlp():
    rng = np.random.default_rng(0)
    return nn.Sequential(nn.Linear(8, 16, dtype=np.float64, rng=rng), nn.Tanh(),
                         nn.Linear(16, 16, dtype=np.float64, rng=rng), nn.ReLU(),
                         nn.Linear(16, 3, dtype=np.float64, rng=rng))


CASES = {
    "sgd-momentum-cross-entropy": ("SGD", {"lr": 0.1, "momentum": 0.9}, nn.CrossEntropyLoss),
    "sgd-nesterov-cross-entropy": ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 1e-3},
                                   nn.CrossEntropyLoss),
    "adam-cross-entropy": ("Adam", {"lr": 1e-2}, nn.CrossEntropyLoss),
    "adam-amsgrad-mse": ("Adam", {"lr": 1e-2, "amsgrad": True}, nn.MSELoss),
    "adamw-mse": ("AdamW", {"lr": 1e-2, "weight_decay": 0.1}, nn.MSELoss),
}


def targets(criterion_cls, rng, batch):
    if criterion_cls is nn.CrossEntropyLoss:
        return rng.integers(0, 3, batch)
    return rng.standard_normal((batch, 3))


@pytest.mark.parametrize("case", CASES)
def test_training_side_by_side_stays_identical(case):
    optimizer_name, options, criterion_cls = CASES[case]
    model = mlp()
    twin = torch_ref.to_torch(model)
    criterion, torch_criterion = criterion_cls(), torch_ref.to_torch(criterion_cls())
    opt = getattr(optim, optimizer_name)(model.parameters(), **options)
    torch_opt = getattr(torch.optim, optimizer_name)(twin.parameters(), **options)
    rng = np.random.default_rng(1)
    losses = []
    for step in range(STEPS):
        x, y = rng.standard_normal((16, 8)), targets(criterion_cls, rng, 16)
        opt.zero_grad()
        loss = criterion(model(x), y)
        model.backward(criterion.backward())
        opt.step()
        torch_opt.zero_grad()
        torch_loss = torch_criterion(twin(torch.from_numpy(x)), torch.from_numpy(y))
        torch_loss.backward()
        torch_opt.step()
        tol = trajectory_rtol(np.float64, 16, step + 1)
        assert relative_error(loss, torch_loss.item())[1] <= tol, f"loss at step {step}"
        for (name, p), t in zip(model.named_parameters(), twin.parameters()):
            err = relative_error(p.data, t.detach().numpy())[1]
            assert err <= tol, f"{name} at step {step}: rel err {err:.3e} > {tol:.3e}"
        losses.append(float(loss))
    assert np.mean(losses[-5:]) < np.mean(losses[:5])  # it learned something, so the steps were not no-ops
