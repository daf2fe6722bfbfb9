"""The base classes of every loss module: ``loss = criterion(input, target)``, then
``dinput = criterion.backward(grad=None)``. Losses have no parameters: they accept any float dtype and keep it.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from ...functional.loss import check_reduction
from ..module import Module


def _legacy_reduction(size_average: bool | None, reduce: bool | None) -> str:
    """torch's mapping of the deprecated ``size_average``/``reduce`` flags onto ``reduction``."""
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    if not reduce:
        return "none"
    return "mean" if size_average else "sum"


@functools.cache
def _one(dtype: np.dtype) -> np.ndarray:
    """dL/dL = 1 for a scalar loss: one read-only array per dtype, not a new one per backward."""
    one = np.ones((), dtype=dtype)
    one.flags.writeable = False
    return one


class _Loss(Module):
    # torch's quirk, matched: a loss has no extra_repr (CrossEntropyLoss(reduction='sum') prints CrossEntropyLoss())
    _input_kind = "loss"  # every argument an ndarray, the first (the input) floating: see ``_checks``

    def __init__(self, size_average: bool | None = None, reduce: bool | None = None,
                 reduction: str = "mean") -> None:
        super().__init__()
        if size_average is not None or reduce is not None:
            reduction = _legacy_reduction(size_average, reduce)
        self.reduction = check_reduction(reduction, type(self).__name__)

    def forward(self, input: np.ndarray, target: np.ndarray) -> np.ndarray:
        raise NotImplementedError(f'Module [{type(self).__name__}] is missing the required "forward" function')

    def _upstream(self, grad: Any) -> tuple[np.ndarray, Any]:
        """dL/dloss as an array of the loss's shape and dtype (1 for a scalar loss), and the cache."""
        if self._cache is None or self._output_meta is None:
            raise RuntimeError(f"{type(self).__name__}.backward called before forward")
        shape, dtype = self._output_meta
        if grad is None:
            if shape != ():
                raise RuntimeError(f"{type(self).__name__}.backward: grad can be implicitly created only for a "
                                   f"scalar loss; with reduction='none' pass a gradient of shape {shape}")
            grad = _one(dtype)
        elif not isinstance(grad, np.ndarray):
            grad = np.asarray(grad, dtype=dtype)  # a Python number: take the loss's dtype
        return grad, self._saved(grad)

class _WeightedLoss(_Loss):
    def __init__(self, weight: np.ndarray | None = None, size_average: bool | None = None,
                 reduce: bool | None = None, reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", _copy(weight))


def _copy(value: np.ndarray | None) -> np.ndarray | None:
    return None if value is None else np.array(value, copy=True)
