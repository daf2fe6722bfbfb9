"""What scratch cannot take yet: the module_db and optim_db cases that fail for a missing feature, named.

The oracle's tests mark each such case ``xfail(strict=True)`` with the reason given here, so the suite stays
green while the gap is open, and turns red the day scratch gains the feature (the case then passes: an
unexpected pass of a strict xfail fails) until the entry is removed. A gap is never a skip, and never a
loosened tolerance. The entry left is a precision gap rather than a missing feature, with its measurements:
an optimizer case where torch's float32 sqrt, not correctly rounded, meets a cancellation. No module case is
left: the one ill-conditioned in float32 (MultiheadAttention's query gradient cancelling in the softmax
Jacobian) is judged against the terms it cancels (``gradient_scale.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from .module_cases import ModuleCase
from .optimizer_cases import OptimizerCase


class Gap(NamedTuple):
    """A class, which of its cases the gap covers (a ModuleCase or an OptimizerCase), and the missing feature."""

    name: str
    applies: Callable[[Any], bool]
    reason: str


#: none left (a class with a case here is marked strict xfail on it)
MODULE_GAPS: tuple[Gap, ...] = ()


def module_gap(case: ModuleCase) -> str | None:
    """The missing feature that makes ``case`` fail, or None."""
    return next((gap.reason for gap in MODULE_GAPS if gap.name == case.name and gap.applies(case)), None)


OPTIMIZER_GAPS = (
    Gap("LBFGS", lambda case: case.id == "LBFGS/line_search_fn/sched=StepLR+ReduceLROnPlateau/float32",
        "torch's float32 sqrt (MKL's vector math) is not correctly rounded: at step 1 of 5, in the strong-Wolfe "
        "search's cubic interpolation, sqrt(d2_square = 1.6598385e-10) is 1.2883473e-05 in torch, 1.2883472e-05 "
        "(correctly rounded) in scratch; the minimizer 1 - ratio (ratio ~ 0.968) cancels, and that one ulp becomes "
        "16 ulps in the trial t (0.031692684 vs 0.031692743, rel. 1.9e-6). The parameters stay within the policy "
        "(rel. 5e-7 at step 4, tol 9.5e-6), but the two-loop coefficients cancel further: al[24] is off by rel. "
        "1.7e-2 at step 3 (tol 7.6e-6 plus torch's own reordered-evaluation gap 3.9e-3); al fails from step 1, "
        "H_diag, ro, old_dirs and old_stps from step 3, d and prev_flat_grad at step 4 (rel. 2.1e-5, tol 9.5e-6 "
        "+ 6.7e-6). With torch's sqrt in the interpolation every quantity equals torch's bit for bit "
        "(parity_tests/test_optim_lbfgs.py); float64 passes"),
)


def optimizer_gap(case: OptimizerCase) -> str | None:
    """The missing feature (or measured precision gap) that makes ``case`` fail, or None."""
    return next((gap.reason for gap in OPTIMIZER_GAPS if gap.name == case.optimizer and gap.applies(case)), None)
