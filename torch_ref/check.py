"""``parity check``: every component run side by side with torch, one row per component and dtype."""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from scratch import nn, optim

from .compare import MIN_GRAD_NORM, Comparison, ParityResult, compare, loss_parity, module_parity, to_numpy
from .optim import to_torch_optimizer
from .tolerance import trajectory_rtol

Make = Callable[[np.dtype, np.random.Generator], Any]


@dataclass(frozen=True)
class Check:
    name: str
    run: Callable[[np.dtype, np.random.Generator], ParityResult]


def _normal(rng: np.random.Generator, dtype: np.dtype, *shape: int, scale: float = 1.0) -> np.ndarray:
    return (scale * rng.standard_normal(shape)).astype(dtype)


def module_check(name: str, make: Make) -> Check:
    """``make(dtype, rng) -> (module, inputs)``."""
    def run(dtype: np.dtype, rng: np.random.Generator) -> ParityResult:
        module, inputs = make(dtype, rng)
        return module_parity(module, *inputs, rng=rng)
    return Check(name, run)


def loss_check(name: str, make: Make) -> Check:
    """``make(dtype, rng) -> (criterion, input, target)``."""
    def run(dtype: np.dtype, rng: np.random.Generator) -> ParityResult:
        criterion, input, target = make(dtype, rng)
        return loss_parity(criterion, input, target, rng=rng)
    return Check(name, run)


def optimizer_check(name: str, cls_name: str, steps: int = 20, **options: Any) -> Check:
    """Both optimizers get the same precomputed gradients for ``steps`` steps; every parameter
    and state buffer is compared after every step, and the worst step is reported."""
    def run(dtype: np.dtype, rng: np.random.Generator) -> ParityResult:
        params = dict(nn.Linear(6, 4, dtype=dtype, rng=rng).named_parameters())
        twins = {key: torch.nn.Parameter(torch.tensor(p.data)) for key, p in params.items()}
        start = params["weight"].data.copy()
        scratch_opt = getattr(optim, cls_name)(list(params.values()), **options)
        torch_opt = to_torch_optimizer(scratch_opt, {id(p): twins[key] for key, p in params.items()})
        tol = trajectory_rtol(dtype, 6, steps)
        worst: dict[str, tuple[Comparison, np.ndarray, np.ndarray]] = {}
        for _ in range(steps):
            for key, p in params.items():
                p.grad = _normal(rng, dtype, *p.shape)
                twins[key].grad = torch.tensor(p.grad)
            scratch_opt.step()
            torch_opt.step()
            for quantity, actual, expected in _optimizer_quantities(params, twins, scratch_opt, torch_opt):
                comparison = compare(quantity, actual, expected, tol)
                if quantity not in worst or not comparison.max_rel_err <= worst[quantity][0].max_rel_err:
                    worst[quantity] = (comparison, np.array(actual), to_numpy(expected).copy())
        result = ParityResult()
        for quantity, (comparison, actual, expected) in worst.items():
            result.comparisons.append(comparison)
            result.arrays[quantity] = (actual, expected)
        # the parameters must have moved, or a no-op optimizer would pass
        result.add("weight.change", params["weight"].data - start, twins["weight"].detach().numpy() - start, tol,
                   MIN_GRAD_NORM)
        return result
    return Check(name, run)


def _optimizer_quantities(params: dict, twins: dict, scratch_opt: Any, torch_opt: Any) -> list[tuple]:
    """(quantity, scratch value, torch value) for every parameter and state entry; a missing or
    extra state key is compared against an empty array, so it fails with a shape mismatch."""
    quantities = []
    for key, p in params.items():
        quantities.append((key, p.data, twins[key]))
        ours, theirs = scratch_opt.state.get(p, {}), torch_opt.state.get(twins[key], {})
        for entry in sorted(set(ours) | set(theirs)):
            actual, expected = ours.get(entry, np.empty(0)), theirs.get(entry, np.empty(0))
            if entry == "step":  # torch keeps a float32 tensor, scratch a Python float: compare the counts
                actual, expected = np.float64(actual), np.float64(to_numpy(expected))
            quantities.append((f"state.{key}.{entry}", actual, expected))
    return quantities


def _mlp(dtype: np.dtype, rng: np.random.Generator) -> tuple[nn.Module, list]:
    model = nn.Sequential(nn.Linear(10, 16, dtype=dtype, rng=rng), nn.Tanh(), nn.Linear(16, 16, dtype=dtype, rng=rng),
                          nn.ReLU(), nn.Linear(16, 3, dtype=dtype, rng=rng), nn.LogSoftmax(dim=1))
    return model, [_normal(rng, dtype, 8, 10)]


def _activation(module: nn.Module, scale: float = 3.0) -> Make:
    return lambda dtype, rng: (module, [_normal(rng, dtype, 8, 12, scale=scale)])


def _classes(rng: np.random.Generator, *shape: int, n: int = 5) -> np.ndarray:
    return rng.integers(0, n, size=shape)


def _probabilities(rng: np.random.Generator, dtype: np.dtype, *shape: int) -> np.ndarray:
    return rng.uniform(0.02, 0.98, size=shape).astype(dtype)


def _checks() -> list[Check]:
    checks = [
        module_check("Identity", _activation(nn.Identity())),
        module_check("Flatten", lambda d, r: (nn.Flatten(), [_normal(r, d, 4, 3, 5)])),
        module_check("Linear", lambda d, r: (nn.Linear(12, 7, dtype=d, rng=r), [_normal(r, d, 16, 12)])),
        module_check("Linear(bias=False)", lambda d, r: (nn.Linear(12, 7, bias=False, dtype=d, rng=r),
                                                         [_normal(r, d, 16, 12)])),
        module_check("Linear(3-D input)", lambda d, r: (nn.Linear(12, 7, dtype=d, rng=r), [_normal(r, d, 4, 5, 12)])),
        module_check("ReLU", _activation(nn.ReLU())),
        module_check("Sigmoid", _activation(nn.Sigmoid())),
        module_check("Tanh", _activation(nn.Tanh())),
        module_check("Softmax(dim=1)", _activation(nn.Softmax(dim=1))),
        module_check("Softmax(dim=0)", _activation(nn.Softmax(dim=0))),
        module_check("LogSoftmax(dim=1)", _activation(nn.LogSoftmax(dim=1))),
        module_check("Sequential(MLP)", _mlp),
    ]
    for reduction in ("mean", "sum", "none"):
        checks += [
            loss_check(f"MSELoss({reduction})", lambda d, r, red=reduction: (
                nn.MSELoss(reduction=red), _normal(r, d, 8, 5), _normal(r, d, 8, 5))),
            loss_check(f"CrossEntropyLoss({reduction})", lambda d, r, red=reduction: (
                nn.CrossEntropyLoss(reduction=red), _normal(r, d, 8, 5, scale=3), _classes(r, 8))),
            loss_check(f"BCELoss({reduction})", lambda d, r, red=reduction: (
                nn.BCELoss(reduction=red), _probabilities(r, d, 8, 5), _probabilities(r, d, 8, 5))),
        ]
    checks += [
        loss_check("CrossEntropyLoss(weight,ignore_index,label_smoothing)", lambda d, r: (
            nn.CrossEntropyLoss(weight=r.uniform(0.5, 2, 5).astype(d), ignore_index=2, label_smoothing=0.1),
            _normal(r, d, 8, 5, scale=3), _classes(r, 8))),
        loss_check("CrossEntropyLoss(K-dim)", lambda d, r: (
            nn.CrossEntropyLoss(), _normal(r, d, 4, 5, 3, 2, scale=3), _classes(r, 4, 3, 2))),
        loss_check("CrossEntropyLoss(probabilities)", lambda d, r: (
            nn.CrossEntropyLoss(), _normal(r, d, 8, 5, scale=3), _probabilities(r, d, 8, 5))),
        loss_check("CrossEntropyLoss(logits=±1e4)", lambda d, r: (
            nn.CrossEntropyLoss(), _normal(r, d, 8, 5, scale=1e4), _classes(r, 8))),
        loss_check("BCELoss(weight)", lambda d, r: (
            nn.BCELoss(weight=r.uniform(0.5, 2, 5).astype(d)), _probabilities(r, d, 8, 5), _probabilities(r, d, 8, 5))),
        optimizer_check("SGD", "SGD", lr=0.1),
        optimizer_check("SGD(momentum,dampening,weight_decay)", "SGD", lr=0.1, momentum=0.9, dampening=0.1,
                        weight_decay=0.01),
        optimizer_check("SGD(nesterov,maximize)", "SGD", lr=0.1, momentum=0.9, nesterov=True, maximize=True),
        optimizer_check("Adam", "Adam", lr=0.01),
        optimizer_check("Adam(amsgrad,weight_decay)", "Adam", lr=0.01, amsgrad=True, weight_decay=0.1),
        optimizer_check("AdamW", "AdamW", lr=0.01),
        optimizer_check("AdamW(amsgrad,maximize)", "AdamW", lr=0.01, amsgrad=True, maximize=True),
    ]
    return checks


CHECKS = _checks()
DTYPE_NAMES = {"float32": [np.dtype(np.float32)], "float64": [np.dtype(np.float64)],
               "both": [np.dtype(np.float32), np.dtype(np.float64)]}


def select(pattern: str | None) -> list[Check]:
    """The checks whose name matches ``pattern`` (a glob, or a case-insensitive substring)."""
    if not pattern:
        return list(CHECKS)
    glob = pattern if any(ch in pattern for ch in "*?[") else f"*{pattern}*"
    return [check for check in CHECKS if fnmatch.fnmatch(check.name.lower(), glob.lower())]


def run_check(check: Check, dtype: np.dtype, seed: int = 0) -> ParityResult:
    """Run one check; an exception becomes a failed result that names it."""
    try:
        return check.run(dtype, np.random.default_rng(seed))
    except Exception as error:  # a crash is reported as a row, not a traceback
        result = ParityResult()
        result.comparisons.append(Comparison("error", np.inf, np.inf, 0.0, False, f"{type(error).__name__}: {error}"))
        return result
