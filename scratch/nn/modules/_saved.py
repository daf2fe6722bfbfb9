"""What ``Module.__call__`` and ``Module._save`` need to keep forward's inputs honest: private copies of the
arrays a cache shares with the call's inputs, and the read-only test of an in-place module's input."""

from __future__ import annotations

from typing import Any

import numpy as np


def _owner(x: np.ndarray) -> np.ndarray:
    """The array at the end of ``x``'s chain of bases: the one that holds the memory ``x`` views (``x`` itself
    when it owns its memory; an array whose base is some other buffer object where NumPy wraps one)."""
    base = x.base
    while type(base) is np.ndarray:
        x, base = base, base.base
    return x


def _rebuilt(value: tuple[Any, ...], items: list[Any] | None) -> Any:
    """``value`` itself when none of its items was replaced (``items`` None), else a tuple of its type holding
    ``items`` (a NamedTuple's fields by position)."""
    if items is None:
        return value
    return type(value)(*items) if hasattr(value, "_fields") else type(value)(items)


def private_copies(value: Any, inputs: list[np.ndarray], copies: dict[int, np.ndarray],
                   owners: dict[int, np.ndarray] | None = None) -> Any:
    """``value`` (an array, or tuples, NamedTuples, lists and dicts of them) with every array that may share
    memory with one of ``inputs`` replaced by a copy (one copy per array, however often it appears).

    Fast path, the same answers: two arrays whose owners (``_owner``) are different arrays that each hold
    their own memory (base None) cannot overlap, so ``np.may_share_memory`` is asked only where an array's
    owner is an input's owner, or where some owner wraps a foreign buffer. A forward's new arrays own their
    memory, so most of a cache is passed by one identity test each."""
    if owners is None:
        owners = {id(owner): owner for owner in map(_owner, inputs)}
        if any(owner.base is not None for owner in owners.values()):
            owners = {}  # a foreign buffer among the inputs: ask may_share_memory of every array
    if type(value) is np.ndarray:
        owner = _owner(value) if value.base is not None else value
        if owners and owner.base is None and id(owner) not in owners:
            return value
        if not any(np.may_share_memory(value, x) for x in inputs):
            return value
        if id(value) not in copies:
            copies[id(value)] = value.copy()
        return copies[id(value)]
    if isinstance(value, tuple):  # a cache: its leaves looked at here, without a call for each
        items = None
        for k, v in enumerate(value):
            if type(v) is np.ndarray and owners and v.base is None and id(v) not in owners:
                continue  # an array of its own memory, not an input's: kept as is
            if type(v) is not np.ndarray and not isinstance(v, (tuple, list, dict)):
                continue  # a number, string, None, ...: nothing to copy
            new = private_copies(v, inputs, copies, owners)
            if new is not v:
                items = list(value) if items is None else items
                items[k] = new
        return _rebuilt(value, items)
    if isinstance(value, list):
        return [private_copies(v, inputs, copies, owners) for v in value]
    if isinstance(value, dict):
        return {k: private_copies(v, inputs, copies, owners) for k, v in value.items()}
    return value


def private_cache(cache: Any, args: tuple[Any, ...]) -> Any:
    """What ``Module._save`` keeps of ``cache`` for a call with inputs ``args``: ``private_copies(cache,
    array_inputs(args), {})``, the same arrays kept and the same ones copied.

    Fast path, for the common call: every input a plain ndarray whose owner (``_owner``) holds its own
    memory, and a tuple cache (a NamedTuple included). Each leaf of the cache is then looked at here, in one
    loop, instead of through ``array_inputs``, ``private_copies``' recursion and a generator per leaf: an
    array that owns its memory and is no input's owner is kept (they cannot overlap); one that is itself a
    non-empty input is copied (``np.may_share_memory`` of an array with itself is True, of an empty one
    False); a number, string or None, or a plain tuple of them (a shape), is skipped by a type test; every
    other array, and any nested container, goes to ``private_copies``. One or two inputs that hold their own
    memory (base None) take ``_private_cache_of_owners``, the same loop without this one's set-up."""
    first = args[0] if args else None
    if type(first) is np.ndarray and first.base is None and (len(args) == 1 or (
            len(args) == 2 and type(args[1]) is np.ndarray and args[1].base is None)):
        return _private_cache_of_owners(cache, args)  # one or two plain inputs of their own memory: the common call
    owners: dict[int, np.ndarray] = {}
    inputs: list[np.ndarray] = []
    ids: set[int] = set()  # the inputs'
    for arg in args:
        if type(arg) is not np.ndarray:
            if isinstance(arg, (tuple, list)):  # arrays inside (an LSTM's (h_0, c_0)): the general path
                return _private_copies_of_call(cache, args)
            continue  # not an array (a subclass neither, as in array_inputs)
        owner = arg if arg.base is None else _owner(arg)
        if owner.base is not None:  # a foreign buffer: the general path asks may_share_memory of everything
            return _private_copies_of_call(cache, args)
        owners[id(owner)] = owner
        inputs.append(arg)
        ids.add(id(arg))
    if not inputs:
        return cache
    if type(cache) is np.ndarray and cache.base is None and id(cache) not in owners:
        return cache  # a bare array of its own memory (an activation's mask)
    if not isinstance(cache, tuple):
        return private_copies(cache, inputs, {}, owners)
    copies: dict[int, np.ndarray] = {}
    items = None
    for k, v in enumerate(cache):
        if type(v) is np.ndarray:
            if v.base is None:
                if id(v) not in owners:
                    continue  # its own memory, not an input's: kept as is
                if v.size and id(v) in ids:  # an input itself
                    new = copies.get(id(v))
                    if new is None:
                        new = copies[id(v)] = v.copy()
                else:
                    new = private_copies(v, inputs, copies, owners)
            else:
                new = private_copies(v, inputs, copies, owners)
        elif type(v) in _LEAVES or (type(v) is tuple and set(map(type, v)) <= _LEAVES):
            continue  # a number, string, None, or a tuple of them (a shape): nothing to copy
        elif isinstance(v, (tuple, list, dict)):
            new = private_copies(v, inputs, copies, owners)
        else:
            continue  # a number, string, None, ...: nothing to copy
        if new is not v:
            items = list(cache) if items is None else items
            items[k] = new
    return _rebuilt(cache, items)


#: types whose values hold no array: a cache's leaf of one of them (or a plain tuple of them) is kept as is
_LEAVES = frozenset({int, float, bool, complex, str, bytes, type(None), np.float16, np.float32, np.float64})


def _private_cache_of_owners(cache: Any, inputs: tuple[np.ndarray, ...]) -> Any:
    """``private_cache`` of a call whose inputs (one or two) are plain ndarrays that own their memory (the
    common call: a layer of a Sequential, a loss's input and target). Why: the only arrays that can share memory
    with them are the inputs themselves and views whose owner is one, so a leaf of the cache that owns its
    memory and is no input is kept by one identity test, an input itself is copied (if not empty, as
    ``np.may_share_memory`` says; one copy however often it appears), and a view or a container goes to
    ``private_copies``, as in ``private_cache``'s loop; this skips that loop's set-up (its owners dict, list
    and set, built here only for ``private_copies``). The same arrays kept and copied as there."""
    a, b = inputs[0], inputs[-1]  # the same array for one input
    if type(cache) is np.ndarray and cache.base is None and cache is not a and cache is not b:
        return cache  # a bare array of its own memory (an activation's mask)
    if not isinstance(cache, tuple):
        return private_copies(cache, list(inputs), {}) if isinstance(cache, (list, dict, np.ndarray)) else cache
    copies: dict[int, np.ndarray] = {}
    items = None
    for k, v in enumerate(cache):
        if type(v) is np.ndarray:
            if v is a or v is b:
                if not v.size:
                    continue  # may_share_memory of an empty array is False: kept
                new = copies.get(id(v))
                if new is None:
                    new = copies[id(v)] = v.copy()
            elif v.base is None:
                continue  # its own memory, no input's: kept as is
            else:
                new = private_copies(v, list(inputs), copies, dict(zip(map(id, inputs), inputs)))
        elif type(v) in _LEAVES or (type(v) is tuple and set(map(type, v)) <= _LEAVES):
            continue  # a number, string, None, or a tuple of them (a shape): nothing to copy
        elif isinstance(v, (tuple, list, dict)):
            new = private_copies(v, list(inputs), copies, dict(zip(map(id, inputs), inputs)))
        else:
            continue  # anything else is not looked into (as ``private_copies``)
        if new is not v:
            items = list(cache) if items is None else items
            items[k] = new
    return _rebuilt(cache, items)


def _private_copies_of_call(cache: Any, args: tuple[Any, ...]) -> Any:
    inputs = array_inputs(args)
    return private_copies(cache, inputs, {}) if inputs else cache


def array_inputs(args: tuple[Any, ...]) -> list[np.ndarray]:
    """The ndarrays among a call's inputs, those inside tuples and lists included (an LSTM's ``(h_0, c_0)``)."""
    return [leaf for arg in args for leaf in ((arg,) if type(arg) is np.ndarray else
                                              array_inputs(tuple(arg)) if isinstance(arg, (tuple, list)) else ())]


def read_only(x: Any) -> bool:
    return isinstance(x, np.ndarray) and not x.flags.writeable
