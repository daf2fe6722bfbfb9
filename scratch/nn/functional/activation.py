"""Activations as pure ``op_forward -> (out, cache)`` / ``op_backward(dout, cache)`` pairs.

Every op is elementwise (softmax and log_softmax, which act along ``dim``, are in ``softmax``).
Each backward returns dL/dx with x's shape and dtype (prelu's also dL/dweight).
``inplace=True`` writes y into x and returns x, as torch's in-place variants do.
"""

from __future__ import annotations

from typing import Any, NamedTuple, cast

import numpy as np

from ...special import erf

__all__ = [
    "celu_backward", "celu_forward", "elu_backward", "elu_forward", "gelu_backward", "gelu_forward",
    "hardtanh_backward", "hardtanh_forward", "leaky_relu_backward", "leaky_relu_forward",
    "mish_backward", "mish_forward", "prelu_backward",
    "prelu_forward", "relu6_backward", "relu6_forward", "relu_backward", "relu_forward", "selu_backward",
    "selu_forward", "sigmoid_backward", "sigmoid_forward", "silu_backward", "silu_forward",
    "softplus_backward", "softplus_forward", "softshrink_backward", "softshrink_forward",
    "softsign_backward", "softsign_forward", "tanh_backward", "tanh_forward",
]


#: from this many elements on, ReLU keeps a bit mask for its backward (see ``relu_backward``); below, a boolean one
RELU_BIT_MASK_MIN = 1 << 12


def relu_forward(x: np.ndarray, inplace: bool = False) -> tuple[np.ndarray, np.ndarray]:
    r"""y = max(0, x); with ``inplace`` the result overwrites x. The cache is the mask of y <= 0 (not y: an
    in-place module after it, Hardsigmoid: 0 -> 1/2, may overwrite y and its sign), in one of two forms
    that ``relu_backward`` takes: for a float input of at least ``RELU_BIT_MASK_MIN`` elements, a bit mask,
    an unsigned integer array of x's item size holding all ones where y > 0 (or NaN) and 0 where y <= 0;
    else the boolean mask of y <= 0."""
    out = np.maximum(x, 0, out=x if inplace else None)
    zeroed = out <= 0
    if out.size < RELU_BIT_MASK_MIN or out.dtype.kind != "f":
        return out, zeroed
    keep = zeroed.astype(f"u{out.itemsize}")
    keep -= 1  # 1 - 1 = 0 where y <= 0; 0 - 1 wraps to all ones elsewhere
    return out, keep


def relu_backward(dout: np.ndarray, zeroed: np.ndarray) -> np.ndarray:
    r"""dL/dx = dL/dy * [x > 0]; at x = 0 the gradient is 0, as in torch. ``zeroed`` is ``relu_forward``'s
    mask: a bit mask (all ones where the gradient passes) or the boolean mask of y <= 0.

    torch's mask is "0 where y <= 0", so at a NaN input the gradient passes on; so does this one.

    Fast paths, the values of ``np.where(zeroed, 0, dout)`` bit for bit: a bit mask is ANDed with dout's bits
    (kept bits pass, masked ones become +0.0, NaN and inf in dout included): a vectorized integer pass, 46 us
    for 256 x 1024 float32 where ``np.where`` takes ~950 us on a random mask; a boolean mask of dout's shape
    sets the masked entries of a copy of dout to 0 (0.8 instead of 1.3 us on a small array). Anything else
    (another dtype, a broadcast, a scalar) goes to ``np.where``."""
    if type(dout) is np.ndarray and type(zeroed) is np.ndarray and dout.shape == zeroed.shape:
        if zeroed.dtype.kind == "u" and dout.dtype.kind == "f" and dout.itemsize == zeroed.itemsize:
            kept: np.ndarray = np.bitwise_and(dout.view(zeroed.dtype), zeroed)
            return kept.view(dout.dtype)
        if zeroed.dtype == np.bool_:
            grad = dout.copy(order="K")
            grad[zeroed] = 0
            return grad
    if isinstance(zeroed, np.ndarray) and zeroed.dtype.kind == "u":  # a bit mask, another dtype's gradient
        zeroed = zeroed == 0
    return np.where(zeroed, 0, dout)  # a scalar, a broadcast mask: where's own rules


def sigmoid_forward(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r"""y = 1 / (1 + e^{-x})."""
    with np.errstate(over="ignore", under="ignore"):  # e^{-x} = inf (x < -88 in float32) or 0 give the limits
        out = 1 / (1 + np.exp(-x))
    return out, out.copy()  # a copy: a later in-place module may overwrite out


def sigmoid_backward(dout: np.ndarray, out: np.ndarray) -> np.ndarray:
    r"""dL/dx = dL/dy * y (1 - y), computed from the saved output y."""
    return cast("np.ndarray", dout * (1 - out) * out)


def tanh_forward(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r"""y = tanh(x)."""
    out = np.tanh(x)
    return out, out.copy()  # a copy: a later in-place module may overwrite out


def tanh_backward(dout: np.ndarray, out: np.ndarray) -> np.ndarray:
    r"""dL/dx = dL/dy * (1 - y^2), with 1 - y^2 rounded once (``_one_minus_square``)."""
    return cast("np.ndarray", dout * _one_minus_square(out))


_SPLIT = 2.0**27 + 1  # Veltkamp's splitter for float64: y = hi + lo, each half of y's 53 bits


def _one_minus_square(y: np.ndarray) -> np.ndarray:
    r"""1 - y^2 rounded once: torch's tanh_backward kernel computes it with a fused multiply-add. When y is
    near ±1 it cancels, and rounding y*y first (as ``1 - y * y`` does) changes its last bits. NumPy has no
    fma: a float32 (or float16) y is squared exactly in float64; a float64 y's square is split exactly
    into p + e (Dekker's product), 1 - p into s + t (Knuth's two-sum), and s + (t - e) is rounded once."""
    if y.dtype.itemsize < 8:
        return cast("np.ndarray", (1 - np.square(y, dtype=np.float64)).astype(y.dtype))
    c = _SPLIT * y
    hi = c - (c - y)
    lo = y - hi
    p = y * y
    e = ((hi * hi - p) + 2 * hi * lo) + lo * lo
    s = 1 - p
    return cast("np.ndarray", s + (((1 - s) - p) - e))


# ------------------------------------------------------------------ helpers shared by the pairs below
def _into(x: np.ndarray, out: np.ndarray, inplace: bool) -> np.ndarray:
    """``out``, written into x when ``inplace`` (torch's in-place variant): the caller's array changes."""
    if not inplace:
        return out
    x[...] = out
    return x


def _limits() -> np.errstate:
    """Overflow to inf and underflow to 0 in these formulas give the exact limits (torch's kernels
    compute the same infs and zeros, silently), so neither warns."""
    return np.errstate(over="ignore", under="ignore")


# ---------------------------------------------------------------------------------------- LeakyReLU
def leaky_relu_forward(x: np.ndarray, negative_slope: float = 0.01, inplace: bool = False) -> tuple[np.ndarray,
                       tuple[Any, ...]]:
    r"""y = x if x > 0 else negative_slope * x."""
    positive = x > 0  # the mask, before an in-place write (and not y: a later in-place module may change its sign)
    out = _into(x, np.where(positive, x, x * negative_slope), inplace)
    return out, (positive, negative_slope, inplace)


def leaky_relu_backward(dout: np.ndarray, cache: tuple[Any, ...]) -> np.ndarray:
    r"""dL/dx = dL/dy * (1 if x > 0 else negative_slope); at x = 0 the slope is negative_slope, as in torch.

    In place, x is gone and torch reads the sign of y instead, which needs negative_slope >= 0 (refused
    otherwise, as torch); the cache keeps the mask x > 0, which equals y > 0 then.
    """
    positive, negative_slope, is_result = cache
    if is_result and negative_slope < 0:
        raise ValueError("LeakyReLU: in-place backward with a negative slope is not supported (torch refuses it "
                         f"too); got negative_slope={negative_slope}; use inplace=False")
    return np.where(positive, dout, dout * negative_slope)


# ------------------------------------------------------------------------------------ ELU, SELU, CELU
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def _elu_forward(x: np.ndarray, alpha: float, scale: float, input_scale: float, inplace: bool) -> np.ndarray:
    """torch's one kernel for all three: y = scale x (x > 0), (e^{input_scale x} - 1) alpha scale (x <= 0)."""
    dt = x.dtype.type
    with _limits():  # e^{input_scale x} of a large x > 0 is never selected
        out = np.where(x > 0, x * dt(scale), np.expm1(x * dt(input_scale)) * (dt(alpha) * dt(scale)))
    return _into(x, out, inplace)


class ELUCache(NamedTuple):
    """What the backward of ELU, SELU and CELU needs: torch's one kernel serves all three."""

    saved: np.ndarray  #: x; or a copy of y when the forward ran in place and overwrote x
    alpha: float
    scale: float
    input_scale: float  #: c in e^{c x}: 1, or 1 / alpha (alpha rounded to float32, as torch) for CELU
    is_result: bool  #: whether ``saved`` holds y (an in-place forward) rather than x
    name: str  #: the module's name, for the in-place error


def _elu_backward(dout: np.ndarray, cache: ELUCache) -> np.ndarray:
    """From x: dout c alpha scale e^{c x}; from y (in place): dout c (y + alpha scale); dout scale where > 0."""
    saved, alpha, c = cache.saved, cache.alpha, cache.input_scale
    dt = saved.dtype.type
    negcoef = dt(alpha) * dt(cache.scale)
    if cache.is_result and alpha < 0:
        raise ValueError(f"{cache.name}: in-place backward with a negative alpha is not supported (torch refuses it "
                         f"too); got alpha={alpha}; use inplace=False")
    with _limits():
        if cache.is_result:
            negative = dout * dt(c) * (saved + negcoef)
        else:
            negative = dout * dt(c) * negcoef * np.exp(saved * dt(c))
    # at a NaN x this gives NaN, as torch's vectorized kernel does (its scalar tail passes dout on instead)
    return cast("np.ndarray", np.where(saved > 0, dout * dt(cache.scale), negative))


def elu_forward(x: np.ndarray, alpha: float = 1.0, inplace: bool = False) -> tuple[np.ndarray, ELUCache]:
    r"""y = x if x > 0 else alpha (e^x - 1)."""
    out = _elu_forward(x, alpha, 1.0, 1.0, inplace)
    return out, ELUCache(out.copy() if inplace else x, alpha, 1.0, 1.0, inplace, "ELU")


def elu_backward(dout: np.ndarray, cache: ELUCache) -> np.ndarray:
    r"""dL/dx = dL/dy if x > 0 else dL/dy alpha e^x (= dL/dy (y + alpha), from y in place); alpha at x = 0."""
    return _elu_backward(dout, cache)


def selu_forward(x: np.ndarray, inplace: bool = False) -> tuple[np.ndarray, ELUCache]:
    r"""y = scale x if x > 0 else scale alpha (e^x - 1), with torch's SELU_ALPHA and SELU_SCALE."""
    out = _elu_forward(x, SELU_ALPHA, SELU_SCALE, 1.0, inplace)
    return out, ELUCache(out.copy() if inplace else x, SELU_ALPHA, SELU_SCALE, 1.0, inplace, "SELU")


def selu_backward(dout: np.ndarray, cache: ELUCache) -> np.ndarray:
    r"""dL/dx = dL/dy scale if x > 0 else dL/dy scale alpha e^x (scale alpha at x = 0)."""
    return _elu_backward(dout, cache)


def celu_forward(x: np.ndarray, alpha: float = 1.0, inplace: bool = False) -> tuple[np.ndarray, ELUCache]:
    r"""y = x if x > 0 else alpha (e^{x / alpha} - 1); alpha = 0 is an error, as in torch."""
    if alpha == 0:
        raise ValueError("CELU: alpha cannot be 0 (it divides x)")
    out = _elu_forward(x, alpha, 1.0, 1.0 / alpha, inplace)
    # torch's backward takes 1/alpha from alpha rounded to float32 first, in every dtype
    return out, ELUCache(out.copy() if inplace else x, alpha, 1.0, 1.0 / float(np.float32(alpha)), inplace, "CELU")


def celu_backward(dout: np.ndarray, cache: ELUCache) -> np.ndarray:
    r"""dL/dx = dL/dy if x > 0 else dL/dy e^{x / alpha} (= dL/dy (y + alpha) / alpha from y); 1 at x = 0."""
    return _elu_backward(dout, cache)


# --------------------------------------------------------------------------------------------- GELU
_M_SQRT1_2 = 0.707106781186547524401  # the C library's constants, as torch's kernels use them
_M_SQRT2 = 1.41421356237309504880
_M_2_SQRTPI = 1.12837916709551257390
_GELU_KAPPA = 0.044715


def gelu_forward(x: np.ndarray, approximate: str = "none") -> tuple[np.ndarray, tuple[Any, ...]]:
    r"""y = x Phi(x) = x/2 (1 + erf(x / sqrt 2)); with approximate='tanh', y = x/2 (1 + tanh(u)),
    u = sqrt(2/pi) (x + 0.044715 x^3). The cache keeps erf(x / sqrt 2) or tanh(u) for the backward."""
    if approximate not in ("none", "tanh"):
        raise ValueError(f"GELU: approximate argument must be either 'none' or 'tanh', got {approximate!r}")
    with _limits():  # x^3 = ±inf for huge |x| gives tanh = ±1: the exact limits y = x and y = -0
        if approximate == "none":
            erf_x = erf(x * _M_SQRT1_2)
            return x * 0.5 * (1 + erf_x), (x, approximate, erf_x)
        tanh_inner = np.tanh((_M_SQRT2 * _M_2_SQRTPI * 0.5) * (x + _GELU_KAPPA * (x * x * x)))
        return 0.5 * x * (1 + tanh_inner), (x, approximate, tanh_inner)


def gelu_backward(dout: np.ndarray, cache: tuple[Any, ...]) -> np.ndarray:
    r"""dL/dx = dL/dy (Phi(x) + x phi(x)), phi(x) = e^{-x^2/2} / sqrt(2 pi); with 'tanh':
    dL/dx = dL/dy ((1 + t)/2 + x/2 (1 - t^2) sqrt(2/pi) (1 + 3 * 0.044715 x^2)), t = tanh(u)."""
    x, approximate, saved = cache
    dt = x.dtype.type
    with _limits():
        if approximate == "none":
            cdf = 0.5 * (1 + saved)
            pdf = (_M_2_SQRTPI * _M_SQRT1_2 * 0.5) * np.exp(x * x * -0.5)
            return cast("np.ndarray", dout * (cdf + x * pdf))
        beta, x_sq, tanh_inner = dt(_M_SQRT2 * _M_2_SQRTPI * 0.5), x * x, saved
        left_derivative = 0.5 * (1 + tanh_inner)
        inner_derivative = beta * (1 + 3 * dt(_GELU_KAPPA) * x_sq)
        right_derivative = 0.5 * x * (1 - tanh_inner * tanh_inner) * inner_derivative
        return cast("np.ndarray", dout * (left_derivative + right_derivative))


# -------------------------------------------------------------------------------------- SiLU, Mish
def silu_forward(x: np.ndarray, inplace: bool = False) -> tuple[np.ndarray, np.ndarray]:
    r"""y = x sigma(x) = x / (1 + e^{-x})."""
    saved = x.copy() if inplace else x
    with _limits():  # e^{-x} = inf for very negative x gives the exact limit y = -0
        return _into(x, x / (1 + np.exp(-x)), inplace), saved


def silu_backward(dout: np.ndarray, x: np.ndarray) -> np.ndarray:
    r"""dL/dx = dL/dy sigma(x) (1 + x (1 - sigma(x)))."""
    with _limits():
        sigmoid = 1 / (1 + np.exp(-x))
        return cast("np.ndarray", dout * sigmoid * (1 + x * (1 - sigmoid)))


def mish_forward(x: np.ndarray, inplace: bool = False) -> tuple[np.ndarray, np.ndarray]:
    r"""y = x tanh(softplus(x)) = x tanh(log(1 + e^x))."""
    saved = x.copy() if inplace else x
    with _limits():  # e^x = inf for large x gives tanh(inf) = 1, the exact limit y = x
        return _into(x, x * np.tanh(np.log1p(np.exp(x))), inplace), saved


def mish_backward(dout: np.ndarray, x: np.ndarray) -> np.ndarray:
    r"""dL/dx = dL/dy (t + x sigma(x) (1 - t^2)), t = tanh(softplus(x)), since softplus' = sigma."""
    with _limits():
        sigmoid = 1 / (1 + np.exp(-x))
        tanh_softplus = np.tanh(np.log1p(np.exp(x)))
        return cast("np.ndarray", dout * (tanh_softplus + x * sigmoid * (1 - tanh_softplus * tanh_softplus)))


# ---------------------------------------------------------------------------------- Softplus, Softsign
def softplus_forward(x: np.ndarray, beta: float = 1.0, threshold: float = 20.0) -> tuple[np.ndarray, tuple[Any, ...]]:
    r"""y = log(1 + e^{beta x}) / beta, and y = x where beta x > threshold (torch's linear regime)."""
    xb = x * beta
    with _limits():  # e^{beta x} past the threshold is never selected
        out = np.where(xb > x.dtype.type(threshold), x, np.log1p(np.exp(xb)) / x.dtype.type(beta))
    return out, (x, beta, threshold)


def softplus_backward(dout: np.ndarray, cache: tuple[Any, ...]) -> np.ndarray:
    r"""dL/dx = dL/dy z / (z + 1), z = e^{beta x} (that is, sigma(beta x)); dL/dy past the threshold."""
    x, beta, threshold = cache
    xb, limit = x * beta, x.dtype.type(threshold)
    with _limits():
        z = np.exp(np.minimum(xb, limit))
        return np.where(xb > limit, dout, dout * z / (z + 1))


def softsign_forward(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r"""y = x / (1 + |x|)."""
    return x / (np.abs(x) + 1), x


def softsign_backward(dout: np.ndarray, x: np.ndarray) -> np.ndarray:
    r"""dL/dx = dL/dy / (1 + |x|)^2, computed as torch's autograd does through x / d, d = |x| + 1:
    dL/dy / d - dL/dy (x / d) / d sign(x), so even where the two terms cancel the rounding is torch's."""
    d = np.abs(x) + 1
    return cast("np.ndarray", dout / d + (-dout * ((x / d) / d)) * np.sign(x))


def softshrink_forward(x: np.ndarray, lambd: float = 0.5) -> tuple[np.ndarray, tuple[Any, ...]]:
    r"""y = x - lambd where x > lambd, x + lambd where x < -lambd, else x * 0 (so -0.0 and NaN pass, as torch)."""
    lam = x.dtype.type(lambd)
    with np.errstate(invalid="ignore"):  # inf * 0 on the branches np.where does not select
        return np.where(x > lam, x - lam, np.where(x < -lam, x + lam, x * 0)), (x, lam)


def softshrink_backward(dout: np.ndarray, cache: tuple[Any, ...]) -> np.ndarray:
    r"""dL/dx = 0 where |x| <= lambd, else dL/dy (0 at both kinks; a NaN x passes dL/dy on, as torch)."""
    x, lam = cache
    return np.where(np.abs(x) <= lam, 0, dout).astype(dout.dtype, copy=False)


# --------------------------------------------------------------------------------- Hardtanh, ReLU6
def hardtanh_forward(x: np.ndarray, min_val: float = -1.0, max_val: float = 1.0,
                     inplace: bool = False) -> tuple[np.ndarray, tuple[Any, ...]]:
    r"""y = min(max(x, min_val), max_val)."""
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val cannot be greater than max_val, got {min_val} > {max_val}")
    out = np.clip(x, min_val, max_val, out=x if inplace else None)
    return out, (out.copy() if inplace else x, min_val, max_val)  # a copy: a later in-place module may overwrite out


def hardtanh_backward(dout: np.ndarray, cache: tuple[Any, ...]) -> np.ndarray:
    r"""dL/dx = dL/dy where min_val < x < max_val, else 0: 0 at both kinks, as in torch."""
    saved, min_val, max_val = cache
    # at a NaN x this gives 0, as torch's vectorized kernel does (its scalar tail passes dout on instead)
    return np.where((saved > min_val) & (saved < max_val), dout, 0)


def relu6_forward(x: np.ndarray, inplace: bool = False) -> tuple[np.ndarray, tuple[Any, ...]]:
    r"""y = min(max(0, x), 6): hardtanh on [0, 6]."""
    return hardtanh_forward(x, 0.0, 6.0, inplace)


def relu6_backward(dout: np.ndarray, cache: tuple[Any, ...]) -> np.ndarray:
    r"""dL/dx = dL/dy where 0 < x < 6, else 0 (0 at both kinks)."""
    return hardtanh_backward(dout, cache)


# -------------------------------------------------------------------------------------------- PReLU
def prelu_forward(x: np.ndarray, weight: np.ndarray) -> tuple[np.ndarray, tuple[Any, ...]]:
    r"""y = x if x > 0 else a x, with a = weight broadcast along x's dim 1 (one slope when weight has 1).

    ``weight`` has shape (1,) or (C,) with C = x.shape[1] (the caller checks, as PReLU does).
    """
    shape = [1] * x.ndim
    if x.ndim > 1:
        shape[1] = weight.size
    a = weight.reshape(shape) if x.ndim != weight.ndim else weight
    return np.where(x > 0, x, a * x), (x, a, weight.shape)


def prelu_backward(dout: np.ndarray, cache: tuple[Any, ...]) -> tuple[np.ndarray, np.ndarray]:
    r"""dL/dx = dL/dy if x > 0 else a dL/dy;  dL/da_c = sum over x's elements of channel c where x <= 0
    of x dL/dy (over all elements for a single a). Returns (dL/dx, dL/dweight)."""
    x, a, weight_shape = cache
    positive = x > 0
    grad_a = np.where(positive, 0, x * dout).sum(axis=tuple(i for i in range(x.ndim) if a.shape[i] == 1))
    return np.where(positive, dout, a * dout), np.reshape(grad_a, weight_shape)
