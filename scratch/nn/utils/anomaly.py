"""Anomaly mode: stop at the first module whose output or gradient is not finite, like
``torch.autograd.detect_anomaly``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

if TYPE_CHECKING:
    from ..modules.module import Module

__all__ = ["AnomalyError", "detect_anomaly", "is_anomaly_enabled"]


class AnomalyError(FloatingPointError):
    """A module produced a NaN or an infinity while anomaly mode was on."""


class _Mode:
    enabled = False
    names: ClassVar[dict[int, str]] = {}  # id(module) -> its dotted path in the model given to detect_anomaly


def is_anomaly_enabled() -> bool:
    return _Mode.enabled


@contextmanager
def detect_anomaly(model: Module | None = None) -> Iterator[None]:
    """Within this block every module's forward output and backward gradients are checked.

    The first module whose output, input gradient or parameter gradient holds a NaN or an infinity
    raises :class:`AnomalyError`, naming the module (and its path inside ``model``, if given) and
    what was not finite. torch's anomaly mode checks only for NaN in backward; this one checks for
    any non-finite value in both directions, since an infinity is where most NaNs start.

    The mode is process-wide (torch's is per thread) and nests: leaving a block restores the mode
    that was in force before it.

    Example::

        with detect_anomaly(model):
            loss = criterion(model(x), y)
            model.backward(criterion.backward())
    """
    previous = (_Mode.enabled, _Mode.names)
    names = {} if model is None else {id(m): name for name, m in model.named_modules() if name}
    _Mode.enabled, _Mode.names = True, {**previous[1], **names}
    try:
        yield
    finally:
        _Mode.enabled, _Mode.names = previous


def _describe(module: Module) -> str:
    path = _Mode.names.get(id(module))
    return f"{type(module).__name__}" + (f" (at '{path}')" if path else "")


def _non_finite(value: Any) -> str | None:
    """'3 NaN and 1 infinite of 12 values' for an array with any, else None."""
    if not isinstance(value, np.ndarray) or value.dtype.kind not in "fc" or np.isfinite(value).all():
        return None
    nans = int(np.isnan(value).sum())
    return f"{nans} NaN and {int(value.size - nans - np.isfinite(value).sum())} infinite of {value.size} values"


def _leaves(value: Any) -> list[np.ndarray]:
    if isinstance(value, tuple | list):
        return [leaf for item in value for leaf in _leaves(item)]
    return [value] if isinstance(value, np.ndarray) else []


def check_forward(module: Module, inputs: tuple[Any, ...], output: Any) -> None:
    """Raise if ``output`` is not finite; say so when the input already was not."""
    for index, leaf in enumerate(_leaves(output)):
        problem = _non_finite(leaf)
        if problem is None:
            continue
        bad_inputs = [i for i, x in enumerate(_leaves(inputs)) if _non_finite(x) is not None]
        cause = (f"; its input {bad_inputs[0]} was already not finite" if bad_inputs
                 else "; its inputs were all finite")
        raise AnomalyError(f"detect_anomaly: {_describe(module)} forward produced a non-finite output "
                           f"{index} ({problem}){cause}")


def check_backward(module: Module, grads: Any) -> None:
    """Raise if a gradient ``module.backward`` returned, or one of its own parameters' gradients, is not finite."""
    for index, leaf in enumerate(_leaves(grads)):
        problem = _non_finite(leaf)
        if problem is not None:
            raise AnomalyError(f"detect_anomaly: {_describe(module)} backward produced a non-finite gradient "
                               f"for input {index} ({problem})")
    for name, param in module.named_parameters(recurse=False):
        problem = _non_finite(param.grad)
        if problem is not None:
            raise AnomalyError(f"detect_anomaly: {_describe(module)} backward left a non-finite gradient in "
                               f"parameter '{name}' ({problem})")
