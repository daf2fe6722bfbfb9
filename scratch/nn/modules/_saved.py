"""What ``Module.__call__`` and ``Module._save`` need to keep forward's inputs honest: private copies of the
arrays a cache shares with the call's inputs, and the read-only test of an in-place module's input."""

from __future__ import annotations

from typing import Any

import numpy as np


def private_copies(value: Any, inputs: list[np.ndarray], copies: dict[int, np.ndarray]) -> Any:
    """``value`` (an array, or tuples, NamedTuples, lists and dicts of them) with every array that may share
    memory with one of ``inputs`` replaced by a copy (one copy per array, however often it appears)."""
    if type(value) is np.ndarray:
        if not any(np.may_share_memory(value, x) for x in inputs):
            return value
        if id(value) not in copies:
            copies[id(value)] = value.copy()
        return copies[id(value)]
    if isinstance(value, tuple):
        items = [private_copies(v, inputs, copies) for v in value]
        if all(a is b for a, b in zip(items, value)):
            return value
        return type(value)(*items) if hasattr(value, "_fields") else type(value)(items)
    if isinstance(value, list):
        return [private_copies(v, inputs, copies) for v in value]
    if isinstance(value, dict):
        return {k: private_copies(v, inputs, copies) for k, v in value.items()}
    return value


def array_inputs(args: tuple[Any, ...]) -> list[np.ndarray]:
    """The ndarrays among a call's inputs, those inside tuples and lists included (an LSTM's ``(h_0, c_0)``)."""
    return [leaf for arg in args for leaf in ((arg,) if type(arg) is np.ndarray else
                                              array_inputs(tuple(arg)) if isinstance(arg, (tuple, list)) else ())]


def read_only(x: Any) -> bool:
    return isinstance(x, np.ndarray) and not x.flags.writeable
