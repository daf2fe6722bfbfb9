"""torch's sample arguments (constructor and forward inputs of module_db, kwargs of optim_db) as scratch takes
them, and fresh copies of them for torch, so that no run changes torch's cached samples."""

from __future__ import annotations

import dataclasses
import inspect
from typing import Any, TypeVar

import torch

import scratch.nn

from ..arrays import is_packed, named_tree_map, repacked, to_numpy
from ..convert import from_torch

#: the torch functions a Transformer layer also accepts as strings
ACTIVATION_NAMES = ("relu", "gelu")


def to_scratch_value(value: Any) -> Any:
    """A torch argument as scratch takes it: a tensor becomes a copied array of its dtype (an integer tensor,
    such as Embedding's indices, an int64 array), a torch dtype a NumPy dtype; tuples (a ``torch.Size`` too),
    lists and dicts are converted item by item; a torch module (TransformerEncoder's ``encoder_layer``)
    becomes its scratch twin with the same weights; ``F.relu``/``F.gelu`` their names, the activations a
    Transformer layer takes by name (torch turns those names into those same functions); torch's
    LinearCrossEntropyOptions scratch's, field for field.
    """
    name = getattr(value, "__name__", None)
    if name in ACTIVATION_NAMES and value is getattr(torch.nn.functional, name):
        return name
    if isinstance(value, torch.nn.Module):
        return from_torch(value)
    if isinstance(value, torch.nn.LinearCrossEntropyOptions):  # a frozen dataclass, mirrored field for field
        fields = {f.name: to_scratch_value(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return scratch.nn.LinearCrossEntropyOptions(**fields)
    if isinstance(value, torch.Tensor):
        return to_numpy(value, copy=True)
    if is_packed(value):  # torch's PackedSequence: scratch's, each field a copied array
        return repacked(value, to_numpy(value.data, copy=True))
    if isinstance(value, torch.dtype):
        return torch.empty(0, dtype=value).numpy().dtype
    if isinstance(value, list):
        return [to_scratch_value(v) for v in value]
    if isinstance(value, tuple):
        return tuple(to_scratch_value(v) for v in value)
    if isinstance(value, dict):
        return {k: to_scratch_value(v) for k, v in value.items()}
    return value


def scratch_kwargs(kwargs: dict) -> dict:
    """Keyword arguments for scratch: converted, ``device`` dropped (scratch is CPU-only)."""
    return {k: to_scratch_value(v) for k, v in kwargs.items() if k != "device"}


def to_scratch_arguments(value: tuple | dict) -> tuple | dict:
    """Positional arguments (a tuple) or keyword arguments (a dict) for scratch."""
    return scratch_kwargs(value) if isinstance(value, dict) else to_scratch_value(value)


Arguments = TypeVar("Arguments", tuple[Any, ...], dict[str, Any])  # positional or keyword arguments


def torch_copy(value: Arguments) -> Arguments:
    """Positional or keyword arguments with every tensor a detached copy (nested tuples and lists as tuples)."""
    return named_tree_map(lambda _, v: v.detach().clone() if isinstance(v, torch.Tensor) else v, value)


def forward_slots(module_cls: type[torch.nn.Module], args: tuple, kwargs: dict) -> dict[str, Any]:
    """The forward arguments by the names of torch's forward signature (positional ones first, as torch's
    test_grad names them); more positional arguments than names are ``arg<i>``."""
    names = [p for p in inspect.signature(module_cls.forward).parameters if p != "self"]
    slots = {(names[i] if i < len(names) else f"arg{i}"): arg for i, arg in enumerate(args)}
    return slots | dict(kwargs)
