"""Special functions NumPy lacks: erf, erfc, erfinv and log_ndtr as in ``torch.special``, and erfcinv
(scratch's own, for precision in the tails).

Each works elementwise, vectorized. ``erf`` (fdlibm's method, within 1 ulp of C's erf, so GELU
rounds as torch's) returns its input's dtype; the others compute and return float64, for
``init.trunc_normal_``. The inverses and erfc use Cephes' rational approximations.
"""

from __future__ import annotations

import math
from typing import cast

import numpy as np

__all__ = ["erf", "erfc", "erfcinv", "erfinv", "log_ndtr"]


# erf's rational approximations from Sun's fdlibm (s_erf.c, 1993; "freely granted" licence, also glibc's):
# lowest order first. erf = x + x PP/QQ below 0.84375; erx + PA/QA to 1.25; 1 - erfc beyond, erfc from RA/SA
# to 1/0.35 and RB/SB up to 6, where erf rounds to 1.
_ERX = 8.45062911510467529297e-01  # erf(1) rounded to 24 bits
_ERF_PP = (1.28379167095512558561e-01, -3.25042107247001499370e-01, -2.84817495755985104766e-02,
           -5.77027029648944159157e-03, -2.37630166566501626084e-05)
_ERF_QQ = (1.0, 3.97917223959155352819e-01, 6.50222499887672944485e-02, 5.08130628187576562776e-03,
           1.32494738004321644526e-04, -3.96022827877536812320e-06)
_ERF_PA = (-2.36211856075265944077e-03, 4.14856118683748331666e-01, -3.72207876035701323847e-01,
           3.18346619901161753674e-01, -1.10894694282396677476e-01, 3.54783043256182359371e-02,
           -2.16637559486879084300e-03)
_ERF_QA = (1.0, 1.06420880400844228286e-01, 5.40397917702171048937e-01, 7.18286544141962662868e-02,
           1.26171219808761642112e-01, 1.36370839120290507362e-02, 1.19844998467991074170e-02)
_ERF_RA = (-9.86494403484714822705e-03, -6.93858572707181764372e-01, -1.05586262253232909814e+01,
           -6.23753324503260060396e+01, -1.62396669462573470355e+02, -1.84605092906711035994e+02,
           -8.12874355063065934246e+01, -9.81432934416914548592e+00)
_ERF_SA = (1.0, 1.96512716674392571292e+01, 1.37657754143519042600e+02, 4.34565877475229228821e+02,
           6.45387271733267880336e+02, 4.29008140027567833386e+02, 1.08635005541779435134e+02,
           6.57024977031928170135e+00, -6.04244152148580987438e-02)
_ERF_RB = (-9.86494292470009928597e-03, -7.99283237680523006574e-01, -1.77579549177547519889e+01,
           -1.60636384855821916062e+02, -6.37566443368389627722e+02, -1.02509513161107724954e+03,
           -4.83519191608651397019e+02)
_ERF_SB = (1.0, 3.03380607434824582924e+01, 3.25792512996573918826e+02, 1.53672958608443695994e+03,
           3.19985821950859553908e+03, 2.55305040643316442583e+03, 4.74528541206955367215e+02,
           -2.24409524465858183362e+01)


def _ratio(num: tuple[float, ...], den: tuple[float, ...], t: np.ndarray) -> np.ndarray:
    """num(t) / den(t), each c_0 + c_1 t + c_2 t^2 + ... by Horner's rule (a loop over coefficients)."""
    return cast("np.ndarray", _horner(num[::-1], t) / _horner(den[::-1], t))


def erf(x: np.ndarray) -> np.ndarray:
    r"""erf(x) = 2/sqrt(pi) \int_0^x e^{-t^2} dt, elementwise (NumPy has none); within 1 ulp of C's erf.

    fdlibm's method, computed in float64 and cast back to x's dtype: |x| < 0.84375, [0.84375, 1.25) and
    the tail each take their own rational approximation. In the tail erfc(y) = e^{-h^2 - 0.5625}
    e^{(h - y)(h + y) + R/S} / y with h = y cut to 21 bits, so h^2 is exact and the rounding of y^2 never
    reaches the exponential. Fast path: the central formula runs on every element (|x| clipped into its
    region: most of GELU's inputs lie there, and a boolean gather of them would cost more than it saves);
    the other regions run on the few elements beyond it only, taken and put back by index.
    """
    x64 = np.asarray(x, dtype=np.float64).reshape(-1)  # flat: the regions beyond are taken and put by index
    a = np.abs(x64)
    out = _erf_fdlibm_central(np.copysign(np.minimum(a, 0.84375), x64))
    beyond = np.flatnonzero(a >= 0.84375)  # NaN stays in the central formula, which keeps it NaN
    if beyond.size:
        ab = a[beyond]
        near_one = _ERX + _ratio(_ERF_PA, _ERF_QA, np.minimum(ab, 1.25) - 1)
        values = np.where(ab < 1.25, near_one, _erf_fdlibm_tail(np.maximum(ab, 1.25)))
        out[beyond] = np.copysign(values, x64[beyond])
    return out.reshape(np.shape(x)).astype(np.asarray(x).dtype)


def _erf_fdlibm_central(x: np.ndarray) -> np.ndarray:
    """erf(x) = x + x PP(x^2)/QQ(x^2) for |x| < 0.84375."""
    with np.errstate(under="ignore"):  # x^2 of a tiny x
        return cast("np.ndarray", x + x * _ratio(_ERF_PP, _ERF_QQ, x * x))


def _erf_fdlibm_tail(a: np.ndarray) -> np.ndarray:
    """erf(a) = 1 - erfc(a) for a >= 1.25 (a clipped to 6, where erf rounds to 1)."""
    y = np.minimum(a, 6.0)
    w = 1 / (y * y)
    r = np.where(y < 1 / 0.35, _ratio(_ERF_RA, _ERF_SA, w), _ratio(_ERF_RB, _ERF_SB, w))
    h = (y.view(np.uint64) & np.uint64(0xFFFFFFFF00000000)).view(np.float64)
    return cast("np.ndarray", 1 - np.exp(-h * h - 0.5625) * np.exp((h - y) * (h + y) + r) / y)


# ------------------------------------------ erfc and the inverses (Cephes; erf's central part too)
# Cephes' rational approximations (ndtr.c, S. L. Moshier, BSD licence; torch's ATen/native/Math.h
# cites the same library), accurate to about 1e-16 relative, each applied elementwise.
_ERF_T = (9.60497373987051638749E0, 9.00260197203842689217E1, 2.23200534594684319226E3,
          7.00332514112805075473E3, 5.55923013010394962768E4)
_ERF_U = (1.0, 3.35617141647503099647E1, 5.21357949780152679795E2, 4.59432382970980127987E3,
          2.26290000613890934246E4, 4.92673942608635921086E4)
_ERFC_P = (2.46196981473530512524E-10, 5.64189564831068821977E-1, 7.46321056442269912687E0,
           4.86371970985681366614E1, 1.96520832956077098242E2, 5.26445194995477358631E2,
           9.34528527171957607540E2, 1.02755188689515710272E3, 5.57535335369399327526E2)
_ERFC_Q = (1.0, 1.32281951154744992508E1, 8.67072140885989742329E1, 3.54937778887819891062E2,
           9.75708501743205489753E2, 1.82390916687909736289E3, 2.24633760818710981792E3,
           1.65666309194161350182E3, 5.57535340817727675546E2)
_ERFC_R = (5.64189583547755073984E-1, 1.27536670759978104416E0, 5.01905042251180477414E0,
           6.16021097993053585195E0, 7.40974269950448939160E0, 2.97886665372100240670E0)
_ERFC_S = (1.0, 2.26052863220117276590E0, 9.39603524938001434673E0, 1.20489539808096656605E1,
           1.70814450747565897222E1, 9.60896809063285878198E0, 3.36907645100081516050E0)
# torch's initial guess for erfinv (calc_erfinv in ATen/native/Math.h, after G. Pavlis), highest power first
_ERFINV_A = (-0.140543331, 0.914624893, -1.645349621, 0.886226899)
_ERFINV_B = (0.012229801, -0.329097515, 1.442710462, -2.118377725, 1.0)
_ERFINV_C = (1.641345311, 3.429567803, -1.624906493, -1.970840454)
_ERFINV_D = (1.637067800, 3.543889200, 1.0)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_ERFC_ZERO = 27.0  # erfc(x) < 1e-318 beyond this: 0 in float64


def _polyval(coefficients: tuple[float, ...], x: np.ndarray) -> np.ndarray:
    """Horner's rule, highest power first (a loop over the coefficients, not the elements)."""
    return _horner(coefficients, x)


def _horner(coefficients: tuple[float, ...], x: np.ndarray) -> np.ndarray:
    """c_0 x^n + ... + c_n by Horner's rule, highest power first, in place in one buffer (fast path: four
    times faster than a new array per step on 100k elements; the same two roundings per step)."""
    if len(coefficients) == 1:
        return np.full_like(x, coefficients[0])
    result = np.multiply(x, coefficients[0], dtype=x.dtype)
    result += coefficients[1]
    for c in coefficients[2:]:
        result *= x
        result += c
    return cast("np.ndarray", result)


def _exp_minus_square(x: np.ndarray) -> np.ndarray:
    """exp(-x^2) for x >= 0 without the rounding of x^2 amplified by exp (Cephes' expx2):
    x = m + f with m a multiple of 1/128, so m^2 is exact and exp(-x^2) = exp(-m^2) exp(-(2mf + f^2))."""
    m = np.floor(128.0 * x + 0.5) / 128.0
    f = x - m
    return np.exp(-m * m) * np.exp(-(2.0 * m * f + f * f))


def _erf_central(x: np.ndarray) -> np.ndarray:
    """erf(x) for |x| <= 1: x T(x^2) / U(x^2)."""
    z = x * x
    return cast("np.ndarray", x * _polyval(_ERF_T, z) / _polyval(_ERF_U, z))


def _erfc_scaled(x: np.ndarray) -> np.ndarray:
    """e^{x^2} erfc(x) for x >= 1: P(x)/Q(x) below 8, R(x)/S(x) above (it never underflows)."""
    return cast("np.ndarray", np.where(x < 8.0, _polyval(_ERFC_P, x) / _polyval(_ERFC_Q, x),
                                       _polyval(_ERFC_R, x) / _polyval(_ERFC_S, x)))


def _erfc_positive(x: np.ndarray) -> np.ndarray:
    """erfc(x) for x >= 1: exp(-x^2) times the scaled erfc; 0 from 27 on."""
    t = np.minimum(x, _ERFC_ZERO)
    return np.where(x >= _ERFC_ZERO, 0.0, _exp_minus_square(t) * _erfc_scaled(t))


def _log_erfc(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """log erfc(x) for x >= 0, and its derivative -2/sqrt(pi) e^{-x^2} / erfc(x), without underflow."""
    near, far = np.minimum(x, 1.0), np.maximum(x, 1.0)
    erfc_near = 1.0 - _erf_central(near)
    value = np.where(x < 1.0, np.log(erfc_near), -far * far + np.log(_erfc_scaled(far)))
    slope = -_TWO_OVER_SQRT_PI * np.where(x < 1.0, _exp_minus_square(near) / erfc_near, 1.0 / _erfc_scaled(far))
    return value, slope


def erfc(x: np.ndarray) -> np.ndarray:
    r"""erfc(x) = 1 - erf(x), to full relative precision where it is small (x >> 1)."""
    x = np.asarray(x, dtype=np.float64)
    ax = np.abs(x)
    tail = _erfc_positive(np.maximum(ax, 1.0))
    return np.where(ax < 1.0, 1.0 - _erf_central(np.clip(x, -1.0, 1.0)), np.where(x < 0, 2.0 - tail, tail))


def log_ndtr(z: np.ndarray) -> np.ndarray:
    """log Φ(z) = log(erfc(-z / sqrt(2)) / 2), also where Φ(z) underflows (z < -38), and as
    log1p(-erfc(z / sqrt(2)) / 2) for z > 0, where Φ(z) rounds to 1 but its log does not vanish."""
    x = -np.asarray(z, dtype=np.float64) / math.sqrt(2.0)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        lower = _log_erfc(np.clip(x, 0.0, 1e100))[0] - math.log(2.0)
        upper = np.log1p(-0.5 * erfc(-x))
    return np.where(x == np.inf, -np.inf, np.where(x >= 0, lower, upper))


def _halley(x: np.ndarray, residual: np.ndarray) -> np.ndarray:
    """One Halley step for f(x) = erf(x) - y: f' = 2/sqrt(pi) e^{-x^2} and f''/f' = -2x, so
    x - (f/f') / (1 - (f/f') f''/(2f')) = x - t / (1 + x t), t = f/f'."""
    t = residual / (_TWO_OVER_SQRT_PI * _exp_minus_square(np.abs(x)))
    return x - t / (1.0 + x * t)


def _erfinv_central(y: np.ndarray) -> np.ndarray:
    """erfinv(y) for |y| <= 1/2: torch's rational guess, then two Halley steps on erf(x) = y."""
    z = y * y
    x = y * _polyval(_ERFINV_A, z) / _polyval(_ERFINV_B, z)
    for _ in range(2):
        x = _halley(x, _erf_central(np.clip(x, -1.0, 1.0)) - y)
    return cast("np.ndarray", x)


def _erfcinv_small(log_c: np.ndarray) -> np.ndarray:
    """erfcinv(c) for 0 <= c <= 1/2 (x >= 0.47), from log c: torch's tail guess, then Newton steps on
    g(x) = log erfc(x) - log c (slope about -2x: nearly linear, so it converges for any c > 0, even one
    that underflows, and keeps full relative precision where erf(x) = 1 - c would not)."""
    with np.errstate(invalid="ignore", over="ignore"):
        z = np.sqrt(math.log(2.0) - log_c)
        x = _polyval(_ERFINV_C, z) / _polyval(_ERFINV_D, z)
        x = np.where(np.isfinite(x), x, 1.0)
        for _ in range(3):
            value, slope = _log_erfc(x)
            step = (value - log_c) / slope
            x = np.where(np.isfinite(step), x - step, x)
    return np.where(log_c == -np.inf, np.inf, np.where(log_c <= math.log(0.5), x, np.nan))


def erfinv(y: np.ndarray) -> np.ndarray:
    r"""The inverse of erf on [-1, 1] (±inf at ±1, NaN outside), elementwise in float64."""
    y = np.asarray(y, dtype=np.float64)
    ay = np.abs(y)
    central = ay <= 0.5
    x_central = _erfinv_central(np.where(central, y, 0.0))
    # erfinv(y) = sign(y) erfcinv(1 - |y|), and 1 - |y| is exact for 1/2 <= |y| <= 1 (Sterbenz)
    with np.errstate(divide="ignore"):
        x_tail = np.copysign(_erfcinv_small(np.log(np.where(central | (ay > 1), 0.5, 1.0 - ay))), y)
    return np.where(ay > 1, np.nan, np.where(central, x_central, x_tail))


def erfcinv(c: np.ndarray, log_c: np.ndarray | None = None) -> np.ndarray:
    r"""The inverse of erfc on [0, 2] (+inf at 0, -inf at 2, NaN outside), elementwise in float64; ``log_c``
    (log c, if known) keeps a c that underflows to 0 apart. erfcinv(c) = -erfcinv(2 - c) for c > 1, and
    erfcinv(c) = erfinv(1 - c) for 1/2 <= c <= 1, each difference exact (Sterbenz)."""
    c = np.asarray(c, dtype=np.float64)
    upper = c > 1.0
    d = np.where(upper, 2.0 - c, c)
    central = d >= 0.5
    x_central = _erfinv_central(np.where(central, 1.0 - d, 0.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        log_d = np.log(np.where(central | (d < 0), 0.5, d))
    if log_c is not None:
        log_d = np.where(upper | central, log_d, log_c)
    x = np.where(central, x_central, _erfcinv_small(log_d))
    return np.where((c < 0) | (c > 2) | np.isnan(c), np.nan, np.where(upper, -x, x))
