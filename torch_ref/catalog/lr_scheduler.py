"""The learning-rate schedulers: each case compares a whole lr (and momentum) sequence with torch's."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from scratch import nn, optim
from scratch.optim import lr_scheduler

from ..convert import to_torch_optimizer
from ..report import ParityResult
from ..tolerance import MIN_GRAD_NORM, trajectory_rtol
from .case import Case
from .data import normal


def _build(module: Any, optimizer: Any, cls_name: str, options: dict[str, Any]) -> Any:
    """``module.<cls_name>(optimizer, **options)``; a ``schedulers`` option lists ``(cls_name, options)``
    pairs, built on the same optimizer (for SequentialLR and ChainedScheduler)."""
    options = dict(options)
    if "schedulers" in options:
        options["schedulers"] = [_build(module, optimizer, name, inner) for name, inner in options["schedulers"]]
    if cls_name == "ChainedScheduler":
        return module.ChainedScheduler(**options)
    return getattr(module, cls_name)(optimizer, **options)


def _momentum(optimizer: Any) -> tuple[str, list[Any]] | None:
    """("momentum", values) for SGD, ("betas", values) for Adam: whatever the scheduler may cycle."""
    groups = optimizer.param_groups
    if "betas" in groups[0]:
        return "betas", [list(group["betas"]) for group in groups]
    if "momentum" in groups[0]:
        return "momentum", [group["momentum"] for group in groups]
    return None


def _metrics(rng: np.random.Generator, steps: int) -> list[float]:
    """A validation loss for ReduceLROnPlateau: a decreasing trend with plateaus and noise."""
    trend = np.repeat(np.linspace(1.0, 0.3, max(steps // 6, 1)), 6)[:steps]
    return [float(m) for m in trend * (1 + 0.002 * rng.random(steps))]


def scheduler_check(name: str, cls_name: str, optimizer_name: str, optimizer_options: dict[str, Any],
                    scheduler_options: dict[str, Any], steps: int = 60) -> Case:
    """Optimizers and schedulers in both engines over the weight and bias of a Linear(6, 4), as two
    param groups (the bias at half the lr), fed the same precomputed gradients for ``steps`` steps.
    Compares the lr of every group after every step (quantity ``lr``), the momentum (SGD) or betas
    (Adam) sequence where the scheduler cycles it, and the parameters after the run."""
    def run(dtype: np.dtype, rng: np.random.Generator) -> ParityResult:
        params = dict(nn.Linear(6, 4, dtype=dtype, rng=rng).named_parameters())
        twins = {key: torch.nn.Parameter(torch.tensor(p.data)) for key, p in params.items()}
        start = params["weight"].data.copy()
        lr = optimizer_options.get("lr", 1e-3)
        ours = getattr(optim, optimizer_name)([{"params": [params["weight"]]},
                                               {"params": [params["bias"]], "lr": lr / 2}], **optimizer_options)
        theirs = to_torch_optimizer(ours, {id(p): twins[key] for key, p in params.items()})
        schedulers = (_build(lr_scheduler, ours, cls_name, scheduler_options),
                      _build(torch.optim.lr_scheduler, theirs, cls_name, scheduler_options))
        metrics = _metrics(rng, steps)
        cycles_momentum = getattr(schedulers[1], "cycle_momentum", False)  # CyclicLR, OneCycleLR
        sequences: dict[str, tuple[list, list]] = {"lr": ([], [])}
        for step in range(steps):
            for key, p in params.items():
                p.grad = normal(rng, dtype, *p.shape)
                twins[key].grad = torch.tensor(p.grad)
            for side, (optimizer, scheduler) in enumerate(zip((ours, theirs), schedulers)):
                optimizer.step()
                scheduler.step(metrics[step]) if cls_name == "ReduceLROnPlateau" else scheduler.step()
                sequences["lr"][side].append([group["lr"] for group in optimizer.param_groups])
                if cycles_momentum and (momentum := _momentum(optimizer)) is not None:
                    sequences.setdefault(momentum[0], ([], []))[side].append(momentum[1])
        return _result(sequences, params, twins, start, trajectory_rtol(dtype, 6, steps), steps)
    return Case(name, run, "scheduler")


def _result(sequences: dict, params: dict, twins: dict, start: np.ndarray, tol: float, steps: int) -> ParityResult:
    result = ParityResult()
    # lrs and momentums are Python floats (float64) in both engines whatever the parameters' dtype, and a
    # chainable scheduler rounds once per step, carrying the error on: the float64 trajectory rule.
    sequence_tol = trajectory_rtol(np.float64, 1, steps)
    for quantity, (actual, expected) in sequences.items():
        actual, expected = np.array(actual, dtype=np.float64), np.array(expected, dtype=np.float64)
        result.add(quantity, actual, expected, sequence_tol)
        # the sequence must change (a scheduler that does nothing would otherwise match a constant one)
        result.add(f"{quantity}.change", actual - actual[0], expected - expected[0], sequence_tol, MIN_GRAD_NORM)
    for key, p in params.items():
        result.add(key, p.data, twins[key].detach().numpy(), tol)
    result.add("weight.change", params["weight"].data - start, twins["weight"].detach().numpy() - start, tol,
               MIN_GRAD_NORM)
    return result


SGD = {"lr": 0.1, "momentum": 0.9}
ADAM = {"lr": 0.01}
CASES: list[Case] = [
    scheduler_check("LambdaLR", "LambdaLR", "SGD", SGD, {"lr_lambda": lambda epoch: 0.9**epoch + 0.1 * (epoch % 2)}),
    scheduler_check("MultiplicativeLR", "MultiplicativeLR", "Adam", ADAM,
                    {"lr_lambda": lambda e: 0.95 + 0.1 * (e % 3 == 0)}),
    scheduler_check("StepLR", "StepLR", "SGD", SGD, {"step_size": 7, "gamma": 0.5}),
    scheduler_check("MultiStepLR", "MultiStepLR", "Adam", ADAM, {"milestones": [5, 20, 20, 45], "gamma": 0.3}),
    scheduler_check("ConstantLR", "ConstantLR", "SGD", SGD, {"factor": 0.25, "total_iters": 12}),
    scheduler_check("LinearLR", "LinearLR", "Adam", ADAM, {"start_factor": 0.05, "end_factor": 0.8, "total_iters": 30}),
    scheduler_check("ExponentialLR", "ExponentialLR", "SGD", SGD, {"gamma": 0.93}),
    scheduler_check("PolynomialLR", "PolynomialLR", "SGD", SGD, {"total_iters": 50, "power": 2.0}),
    scheduler_check("CosineAnnealingLR", "CosineAnnealingLR", "SGD", SGD, {"T_max": 25, "eta_min": 0.001}),
    scheduler_check("CosineAnnealingWarmRestarts", "CosineAnnealingWarmRestarts", "Adam", ADAM,
                    {"T_0": 5, "T_mult": 2, "eta_min": 1e-4}),
    scheduler_check("CyclicLR(triangular2,SGD)", "CyclicLR", "SGD", SGD,
                    {"base_lr": 0.01, "max_lr": 0.2, "step_size_up": 6, "step_size_down": 9, "mode": "triangular2"}),
    scheduler_check("CyclicLR(exp_range,Adam)", "CyclicLR", "Adam", ADAM,
                    {"base_lr": 1e-3, "max_lr": 0.05, "step_size_up": 5, "mode": "exp_range", "gamma": 0.98}),
    scheduler_check("OneCycleLR(SGD)", "OneCycleLR", "SGD", SGD, {"max_lr": 0.3, "total_steps": 60}),
    scheduler_check("OneCycleLR(three_phase,linear,Adam)", "OneCycleLR", "Adam", ADAM,
                    {"max_lr": [0.05, 0.02], "epochs": 6, "steps_per_epoch": 10, "pct_start": 0.25,
                     "anneal_strategy": "linear", "three_phase": True}),
    scheduler_check("SequentialLR(LinearLR,CosineAnnealingLR)", "SequentialLR", "SGD", SGD,
                    {"schedulers": [("LinearLR", {"start_factor": 0.1, "total_iters": 10}),
                                    ("CosineAnnealingLR", {"T_max": 40})], "milestones": [10]}),
    scheduler_check("ChainedScheduler(ConstantLR,ExponentialLR)", "ChainedScheduler", "Adam", ADAM,
                    {"schedulers": [("ConstantLR", {"factor": 0.5, "total_iters": 15}),
                                    ("ExponentialLR", {"gamma": 0.96})]}),
    scheduler_check("ReduceLROnPlateau", "ReduceLROnPlateau", "SGD", SGD, {"patience": 2, "factor": 0.5}),
]
