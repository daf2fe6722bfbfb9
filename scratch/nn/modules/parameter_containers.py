"""Containers of parameters: ParameterList and ParameterDict (torch keeps them in container.py)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Iterator, KeysView
from typing import Any

import numpy as np

from ..parameter import Parameter
from .container import abs_index, dict_pairs
from .module import Module

__all__ = ["ParameterDict", "ParameterList"]


def _as_parameter(value: Any) -> Any:
    """torch wraps a plain tensor in a Parameter; scratch wraps a float ndarray (copied, as Parameter does)."""
    if isinstance(value, np.ndarray):
        return Parameter(value)
    return value


def _parameters_repr(module: Module) -> str:
    """torch's layout for the parameter containers, whose extra_repr has one line per entry: inline for one."""
    extra = module.extra_repr()
    if "\n" not in extra:
        return Module.__repr__(module)
    return f"{type(module).__name__}(\n  " + extra.replace("\n", "\n  ") + "\n)"


def _param_line(key: Any, value: Any) -> str:
    if isinstance(value, Parameter):
        return f"  ({key}): Parameter containing: [{value.dtype} of size {'x'.join(map(str, value.shape))}]"
    return f"  ({key}): Object of type: {type(value).__name__}"


class ParameterList(Module):
    r"""Holds parameters in a list, registered as "0", "1", ... (state_dict keys ``params.0``, ...).

    A float ndarray given to it becomes a ``Parameter`` (a copy); other objects are kept as plain
    attributes, as torch keeps non-tensors. Indexing takes negative indices; a slice returns a new
    ParameterList holding the same Parameter objects. Like torch's, it has ``append``, ``extend`` and
    ``+=`` (no insert, pop or deletion) and refuses to be called.
    """

    def __init__(self, values: Iterable[Any] | None = None) -> None:
        super().__init__()
        self._size = 0
        if values is not None:
            self += values

    def __getitem__(self, idx: int | slice) -> Any:
        if isinstance(idx, slice):
            out = self.__class__()
            for i in range(*idx.indices(len(self))):
                out.append(self[i])
            return out
        return getattr(self, abs_index(self, idx))

    def __setitem__(self, idx: int, param: Any) -> None:
        setattr(self, abs_index(self, idx), _as_parameter(param))

    def __len__(self) -> int:
        return self._size

    def __iter__(self) -> Iterator[Any]:
        return iter(self[i] for i in range(len(self)))

    def __iadd__(self, parameters: Iterable[Any]) -> ParameterList:
        return self.extend(parameters)

    def append(self, value: Any) -> ParameterList:
        self._size += 1
        self[self._size - 1] = value
        return self

    def extend(self, values: Iterable[Any]) -> ParameterList:
        if not isinstance(values, Iterable) or isinstance(values, np.ndarray):
            raise TypeError(f"ParameterList.extend should be called with an iterable, but got {type(values).__name__}")
        for value in values:
            self.append(value)
        return self

    def extra_repr(self) -> str:
        return "\n".join(_param_line(k, p) for k, p in enumerate(self))

    def __repr__(self) -> str:
        return _parameters_repr(self)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("ParameterList should not be called.")


class ParameterDict(Module):
    r"""Holds parameters by string key, in insertion order (state_dict keys ``pdict.key``).

    A float ndarray value becomes a ``Parameter`` (a copy). torch's dict methods: ``keys``, ``items``,
    ``values``, ``update`` (a plain dict's keys are sorted first, torch's quirk; an OrderedDict, a
    ParameterDict or a sequence of pairs keeps its order), ``get``, ``pop``, ``popitem``, ``setdefault``,
    ``clear``, ``copy``, ``fromkeys``, ``|`` and ``|=``. Refuses to be called.
    """

    def __init__(self, parameters: Any = None) -> None:
        super().__init__()
        self._keys: dict[str, None] = {}
        if parameters is not None:
            self.update(parameters)

    @staticmethod
    def _key_to_attr(key: Any) -> str:
        if not isinstance(key, str):
            raise TypeError("Index given to ParameterDict cannot be used as a key as it is not a string "
                            f"(type is '{type(key).__name__}').")
        return key

    def __getitem__(self, key: str) -> Any:
        return getattr(self, self._key_to_attr(key))

    def __setitem__(self, key: str, value: Any) -> None:
        attr = self._key_to_attr(key)
        self._keys[key] = None
        setattr(self, attr, _as_parameter(value))

    def __delitem__(self, key: str) -> None:
        del self._keys[key]
        delattr(self, self._key_to_attr(key))

    def __len__(self) -> int:
        return len(self._keys)

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __reversed__(self) -> Iterator[str]:
        return reversed(self._keys)

    def __contains__(self, key: object) -> bool:
        return key in self._keys

    def copy(self) -> ParameterDict:
        return ParameterDict(OrderedDict((k, self[k]) for k in self._keys))

    def setdefault(self, key: str, default: Any = None) -> Any:
        if key not in self:
            self[key] = default
        return self[key]

    def clear(self) -> None:
        for key in self._keys.copy():
            del self[key]

    def pop(self, key: str) -> Any:
        value = self[key]
        del self[key]
        return value

    def popitem(self) -> tuple[str, Any]:
        key = next(reversed(self._keys))
        return key, self.pop(key)

    def get(self, key: str, default: Any = None) -> Any:
        return self[key] if key in self else default  # noqa: SIM401 (self.get is this method)

    def fromkeys(self, keys: Iterable[str], default: Any = None) -> ParameterDict:
        return ParameterDict((k, default) for k in keys)

    def keys(self) -> KeysView[str]:
        return self._keys.keys()

    def items(self) -> Iterator[tuple[str, Any]]:
        return ((k, self[k]) for k in self._keys)

    def values(self) -> Iterator[Any]:
        return (self[k] for k in self._keys)

    def update(self, parameters: Any) -> None:
        for key, value in dict_pairs("ParameterDict", parameters, sort_plain_dicts=True):
            self[key] = value

    def extra_repr(self) -> str:
        return "\n".join(_param_line(k, p) for k, p in self.items())

    def __repr__(self) -> str:
        return _parameters_repr(self)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("ParameterDict should not be called.")

    def __or__(self, other: ParameterDict) -> ParameterDict:
        merged = self.copy()
        merged.update(other)
        return merged

    def __ror__(self, other: ParameterDict) -> ParameterDict:
        merged = other.copy()
        merged.update(self)
        return merged

    def __ior__(self, other: ParameterDict) -> ParameterDict:
        self.update(other)
        return self
