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


def cnn():
    """Conv2d, ReLU, MaxPool2d, Flatten and Linear: (N, 1, 8, 8) -> (N, 3)."""
    rng = np.random.default_rng(0)
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1, dtype=np.float64, rng=rng), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(4, 8, 3, dtype=np.float64, rng=rng), nn.ReLU(), nn.Flatten(),
                         nn.Linear(8 * 2 * 2, 3, dtype=np.float64, rng=rng))


# model, input shape, longest reduction (a batch of 16; the first conv's weight grad sums 16 x 8 x 8 terms)
MODELS = {"mlp": (mlp, (8,), 16), "cnn": (cnn, (1, 8, 8), 16 * 8 * 8)}
CASES = {  # optimizer, its options, loss, model, steps
    "sgd-momentum-cross-entropy": ("SGD", {"lr": 0.1, "momentum": 0.9}, nn.CrossEntropyLoss, "mlp", STEPS),
    "sgd-nesterov-cross-entropy": ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 1e-3},
                                   nn.CrossEntropyLoss, "mlp", STEPS),
    "adam-cross-entropy": ("Adam", {"lr": 1e-2}, nn.CrossEntropyLoss, "mlp", STEPS),
    "adam-amsgrad-mse": ("Adam", {"lr": 1e-2, "amsgrad": True}, nn.MSELoss, "mlp", STEPS),
    "adamw-mse": ("AdamW", {"lr": 1e-2, "weight_decay": 0.1}, nn.MSELoss, "mlp", STEPS),
    "cnn-adam-cross-entropy": ("Adam", {"lr": 1e-2}, nn.CrossEntropyLoss, "cnn", 100),
}


def targets(criterion_cls, rng, batch):
    if criterion_cls is nn.CrossEntropyLoss:
        return rng.integers(0, 3, batch)
    return rng.standard_normal((batch, 3))


@pytest.mark.parametrize("case", CASES)
def test_training_side_by_side_stays_identical(case):
    optimizer_name, options, criterion_cls, model_name, steps = CASES[case]
    make_model, input_shape, reduction = MODELS[model_name]
    model = make_model()
    twin = torch_ref.to_torch(model)
    criterion, torch_criterion = criterion_cls(), torch_ref.to_torch(criterion_cls())
    opt = getattr(optim, optimizer_name)(model.parameters(), **options)
    torch_opt = getattr(torch.optim, optimizer_name)(twin.parameters(), **options)
    rng = np.random.default_rng(1)
    losses = []
    for step in range(steps):
        x, y = rng.standard_normal((16, *input_shape)), targets(criterion_cls, rng, 16)
        opt.zero_grad()
        loss = criterion(model(x), y)
        model.backward(criterion.backward())
        opt.step()
        torch_opt.zero_grad()
        torch_loss = torch_criterion(twin(torch.from_numpy(x)), torch.from_numpy(y))
        torch_loss.backward()
        torch_opt.step()
        tol = trajectory_rtol(np.float64, reduction, step + 1)
        assert relative_error(loss, torch_loss.item())[1] <= tol, f"loss at step {step}"
        for (name, p), t in zip(model.named_parameters(), twin.parameters()):
            err = relative_error(p.data, t.detach().numpy())[1]
            assert err <= tol, f"{name} at step {step}: rel err {err:.3e} > {tol:.3e}"
        losses.append(float(loss))
    assert np.mean(losses[-5:]) < np.mean(losses[:5])  # it learned something, so the steps were not no-ops
