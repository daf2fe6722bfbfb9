"""``Module``: the bookkeeping every layer shares, so layers write only forward and backward."""

from __future__ import annotations

import functools
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import numpy as np

from ..parameter import Parameter, UninitializedBuffer, zero_grads
from ..utils import anomaly
from . import _dtype, _state_dict
from ._dtype import DEFAULT_DTYPE as DEFAULT_DTYPE  # re-exported: the layers import them from here
from ._dtype import resolve_dtype as resolve_dtype
from ._saved import private_cache, read_only
from ._state_dict import IncompatibleKeys

__all__ = ["Module"]


class _Consumed:
    """The cache after backward used it: a second backward needs a new forward. A class, so that copy.deepcopy
    and pickle keep it itself."""


def _anomaly_checked(backward: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(backward)
    def checked_backward(self: Module, *args: Any, **kwargs: Any) -> Any:
        grads = backward(self, *args, **kwargs)
        if self._cache is not None:  # used up: a second backward needs a new forward
            self.__dict__["_cache"] = _Consumed
        if _anomaly_mode.enabled:  # anomaly.is_anomaly_enabled(), without a call
            anomaly.check_backward(self, grads)
        return grads

    checked_backward.__anomaly_checked__ = True  # type: ignore[attr-defined]
    return checked_backward


_anomaly_mode = anomaly._Mode  # read on every call and backward: its flag is is_anomaly_enabled()


class Module:
    r"""Base class of every layer, loss and container.

    A layer assigns its ``Parameter``\ s and sub-``Module``\ s as attributes (they are
    registered, in assignment order, as in torch) and implements:

    - ``forward(x)``: computes the output and keeps what backward needs;
    - ``backward(grad_output)``: returns dL/dx and accumulates (``+=``) each
      parameter's gradient into ``param.grad``.

    ``m(x)`` checks the inputs and calls ``m.forward(x)``, so a subclass that overrides ``forward``
    or ``backward`` is used everywhere, containers included. The check: scratch's own layers
    declare what they take in ``_input_kind`` (float arrays, a loss's input and target, indices),
    and a module that owns parameters takes inputs of its parameters' dtype only, as torch;
    containers and a user's modules without parameters are not checked.

    A forward's cache serves one backward: like torch without ``retain_graph``, a second
    ``backward`` needs a new forward.
    """

    #: What scratch's own layers require of their positional inputs, checked by ``_checks.check_input_kind``:
    #: "float", "loss", "array" or "index"; None (containers, user modules): no check.
    _input_kind: str | None = None
    #: state_dict names this module's ``load_state_dict`` lets a checkpoint omit (it keeps its own value)
    optional_state: tuple[str, ...] = ()
    # set in __init__ through object.__setattr__ (declared here for type checkers; None: a slot set to None)
    training: bool
    _parameters: OrderedDict[str, Parameter | None]
    _buffers: OrderedDict[str, np.ndarray | UninitializedBuffer | None]
    _non_persistent_buffers: set[str]
    _modules: OrderedDict[str, Module | None]
    #: whether the class keeps Module's ``_check_input_dtype`` and ``_own_dtype`` (set per class by
    #: ``__init_subclass__``): then ``__call__`` runs ``_dtype.check_input_dtype`` itself, one call fewer
    _base_input_check: bool = True

    def __init__(self) -> None:
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent_buffers", set())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_cache", None)
        object.__setattr__(self, "_output_meta", None)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Wrap each ``backward`` a subclass defines, so that every module's backward, a user's
        included, marks its cache used and is seen by anomaly mode: no other place sees them all."""
        super().__init_subclass__(**kwargs)
        backward = cls.backward  # its own, a parent's, or a mixin's
        if backward is not Module.backward and not hasattr(backward, "__anomaly_checked__"):
            cls.backward = _anomaly_checked(backward)  # type: ignore[method-assign]  # wrapped once, per class
        cls._base_input_check = (cls._check_input_dtype is Module._check_input_dtype
                                 and cls._own_dtype is Module._own_dtype)

    # ------------------------------------------------------------------ calling
    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f'Module [{type(self).__name__}] is missing the required "forward" function')

    def backward(self, *args: Any, **kwargs: Any) -> Any:  # as forward: each layer's own arguments
        raise NotImplementedError(f'Module [{type(self).__name__}] is missing the required "backward" function')

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Check the inputs, run ``forward``, and keep the output's shape and dtype for ``_saved``.

        Fast paths, which change nothing but the time: inputs that ``_dtype.check_input_dtype`` recognizes skip
        ``check_input_kind`` (they would pass it), a class that keeps the base ``_check_input_dtype`` has it run
        without the method's call, and the output's shape and dtype are written to
        ``__dict__`` directly, past ``__setattr__``'s registry lookups (``_output_meta`` is no parameter,
        buffer or module). A module with neither parameters nor an ``_input_kind`` (a container, a user's
        module) has nothing to check.
        """
        attrs = self.__dict__
        if self._parameters or self._input_kind is not None:  # containers and user modules: nothing to check
            if self._base_input_check:
                _dtype.check_input_dtype(self, args)  # what Module._check_input_dtype runs
            else:
                self._check_input_dtype(args)
        if attrs.get("inplace") is True and args and read_only(args[0]):
            raise ValueError(f"{type(self).__name__}(inplace=True): the input array is read-only, so it cannot be "
                             "overwritten with the output; pass a writeable array or use inplace=False")
        attrs["_call_inputs"] = args if not kwargs else (*args, *kwargs.values())
        try:
            out = self.forward(*args, **kwargs)
        finally:
            attrs["_call_inputs"] = ()
        if type(out) is np.ndarray:
            attrs["_output_meta"] = (out.shape, out.dtype)  # __dict__ directly: __setattr__ is slow
        else:
            if isinstance(out, np.generic):  # NumPy ops on 0-d arrays return scalars; keep the array type
                out = np.asarray(out)
            attrs["_output_meta"] = (out.shape, out.dtype) if isinstance(out, np.ndarray) else None
        if _anomaly_mode.enabled:  # anomaly.is_anomaly_enabled(), without a call
            anomaly.check_forward(self, args, out)
        return out

    @property
    def requires_input_grad(self) -> bool:
        """Whether ``backward`` must return dL/dinput (True unless ``requires_input_grad_(False)`` said otherwise)."""
        return bool(self.__dict__.get("_requires_input_grad", True))

    def requires_input_grad_(self, requires_grad: bool = True) -> Module:
        """Say whether a caller needs dL/dinput from ``backward``; returns ``self``.

        torch skips the gradient of an input that does not require grad (data, as in a training loop); this is
        scratch's way to say the same. With False, a layer that can skip work for it (Linear: the dX matrix
        product, a third of its backward) returns None instead of dL/dinput; every other layer still returns
        its gradient, and parameter gradients are unchanged. A container passes the flag to its first child
        (``Sequential``), whose input is the container's. The default, True, is what every module does without
        being told.
        """
        self.__dict__["_requires_input_grad"] = bool(requires_grad)
        return self

    def _check_input_dtype(self, args: tuple[Any, ...]) -> None:
        """The inputs ``_input_kind`` asks for; a module that owns parameters takes its own dtype only, like torch."""
        _dtype.check_input_dtype(self, args)

    def _own_dtype(self) -> np.dtype | None:
        """The dtype of the module's first parameter (its own, not its children's), or None without parameters."""
        for p in self._parameters.values():
            if p is not None:  # a plain Parameter's dtype property read without its call
                return p.data.dtype if type(p) is Parameter else p.dtype
        return None

    def _saved(self, grad_output: np.ndarray | None) -> Any:
        """What forward kept for backward, after checking ``grad_output`` against forward's output."""
        if self._cache is None:
            raise RuntimeError(f"{type(self).__name__}.backward called before forward")
        if self._cache is _Consumed:
            raise RuntimeError(f"{type(self).__name__}.backward called a second time after one forward: run "
                               "forward again (the first backward used up what forward kept, as torch frees its "
                               "graph without retain_graph=True; a module called twice in one forward keeps only "
                               "its last call, so give each use its own module)")
        meta = self._output_meta
        if meta is not None:
            if not isinstance(grad_output, np.ndarray):
                raise TypeError(f"{type(self).__name__}.backward: expected a numpy.ndarray gradient, "
                                f"got {type(grad_output).__name__}")
            if (grad_output.shape, grad_output.dtype) != meta:
                raise ValueError(
                    f"{type(self).__name__}.backward: expected a gradient of shape {meta[0]} and dtype "
                    f"{meta[1]} (the output's), got shape {grad_output.shape} and dtype {grad_output.dtype}"
                )
        return self._cache

    def _save(self, cache: Any) -> None:
        """Keep ``cache`` for backward. An array in it that shares memory with one of this call's inputs is
        copied first, so that changing an input in place between forward and backward (``x += 1``) cannot
        change the gradient: torch raises "modified by an inplace operation" there; scratch's backward sees
        what forward saw. Only layers that keep an input (Linear keeps x) pay for the copy."""
        attrs = self.__dict__
        attrs["_cache"] = private_cache(cache, attrs.get("_call_inputs", ()))

    # ------------------------------------------------------------ registration
    def __setattr__(self, name: str, value: Any) -> None:
        params = self.__dict__.get("_parameters")
        if isinstance(value, Parameter):
            if params is None:
                raise AttributeError("cannot assign parameters before Module.__init__() call")
            self._forget(name, keep=self._parameters)
            self.register_parameter(name, value)
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(f"cannot assign '{type(value).__name__}' as parameter '{name}' "
                                "(scratch.nn.Parameter or None expected)")
            params[name] = None
        elif isinstance(value, Module):
            if params is None:
                raise AttributeError("cannot assign module before Module.__init__() call")
            self._forget(name, keep=self._modules)
            self._modules[name] = value
        elif name in self.__dict__.get("_modules", {}):
            if value is not None:
                raise TypeError(f"cannot assign '{type(value).__name__}' as child module '{name}' "
                                "(scratch.nn.Module or None expected)")
            self._modules[name] = None
        elif name in self.__dict__.get("_buffers", {}):
            if value is not None and not isinstance(value, (np.ndarray, UninitializedBuffer)):
                raise TypeError(f"cannot assign '{type(value).__name__}' as buffer '{name}' "
                                "(numpy.ndarray or None expected)")
            self._buffers[name] = value
        else:
            object.__setattr__(self, name, value)

    def __getattr__(self, name: str) -> Any:
        for registry in ("_parameters", "_buffers", "_modules"):
            members = self.__dict__.get(registry)
            if members is not None and name in members:
                return members[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name: str) -> None:
        if not self._forget(name):
            object.__delattr__(self, name)

    def _forget(self, name: str, keep: dict[str, Any] | None = None) -> bool:
        """Drop ``name`` from every registry but ``keep``, the one about to be assigned, so a
        re-assigned parameter, buffer or child keeps its place in the state_dict order, as in torch."""
        found = False
        for registry in (self._parameters, self._buffers, self._modules):
            if name in registry and registry is not keep:
                del registry[name]
                found = True
        self._non_persistent_buffers.discard(name)
        self.__dict__.pop(name, None)
        return found

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError("cannot assign parameter before Module.__init__() call")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"cannot assign '{type(param).__name__}' object to parameter '{name}' "
                            "(scratch.nn.Parameter or None required)")
        self._parameters[name] = param

    def register_buffer(self, name: str, tensor: np.ndarray | UninitializedBuffer | None,
                        persistent: bool = True) -> None:
        if tensor is not None and not isinstance(tensor, (np.ndarray, UninitializedBuffer)):
            raise TypeError(f"cannot assign '{type(tensor).__name__}' object to buffer '{name}' "
                            "(numpy.ndarray or None required)")
        self._forget(name, keep=self._buffers)
        self._buffers[name] = tensor
        if not persistent:
            self._non_persistent_buffers.add(name)

    def add_module(self, name: str, module: Module | None) -> None:
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        self._forget(name, keep=self._modules)
        self._modules[name] = module

    register_module = add_module

    # --------------------------------------------------------------- traversal
    def named_modules(self, memo: set[int] | None = None, prefix: str = "",
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Module]]:
        memo = set() if memo is None else memo
        if remove_duplicate:
            if id(self) in memo:
                return
            memo.add(id(self))
        yield prefix, self
        for name, child in self._modules.items():
            if child is not None:
                child_prefix = f"{prefix}.{name}" if prefix else name
                yield from child.named_modules(memo, child_prefix, remove_duplicate)

    def modules(self) -> Iterator[Module]:
        for _, module in self.named_modules():
            yield module

    def named_children(self) -> Iterator[tuple[str, Module]]:
        seen: set[int] = set()
        for name, child in self._modules.items():
            if child is not None and id(child) not in seen:
                seen.add(id(child))
                yield name, child

    def children(self) -> Iterator[Module]:
        for _, child in self.named_children():
            yield child

    def _named_members(self, registry: str, prefix: str, recurse: bool,
                       remove_duplicate: bool) -> Iterator[tuple[str, Any]]:
        seen: set[int] = set()
        owners = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) if recurse else [(prefix, self)]
        for owner_prefix, owner in owners:
            for name, value in getattr(owner, registry).items():
                if value is None or (remove_duplicate and id(value) in seen):
                    continue
                seen.add(id(value))
                yield (f"{owner_prefix}.{name}" if owner_prefix else name), value

    def named_parameters(self, prefix: str = "", recurse: bool = True,
                         remove_duplicate: bool = True) -> Iterator[tuple[str, Parameter]]:
        yield from self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(self, prefix: str = "", recurse: bool = True,
                      remove_duplicate: bool = True) -> Iterator[tuple[str, np.ndarray]]:
        yield from self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[np.ndarray]:
        for _, buf in self.named_buffers(recurse=recurse):
            yield buf

    def apply(self, fn: Callable[[Module], None]) -> Module:
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    # ------------------------------------------------------------------- modes
    def train(self, mode: bool = True) -> Module:
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        for module in self.modules():
            object.__setattr__(module, "training", mode)
        return self

    def eval(self) -> Module:
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        for param in self.parameters():
            param.requires_grad = requires_grad
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        zero_grads(self.parameters(), set_to_none)

    # ------------------------------------------------------------------- dtype
    def to(self, dtype: Any) -> Module:
        """Cast every floating parameter, gradient and buffer to ``dtype``, in place."""
        _dtype.cast_to(self, dtype)
        return self

    def double(self) -> Module:
        return self.to(np.float64)

    def float(self) -> Module:
        return self.to(np.float32)

    # ------------------------------------------------------------- state dict
    def state_dict(self) -> OrderedDict[str, np.ndarray]:
        """Parameters and persistent buffers by dotted name, in torch's key order.

        The arrays are copies (torch's tensors alias the module; with plain arrays a copy
        keeps a saved state from changing under later optimizer steps).
        """
        return _state_dict.state_dict(self)

    def load_state_dict(self, state_dict: Mapping[str, Any], strict: bool = True) -> IncompatibleKeys:
        """Copy ``state_dict`` into the parameters and buffers, casting to their dtypes as torch does.

        Everything is checked before anything is written, so a load that fails changes nothing.
        Returns ``(missing_keys, unexpected_keys)``; with ``strict`` either one is an error.
        """
        return _state_dict.load_state_dict(self, state_dict, strict)

    # -------------------------------------------------------------------- repr
    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        lines = [f"({name}): " + repr(child).replace("\n", "\n  ") for name, child in self._modules.items()]
        extra = self.extra_repr()
        if not lines:
            return f"{type(self).__name__}({extra})"
        body = "\n  ".join(([extra] if extra else []) + lines)
        return f"{type(self).__name__}(\n  {body}\n)"
