"""A catalog case: one component, one configuration, run side by side with torch.

A case is a name (``"Linear(bias=False)"``: the component's class, then what this case sets), a ``kind``
and a ``run(dtype, rng) -> ParityResult``. Module and loss cases also keep their ``make(dtype, rng)``,
which builds the component and its sample inputs, so other tests (no mutation, stability, fuzzing) run
the very samples ``parity check`` runs. One builder per kind of case, so each entry is one line.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from scratch import nn

from ..arrays import random_like
from ..component import loss_parity, module_parity, optimizer_parity
from ..convert import to_torch
from ..report import ParityResult
from ..tolerance import MIN_GRAD_NORM, reduction_length, rtol
from .data import normal

OPTIMIZER_STEPS = 60  # long enough for bias corrections to fade and amsgrad's maximum to change hands
Make = Callable[[np.dtype, np.random.Generator], Any]
Run = Callable[[np.dtype, np.random.Generator], ParityResult]


@dataclass(frozen=True)
class Case:
    name: str
    run: Run
    kind: str = "function"  # module, inplace, loss, optimizer, scheduler, init, function
    make: Make | None = None
    tags: tuple[str, ...] = ()  # "kink": at a point without a derivative; "extreme": saturating magnitudes

    @property
    def subject(self) -> str:
        """The component the case is about: its name up to the first parenthesis or bracket."""
        return re.split(r"[(\[]", self.name, maxsplit=1)[0]


def module_case(name: str, make: Make, tags: tuple[str, ...] = ()) -> Case:
    """``make(dtype, rng) -> (module, inputs)``: output, dL/dinput and every parameter gradient."""
    def run(dtype: np.dtype, rng: np.random.Generator) -> ParityResult:
        module, inputs = make(dtype, rng)
        return module_parity(module, *inputs, rng=rng)
    return Case(name, run, "module", make, tags)


def loss_case(name: str, make: Make, tags: tuple[str, ...] = ()) -> Case:
    """``make(dtype, rng) -> (criterion, input, target)``; ``input`` may be a tuple (CosineEmbeddingLoss)."""
    def run(dtype: np.dtype, rng: np.random.Generator) -> ParityResult:
        criterion, input, target = make(dtype, rng)
        return loss_parity(criterion, input, target, rng=rng)
    return Case(name, run, "loss", make, tags)


def optimizer_case(name: str, optimizer: str, groups: list[dict] | None = None, **options: Any) -> Case:
    """``torch_ref.optimizer_parity`` for ``OPTIMIZER_STEPS`` steps: one group with ``options``, or ``groups``."""
    def run(dtype: np.dtype, rng: np.random.Generator) -> ParityResult:
        return optimizer_parity(optimizer, options if groups is None else groups, dtype=dtype, rng=rng,
                                steps=OPTIMIZER_STEPS)
    return Case(name, run, "optimizer")


def fresh(module: nn.Module) -> nn.Module:
    """A copy of a module a case declares once, so each run (and each test) gets its own: a module keeps
    its last forward for its backward, and an in-place one is never shared between two places of a chain."""
    return copy.deepcopy(module)


def elementwise(module: nn.Module, scale: float = 3.0) -> Make:
    """``make`` for a parameter-free module applied to an (8, 12) normal input times ``scale``."""
    return lambda dtype, rng: (fresh(module), [normal(rng, dtype, 8, 12, scale=scale)])


def inplace_parity(module: nn.Module, x: np.ndarray, rng: np.random.Generator) -> ParityResult:
    """``module_parity`` for an ``inplace=True`` module: torch's twin runs on a non-leaf copy of the input
    (torch refuses in-place ops on a leaf that requires grad), and scratch's input array must end up
    holding the output, as torch's tensor does ("input" compares the two inputs after the forward)."""
    tol = rtol(x.dtype, reduction_length(x))
    leaf = torch.tensor(x, requires_grad=True)
    torch_input = leaf.clone()
    torch_out = to_torch(module)(torch_input)
    out = module(x)
    grad_output = random_like(out, rng)
    grad_input = module.backward(grad_output)
    torch_out.backward(torch.from_numpy(grad_output))
    result = ParityResult()
    result.add("output", out, torch_out, tol)
    result.add("input", x, torch_input.detach(), tol)
    result.add("grad_input", grad_input, leaf.grad, tol, MIN_GRAD_NORM)
    return result


def inplace_case(name: str, make: Make) -> Case:
    """``make(dtype, rng) -> (module, [x])`` for a module built with ``inplace=True``."""
    def run(dtype: np.dtype, rng: np.random.Generator) -> ParityResult:
        module, (x,) = make(dtype, rng)
        return inplace_parity(module, x, rng)
    return Case(name, run, "inplace", make)
