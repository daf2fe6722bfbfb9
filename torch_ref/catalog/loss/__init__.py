"""The losses, as in ``scratch.nn.modules.loss``: regression, classification, probabilistic, margin.

Most configurations run in every reduction: ``per_reduction("L1Loss(3-D)", make)`` gives the cases
``L1Loss(3-D,mean)``, ``L1Loss(3-D,sum)`` and ``L1Loss(3-D,none)``, where ``make(dtype, rng, reduction)``
returns ``(criterion, input, target)``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..case import Case, loss_case

REDUCTIONS = ("mean", "sum", "none")
MakeLoss = Callable[[np.dtype, np.random.Generator, str], Any]


def per_reduction(name: str, make: MakeLoss, reductions: Sequence[str] = REDUCTIONS,
                  tags: tuple[str, ...] = ()) -> list[Case]:
    """One loss case per reduction, the reduction appended to the name's options."""
    subject, _, options = name.partition("(")
    options = options.rstrip(")")
    return [loss_case(f"{subject}({options + ',' if options else ''}{red})",
                      lambda d, r, red=red: make(d, r, red), tags=tags) for red in reductions]


def _cases() -> list[Case]:
    from . import classification, margin, probabilistic, regression
    return [*regression.CASES, *classification.CASES, *probabilistic.CASES, *margin.CASES]


CASES: list[Case] = _cases()
