"""Piecewise activations: Threshold, Hardshrink, Hardsigmoid, Hardswish and RReLU, as pure
``op_forward -> (out, cache)`` / ``op_backward(dout, cache)`` pairs.

Each is elementwise. At a kink the gradient is torch's one-sided choice (each docstring says which), and
at a NaN input it is what torch's vectorized CPU kernel gives (its scalar tail, used for the last few
elements of an array, can differ there). ``inplace=True`` writes y into x and returns x, as torch's in-place
variants do; the cache then keeps what the backward needs, never the overwritten x.
"""

from __future__ import annotations

from typing import NamedTuple, cast

import numpy as np

from ...random import get_rng

__all__ = [
    "hardshrink_backward", "hardshrink_forward", "hardsigmoid_backward", "hardsigmoid_forward",
    "hardswish_backward", "hardswish_forward", "rrelu_backward", "rrelu_forward", "threshold_backward",
    "threshold_forward",
]

#: torch's hardsigmoid_backward multiplies by 1/6 rounded to float32, in float64 too (matched)
HARDSIGMOID_SLOPE = float(np.float32(1.0 / 6.0))


def _into(x: np.ndarray, out: np.ndarray, inplace: bool) -> np.ndarray:
    """``out``, written into x when ``inplace`` (torch's in-place variant): the caller's array changes."""
    if not inplace:
        return out
    x[...] = out
    return x


# ----------------------------------------------------------------------------------------- Threshold
def threshold_forward(x: np.ndarray, threshold: float, value: float,
                      inplace: bool = False) -> tuple[np.ndarray, np.ndarray]:
    r"""y = x if x > threshold else value (torch's test is x <= threshold, so a NaN x passes through).

    Shape: x (*) -> y (*). The cache is the mask of elements that passed (x > threshold, or NaN)."""
    dt = x.dtype.type
    replaced = x <= dt(threshold)
    out = np.where(replaced, dt(value), x)
    return _into(x, out, inplace), ~replaced


def threshold_backward(dout: np.ndarray, passed: np.ndarray) -> np.ndarray:
    r"""dL/dx = dL/dy where x > threshold (or x is NaN), else 0; 0 at x = threshold."""
    return np.where(passed, dout, 0).astype(dout.dtype, copy=False)


# ---------------------------------------------------------------------------------------- Hardshrink
def hardshrink_forward(x: np.ndarray, lambd: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    r"""y = x where |x| > lambd, else 0 (+0.0, also for x = -0.0; a NaN x gives NaN, as torch).

    Shape: x (*) -> y (*). The cache is the mask |x| > lambd (False at NaN)."""
    lam = x.dtype.type(lambd)
    kept = (x > lam) | (x < -lam)
    inside = (x >= -lam) & (x <= lam)
    return np.where(inside, x.dtype.type(0), x), kept


def hardshrink_backward(dout: np.ndarray, kept: np.ndarray) -> np.ndarray:
    r"""dL/dx = dL/dy where |x| > lambd, else 0: 0 at both kinks ±lambd, and at NaN (torch's vectorized kernel)."""
    return np.where(kept, dout, 0).astype(dout.dtype, copy=False)


# ----------------------------------------------------------------------------- Hardsigmoid, Hardswish
def hardsigmoid_forward(x: np.ndarray, inplace: bool = False) -> tuple[np.ndarray, np.ndarray]:
    r"""y = min(max(x + 3, 0), 6) / 6, that is 0 for x <= -3, 1 for x >= 3, x / 6 + 1/2 between.

    Shape: x (*) -> y (*). The cache is the mask -3 < x < 3."""
    dt = x.dtype.type
    middle = (x > dt(-3)) & (x < dt(3))
    out = np.minimum(np.maximum(x + dt(3), dt(0)), dt(6)) / dt(6)  # maximum/minimum keep a NaN, as torch
    return _into(x, out, inplace), middle


def hardsigmoid_backward(dout: np.ndarray, middle: np.ndarray) -> np.ndarray:
    r"""dL/dx = dL/dy / 6 where -3 < x < 3, else 0 (0 at both kinks and at NaN). torch multiplies by 1/6
    rounded to float32 in every dtype; so does this one."""
    return np.where(middle, dout * dout.dtype.type(HARDSIGMOID_SLOPE), 0).astype(dout.dtype, copy=False)


def hardswish_forward(x: np.ndarray, inplace: bool = False) -> tuple[np.ndarray, np.ndarray]:
    r"""y = x min(max(x + 3, 0), 6) / 6: 0 for x <= -3, x for x >= 3 (rounded as x * 6 / 6, as torch),
    x (x + 3) / 6 between; -inf gives NaN (-inf * 0), as torch.

    Shape: x (*) -> y (*). The cache is x (a copy when in place)."""
    dt = x.dtype.type
    saved = x.copy() if inplace else x
    with np.errstate(invalid="ignore"):  # -inf * 0 = NaN, silently, as torch
        out = x * np.minimum(np.maximum(x + dt(3), dt(0)), dt(6)) / dt(6)
    return _into(x, out, inplace), saved


def hardswish_backward(dout: np.ndarray, x: np.ndarray) -> np.ndarray:
    r"""dL/dx = 0 for x <= -3, dL/dy for x >= 3, dL/dy (x / 3 + 1/2) between. At the kinks torch's
    vectorized kernel gives 0 at x = -3 and dL/dy at x = 3 (both one-sided limits), and NaN at NaN."""
    dt = x.dtype.type
    middle = dout * (x / dt(3) + dt(0.5))
    return np.where(x <= dt(-3), dt(0), np.where(x >= dt(3), dout, middle)).astype(dout.dtype, copy=False)


# ---------------------------------------------------------------------------------------------- RReLU
class RReLUCache(NamedTuple):
    """What ``rrelu_backward`` needs: the slope each element was multiplied by."""

    noise: np.ndarray | None  #: training: 1 where x > 0 (or NaN), the drawn slope where x <= 0; None in eval
    x: np.ndarray | None  #: eval: x (a copy when in place), for the sign test; None in training
    slope: float  #: eval: the mean slope (lower + upper) / 2


def check_rrelu_bounds(lower: float, upper: float, owner: str = "RReLU") -> None:
    """torch's check (a RuntimeError there), made when the module runs, as torch's."""
    if lower > upper:
        raise ValueError(f"{owner}: Lower bound should be less than or equal to the upper bound, got "
                         f"lower={lower} > upper={upper}")


def rrelu_forward(x: np.ndarray, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False,
                  inplace: bool = False, *, rng: np.random.Generator | None = None) -> tuple[np.ndarray, RReLUCache]:
    r"""Randomized leaky ReLU. Training: y = x where x > 0, else r x with r ~ U(lower, upper) drawn per element
    (from ``rng`` or scratch's generator, in float64, then rounded to x's dtype, as torch draws a double);
    a NaN x passes with slope 1. Eval: y = x if x > 0 else a x with the mean slope a = (lower + upper) / 2.

    Shape: x (*) -> y (*)."""
    check_rrelu_bounds(lower, upper)
    dt = x.dtype.type
    slope = (lower + upper) / 2
    if not training:
        saved = x.copy() if inplace else x
        out = np.where(x > 0, x, x * dt(slope))
        return _into(x, out, inplace), RReLUCache(None, saved, slope)
    draws = get_rng(rng).uniform(lower, upper, size=x.shape).astype(x.dtype)
    noise = np.where(x <= 0, draws, dt(1))
    out = np.where(x <= 0, x * noise, x)
    return _into(x, out, inplace), RReLUCache(noise, None, slope)


def rrelu_backward(dout: np.ndarray, cache: RReLUCache) -> np.ndarray:
    r"""Training: dL/dx = dL/dy * noise (the drawn slope where x <= 0, so also at x = 0; 1 where x > 0).
    Eval: dL/dx = dL/dy where x > 0, else a dL/dy (a at x = 0 and at NaN, as torch's leaky_relu)."""
    if cache.noise is not None:
        return cast("np.ndarray", dout * cache.noise)
    return np.where(cast("np.ndarray", cache.x) > 0, dout, dout * dout.dtype.type(cache.slope))  # kept in eval
