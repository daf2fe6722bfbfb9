"""A module's dtype: the constructors' default (float32, as torch's), the check that a module with parameters
takes inputs of their dtype only, and ``Module.to``'s cast (what ``Module._check_input_dtype``/``to`` run)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..parameter import UninitializedBuffer
from ._checks import check_input_kind

if TYPE_CHECKING:
    from .module import Module

DEFAULT_DTYPE = np.dtype(np.float32)  # torch's default dtype


def resolve_dtype(dtype: Any) -> np.dtype:
    """The floating NumPy dtype a constructor's ``dtype=`` names (None: float32)."""
    resolved = DEFAULT_DTYPE if dtype is None else np.dtype(dtype)
    if not np.issubdtype(resolved, np.floating):
        raise TypeError(f"expected a floating-point dtype, got {resolved}")
    return resolved


def _plain_float_arrays(kind: str | None, args: tuple[Any, ...]) -> bool:
    """Whether the inputs pass ``check_input_kind`` at a glance: the fast path of ``Module.__call__``.

    True when a "float" layer's first input is exactly an ``np.ndarray`` (no subclass, no NumPy scalar)
    of a floating dtype (kind 'f'), and for a "loss" also every other input is exactly an ndarray. Such
    inputs are among those ``check_input_kind`` accepts, so skipping its ``isinstance`` and ``issubdtype``
    calls (which show on small inputs) changes nothing but the time; every other input, and every other
    kind, goes through the full check and gets its error. The dtype check against the parameters runs
    either way.
    """
    if kind not in ("float", "loss") or not args or type(args[0]) is not np.ndarray or args[0].dtype.kind != "f":
        return False
    return kind == "float" or all(type(arg) is np.ndarray for arg in args[1:])


def check_input_dtype(module: Module, args: tuple[Any, ...]) -> None:
    """The inputs ``_input_kind`` asks for; a module that owns parameters takes its own dtype only, like torch.

    Fast path, the same errors: the two common calls that ``_plain_float_arrays`` accepts, a "float" module's
    single plain float input and a "loss" module's plain float input and plain target, are recognized here,
    without that function's call and generator; and a module without parameters whose class keeps
    ``Module._own_dtype`` (``_base_input_check``) has no dtype to compare, so that method is not called."""
    kind = module._input_kind
    first = args[0] if args else None
    plain = type(first) is np.ndarray and first.dtype.kind == "f" and (
        (kind == "float" and len(args) == 1) or (kind == "loss" and len(args) == 2 and type(args[1]) is np.ndarray))
    if not plain and not _plain_float_arrays(kind, args):
        check_input_kind(type(module).__name__, kind, args)
    if module._base_input_check and not module._parameters:  # Module's _own_dtype would say None
        return
    dtype = module._own_dtype()
    if dtype is None or kind == "index":  # indices (Embedding): no float dtype
        return
    for arg in args:
        if isinstance(arg, np.ndarray) and arg.dtype != dtype:
            hint = f" or call .to(np.{arg.dtype}) on the module" if arg.dtype.kind == "f" else ""
            raise TypeError(f"{type(module).__name__}: expected input of dtype {dtype} (the dtype of its "
                            f"parameters), got {arg.dtype}; convert the input{hint}")


def cast_to(module: Module, dtype: Any) -> None:
    """Cast every floating parameter, gradient and buffer of ``module`` and its descendants to ``dtype``, in place."""
    target = np.dtype(dtype)
    if not np.issubdtype(target, np.floating):
        raise TypeError(f"{type(module).__name__}.to only accepts floating point dtypes, "
                        f"but got desired dtype={target}")
    for sub in module.modules():
        for param in sub._parameters.values():
            if param is not None and np.issubdtype(param.dtype, np.floating):
                param._to_dtype(target)  # an UninitializedParameter keeps the dtype for its materialization
        for name, buf in sub._buffers.items():
            if isinstance(buf, UninitializedBuffer):  # it keeps the dtype for its materialization
                buf._to_dtype(target)
            elif buf is not None and np.issubdtype(buf.dtype, np.floating):
                sub._buffers[name] = buf.astype(target)
