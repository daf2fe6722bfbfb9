"""float32 stays float32, as in torch: every module's output, input gradient, parameters, parameter gradients
and buffers, every loss and its gradient, every optimizer's parameters and state (every option that adds a
buffer), and every scheduler's, all under ``RAISE`` (stability_helpers.py)."""

from __future__ import annotations

import numpy as np
import pytest

from parity_tests.test_lr_scheduler import CASES as SCHEDULER_CASES
from parity_tests.test_no_mutation import LOSSES, MODULES
from scratch import nn, optim
from scratch.optim import lr_scheduler
from torch_ref.arrays import leaves, random_like, tree_map

from .stability_helpers import RAISE

F32 = np.dtype(np.float32)


def float_leaves(tree):
    return [x for x in leaves(tree) if x is not None and np.issubdtype(np.asarray(x).dtype, np.floating)]


@pytest.mark.parametrize("mode", ["train", "eval"])
@pytest.mark.parametrize("name", sorted(MODULES))
def test_a_float32_module_keeps_float32_through_forward_and_backward(name, mode):
    rng = np.random.default_rng(7)
    module, inputs = MODULES[name](np.float32, rng)
    module.train(mode == "train")
    with np.errstate(**RAISE):
        out = module(*inputs)
        grad_output = tree_map(lambda o: random_like(o, rng), out)
        grads = module.backward(*grad_output) if isinstance(out, tuple) else module.backward(grad_output)
    arrays = {"output": float_leaves(out), "grad_input": float_leaves(grads),
              "parameters": [p.data for p in module.parameters()], "param grads": [p.grad for p in module.parameters()],
              "buffers": [b for _, b in module.named_buffers() if np.issubdtype(b.dtype, np.floating)]}
    assert arrays["output"] and (arrays["grad_input"] or name in ("Embedding", "EmbeddingBag"))  # index inputs
    for what, values in arrays.items():
        dtypes = [np.asarray(v).dtype for v in values]
        assert all(dtype == F32 for dtype in dtypes), f"{name} {what}: {dtypes}"


@pytest.mark.parametrize("reduction", ["mean", "none"])
@pytest.mark.parametrize("name", sorted(LOSSES))
def test_a_float32_loss_keeps_float32(name, reduction):
    rng = np.random.default_rng(8)
    criterion, inputs, target = LOSSES[name](np.float32, rng, reduction)
    with np.errstate(**RAISE):
        loss = criterion(*inputs, target)
        grads = criterion.backward(random_like(loss, rng))
        if reduction == "mean":  # and the default dL/dloss = 1, after a fresh forward
            criterion(*inputs, target)
            grads = (grads, criterion.backward())
    assert isinstance(loss, np.ndarray) and loss.dtype == F32
    assert all(g.dtype == F32 for g in float_leaves(grads)), name


OPTIMIZERS = {  # every option that adds a state buffer or a term to the update
    "SGD": dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01, maximize=True),
    "Adam": dict(amsgrad=True, weight_decay=0.1, maximize=True), "AdamW": dict(amsgrad=True, maximize=True),
    "RMSprop": dict(momentum=0.5, centered=True, weight_decay=0.1), "Adagrad": dict(lr_decay=0.1, weight_decay=0.1),
    "Adadelta": dict(weight_decay=0.1, maximize=True), "NAdam": dict(decoupled_weight_decay=True, weight_decay=0.1),
    "RAdam": dict(decoupled_weight_decay=True, weight_decay=0.1),
    "Adamax": dict(weight_decay=0.1, maximize=True), "Rprop": dict(maximize=True),
    "ASGD": dict(weight_decay=0.1, t0=1), "Adafactor": dict(weight_decay=0.1, maximize=True),
}


def assert_all_float32(model, opt, what):
    for name, p in model.named_parameters():
        assert p.data.dtype == F32 and p.grad.dtype == F32, f"{what}: {name} is {p.data.dtype}"
        for key, value in opt.state[p].items():
            if isinstance(value, np.ndarray):
                assert value.dtype == F32, f"{what}: state {name}.{key} is {value.dtype}"
            else:
                assert key == "step" and type(value) is float, f"{what}: state {name}.{key} is {type(value)}"


def train_steps(model, opt, rng, steps):
    criterion = nn.MSELoss()
    for _ in range(steps):
        x, y = rng.standard_normal((8, 5)).astype(np.float32), rng.standard_normal((8, 3)).astype(np.float32)
        opt.zero_grad()
        with np.errstate(**RAISE):
            criterion(model(x), y)
            model.backward(criterion.backward())
            opt.step()


@pytest.mark.parametrize("options", ["defaults", "all options"])
@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_an_optimizer_keeps_float32_parameters_and_state_float32(name, options):
    rng = np.random.default_rng(9)
    model = nn.Sequential(nn.Linear(5, 4, rng=rng), nn.Tanh(), nn.Linear(4, 3, rng=rng))
    opt = getattr(optim, name)(model.parameters(), **(OPTIMIZERS[name] if options == "all options" else {}))
    start = [p.data.copy() for p in model.parameters()]
    train_steps(model, opt, rng, 5)
    assert_all_float32(model, opt, name)
    assert all(not np.array_equal(p.data, s) for p, s in zip(model.parameters(), start))


SCHEDULERS = {case: build for case, (_, build) in SCHEDULER_CASES.items() if case != "sequential-of-chained"}
SCHEDULERS["plateau"] = lambda m, o: [m.ReduceLROnPlateau(o, patience=0)]


@pytest.mark.parametrize("case", sorted(SCHEDULERS))
def test_a_scheduler_keeps_float32_parameters_and_state_float32(case):
    rng = np.random.default_rng(10)
    model = nn.Sequential(nn.Linear(5, 4, rng=rng), nn.Tanh(), nn.Linear(4, 3, rng=rng))
    groups = [{"params": model[0].parameters(), "lr": 0.1}, {"params": model[2].parameters(), "lr": 0.02}]
    opt = optim.Adam(groups) if SCHEDULER_CASES.get(case, ("SGD",))[0] == "Adam" else optim.SGD(groups, momentum=0.9)
    schedulers = SCHEDULERS[case](lr_scheduler, opt)
    lrs = set()
    for step in range(12):
        train_steps(model, opt, rng, 1)
        for scheduler in schedulers:
            scheduler.step(1.0) if case == "plateau" else scheduler.step()
        lrs.add(opt.param_groups[0]["lr"])
        assert_all_float32(model, opt, f"{case} after step {step}")
        assert all(type(group["lr"]) is float for group in opt.param_groups)  # as torch's, never a NumPy float
    assert len(lrs) > 1  # the schedule did change the lr
