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
        if items is None:
            return value
        return type(value)(*items) if hasattr(value, "_fields") else type(value)(items)
    if isinstance(value, list):
        return [private_copies(v, inputs, copies, owners) for v in value]
    if isinstance(value, dict):
        return {k: private_copies(v, inputs, copies, owners) for k, v in value.items()}
    return value


def array_inputs(args: tuple[Any, ...]) -> list[np.ndarray]:
    """The ndarrays among a call's inputs, those inside tuples and lists included (an LSTM's ``(h_0, c_0)``)."""
    return [leaf for arg in args for leaf in ((arg,) if type(arg) is np.ndarray else
                                              array_inputs(tuple(arg)) if isinstance(arg, (tuple, list)) else ())]


def read_only(x: Any) -> bool:
    return isinstance(x, np.ndarray) and not x.flags.writeable
