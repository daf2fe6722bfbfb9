"""A module's state as torch's ``state_dict``: every parameter and persistent buffer by dotted name, in torch's
key order, and the all-or-nothing ``load_state_dict`` (what ``Module.state_dict``/``load_state_dict`` run)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from ..._array import as_numpy
from ..parameter import Parameter, is_lazy, uninitialized_error, uninitialized_like

if TYPE_CHECKING:
    from .module import Module


class IncompatibleKeys(NamedTuple):
    missing_keys: list[str]
    unexpected_keys: list[str]


def state_entries(root: Module) -> OrderedDict[str, tuple[Module, str, str]]:
    """Each state_dict key with its owner module, registry and attribute name, in torch's order."""
    entries: OrderedDict[str, tuple[Module, str, str]] = OrderedDict()
    for prefix, module in root.named_modules(remove_duplicate=False):
        dot = f"{prefix}." if prefix else ""
        for name, param in module._parameters.items():
            if param is not None:
                entries[dot + name] = (module, "_parameters", name)
        for name, buf in module._buffers.items():
            if buf is not None and name not in module._non_persistent_buffers:
                entries[dot + name] = (module, "_buffers", name)
    return entries


def state_dict(root: Module) -> OrderedDict[str, np.ndarray]:
    """``root.state_dict()``: a copy of every parameter's data and persistent buffer, by key."""
    state: OrderedDict[str, Any] = OrderedDict()  # arrays, and a lazy module's UninitializedParameter
    for key, (module, registry, name) in state_entries(root).items():
        value = getattr(module, registry)[name]
        if is_lazy(value):  # torch's state_dict holds the uninitialized parameter or buffer (no data): a fresh one
            state[key] = uninitialized_like(value)
        else:
            state[key] = np.array(value.data if isinstance(value, Parameter) else value, copy=True)
    return state


def _entry(key: str, value: Any) -> tuple[np.ndarray | None, str]:
    """A state_dict value as an array, or (None, why not) naming the key."""
    try:
        return as_numpy(value), ""
    except (ValueError, TypeError) as error:
        return None, (f'While copying the parameter named "{key}", expected an array from checkpoint but received '
                      f"{type(value).__name__} ({error}).")


def materialize(module: Module, registry: str, name: str, shape: tuple[int, ...]) -> None:
    """Give ``module``'s uninitialized parameter or buffer ``name`` (in ``registry``, "_parameters" or "_buffers")
    the ``shape``: a parameter becomes a ``Parameter`` in place, a buffer's new array takes its place."""
    members = getattr(module, registry)
    value = members[name]
    if registry == "_buffers":
        members[name] = value.materialize(shape)
    else:
        value.materialize(shape)


def _stage_lazy(key: str, target: tuple[Module, str, str], raw: Any, errors: list[str], staged: list[Any]) -> None:
    """An entry where the module's parameter or the loaded value is uninitialized, as torch loads it: nothing
    to copy between two uninitialized ones; an array into an uninitialized parameter materializes it with the
    array's shape (at the write, so that a failing load changes nothing); an uninitialized value into an
    initialized parameter is torch's error."""
    if is_lazy(raw):
        if not is_lazy(getattr(target[0], target[1])[target[2]]):
            errors.append(f'While copying the parameter named "{key}": {uninitialized_error("shape")}')
        return
    value, problem = _entry(key, raw)
    if value is None:
        errors.append(problem)
    elif value.dtype.kind not in "biuf":
        errors.append(f"dtype mismatch for {key}: expected numbers, got dtype {value.dtype}.")
    else:
        staged.append((target, value))


def load_state_dict(root: Module, state_dict: Mapping[str, Any], strict: bool = True) -> IncompatibleKeys:
    """``root.load_state_dict(state_dict, strict)``: check every entry, then copy them all (casting).

    A module's ``optional_state`` names (BatchNorm's ``num_batches_tracked``) may be absent: the module keeps
    its own value, as torch fills them in for a state dict without its version metadata (scratch's never
    has any)."""
    if not isinstance(state_dict, Mapping):
        raise TypeError(f"{type(root).__name__}.load_state_dict: expected state_dict to be dict-like, got "
                        f"{type(state_dict).__name__}")
    entries = state_entries(root)
    missing = [key for key, (module, _, name) in entries.items()
               if key not in state_dict and name not in module.optional_state]
    unexpected = [key for key in state_dict if key not in entries]
    errors: list[str] = []
    staged: list[Any] = []
    for key, (module, registry, name) in entries.items():
        if key not in state_dict:
            continue
        target = getattr(module, registry)[name]
        if is_lazy(target) or is_lazy(state_dict[key]):
            _stage_lazy(key, (module, registry, name), state_dict[key], errors, staged)
            continue
        current = target.data if isinstance(target, Parameter) else target
        value, problem = _entry(key, state_dict[key])
        if value is None:
            errors.append(problem)
        elif value.dtype.kind not in "biuf":
            errors.append(f"dtype mismatch for {key}: expected numbers, got dtype {value.dtype}.")
        elif value.shape != current.shape:
            errors.append(f"size mismatch for {key}: copying a param with shape {value.shape} from "
                          f"checkpoint, the shape in current model is {current.shape}.")
        else:
            staged.append((current, value))
    if strict and unexpected:
        errors.insert(0, "Unexpected key(s) in state_dict: " + ", ".join(f'"{k}"' for k in unexpected) + ". ")
    if strict and missing:
        errors.insert(0, "Missing key(s) in state_dict: " + ", ".join(f'"{k}"' for k in missing) + ". ")
    if errors:
        raise RuntimeError(f"Error(s) in loading state_dict for {type(root).__name__}:\n\t" + "\n\t".join(errors))
    for current, value in staged:
        if isinstance(current, tuple):  # torch's _lazy_load_hook: materialized with the loaded shape, then copied
            module, registry, name = current
            materialize(module, registry, name, value.shape)
            current = getattr(module, registry)[name]
            current = current.data if isinstance(current, Parameter) else current
        np.copyto(current, value, casting="unsafe")
    return IncompatibleKeys(missing, unexpected)
