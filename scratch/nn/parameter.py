"""``Parameter``: a learnable array and the gradient accumulated into it."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np


class Parameter:
    r"""A learnable array, registered by a ``Module`` when assigned as an attribute.

    Attributes:
        data: the values, a float ``np.ndarray`` (any shape, 0-d included).
        grad: ``None`` until the first ``backward`` that reaches this parameter,
            then an array of the same shape and dtype as ``data``. Backward passes
            accumulate into it (``+=``), as torch does; ``zero_grad`` resets it.
        requires_grad: when False the parameter is frozen: backward leaves
            ``grad`` as it is and optimizers skip it (its grad stays None).
    """

    def __init__(self, data: Any, requires_grad: bool = True) -> None:
        array = np.array(data, copy=True)
        if not np.issubdtype(array.dtype, np.floating):
            raise TypeError(f"Parameter: expected a floating-point array, got dtype {array.dtype}")
        self.data: np.ndarray = array
        self._grad: np.ndarray | None = None
        self.requires_grad = bool(requires_grad)

    @property
    def grad(self) -> np.ndarray | None:
        return self._grad

    @grad.setter
    def grad(self, grad: np.ndarray | None) -> None:
        """Assign a gradient: None, or an array of the parameter's shape and dtype, as torch checks it (an
        optimizer would otherwise broadcast a wrong-shaped gradient over every row, silently)."""
        if grad is not None:
            if not isinstance(grad, np.ndarray):
                raise TypeError(f"Parameter.grad: assigned grad expected to be a numpy.ndarray or None but got "
                                f"grad of type {type(grad).__name__}")
            if grad.shape != self.data.shape:
                raise RuntimeError(f"Parameter.grad: assigned grad has shape {grad.shape}, the parameter's is "
                                   f"{self.data.shape}")
            if grad.dtype != self.data.dtype:
                raise RuntimeError(f"Parameter.grad: assigned grad has dtype {grad.dtype}, the parameter's is "
                                   f"{self.data.dtype}")
        self._grad = grad

    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def size(self) -> int:
        return self.data.size

    def numpy(self) -> np.ndarray:
        """The underlying array (not a copy), like ``tensor.detach().numpy()``."""
        return self.data

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        if dtype is None:
            return self.data.copy() if copy else self.data
        return self.data.astype(dtype, copy=bool(copy) or dtype != self.data.dtype)

    def accumulate_grad(self, grad: np.ndarray, *, fresh: bool = False) -> None:
        """``self.grad += grad``; the first call allocates it. A frozen parameter is left alone.

        ``fresh=True`` promises that ``grad`` was made for this call and is referenced nowhere else
        (a layer's freshly computed gradient): the first call then keeps it instead of copying it.
        """
        if not self.requires_grad:
            return
        if grad.shape != self.data.shape:
            raise RuntimeError(
                f"Parameter.accumulate_grad: gradient shape {grad.shape} does not match "
                f"parameter shape {self.data.shape}"
            )
        if self._grad is None:
            keep = fresh and grad.dtype == self.data.dtype and grad.flags.writeable
            self._grad = grad if keep else np.array(grad, dtype=self.data.dtype, copy=True)
        else:
            self._grad += grad

    def __repr__(self) -> str:
        return f"Parameter containing:\n{self.data!r}"


def zero_grads(params: Iterable[Parameter], set_to_none: bool = True) -> None:
    """Reset every gradient: to None (torch's default), or to zeros in place."""
    for param in params:
        if param.grad is None:
            continue
        if set_to_none:
            param.grad = None
        else:
            param.grad.fill(0)
