"""Weight initializers, mirroring ``torch.nn.init``.

Each ``*_`` function fills its argument (a ``Parameter`` or an ndarray) in place, keeping its
dtype, and returns it. Random ones draw from ``rng`` (a ``np.random.Generator``, keyword-only,
in place of torch's ``generator``) or, when it is None, from scratch's default generator
(see ``scratch.manual_seed``). Arguments, defaults and errors are torch's.
"""

from __future__ import annotations

import math
import warnings
from typing import TypeVar

import numpy as np

from ..random import get_rng
from ..special import erfcinv, log_ndtr
from .parameter import Parameter

T = TypeVar("T", Parameter, np.ndarray)

__all__ = ["calculate_gain", "constant_", "eye_", "kaiming_normal_", "kaiming_uniform_", "normal_", "ones_",
           "orthogonal_", "trunc_normal_", "uniform_", "xavier_normal_", "xavier_uniform_", "zeros_"]

_LINEAR_GAINS = {"linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
                 "conv_transpose3d", "sigmoid"}


def _array(tensor: Parameter | np.ndarray) -> np.ndarray:
    if isinstance(tensor, Parameter):
        return tensor.data
    if isinstance(tensor, np.ndarray):
        return tensor
    raise TypeError(f"nn.init: expected a Parameter or np.ndarray, got {type(tensor).__name__}")


def _float_array(tensor: Parameter | np.ndarray, name: str) -> np.ndarray:
    array = _array(tensor)
    if not np.issubdtype(array.dtype, np.floating):
        raise TypeError(f"nn.init.{name}: expected a floating-point array, got dtype {array.dtype}")
    return array


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    r"""The recommended gain for ``nonlinearity``: 1 (linear, conv, conv_transpose, sigmoid),
    5/3 (tanh), sqrt(2) (relu), sqrt(2 / (1 + a^2)) (leaky_relu with slope a, default 0.01),
    3/4 (selu). Any other name is a ValueError, as is a leaky_relu slope that is not an int
    or float (a bool included)."""
    if nonlinearity in _LINEAR_GAINS:
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, (int, float)) and not isinstance(param, bool):
            slope = param
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def _calculate_fan_in_and_fan_out(tensor: Parameter | np.ndarray) -> tuple[int, int]:
    """fan_in = size(1) * receptive field, fan_out = size(0) * receptive field, as torch."""
    shape = _array(tensor).shape
    if len(shape) < 2:
        raise ValueError("Fan in and fan out can not be computed for tensor with fewer than 2 dimensions")
    receptive_field = math.prod(shape[2:])
    return shape[1] * receptive_field, shape[0] * receptive_field


def _calculate_correct_fan(tensor: Parameter | np.ndarray, mode: str) -> int:
    mode = mode.lower()
    valid_modes = ["fan_in", "fan_out"]
    if mode not in valid_modes:
        raise ValueError(f"Mode {mode} not supported, please use one of {valid_modes}")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def _fill(tensor: T, values: np.ndarray | float) -> T:
    _array(tensor)[...] = values
    return tensor


def uniform_(tensor: T, a: float = 0.0, b: float = 1.0, *, rng: np.random.Generator | None = None) -> T:
    r"""Fill with U(a, b). a > b or a non-finite bound is a ValueError (torch: RuntimeError)."""
    shape = _float_array(tensor, "uniform_").shape
    if not (math.isfinite(a) and math.isfinite(b)):
        raise ValueError(f"nn.init.uniform_: bounds must be finite, got a={a}, b={b}")
    if a > b:
        raise ValueError(f"uniform_ expects to return a [from, to) range, but found from={a:g} > to={b:g}")
    return _fill(tensor, get_rng(rng).uniform(a, b, size=shape))


def normal_(tensor: T, mean: float = 0.0, std: float = 1.0, *, rng: np.random.Generator | None = None) -> T:
    r"""Fill with N(mean, std^2). std < 0 is a ValueError (torch: RuntimeError)."""
    shape = _float_array(tensor, "normal_").shape
    if not std >= 0.0:
        raise ValueError(f"normal expects std >= 0.0, but found std {std:g}")
    return _fill(tensor, get_rng(rng).normal(mean, std, size=shape))


def trunc_normal_(tensor: T, mean: float = 0.0, std: float = 1.0, a: float = -2.0, b: float = 2.0, *,
                  rng: np.random.Generator | None = None) -> T:
    r"""Fill with N(mean, std^2) truncated to [a, b], by inverting the normal CDF Φ:

    .. math:: x = \text{mean} + \text{std}\, Φ^{-1}(p), \quad p \sim U(Φ(α), Φ(β)),
              \quad α = (a - \text{mean}) / \text{std},\ β = (b - \text{mean}) / \text{std},

    clamped to [a, b]. This is torch's former method (``uniform_(2l - 1, 2u - 1)``, ``erfinv_``);
    torch 2.13 draws the same distribution by rejection. Written as Φ^{-1}(p) = -sqrt(2) erfcinv(2p),
    on the side of the mean nearer the interval's lower tail and with p in log space, so an interval
    in either tail, however far, keeps its precision. Warns, as torch does, when the mean is more than
    2 std outside [a, b]. Unlike torch, std <= 0 and a > b are ValueErrors (torch: ZeroDivisionError for
    0, |std| for std < 0, RuntimeError).
    """
    shape = _float_array(tensor, "trunc_normal_").shape
    if not std > 0.0:
        raise ValueError(f"nn.init.trunc_normal_: std must be positive, got {std}")
    if a > b:
        raise ValueError(f"nn.init.trunc_normal_: expected a <= b, got a={a}, b={b}")
    if (mean < a - 2 * std) or (mean > b + 2 * std):
        warnings.warn("mean is more than 2 std from [a, b] in nn.init.trunc_normal_. "
                      "The distribution of values may be incorrect.", stacklevel=2)
    alpha, beta = (a - mean) / std, (b - mean) / std
    flip = alpha + beta > 0  # sample -x on [-beta, -alpha], where the CDF values are small and exact
    if flip:
        alpha, beta = -beta, -alpha
    log_lo, log_hi = log_ndtr(np.array([alpha, beta]))
    # p = lo + u (hi - lo) = hi (rho + u (1 - rho)), rho = lo / hi
    u = get_rng(rng).uniform(size=shape)
    with np.errstate(divide="ignore"):  # u = 0 with lo = 0 gives p = 0 and z = -inf, clipped to alpha
        log_c = math.log(2.0) + log_hi + np.log(np.exp(log_lo - log_hi) - u * np.expm1(log_lo - log_hi))
    z = np.clip(-math.sqrt(2.0) * erfcinv(np.exp(log_c), log_c), alpha, beta)
    return _fill(tensor, np.clip(mean + std * (-z if flip else z), a, b))


def constant_(tensor: T, val: float) -> T:
    r"""Fill with ``val``."""
    return _fill(tensor, val)


def zeros_(tensor: T) -> T:
    r"""Fill with 0."""
    return _fill(tensor, 0.0)


def ones_(tensor: T) -> T:
    r"""Fill with 1."""
    return _fill(tensor, 1.0)


def eye_(tensor: T) -> T:
    r"""Fill a 2-D array with the identity matrix (ones on the main diagonal of a rectangle)."""
    array = _array(tensor)
    if array.ndim != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    return _fill(tensor, np.eye(*array.shape))


def xavier_uniform_(tensor: T, gain: float = 1.0, *, rng: np.random.Generator | None = None) -> T:
    r"""Fill with U(-a, a), a = gain * sqrt(2 / (fan_in + fan_out)) * sqrt(3) (Glorot & Bengio, 2010),
    computed in torch's order so the bound is the same float."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, rng=rng)


def xavier_normal_(tensor: T, gain: float = 1.0, *, rng: np.random.Generator | None = None) -> T:
    r"""Fill with N(0, std^2), std = gain * sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / float(fan_in + fan_out)), rng=rng)


def _kaiming_std(tensor: Parameter | np.ndarray, a: float, mode: str, nonlinearity: str) -> float | None:
    """gain / sqrt(fan_mode); None for a zero-element array, which torch leaves alone with a warning
    (before it validates ``mode``)."""
    if 0 in _array(tensor).shape:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=3)
        return None
    fan = _calculate_correct_fan(tensor, mode)
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def kaiming_uniform_(tensor: T, a: float = 0, mode: str = "fan_in", nonlinearity: str = "leaky_relu", *,
                     rng: np.random.Generator | None = None) -> T:
    r"""Fill with U(-b, b), b = sqrt(3) * gain / sqrt(fan_mode) (He et al., 2015); ``a`` is the
    leaky_relu slope, ``mode`` 'fan_in' or 'fan_out' (any case)."""
    std = _kaiming_std(tensor, a, mode, nonlinearity)
    if std is None:
        return tensor
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, rng=rng)


def kaiming_normal_(tensor: T, a: float = 0, mode: str = "fan_in", nonlinearity: str = "leaky_relu", *,
                    rng: np.random.Generator | None = None) -> T:
    r"""Fill with N(0, std^2), std = gain / sqrt(fan_mode)."""
    std = _kaiming_std(tensor, a, mode, nonlinearity)
    return tensor if std is None else normal_(tensor, 0.0, std, rng=rng)


def orthogonal_(tensor: T, gain: float = 1, *, rng: np.random.Generator | None = None) -> T:
    r"""Fill with a (semi-)orthogonal matrix times ``gain`` (Saxe et al., 2013); trailing
    dimensions are flattened, so the (rows, cols) view W has W W^T = gain^2 I when rows <= cols,
    else W^T W = gain^2 I. As torch: Q R = A for a standard normal A (transposed when
    rows < cols), Q's columns times sign(diag R) (which makes Q Haar-distributed), then Q^T if A
    was transposed."""
    array = _float_array(tensor, "orthogonal_")
    if array.ndim < 2:
        raise ValueError("Only tensors with 2 or more dimensions are supported")
    if array.size == 0:
        return tensor
    rows = array.shape[0]
    cols = array.size // rows
    flattened = get_rng(rng).standard_normal((rows, cols))
    if rows < cols:
        flattened = flattened.T
    q, r = np.linalg.qr(flattened)
    q *= np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    array[...] = q.reshape(array.shape)
    array *= gain  # after the copy, in the array's dtype, as torch
    return tensor
