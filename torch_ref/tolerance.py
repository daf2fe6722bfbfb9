r"""The tolerance policy: how close scratch and torch must be, and how closeness is measured.

**The measure.** For a computed array a and torch's b, the error of element i is

    e_i = |a_i - b_i| / (|b_i| + max_j |b_j|)

i.e. relative to the element, but never to less than the array's own scale, so an entry
that cancels to nearly 0 is judged against the magnitudes that produced it. Elements where
both engines give the same inf or both give NaN count as equal. ``max_rel_err`` is max_i e_i.

**The claim.** Two correct implementations differ only by rounding. A reduction of n terms
in precision eps is off by at most about n * eps of its terms' magnitude (Higham's gamma_n),
and by about sqrt(n) * eps in practice, since blocked and pairwise sums round randomly. Two
engines each contribute one such error, and a module chains a few such ops, so

    rtol(dtype, n) = 16 * eps(dtype) * sqrt(n)

where n is the longest reduction in the computation. In float32 that is 1.9e-6 for n = 1 and
6.1e-5 for n = 1024; in float64 it is 3.6e-15 to 1.1e-13: round-off, with nothing to spare
for a formula slip, which shows up as errors of 1e-3 and more.

**Where the claim stops.** The scale max|b| stands in for the magnitude of the terms a value
was computed from. When a value is a cancellation of terms far larger than every value in its
array, rounding that is correct in both engines can exceed the claim: the gradient of a fully
saturated tanh, g (1 - y^2) with y rounded differently by NumPy and torch; a softmax slice
dominated by one class; a cross-entropy whose prediction nearly equals its soft target. The
property tests set such inputs aside and ``test_properties.py`` checks them against a bound
relative to their terms instead; the module_db oracle judges Tanh's gradient against its terms
(``torch_ref/oracle/gradient_scale.py``).

**Judging relative to the terms.** Where such inputs cannot be set aside (the fuzz judge,
``parity_tests/fuzz_findings.py``; torch's own module_db samples, ``test_module_db.py``), the
terms' size is measured by torch itself: how far its float32 value lies from its float64 one, in
float32 epsilons. A well-conditioned value gives about its own size, a cancellation the size of its
terms. A value that fails the policy is judged again with that size added to the measure's scale. So a
float32 gradient that is exactly 0 in exact arithmetic (the key bias's gradient of an attention with
one feature per head) is rounding noise in both engines, and passes when scratch's error is within the
tolerance relative to the terms it was summed from, not to the ~0 it came to.

**Trajectories.** Over ``steps`` optimizer steps the rounding differences of each step
carry into the next, growing about linearly, so a trajectory is held to
``rtol(dtype, n) * steps``. Along a trajectory a value's rounding is relative to the sizes it
had, not to a current value that cancels (an Adam ``exp_avg`` crossing zero, a gradient
shrinking towards 0 at convergence), so a side-by-side run (``torch_ref.training``) passes
``scale`` = the largest |b| the quantity has had so far: the measure's scale is then
max(max|b|, scale).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

SAFETY = 16
#: A compared gradient must be larger than this (torch's, in the 2-norm), so that zeros never "match" zeros:
#: a backward that returns 0, or a test whose upstream gradient cancels, fails instead of passing.
MIN_GRAD_NORM = 1e-6


def rtol(dtype: Any, n: int = 1) -> float:
    """The relative tolerance for one computation whose longest reduction sums ``n`` terms."""
    return SAFETY * float(np.finfo(np.dtype(dtype)).eps) * math.sqrt(max(int(n), 1))


def trajectory_rtol(dtype: Any, n: int = 1, steps: int = 1) -> float:
    """The tolerance after ``steps`` chained updates, each held to ``rtol(dtype, n)``."""
    return rtol(dtype, n) * max(int(steps), 1)


def reduction_length(*arrays: np.ndarray) -> int:
    """An upper bound on the reductions a dense op over these arrays performs: the longest
    axis, or the product of the leading (batch) axes that a weight gradient sums over."""
    n = 1
    for array in arrays:
        if array is None or np.ndim(array) == 0:
            continue
        shape = np.shape(array)
        n = max(n, max(shape), int(np.prod(shape[:-1])))
    return n


def relative_error(actual: np.ndarray, expected: np.ndarray, scale: float = 0.0) -> tuple[float, float]:
    """(max |a - b|, max_i |a_i - b_i| / (|b_i| + max(max|b|, scale))) with matching inf/NaN counted as equal."""
    a = np.asarray(actual, dtype=np.float64)
    b = np.asarray(expected, dtype=np.float64)
    same = (a == b) | (np.isnan(a) & np.isnan(b))
    if same.all():
        return 0.0, 0.0
    with np.errstate(invalid="ignore", divide="ignore"):
        diff = np.where(same, 0.0, np.abs(a - b))
        finite_b = np.abs(b[np.isfinite(b)])
        scale = max(scale, finite_b.max() if finite_b.size else 0.0)
        rel = np.where(same, 0.0, diff / (np.abs(b) + scale))
    max_abs = float(np.nanmax(diff)) if not np.isnan(diff).all() else math.inf
    max_rel = math.inf if np.isnan(rel).any() else float(rel.max())
    return max_abs, max_rel
