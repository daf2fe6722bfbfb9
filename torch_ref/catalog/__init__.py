"""The catalog: every scratch component, each configuration declared once, run side by side with torch.

``parity check`` prints one row per case and dtype, and ``parity_tests/test_catalog.py`` runs the same
cases; other tests (no mutation, stability, fuzzing, finite differences) take their samples from the
module and loss cases here. The files mirror ``scratch.nn.modules``, one per family (activation, linear,
conv, pooling, normalization, ..., loss/), and ``scratch.optim`` (optim, lr_scheduler), plus ``scratch.nn.init``
and ``scratch.nn.utils`` (init, clip_grad).

A new component needs one entry in its family file, e.g. ``module_case("Softshrink", elementwise(nn.Softshrink()))``.
"""

from __future__ import annotations

import fnmatch
import warnings

import numpy as np

from ..report import Comparison, ParityResult
from . import (
    activation,
    activation_composite,
    activation_piecewise,
    attention,
    channelshuffle,
    clip_grad,
    container,
    conv,
    distance,
    dropout,
    flatten,
    fold,
    init,
    instancenorm,
    linear,
    local_response_norm,
    loss,
    normalization,
    optim,
    padding,
    pixelshuffle,
    pooling,
    pooling_adaptive,
    pooling_fractional,
    rnn,
    rnn_cell,
    softmax,
    sparse,
    upsampling,
)
from . import lr_scheduler as lr_scheduler_cases
from .case import Case

FAMILIES = [linear, activation, activation_piecewise, activation_composite, flatten, container, loss, conv, padding,
            pooling, pooling_adaptive, pooling_fractional, normalization, instancenorm, local_response_norm, dropout,
            distance, softmax, sparse, rnn, rnn_cell, attention, upsampling, pixelshuffle, channelshuffle, fold, optim,
            lr_scheduler_cases, clip_grad, init]
CASES: list[Case] = [case for family in FAMILIES for case in family.CASES]
DTYPE_NAMES: dict[str, list[np.dtype]] = {"float32": [np.dtype(np.float32)], "float64": [np.dtype(np.float64)],
               "both": [np.dtype(np.float32), np.dtype(np.float64)]}


def select(pattern: str | None) -> list[Case]:
    """The cases whose name matches ``pattern`` (a glob, or a case-insensitive substring)."""
    if not pattern:
        return list(CASES)
    glob = pattern if any(ch in pattern for ch in "*?[") else f"*{pattern}*"
    return [case for case in CASES if fnmatch.fnmatch(case.name.lower(), glob.lower())]


def of_kind(*kinds: str) -> list[Case]:
    """The cases of the given kinds (``module``, ``inplace``, ``loss``, ``optimizer``, ...), in catalog order."""
    return [case for case in CASES if case.kind in kinds]


def first_of_each(kind: str) -> dict[str, Case]:
    """For each subject, its first case of ``kind``: the sample other tests run on every component."""
    first: dict[str, Case] = {}
    for case in of_kind(kind):
        first.setdefault(case.subject, case)
    return first


def run_case(case: Case, dtype: np.dtype, seed: int = 0) -> ParityResult:
    """Run one case; an exception becomes a failed result that names it."""
    try:
        with warnings.catch_warnings():  # a case's own API notes (KLDivLoss 'mean', torch's even-kernel 'same')
            warnings.simplefilter("ignore", UserWarning)
            return case.run(dtype, np.random.default_rng(seed))
    except Exception as error:  # a crash is reported as a failed result, not a traceback
        result = ParityResult()
        result.comparisons.append(Comparison("error", np.inf, np.inf, 0.0, False, f"{type(error).__name__}: {error}"))
        return result


__all__ = ["CASES", "DTYPE_NAMES", "Case", "first_of_each", "of_kind", "run_case", "select"]
