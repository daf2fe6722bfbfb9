"""Containers of modules: Sequential, ModuleList, ModuleDict (ParameterList and ParameterDict are in
``parameter_containers``)."""

from __future__ import annotations

import operator
from collections import OrderedDict
from collections.abc import ItemsView, Iterable, Iterator, KeysView, Mapping, ValuesView
from itertools import chain
from typing import Any, cast, overload

from .module import Module

__all__ = ["ModuleDict", "ModuleList", "Sequential"]


def _children(owner: Module) -> OrderedDict[str, Module]:
    """A container's children, typed: unlike a plain module's registry, a container's holds no None."""
    return cast("OrderedDict[str, Module]", owner._modules)


class Sequential(Module):
    r"""Chains modules: forward calls each child's ``__call__`` in order, backward calls each
    child's ``backward`` in reverse order, so overridden methods of any child are honoured.

    Children are named "0", "1", ... unless given as an ``OrderedDict``.
    """

    def __init__(self, *args: Any) -> None:
        super().__init__()
        if len(args) == 1 and isinstance(args[0], OrderedDict):
            for name, module in args[0].items():
                self.add_module(name, module)
        else:
            for index, module in enumerate(args):
                self.add_module(str(index), module)

    def forward(self, input: Any) -> Any:
        for module in self:
            input = module(input)
        return input

    def backward(self, grad_output: Any) -> Any:
        for module in reversed(list(iter(self))):  # iter: list() of an iterator asks no __len__
            grad_output = module.backward(grad_output)
        return grad_output

    def requires_input_grad_(self, requires_grad: bool = True) -> Sequential:
        """The flag for this container and its first child, whose input is the container's (see ``Module``)."""
        super().requires_input_grad_(requires_grad)
        if len(self):
            self[0].requires_input_grad_(requires_grad)
        return self

    def _key(self, index: int) -> str:
        size = len(self)
        if not -size <= index < size:
            raise IndexError(f"index {index} is out of range for Sequential of length {size}")
        return list(_children(self))[index % size]

    @overload
    def __getitem__(self, index: int) -> Module: ...

    @overload
    def __getitem__(self, index: slice) -> Sequential: ...

    def __getitem__(self, index: int | slice) -> Module | Sequential:
        if isinstance(index, slice):
            return Sequential(OrderedDict(list(self._modules.items())[index]))
        return _children(self)[self._key(index)]

    def __setitem__(self, index: int, module: Module) -> None:
        self.add_module(self._key(index), module)

    def __delitem__(self, index: int) -> None:
        del self._modules[self._key(index)]
        # torch renumbers the remaining children so names stay "0", "1", ...
        modules = list(self._modules.values())
        self._modules.clear()
        for i, module in enumerate(modules):
            self._modules[str(i)] = module

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())  # type: ignore[arg-type]  # a container's registry holds no None

    def append(self, module: Module) -> Sequential:
        self.add_module(str(len(self)), module)
        return self


def abs_index(owner: Module, idx: Any) -> str:
    """torch's ``_get_abs_string_index``: an int in [-len, len) as the key "0", "1", ..."""
    size = len(owner)
    idx = operator.index(idx)
    if not -size <= idx < size:
        raise IndexError(f"{type(owner).__name__}: index {idx} is out of range for length {size}")
    return str(idx % size)


class ModuleList(Module):
    r"""Holds child modules in a list, registered as "0", "1", ... so that state_dict keys read
    ``layers.0.weight``. Like torch's, it has no forward of its own: the owner calls the children.

    Indexing takes negative indices; a slice returns a new ModuleList of the same children;
    ``__setitem__``, ``__delitem__`` (an index or a slice: the rest are renumbered), ``append``,
    ``extend``, ``insert``, ``pop``, ``+`` and ``+=`` behave as torch's.
    """

    def __init__(self, modules: Iterable[Module] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self += modules

    @overload
    def __getitem__(self, idx: int) -> Module: ...

    @overload
    def __getitem__(self, idx: slice) -> ModuleList: ...

    def __getitem__(self, idx: int | slice) -> Module | ModuleList:
        if isinstance(idx, slice):
            return self.__class__(list(_children(self).values())[idx])
        return _children(self)[abs_index(self, idx)]

    def __setitem__(self, idx: int, module: Module) -> None:
        self.add_module(abs_index(self, idx), module)

    def __delitem__(self, idx: int | slice) -> None:
        if isinstance(idx, slice):
            for k in range(len(self._modules))[idx]:
                del self._modules[str(k)]
        else:
            del self._modules[abs_index(self, idx)]
        _renumber(self._modules)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(_children(self).values())

    def __iadd__(self, modules: Iterable[Module]) -> ModuleList:
        return self.extend(modules)

    def __add__(self, other: Iterable[Module]) -> ModuleList:
        combined = ModuleList()
        for i, module in enumerate(chain(self, other)):
            combined.add_module(str(i), module)
        return combined

    def __repr__(self) -> str:
        """torch's: a run of children with equal reprs is shown once, as "(0-5): 6 x Layer(...)"."""
        reprs = [repr(module) for module in self]
        if not reprs:
            return "ModuleList()"
        blocks: list[list[Any]] = []  # [first index, last index, repr]
        for i, text in enumerate(reprs):
            if blocks and blocks[-1][2] == text:
                blocks[-1][1] = i
            else:
                blocks.append([i, i, text])
        lines = [(f"({a}): {text}" if a == b else f"({a}-{b}): {b - a + 1} x {text}").replace("\n", "\n  ")
                 for a, b, text in blocks]
        return f"{type(self).__name__}(\n  " + "\n  ".join(lines) + "\n)"

    def insert(self, index: int, module: Module) -> None:
        """Insert before ``index``, as torch's (which shifts the later children up one key)."""
        for i in range(len(self._modules), index, -1):
            self._modules[str(i)] = self._modules[str(i - 1)]
        self._modules[str(index)] = module

    def append(self, module: Module) -> ModuleList:
        self.add_module(str(len(self)), module)
        return self

    def pop(self, key: int | slice) -> Module | ModuleList:
        value = self[key]
        del self[key]
        return value

    def extend(self, modules: Iterable[Module]) -> ModuleList:
        if not isinstance(modules, Iterable):
            raise TypeError(f"ModuleList.extend should be called with an iterable, but got {type(modules).__name__}")
        offset = len(self)
        for i, module in enumerate(modules):
            self.add_module(str(offset + i), module)
        return self


def _renumber(modules: OrderedDict[str, Any]) -> None:
    """Keys "0", "1", ... again after a deletion, the order kept (torch's ``__delitem__``)."""
    values = list(modules.values())
    modules.clear()
    for i, module in enumerate(values):
        modules[str(i)] = module


def dict_pairs(owner: str, items: Any, sort_plain_dicts: bool) -> list[tuple[Any, Any]]:
    """The (key, value) pairs of ``update``'s argument: a mapping or an iterable of pairs, checked as torch's."""
    if not isinstance(items, Iterable):
        raise TypeError(f"{owner}.update should be called with an iterable of key/value pairs, but got "
                        f"{type(items).__name__}")
    if isinstance(items, (OrderedDict, Module)):  # an OrderedDict, a ModuleDict or a ParameterDict: ordered
        return list(items.items())
    if isinstance(items, Mapping):
        # torch's quirk: ParameterDict.update sorts the keys of a plain (unordered) mapping; ModuleDict does not
        return sorted(items.items()) if sort_plain_dicts else list(items.items())
    pairs = []
    for j, pair in enumerate(items):
        if not isinstance(pair, Iterable):
            raise TypeError(f"{owner} update sequence element #{j} should be Iterable; is {type(pair).__name__}")
        pair = list(pair)
        if len(pair) != 2:
            raise ValueError(f"{owner} update sequence element #{j} has length {len(pair)}; 2 is required")
        pairs.append((pair[0], pair[1]))
    return pairs


class ModuleDict(Module):
    r"""Holds child modules by string key, in insertion order; state_dict keys read ``blocks.key.weight``.
    No forward of its own. ``update`` takes a mapping (its order kept) or an iterable of (key, module) pairs.
    """

    def __init__(self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key: str) -> Module:
        return _children(self)[key]

    def __setitem__(self, key: str, module: Module) -> None:
        self.add_module(key, module)

    def __delitem__(self, key: str) -> None:
        del self._modules[key]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[str]:
        return iter(_children(self))

    def __contains__(self, key: object) -> bool:
        return key in self._modules

    def clear(self) -> None:
        self._modules.clear()

    def pop(self, key: str) -> Module:
        value = self[key]
        del self[key]
        return value

    def keys(self) -> KeysView[str]:
        return _children(self).keys()

    def items(self) -> ItemsView[str, Module]:
        return _children(self).items()

    def values(self) -> ValuesView[Module]:
        return _children(self).values()

    def update(self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]]) -> None:
        for key, module in dict_pairs("ModuleDict", modules, sort_plain_dicts=False):
            self[key] = module
