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

    def _to_dtype(self, dtype: np.dtype) -> None:
        """Cast the data and the gradient to ``dtype`` (``Module.to``)."""
        self.data = self.data.astype(dtype)
        self.grad = None if self._grad is None else self._grad.astype(dtype)

    def __repr__(self) -> str:
        return f"Parameter containing:\n{self.data!r}"


def uninitialized_error(what: str) -> RuntimeError:
    """torch's error for reading the ``what`` (shape, data, ...) of an uninitialized parameter."""
    return RuntimeError(f"Can't access the {what} of an uninitialized parameter or buffer. This error usually "
                        "happens in `load_state_dict` when trying to load an uninitialized parameter into an "
                        "initialized one. Call `forward` to initialize the parameters before accessing their "
                        "attributes.")


class UninitializedTensorMixin:
    """What an uninitialized parameter and an uninitialized buffer share, as torch's mixin of that name: no
    data, so ``shape``, ``ndim`` and ``size`` raise torch's error; only the ``dtype`` is kept (``Module.to``
    changes it) for the array it becomes."""

    _dtype: np.dtype

    @property
    def shape(self) -> tuple[int, ...]:
        raise uninitialized_error("shape")

    @property
    def dtype(self) -> np.dtype:
        return self._dtype

    @property
    def ndim(self) -> int:
        raise uninitialized_error("ndim")

    @property
    def size(self) -> int:
        raise uninitialized_error("size")

    def _to_dtype(self, dtype: np.dtype) -> None:
        self._dtype = np.dtype(dtype)

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"


class UninitializedParameter(UninitializedTensorMixin, Parameter):
    r"""A parameter whose shape is not known yet: a lazy module's (``LazyLinear``, ``LazyConv2d``, ...) until
    its first forward (or a ``load_state_dict``) calls ``materialize``, which makes it a plain ``Parameter``,
    as torch's ``UninitializedParameter`` (``cls_to_become``).

    It holds no data: reading ``data`` or ``shape`` (or ``ndim``, ``size``, the array itself) raises
    ``RuntimeError`` with torch's message; only its ``dtype`` (changed by ``Module.to``) and ``requires_grad``
    are kept for the parameter it becomes.
    """

    cls_to_become = Parameter

    def __init__(self, requires_grad: bool = True, dtype: Any = None) -> None:
        dtype = np.dtype(np.float32 if dtype is None else dtype)
        if not np.issubdtype(dtype, np.floating):
            raise TypeError(f"UninitializedParameter: expected a floating-point dtype, got {dtype}")
        self._dtype = dtype
        self._grad = None
        self.requires_grad = bool(requires_grad)

    def materialize(self, shape: tuple[int, ...], dtype: Any = None) -> None:
        """Become a ``Parameter`` of ``shape`` (uninitialized memory, as torch's ``torch.empty``) and of this
        parameter's dtype or ``dtype``; the caller initializes it (a lazy module's ``reset_parameters``)."""
        dtype = self._dtype if dtype is None else np.dtype(dtype)
        del self._dtype
        self.__class__ = self.cls_to_become  # type: ignore[assignment]
        self.data = np.empty(tuple(int(s) for s in shape), dtype=dtype)

    @property
    def data(self) -> np.ndarray:
        raise uninitialized_error("data")

    @data.setter
    def data(self, value: Any) -> None:
        raise RuntimeError("UninitializedParameter: cannot assign data to an uninitialized parameter; call "
                           "materialize(shape) first (a lazy module does at its first forward)")

    @property
    def grad(self) -> None:
        return None

    @grad.setter
    def grad(self, grad: Any) -> None:
        if grad is not None:
            raise RuntimeError("UninitializedParameter: cannot assign a gradient to an uninitialized parameter")

    def numpy(self) -> np.ndarray:
        raise uninitialized_error("data")

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        raise ValueError("Attempted to use an uninitialized parameter. This error happens when you are using a "
                         "`LazyModule` or explicitly manipulating `scratch.nn.UninitializedParameter` objects. "
                         "When using LazyModules call `forward` with a dummy batch to initialize the parameters "
                         "first")

    def accumulate_grad(self, grad: np.ndarray, *, fresh: bool = False) -> None:
        raise uninitialized_error("gradient")



class UninitializedBuffer(UninitializedTensorMixin):
    r"""A buffer whose shape is not known yet: a lazy normalization's ``running_mean`` / ``running_var``
    (``LazyBatchNorm1d``, ...) until its first forward (or a ``load_state_dict``), as torch's
    ``UninitializedBuffer``. It holds no data: reading ``data``, ``shape``, ``ndim`` or ``size`` (or the array
    itself) raises torch's error; only its ``dtype`` (changed by ``Module.to``) is kept.

    A buffer is a plain ``np.ndarray``, which cannot change its class in place as torch's tensor does:
    ``materialize(shape)`` returns the new array and the owner puts it in place of this object
    (``LazyModuleMixin`` and ``load_state_dict`` do, through ``Module._materialize``).
    """

    def __init__(self, requires_grad: bool = False, dtype: Any = None, persistent: bool = True) -> None:
        dtype = np.dtype(np.float32 if dtype is None else dtype)
        if not np.issubdtype(dtype, np.floating):
            raise TypeError(f"UninitializedBuffer: expected a floating-point dtype, got {dtype}")
        self._dtype: np.dtype[Any] = dtype
        self.requires_grad = bool(requires_grad)
        self.persistent = bool(persistent)

    def materialize(self, shape: tuple[int, ...], dtype: Any = None) -> np.ndarray:
        """A new array of ``shape`` (uninitialized memory, as torch's ``torch.empty``) and of this buffer's dtype
        or ``dtype``, to take this object's place; the caller initializes it."""
        return np.empty(tuple(int(s) for s in shape), dtype=self._dtype if dtype is None else np.dtype(dtype))

    @property
    def data(self) -> np.ndarray:
        raise uninitialized_error("data")

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        raise ValueError("Attempted to use an uninitialized buffer. This error happens when you are using a "
                         "`LazyModule` or explicitly manipulating `scratch.nn.UninitializedBuffer` objects. When "
                         "using LazyModules call `forward` with a dummy batch to initialize the buffers first")



def uninitialized_like(value: UninitializedParameter | UninitializedBuffer) -> UninitializedParameter | \
        UninitializedBuffer:
    """A fresh uninitialized parameter or buffer of ``value``'s kind and dtype (a lazy module's state_dict entry)."""
    if isinstance(value, UninitializedBuffer):
        return UninitializedBuffer(value.requires_grad, value.dtype, value.persistent)
    return UninitializedParameter(value.requires_grad, value.dtype)


def is_lazy(param: Any) -> bool:
    """Whether ``param`` is an ``UninitializedParameter`` or ``UninitializedBuffer`` (torch's
    ``torch.nn.parameter.is_lazy``)."""
    return isinstance(param, (UninitializedParameter, UninitializedBuffer))


def zero_grads(params: Iterable[Parameter], set_to_none: bool = True) -> None:
    """Reset every gradient: to None (torch's default), or to zeros in place.

    A plain ``Parameter``'s ``_grad`` is read and set directly: what its ``grad`` property and setter do
    with None, without their calls (a subclass's property, an ``UninitializedParameter``'s, is used)."""
    for param in params:
        plain = type(param) is Parameter
        grad = param._grad if plain else param.grad
        if grad is None:
            continue
        if not set_to_none:
            grad.fill(0)
        elif plain:
            param._grad = None
        else:
            param.grad = None
