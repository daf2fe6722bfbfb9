"""Shared boundary checks: each raises an error that names the module and gives the expected and received value.

The rules: inputs are ``np.ndarray`` (anything else is a TypeError, as torch refuses non-tensors); float
modules take floating arrays only (an int or bool array is a TypeError: scratch has no type promotion, so
where torch computes ReLU on ints, scratch refuses them); sizes are non-negative ints (ValueError); a dim
out of range is an ``AxisError``, both the IndexError torch raises and a ValueError.
"""

from __future__ import annotations

import numbers
from typing import Any, cast

import numpy as np

__all__ = ["check_array", "check_device", "check_dim", "check_float", "check_input_kind", "check_size"]


def check_array(owner: str, what: str, value: Any) -> np.ndarray:
    """``value`` itself if it is an ndarray (or a NumPy scalar, NumPy's 0-d value), else TypeError naming it."""
    if not isinstance(value, (np.ndarray, np.generic)):
        raise TypeError(f"{owner}: expected {what} to be a numpy.ndarray, got {type(value).__name__}; "
                        "convert it with np.asarray")
    return cast("np.ndarray", value)  # a NumPy scalar is used as a 0-d array


def check_float(owner: str, what: str, value: Any) -> np.ndarray:
    """``value`` if it is a floating ndarray (float16, float32, float64, ...), else TypeError naming its dtype."""
    check_array(owner, what, value)
    if not np.issubdtype(value.dtype, np.floating):
        raise TypeError(f"{owner}: expected {what} of a floating-point dtype (float32 or float64), got dtype "
                        f"{value.dtype}; convert it with .astype(np.float32)")
    return cast("np.ndarray", value)


def check_input_kind(owner: str, kind: str | None, args: tuple[Any, ...]) -> None:
    """The positional inputs of a layer whose ``_input_kind`` is ``kind``: "float" (the first a floating
    ndarray), "loss" (every one an ndarray, the first floating), "array" (the first any ndarray), "index"
    (likewise: the layer checks its integers itself), or None (no check: containers, user modules)."""
    if kind is None or not args:
        return
    if kind in ("float", "loss"):
        check_float(owner, "input", args[0])
    else:
        check_array(owner, "input", args[0])
    if kind == "loss":
        for position, arg in enumerate(args[1:], start=2):
            check_array(owner, f"argument {position} (the target)" if position == len(args) else
                        f"argument {position}", arg)


def check_size(owner: str, name: str, value: Any, minimum: int = 0) -> int:
    """A size argument: an int >= ``minimum``, else ValueError (TypeError for a non-integer)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{owner}: {name} must be an int, got {type(value).__name__} {value!r}")
    if value < minimum:
        raise ValueError(f"{owner}: {name} must be >= {minimum}, got {value}")
    return int(value)


def check_dim(owner: str, name: str, dim: int, ndim: int) -> int:
    """``dim`` of an ``ndim``-D input, made non-negative; out of range: torch's message, as an AxisError
    (an IndexError like torch's and a ValueError like scratch's other shape errors)."""
    low, high = (-ndim, ndim - 1) if ndim > 0 else (-1, 0)  # a 0-d input takes dim 0 or -1, as in torch
    if not low <= dim <= high:
        raise np.exceptions.AxisError(f"{owner}: {name} out of range (expected to be in range of [{low}, {high}], "
                                      f"but got {dim}) for a {ndim}-D input")
    return dim % max(ndim, 1)


def check_device(owner: str, device: Any) -> None:
    """``device=`` of a constructor that mirrors torch's signature: None or the CPU (scratch runs on NumPy only)."""
    if device is not None and str(device) != "cpu":
        raise ValueError(f"{owner}: scratch runs on the CPU only, got device={device!r}")
