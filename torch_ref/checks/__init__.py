"""``parity check``: every component run side by side with torch, one row per component and dtype.

Each family lists its rows in its own module; ``CHECKS`` is all of them, in that order.
"""

from __future__ import annotations

import fnmatch
import warnings

import numpy as np

from ..report import Comparison, ParityResult
from . import (
    activation,
    clip_grad,
    conv,
    core,
    dropout,
    init,
    loss,
    normalization,
    optim,
    pooling,
    rnn,
    schedulers,
    sparse,
)
from .kit import Check

CHECKS: list[Check] = [
    *core.CHECKS, *activation.CHECKS, *loss.CHECKS, *conv.CHECKS, *pooling.CHECKS, *normalization.CHECKS,
    *dropout.CHECKS, *sparse.CHECKS, *rnn.CHECKS, *optim.CHECKS, *schedulers.CHECKS, *clip_grad.CHECKS, *init.CHECKS,
]
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
        with warnings.catch_warnings():  # a row's own API notes (KLDivLoss 'mean', torch's even-kernel 'same')
            warnings.simplefilter("ignore", UserWarning)
            return check.run(dtype, np.random.default_rng(seed))
    except Exception as error:  # a crash is reported as a row, not a traceback
        result = ParityResult()
        result.comparisons.append(Comparison("error", np.inf, np.inf, 0.0, False, f"{type(error).__name__}: {error}"))
        return result
