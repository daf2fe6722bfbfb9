"""The building blocks of ``parity check`` rows: one helper per kind of check, so each row is one line."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from scratch import nn, optim

from ..arrays import to_numpy
from ..component import loss_parity, module_parity
from ..convert import to_torch_optimizer
from ..report import Comparison, ParityResult
from ..report import compare_arrays as compare
from ..tolerance import MIN_GRAD_NORM, trajectory_rtol

Make = Callable[[np.dtype, np.random.Generator], Any]


@dataclass(frozen=True)
class Check:
    name: str
    run: Callable[[np.dtype, np.random.Generator], ParityResult]


def normal(rng: np.random.Generator, dtype: np.dtype, *shape: int, scale: float = 1.0) -> np.ndarray:
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
                p.grad = normal(rng, dtype, *p.shape)
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


def activation(module: nn.Module, scale: float = 3.0) -> Make:
    """``make`` for a parameter-free module applied to an (8, 12) normal input times ``scale``."""
    return lambda dtype, rng: (module, [normal(rng, dtype, 8, 12, scale=scale)])


def classes(rng: np.random.Generator, *shape: int, n: int = 5) -> np.ndarray:
    return rng.integers(0, n, size=shape)


def probabilities(rng: np.random.Generator, dtype: np.dtype, *shape: int) -> np.ndarray:
    return rng.uniform(0.02, 0.98, size=shape).astype(dtype)
