"""The twin registry: which torch module is the twin of a scratch module, and back.

A *twin factory* builds the twin's architecture from a module's options; ``torch_ref.convert`` then
copies every parameter and buffer by its state_dict key. A module's class and then its bases are looked
up in turn: a class registered with ``register_twin`` (a user's layer, or one the generic rule cannot
build) uses its factory; a class of ``scratch.nn`` itself uses the generic twin (``generic.py``); so a
user's subclass of a registered or built-in class gets that class's twin.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import torch

from scratch import nn

from . import generic

# a factory takes a module of the class it is registered for (Any: Callable's argument is contravariant)
ToTorch = Callable[[Any], torch.nn.Module]
FromTorch = Callable[[Any], nn.Module]


class Twin(NamedTuple):
    """One special twin: ``to_torch(scratch_module)`` builds the torch module; ``from_torch(torch_module)``
    the scratch one (None: the generic rule does)."""

    scratch_cls: type
    torch_cls: type
    to_torch: ToTorch
    from_torch: FromTorch | None = None


_TO_TORCH: dict[type, ToTorch] = {}
_FROM_TORCH: dict[type, FromTorch] = {}


def register_twin(scratch_cls: type, factory: ToTorch, *, torch_cls: type | None = None,
                  reverse: FromTorch | None = None) -> None:
    """Teach ``to_torch`` (and, given ``torch_cls`` and ``reverse``, ``from_torch``) a layer.

    ``factory(scratch_module)`` returns the torch module whose parameters the converter fills;
    ``reverse(torch_module)`` returns the scratch module, likewise filled afterwards.
    Subclasses of a registered class use its twin unless registered themselves.
    """
    if not (isinstance(scratch_cls, type) and issubclass(scratch_cls, nn.Module)):
        raise TypeError(f"register_twin: expected a scratch.nn.Module subclass, got {scratch_cls!r}")
    if (torch_cls is None) != (reverse is None):
        raise ValueError("register_twin: pass torch_cls and reverse together (or neither)")
    _TO_TORCH[scratch_cls] = factory
    if torch_cls is not None and reverse is not None:
        _FROM_TORCH[torch_cls] = reverse


def _unknown(direction: str, module: Any, where: str) -> TypeError:
    place = f" at '{where}'" if where else ""
    return TypeError(f"{direction}: no twin known for layer {type(module).__qualname__}{place}; "
                     "teach it with torch_ref.register_twin(scratch_cls, factory, ...)")


def build_torch(module: nn.Module, where: str = "") -> torch.nn.Module:
    """The torch twin's architecture only (weights not yet copied); ``where`` names it in an error."""
    for cls in type(module).__mro__:
        if cls in _TO_TORCH:
            return _TO_TORCH[cls](module)
        if generic.has_torch_twin(cls):
            return generic.torch_twin(module, cls)
    raise _unknown("to_torch", module, where)


def build_scratch(module: torch.nn.Module, where: str = "") -> nn.Module:
    """The scratch twin's architecture only (weights not yet copied)."""
    for cls in type(module).__mro__:
        if cls in _FROM_TORCH:
            return _FROM_TORCH[cls](module)
        if generic.has_scratch_twin(cls):
            return generic.scratch_twin(module, cls)
    raise _unknown("from_torch", module, where)


def register_all(twins: list[Twin]) -> None:
    for twin in twins:
        _TO_TORCH[twin.scratch_cls] = twin.to_torch
        if twin.from_torch is not None:
            _FROM_TORCH[twin.torch_cls] = twin.from_torch
