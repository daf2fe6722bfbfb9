"""Training side by side with torch: ``torch_ref.training.compare`` agrees for correct models and reports a
bug planted in one layer (forward, backward or the optimizer) at that layer, at step 0, as the right quantity;
and forward, loss, backward and optimizer together, stepped by hand in both engines for many steps."""

from __future__ import annotations

import json
from collections import OrderedDict

import numpy as np
import pytest
import torch

import scratch.optim
import torch_ref
from scratch import nn, optim
from torch_ref import register_twin, training
from torch_ref.tolerance import relative_error, trajectory_rtol

DTYPES = [np.float32, np.float64]


class BuggyWeightGrad(nn.Linear):
    """Linear whose backward adds a spurious term to the weight gradient."""

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        grad_input = super().backward(grad_output)
        self.weight.grad += 1e-2 * np.abs(self.weight.grad).max()
        return grad_input


class BuggyGradInput(nn.Linear):
    """Linear whose backward returns a scaled input gradient."""

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        return 1.01 * super().backward(grad_output)


class BuggyTanh(nn.Tanh):
    """Tanh with a wrong forward."""

    def forward(self, input: np.ndarray) -> np.ndarray:
        return super().forward(input) * input.dtype.type(1.01)


class BuggySGD(scratch.optim.SGD):
    """SGD whose update shrinks every parameter a little more than it should."""

    def _update(self, param, group) -> None:
        super()._update(param, group)
        param.data *= param.dtype.type(0.999)


def _linear_twin(m: nn.Linear) -> torch.nn.Linear:
    return torch.nn.Linear(m.in_features, m.out_features, bias=m.bias is not None)


register_twin(BuggyWeightGrad, _linear_twin)
register_twin(BuggyGradInput, _linear_twin)
register_twin(BuggyTanh, lambda m: torch.nn.Tanh())


def fixed_rng():
    """A fixed generator: no weight here may depend on which tests ran before."""
    return np.random.default_rng(0)


def _mlp(dtype, middle: nn.Module | None = None, activation: nn.Module | None = None) -> nn.Sequential:
    rng = np.random.default_rng(0)  # not the global generator: the weights must not depend on earlier tests
    return nn.Sequential(nn.Linear(5, 16, rng=rng), nn.Tanh(), middle or nn.Linear(16, 16, rng=rng),
                         activation or nn.Tanh(), nn.Linear(16, 3, rng=rng)).to(dtype)


def _data(dtype, rows: int = 24, features: int = 5, classes: int = 3):
    rng = np.random.default_rng(1)
    return rng.standard_normal((rows, features)).astype(dtype), rng.integers(0, classes, rows)


def _leaf_names(model: nn.Module) -> list[str]:
    return [n for n, m in model.named_modules() if not list(m.children())]


def _assert_complete(report: training.Report, model: nn.Module, steps: int) -> None:
    """Every step has an output and grad_input row per leaf and the loss, a .grad, a param and a state
    row per parameter."""
    seen = {(r.step, r.module, r.quantity) for r in report.comparisons}
    for step in range(steps):
        for name in [*_leaf_names(model), "loss"]:
            assert (step, name, "output") in seen and (step, name, "grad_input") in seen
        for full, _ in model.named_parameters():
            owner, _, param = full.rpartition(".")
            assert {(step, owner, f"{param}.grad"), (step, owner, param)} <= seen
            assert any(s == step and m == owner and q.startswith(f"state.{param}.") for s, m, q in seen)


@pytest.mark.parametrize("dtype", DTYPES)
def test_mlp_agrees_for_ten_steps(dtype):
    model, (x, y) = _mlp(dtype), _data(dtype)
    report = training.compare(model, nn.CrossEntropyLoss(), x, y, steps=12, batch_size=8)
    assert report.ok and report.first_divergence is None, str(report)
    _assert_complete(report, model, 12)
    assert len(report.losses) == 12 and len(report.max_rel_err_per_step) == 12
    assert report.losses[9][0] < report.losses[0][0]  # it trains: steps 0 and 9 see the same batch of 8


@pytest.mark.parametrize("dtype", DTYPES)
def test_cnn_agrees_for_ten_steps(dtype):
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1, rng=fixed_rng()), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                          nn.Linear(4 * 4 * 4, 3, rng=fixed_rng())).to(dtype)
    rng = np.random.default_rng(2)
    x, y = rng.standard_normal((6, 1, 8, 8)).astype(dtype), rng.integers(0, 3, 6)
    report = training.compare(model, nn.CrossEntropyLoss(), x, y, optimizer=("SGD", {"lr": 0.1, "momentum": 0.9}),
                            steps=10)
    assert report.ok, str(report)
    _assert_complete(report, model, 10)


@pytest.mark.parametrize("dtype", DTYPES)
def test_dropout_in_train_mode_agrees(dtype):
    model = nn.Sequential(nn.Linear(5, 16, rng=fixed_rng()), nn.ReLU(inplace=True), nn.Dropout(0.4, rng=fixed_rng()),
                          nn.Linear(16, 3, rng=fixed_rng())).to(dtype)
    x, y = _data(dtype)
    report = training.compare(model, nn.CrossEntropyLoss(), x, y, steps=10, batch_size=12)
    assert report.ok, str(report)
    _assert_complete(report, model, 10)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("middle", "activation", "quantities"), [
    (lambda: BuggyWeightGrad(16, 16, rng=fixed_rng()), lambda: None, {"weight.grad"}),
    (lambda: BuggyGradInput(16, 16, rng=fixed_rng()), lambda: None, {"grad_input"}),
    (lambda: None, BuggyTanh, {"output"}),
], ids=["weight-grad", "grad-input", "forward"])
def test_planted_bug_is_localized(dtype, middle, activation, quantities):
    middle, activation = middle(), activation()  # fresh layers for each dtype
    model, (x, y) = _mlp(dtype, middle, activation), _data(dtype)
    report = training.compare(model, nn.CrossEntropyLoss(), x, y, steps=3)
    first = report.first_divergence
    assert not report.ok and first is not None
    expected = {(0, "2" if middle else "3", q) for q in quantities}
    assert (first.step, first.module, first.quantity) in expected, str(report)
    assert first.max_rel_err > first.tol
    # the layers before it received a diverged gradient or input but are not blamed at step 0
    assert all(r.ok for r in report.comparisons if r.step == 0 and r.module in {"0", "1"} and "grad" in r.quantity)


@pytest.mark.parametrize("dtype", DTYPES)
def test_optimizer_bug_is_reported_after_the_update(dtype):
    model, (x, y) = _mlp(dtype), _data(dtype)
    report = training.compare(model, nn.CrossEntropyLoss(), x, y, optimizer=(BuggySGD, {"lr": 0.1, "momentum": 0.9}),
                            steps=2)
    first = report.first_divergence
    assert first is not None and first.step == 0 and first.module == "0"
    assert first.quantity == "weight" or first.quantity.startswith("state.")


def test_report_json_and_text():
    model, (x, y) = _mlp(np.float32, BuggyGradInput(16, 16, rng=fixed_rng())), _data(np.float32)
    steps = []
    report = training.compare(model, nn.CrossEntropyLoss(), x, y, steps=2, callback=lambda s, r: steps.append(s))
    assert steps == [0, 1]
    data = json.loads(report.to_json())
    first = report.first_divergence
    assert data["ok"] is False and len(data["comparisons"]) == len(report.comparisons)
    assert {k: data["first_divergence"][k] for k in ("step", "module", "quantity")} == {
        "step": first.step, "module": first.module, "quantity": first.quantity}
    assert data["losses"] == [list(pair) for pair in report.losses]
    text = str(report)
    assert "first divergence" in text and f"module '{first.module}'" in text and first.quantity in text
    assert len(text.splitlines()) < 30


def test_compare_restores_the_modules():
    model, (x, y) = _mlp(np.float64), _data(np.float64)
    training.compare(model, nn.MSELoss(), x, np.eye(3)[y], steps=1)
    assert all("forward" not in vars(m) and "backward" not in vars(m) for m in model.modules())


def test_bad_arguments_are_rejected():
    model, (x, y) = _mlp(np.float32), _data(np.float32)
    with pytest.raises(ValueError, match="optimizer"):
        training.compare(model, nn.CrossEntropyLoss(), x, y, optimizer=("NoSuchOpt", {}))
    with pytest.raises(ValueError, match="batch_size"):
        training.compare(model, nn.CrossEntropyLoss(), x, y, batch_size=0)


def test_nested_modules_are_named_as_in_named_modules():
    encoder = nn.Sequential(nn.Linear(5, 16, rng=fixed_rng()), nn.Tanh(), BuggyWeightGrad(16, 16, rng=fixed_rng()),
                            nn.Tanh())
    model = nn.Sequential(OrderedDict(encoder=encoder, head=nn.Linear(16, 3, rng=fixed_rng()))).to(np.float64)
    x, y = _data(np.float64)
    report = training.compare(model, nn.CrossEntropyLoss(), x, y, steps=2)
    first = report.first_divergence
    assert (first.step, first.module, first.quantity) == (0, "encoder.2", "weight.grad"), str(report)
    modules = {r.module for r in report.comparisons}
    assert modules == {"", "encoder", "encoder.0", "encoder.1", "encoder.2", "encoder.3", "head", "loss"}
    # containers get their own rows, each once its computation is done: forward children first, backward too
    rows = [(r.module, r.quantity) for r in report.comparisons if r.step == 0 and r.quantity in ("output",
                                                                                              "grad_input")]
    assert rows == [*((m, "output") for m in ("encoder.0", "encoder.1", "encoder.2", "encoder.3", "encoder", "head",
                                              "", "loss")),
                    *((m, "grad_input") for m in ("loss", "head", "encoder.3", "encoder.2", "encoder.1", "encoder.0",
                                                  "encoder", ""))]


def test_frozen_parameters_stay_frozen_in_both_engines():
    model, (x, y) = _mlp(np.float64), _data(np.float64)
    model[0].weight.requires_grad = False
    before = model[0].weight.data.copy()
    report = training.compare(model, nn.CrossEntropyLoss(), x, y, optimizer=("SGD", {"lr": 0.1}), steps=3)
    assert report.ok, str(report)
    assert np.array_equal(model[0].weight.data, before)
    assert not any(r.quantity == "weight.grad" and r.module == "0" for r in report.comparisons)


def test_rtol_and_atol_override_the_policy():
    model, (x, y) = _mlp(np.float32, BuggyGradInput(16, 16, rng=fixed_rng())), _data(np.float32)
    assert training.compare(model, nn.CrossEntropyLoss(), x, y, steps=1, rtol=0.1).ok
    model, (x, y) = _mlp(np.float32), _data(np.float32)
    report = training.compare(model, nn.CrossEntropyLoss(), x, y, steps=1, rtol=0.0)
    assert not report.ok and all(r.tol == 0.0 for r in report.comparisons)
    assert training.compare(_mlp(np.float32), nn.CrossEntropyLoss(), x, y, steps=1, rtol=0.0, atol=1e-3).ok


class BatchNormDriftingMean(nn.BatchNorm1d):
    """A planted bug in a buffer: the running mean drifts by 0.5 every training step."""

    def forward(self, input):
        out = super().forward(input)
        if self.training:
            self.running_mean += 0.5
        return out


register_twin(BatchNormDriftingMean, lambda m: torch.nn.BatchNorm1d(m.num_features))


@pytest.mark.parametrize("norm", [nn.BatchNorm1d, BatchNormDriftingMean], ids=["correct", "drifting-mean"])
def test_running_statistics_are_compared(norm):
    """No bias before the BatchNorm: its gradient would be exactly 0, i.e. rounding noise in both engines."""
    rng = np.random.default_rng(4)
    model = nn.Sequential(nn.Linear(5, 8, bias=False, dtype=np.float64, rng=rng), norm(8, dtype=np.float64),
                          nn.ReLU(), nn.Linear(8, 3, dtype=np.float64, rng=rng))
    x, y = _data(np.float64)
    report = training.compare(model, nn.CrossEntropyLoss(), x, y, steps=4, batch_size=8)
    if norm is nn.BatchNorm1d:
        assert report.ok, str(report)
        assert {r.quantity for r in report.comparisons if r.module == "1"} >= {"running_mean", "running_var",
                                                                        "num_batches_tracked"}
    else:
        first = report.first_divergence
        assert (first.step, first.module, first.quantity) == (0, "1", "running_mean"), str(report)


# ----------------------------------------------------------- the whole step, by hand in both engines
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
