"""Weight initializers, mirroring ``torch.nn.init``.

Each ``*_`` function fills its argument (a ``Parameter`` or an ndarray) in place and
returns it. Random ones draw from ``rng`` (a ``np.random.Generator``) or, when it is
None, from scratch's default generator (see ``scratch.manual_seed``).
"""

from __future__ import annotations

import math
from typing import TypeVar

import numpy as np

from ..random import get_rng
from .parameter import Parameter

T = TypeVar("T", Parameter, np.ndarray)

_LINEAR_GAINS = {"linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
                 "conv_transpose3d", "sigmoid"}


def _array(tensor: Parameter | np.ndarray) -> np.ndarray:
    return tensor.data if isinstance(tensor, Parameter) else tensor


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    r"""The recommended gain for ``nonlinearity``: 1 (linear, conv, sigmoid), 5/3 (tanh),
    sqrt(2) (relu), sqrt(2 / (1 + a^2)) (leaky_relu with slope a, default 0.01), 3/4 (selu)."""
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
    receptive_field = int(np.prod(shape[2:])) if len(shape) > 2 else 1
    return shape[1] * receptive_field, shape[0] * receptive_field


def _fill(tensor: T, values: np.ndarray | float) -> T:
    array = _array(tensor)
    array[...] = values
    return tensor


def uniform_(tensor: T, a: float = 0.0, b: float = 1.0, *, rng: np.random.Generator | None = None) -> T:
    r"""Fill with U(a, b)."""
    return _fill(tensor, get_rng(rng).uniform(a, b, size=_array(tensor).shape))


def normal_(tensor: T, mean: float = 0.0, std: float = 1.0, *, rng: np.random.Generator | None = None) -> T:
    r"""Fill with N(mean, std^2)."""
    return _fill(tensor, get_rng(rng).normal(mean, std, size=_array(tensor).shape))


def constant_(tensor: T, val: float) -> T:
    return _fill(tensor, val)


def zeros_(tensor: T) -> T:
    return _fill(tensor, 0.0)


def ones_(tensor: T) -> T:
    return _fill(tensor, 1.0)


def xavier_uniform_(tensor: T, gain: float = 1.0, *, rng: np.random.Generator | None = None) -> T:
    r"""Fill with U(-a, a), a = gain * sqrt(6 / (fan_in + fan_out)) (Glorot & Bengio, 2010)."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    bound = gain * math.sqrt(6.0 / float(fan_in + fan_out))
    return uniform_(tensor, -bound, bound, rng=rng)


def xavier_normal_(tensor: T, gain: float = 1.0, *, rng: np.random.Generator | None = None) -> T:
    r"""Fill with N(0, std^2), std = gain * sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / float(fan_in + fan_out)), rng=rng)


def _kaiming_std(tensor: Parameter | np.ndarray, a: float, mode: str, nonlinearity: str) -> float:
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode} not supported, please use one of fan_in, fan_out")
    if 0 in _array(tensor).shape:
        return 0.0
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return calculate_gain(nonlinearity, a) / math.sqrt(fan_in if mode == "fan_in" else fan_out)


def kaiming_uniform_(tensor: T, a: float = 0, mode: str = "fan_in", nonlinearity: str = "leaky_relu", *,
                     rng: np.random.Generator | None = None) -> T:
    r"""Fill with U(-b, b), b = gain * sqrt(3 / fan_mode) (He et al., 2015)."""
    bound = math.sqrt(3.0) * _kaiming_std(tensor, a, mode, nonlinearity)
    return uniform_(tensor, -bound, bound, rng=rng)


def kaiming_normal_(tensor: T, a: float = 0, mode: str = "fan_in", nonlinearity: str = "leaky_relu", *,
                    rng: np.random.Generator | None = None) -> T:
    r"""Fill with N(0, std^2), std = gain / sqrt(fan_mode)."""
    return normal_(tensor, 0.0, _kaiming_std(tensor, a, mode, nonlinearity), rng=rng)
