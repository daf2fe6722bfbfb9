"""The one place where torch tensors become NumPy arrays, and the small tree helpers the harness shares.

A module's inputs and outputs may be nested tuples (an LSTM takes ``(x, (h_0, c_0))`` and returns
``(output, (h_n, c_n))``): ``leaves`` flattens them in order and ``tree_map`` maps over them;
``named_leaves`` and ``named_tree_map`` do the same with each leaf's path (``"hx[0]"``) and look into dicts.
A ``PackedSequence`` (scratch's or torch's, both NamedTuples) is one node whose only leaf is its ``data``
(path ``".data"``): mapped, it is rebuilt around the new data in that data's engine (``repacked``), so an RNN's
packed input and output pair up leaf by leaf with torch's and their gradients are those of the data.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch.nn.utils.rnn import PackedSequence as TorchPackedSequence

from scratch.nn.utils.rnn import PackedSequence


def to_numpy(value: Any, copy: bool = False) -> Any:
    """A tensor, NumPy array or NumPy scalar as an ndarray (a copy with ``copy=True``, so later in-place
    updates of either engine leave it as it was); anything else (None, a Python number) unchanged."""
    if isinstance(value, torch.Tensor):
        array = value.detach().cpu().numpy()
        return array.copy() if copy else array
    if isinstance(value, (np.ndarray, np.generic)):
        return np.array(value, copy=True) if copy else np.asarray(value)
    return value


def is_packed(value: Any) -> bool:
    """Whether ``value`` is a PackedSequence of scratch or of torch."""
    return isinstance(value, (PackedSequence, TorchPackedSequence))


def repacked(packed: Any, data: Any) -> Any:
    """``packed``'s batch_sizes and indices around ``data``, as a torch PackedSequence if ``data`` is a tensor
    and a scratch one if it is an array; anything else (None: no gradient) is returned as it is."""
    rest = [None if r is None else to_numpy(r, copy=True) for r in packed[1:]]
    if isinstance(data, torch.Tensor):
        return TorchPackedSequence(data, *[None if r is None else torch.from_numpy(r) for r in rest])
    if isinstance(data, np.ndarray):
        return PackedSequence(data, *rest)
    return data


def leaves(tree: Any) -> list:
    """The arrays of a nested tuple or list, in order; a lone array is its own single leaf."""
    if is_packed(tree):
        return [tree.data]
    if isinstance(tree, (tuple, list)):
        return [leaf for item in tree for leaf in leaves(item)]
    return [tree]


def tree_map(fn: Any, tree: Any) -> Any:
    """``tree`` with ``fn`` applied to every leaf, nested tuples and lists kept (as tuples)."""
    if is_packed(tree):
        return repacked(tree, fn(tree.data))
    if isinstance(tree, (tuple, list)):
        return tuple(tree_map(fn, item) for item in tree)
    return fn(tree)


def named_leaves(tree: Any, path: str = "") -> list[tuple[str, Any]]:
    """(path, leaf) of nested tuples, lists and dicts, in order: ``named_leaves((x, (h, c)), "output")`` is
    ``[("output[0]", x), ("output[1][0]", h), ("output[1][1]", c)]``; a dict's items are ``path.key``."""
    if is_packed(tree):
        return [(f"{path}.data", tree.data)]
    if isinstance(tree, (tuple, list)):
        return [leaf for i, item in enumerate(tree) for leaf in named_leaves(item, f"{path}[{i}]")]
    if isinstance(tree, dict):
        return [leaf for key, item in tree.items() for leaf in named_leaves(item, f"{path}.{key}" if path else key)]
    return [(path, tree)]


def named_tree_map(fn: Any, tree: Any, path: str = "") -> Any:
    """``tree`` with every leaf replaced by ``fn(path, leaf)`` (paths as ``named_leaves``); tuples and lists
    become tuples, dicts stay dicts."""
    if is_packed(tree):
        return repacked(tree, fn(f"{path}.data", tree.data))
    if isinstance(tree, (tuple, list)):
        return tuple(named_tree_map(fn, item, f"{path}[{i}]") for i, item in enumerate(tree))
    if isinstance(tree, dict):
        return {key: named_tree_map(fn, item, f"{path}.{key}" if path else key) for key, item in tree.items()}
    return fn(path, tree)


def is_float(value: Any) -> bool:
    """Whether ``value`` (an array, a tensor or a number) holds floating-point numbers."""
    if isinstance(value, torch.Tensor):
        return value.is_floating_point()
    return np.issubdtype(np.asarray(value).dtype, np.floating)


def random_like(array: Any, rng: np.random.Generator) -> np.ndarray:
    """A random upstream gradient of ``array``'s shape and dtype (never all ones: that hides bugs)."""
    return rng.standard_normal(np.shape(array)).astype(np.asarray(array).dtype)


def indexed_names(base: str, count: int) -> list[str]:
    """``[base]`` for one value, ``[base[0], base[1], ...]`` for several: the names of a module's outputs
    or input gradients in a report."""
    return [base] if count == 1 else [f"{base}[{i}]" for i in range(count)]
