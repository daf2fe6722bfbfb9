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

**Zero in exact arithmetic.** Some gradients are exactly 0 in exact arithmetic: the bias of a layer just
before BatchNorm in training mode (the batch mean removes it), an attention's key bias (softmax is
invariant to shifting every score of a row), the sums over a softmax's gradient. What each engine
computes there is the rounding of the terms that cancel, e.g. 1e-9 from terms of 1e-2 in float32: two
random numbers whose measure above is about 1, reported as a divergence although both are right. A
side-by-side run (``torch_ref.training``) recognises them with a reference: when a parameter-gradient row
fails, also after its module's local rerun, torch's whole step (twin and criterion) is rerun in float64
on the same batch (float32 and float16 runs only; the whole step, since the noise starts upstream, e.g.
in a BatchNorm's input gradient that sums to 0 only in exact arithmetic). Let ref be that float64
gradient, b torch's and a scratch's.
The quantity is zero in exact arithmetic when

    max |ref| <= max |b - ref|

(the exact value is below torch's own rounding error of it: b is noise). The terms' size is then that
rounding error in epsilons, T = max|b - ref| / eps(dtype), and scratch is held to the same tolerance
relative to the terms, max|a - b| / T <= tol: its noise must be of torch's size, not just small.
``exact_zero_error`` is the rule. Its row passes with the note "zero in exact arithmetic". A gradient
that should be nonzero (ref above torch's rounding) or scratch noise far above torch's still fails.
It cannot rescue what Adam does next: Adam divides a gradient by its own running magnitude, so the
noise becomes a full step of random sign, and the parameter parts for real; a model whose gradient is
zero in exact arithmetic should not have that parameter (GPT-style attention without biases, as the
``char-gpt`` example). In float64 there is no more precise reference, and such a row still fails.

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


def exact_zero_error(actual: np.ndarray, expected: np.ndarray, reference: np.ndarray) -> float | None:
    """None unless ``expected`` (torch, float32 or float16) is rounding noise around a quantity that is zero in
    exact arithmetic, as its float64 ``reference`` tells: max|reference| <= max|expected - reference|. Then
    the error of ``actual`` relative to the terms that cancel, max|a - b| / T with T = max|b - ref| / eps
    (see the module docstring); a caller compares it with its tolerance."""
    b = np.asarray(expected)
    if not np.issubdtype(b.dtype, np.floating) or b.dtype == np.float64:
        return None
    a, b, ref = (np.asarray(v, dtype=np.float64) for v in (actual, b, reference))
    if a.shape != b.shape or b.shape != ref.shape or not (np.isfinite(a).all() and np.isfinite(b).all()):
        return None
    noise = float(np.abs(b - ref).max(initial=0.0))
    if noise == 0.0 or float(np.abs(ref).max(initial=0.0)) > noise:
        return None
    terms = noise / float(np.finfo(np.asarray(expected).dtype).eps)
    return float(np.abs(a - b).max(initial=0.0)) / terms
