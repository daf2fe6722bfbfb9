"""The losses, as in ``scratch.nn.modules.loss``: regression, classification, probabilistic, margin, multilabel,
triplet, ctc, linear_cross_entropy, adaptive (a module case: its forward returns the output and the loss).

Most configurations run in every reduction: ``per_reduction("L1Loss(3-D)", make)`` gives the cases
``L1Loss(3-D,mean)``, ``L1Loss(3-D,sum)`` and ``L1Loss(3-D,none)``, where ``make(dtype, rng, reduction)``
returns ``(criterion, input, target)``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ...component import loss_parity_of
from ...report import ParityResult
from ..case import Case, Make, loss_case

REDUCTIONS = ("mean", "sum", "none")
MakeLoss = Callable[[np.dtype, np.random.Generator, str], Any]


def with_reduction(make: MakeLoss, reduction: str) -> Make:
    """``make`` with its reduction fixed: a case's ``make(dtype, rng)``."""
    return lambda d, r: make(d, r, reduction)


def per_reduction(name: str, make: MakeLoss, reductions: Sequence[str] = REDUCTIONS,
                  tags: tuple[str, ...] = ()) -> list[Case]:
    """One loss case per reduction, the reduction appended to the name's options."""
    subject, _, options = name.partition("(")
    options = options.rstrip(")")
    return [loss_case(f"{subject}({options + ',' if options else ''}{red})",
                      with_reduction(make, red), tags=tags) for red in reductions]


def _cases() -> list[Case]:
    from . import (
        adaptive,
        classification,
        ctc,
        linear_cross_entropy,
        margin,
        multilabel,
        probabilistic,
        regression,
        triplet,
    )
    return [*regression.CASES, *classification.CASES, *probabilistic.CASES, *margin.CASES, *multilabel.CASES,
            *triplet.CASES, *ctc.CASES, *linear_cross_entropy.CASES, *adaptive.CASES]



def gradients_of(name: str, make: Make, differentiable: Sequence[int], tags: tuple[str, ...] = ()) -> Case:
    """A loss whose forward takes its target between differentiable inputs (GaussianNLLLoss's ``input, target,
    var``): ``make(dtype, rng) -> (criterion, args)``, ``criterion(*args)``, and ``backward`` returns the
    gradients of ``args[i]`` for i in ``differentiable`` (None for a float argument), compared with torch's as
    ``grad_input[i]``. A module case to the other tests: its make gives (criterion, args)."""
    def run(dtype: np.dtype, rng: np.random.Generator) -> ParityResult:
        criterion, args = make(dtype, rng)
        return loss_parity_of(criterion, args, differentiable, rng=rng)
    return Case(name, run, "module", make, tags)


def per_reduction_gradients_of(name: str, make: MakeLoss, differentiable: Sequence[int]) -> list[Case]:
    """``gradients_of`` once per reduction, the reduction appended to the name's options."""
    subject, _, options = name.partition("(")
    options = options.rstrip(")")
    return [gradients_of(f"{subject}({options + ',' if options else ''}{red})",
                         with_reduction(make, red), differentiable) for red in REDUCTIONS]


CASES: list[Case] = _cases()
