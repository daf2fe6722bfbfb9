"""scratch.special against the C library (math.erf, math.erfc) and a bisection reference for the inverses."""

import math

import numpy as np
import pytest
import torch

from scratch.special import erf, erfc, erfcinv, erfinv, log_ndtr


def bisect(f, target, lo, hi, decreasing=False):
    """The float x in [lo, hi] where the monotone f crosses target (the reference; a loop is fine here)."""
    while True:
        mid = 0.5 * (lo + hi)
        if mid in (lo, hi):
            return lo if abs(f(lo) - target) <= abs(f(hi) - target) else hi
        if (f(mid) < target) != decreasing:
            lo = mid
        else:
            hi = mid


def referenceerfinv(y):
    if y == 0:
        return 0.0
    if abs(y) <= 0.5:
        return math.copysign(bisect(math.erf, abs(y), 0.0, 1.0), y)
    return math.copysign(bisect(math.erfc, 1 - abs(y), 0.0, 30.0, decreasing=True), y)  # 1 - |y| is exact


def referenceerfcinv(c):
    if c in (0.0, 2.0):
        return math.inf if c == 0 else -math.inf
    return -referenceerfcinv(2 - c) if c > 1 else referenceerfinv(1 - c) if c >= 0.5 else \
        bisect(math.erfc, c, 0.0, 30.0, decreasing=True)


def ulps(actual, expected):
    expected = np.asarray(expected, dtype=np.float64)
    same = actual == expected  # the same inf included
    scale = np.spacing(np.clip(np.abs(np.where(same, 1.0, expected)), np.finfo(np.float64).tiny, None))
    diff = np.zeros_like(expected)
    np.subtract(actual, expected, out=diff, where=~same)
    return np.max(np.abs(diff) / scale)


def arguments():
    rng = np.random.default_rng(0)
    return np.concatenate([rng.uniform(-6, 6, 4000), rng.uniform(-1.1, 1.1, 2000), 10.0 ** rng.uniform(-300, 1.4, 2000),
                           -(10.0 ** rng.uniform(-300, 1.4, 1000)), [0.0, 1.0, -1.0, 8.0, -8.0, 26.5]])


def test_erfc_matches_math_erfc_to_a_few_ulps_in_relative_terms():
    x = arguments()
    assert ulps(erfc(x), [math.erfc(v) for v in x]) <= 12  # 1 - erf(x) for |x| < 1, as Cephes: ~1e-15


def test_erfinv_matches_a_bisection_reference():
    rng = np.random.default_rng(1)
    y = np.concatenate([rng.uniform(-1, 1, 2000), 1 - 10.0 ** rng.uniform(-16, 0, 600),
                        10.0 ** rng.uniform(-300, 0, 300), [0.5, -0.5, 0.7, 1 - 2.0**-53, 2.0**-1074]])
    assert ulps(erfinv(y), [referenceerfinv(v) for v in y]) <= 8
    inner = y[np.abs(y) < 0.99]  # erf(erfinv(y)): erf's own ulp plus x's, times erf's slope
    np.testing.assert_allclose(erf(erfinv(inner)), inner, rtol=4 * np.finfo(np.float64).eps, atol=0)


def test_erfcinv_matches_a_bisection_reference_down_to_tiny_arguments():
    rng = np.random.default_rng(2)
    c = np.concatenate([rng.uniform(0, 2, 2000), 10.0 ** rng.uniform(-300, 0, 600),
                        2 - 10.0 ** rng.uniform(-16, 0, 300), [0.5, 1.0, 1.5, 1e-300]])
    assert ulps(erfcinv(c), [referenceerfcinv(v) for v in c]) <= 8


def test_special_values():
    np.testing.assert_array_equal(erf(np.array([np.inf, -np.inf, np.nan, 0.0, -0.0])), [1, -1, np.nan, 0, -0.0])
    np.testing.assert_array_equal(erfc(np.array([np.inf, -np.inf, np.nan, 30.0])), [0, 2, np.nan, 0])
    np.testing.assert_array_equal(erfinv(np.array([1.0, -1.0, 1.5, -2.0, np.nan, 0.0])),
                                  [np.inf, -np.inf, np.nan, np.nan, np.nan, 0])
    np.testing.assert_array_equal(erfcinv(np.array([0.0, 2.0, -0.1, 2.1, np.nan, 1.0])),
                                  [np.inf, -np.inf, np.nan, np.nan, np.nan, 0])


def test_erf_is_within_one_ulp_of_math_erf():
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.uniform(-7, 7, 20000), rng.uniform(-1.3, 1.3, 20000), np.linspace(-6.5, 6.5, 4001),
                        rng.choice([-1, 1], 4000) * 10.0 ** rng.uniform(-310, 0, 4000),
                        [0.84375, 1.25, 1 / 0.35, 6.0, -0.84375, -1.25, 5e-324]])
    expected = np.array([math.erf(v) for v in x])
    assert ulps(erf(x), expected) <= 1
    assert np.mean(erf(x) == expected) > 0.9  # mostly bit-identical to the C library


def test_erf_special_values_and_dtypes():
    x = np.array([0.0, -0.0, np.inf, -np.inf, 1e308, -1e308, np.nan])
    with np.errstate(all="raise"):
        out = erf(x)
    np.testing.assert_array_equal(out, [0.0, -0.0, 1.0, -1.0, 1.0, -1.0, np.nan])
    assert np.signbit(out[1])
    x32 = np.linspace(-4, 4, 1001, dtype=np.float32)
    out32 = erf(x32)
    assert out32.dtype == np.float32
    expected32 = np.array([math.erf(v) for v in x32.astype(np.float64)]).astype(np.float32)
    np.testing.assert_array_max_ulp(out32, expected32, maxulp=1)



@pytest.mark.parametrize("x", [np.array(2.0), np.array(-0.5, np.float32), np.array([[2.0, -1.0], [0.3, 7.0]]).T,
                               np.full((3, 0), 1.5)], ids=["0-d beyond", "0-d central", "transposed", "empty"])
def test_erf_keeps_shape_and_dtype_across_its_regions(x):
    out = erf(x)
    assert out.shape == x.shape and out.dtype == x.dtype
    expected = np.array([math.erf(v) for v in x.astype(np.float64).ravel()]).reshape(x.shape).astype(x.dtype)
    np.testing.assert_array_max_ulp(out, expected, maxulp=1)

def test_log_ndtr_matches_torchs_on_both_tails():
    """Up to z = 37 (beyond it log Φ(z) is subnormal). Far in the right tail both engines inherit erfc's
    tail accuracy, each up to ~800 ulps from the exact value (measured against mpmath), hence 1e-12."""
    z = np.concatenate([np.linspace(-40, 37, 3851), [-1e3, 0.0, 9.0]])
    expected = torch.special.log_ndtr(torch.tensor(z)).numpy()
    np.testing.assert_allclose(log_ndtr(z), expected, rtol=1e-12, atol=0)
    assert log_ndtr(np.array([9.0]))[0] < 0  # Φ(9) rounds to 1, its log is -1.1e-19, not 0
