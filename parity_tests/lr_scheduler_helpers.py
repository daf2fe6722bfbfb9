"""What the learning-rate scheduler tests share: both engines' modules, an optimizer per engine, and a run that
steps the optimizer and its schedulers, recording the lrs and momentums (test_lr_scheduler*.py)."""

import numpy as np
import torch

from scratch import optim
from scratch.nn import Parameter
from scratch.optim import lr_scheduler
from torch_ref.testing import assert_close
from torch_ref.tolerance import trajectory_rtol

STEPS = 60
# lrs are Python floats (float64) in both engines; a chainable scheduler rounds once per step and carries
# the error on, so the policy's trajectory rule applies: rtol(float64, n=1) per step, times the steps.
TOL = trajectory_rtol(np.float64, 1, STEPS)
ENGINES = {"scratch": (optim, lr_scheduler, Parameter),
           "torch": (torch.optim, torch.optim.lr_scheduler, lambda a: torch.nn.Parameter(torch.tensor(a)))}


def make_optimizer(engine, kind="SGD", lrs=(0.1, 0.02)):
    """An SGD (momentum 0.9) or Adam with one param group per lr, in ``engine``."""
    optim_module, _, param = ENGINES[engine]
    options = {"momentum": 0.9} if kind == "SGD" else {"betas": (0.9, 0.999)}
    return getattr(optim_module, kind)([{"params": [param(np.zeros(1))], "lr": lr} for lr in lrs], **options)


def momentum_of(group):
    return group["betas"][0] if "betas" in group else group["momentum"]


def run(optimizer, schedulers, steps=STEPS, metrics=None):
    """Step the optimizer then every scheduler ``steps`` times; the lrs and momentums after each."""
    record = [[g["lr"] for g in optimizer.param_groups]]
    momentums = [[momentum_of(g) for g in optimizer.param_groups]]
    for step in range(steps):
        optimizer.step()
        for scheduler in schedulers:
            scheduler.step() if metrics is None else scheduler.step(metrics[step])
        assert schedulers[-1].get_last_lr() == [g["lr"] for g in optimizer.param_groups]
        record.append(schedulers[-1].get_last_lr())
        momentums.append([momentum_of(g) for g in optimizer.param_groups])
    return np.array(record, dtype=np.float64), np.array(momentums, dtype=np.float64)


def both(kind, build, steps=STEPS, metrics=None):
    """The (lrs, momentums) sequences of scratch and of torch."""
    results = []
    for engine in ENGINES:
        optimizer = make_optimizer(engine, kind)
        results.append(run(optimizer, build(ENGINES[engine][1], optimizer), steps, metrics))
    return results


def assert_same_state(ours, theirs, where="state_dict"):
    assert type(ours) is type(theirs) or isinstance(theirs, float), f"{where}: {ours!r} vs {theirs!r}"
    if isinstance(theirs, dict):
        assert set(ours) == set(theirs), f"{where}: keys {sorted(ours)} vs {sorted(theirs)}"
        for key in theirs:
            assert_same_state(ours[key], theirs[key], f"{where}[{key!r}]")
    elif isinstance(theirs, list | tuple):
        assert len(ours) == len(theirs), f"{where}: {ours!r} vs {theirs!r}"
        for i, (a, b) in enumerate(zip(ours, theirs)):
            assert_same_state(a, b, f"{where}[{i}]")
    elif isinstance(theirs, float):
        assert_close(np.float64(ours), np.float64(theirs), TOL, where)
    elif not callable(theirs):
        assert ours == theirs, f"{where}: {ours!r} vs {theirs!r}"
