"""Convert scratch modules to their ``torch.nn`` twins with identical weights, and back.

Each known layer has a *twin factory*: ``factory(scratch_module)`` builds the torch module
with the same architecture; the converter then copies every parameter and buffer by its
state_dict key, sets the dtype and the train/eval mode. ``register_twin`` teaches both
directions a new layer, such as a user's own.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import numpy as np
import torch

from scratch import nn

from .twins import TWINS
from .twins.types import FromTorch, ToTorch

_TO_TORCH: dict[type, ToTorch] = {}
_FROM_TORCH: dict[type, FromTorch] = {}

TORCH_DTYPES = {np.dtype(np.float16): torch.float16, np.dtype(np.float32): torch.float32,
                np.dtype(np.float64): torch.float64}
NUMPY_DTYPES = {value: key for key, value in TORCH_DTYPES.items()}


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


def _lookup(registry: dict[type, Any], module: Any, direction: str, where: str) -> Any:
    for cls in type(module).__mro__:
        if cls in registry:
            return registry[cls]
    place = f" at '{where}'" if where else ""
    raise TypeError(f"{direction}: no twin known for layer {type(module).__qualname__}{place}; "
                    "teach it with torch_ref.register_twin(scratch_cls, factory, ...)")


def build_torch(module: nn.Module, where: str = "") -> torch.nn.Module:
    """The torch twin's architecture only (weights not yet copied)."""
    return _lookup(_TO_TORCH, module, "to_torch", where)(module)


def build_scratch(module: torch.nn.Module, where: str = "") -> nn.Module:
    return _lookup(_FROM_TORCH, module, "from_torch", where)(module)


def _check_same_layout(scratch_module: nn.Module, torch_module: torch.nn.Module) -> None:
    ours = {k: tuple(v.shape) for k, v in scratch_module.state_dict().items()}
    theirs = {k: tuple(v.shape) for k, v in torch_module.state_dict().items()}
    if ours != theirs:
        raise ValueError(f"twin of {type(scratch_module).__qualname__} has a different state_dict layout: "
                         f"scratch {ours} vs torch {theirs}")


def _match_modes(source: Any, target: Any) -> None:
    target_modules = dict(target.named_modules())
    for name, module in source.named_modules():
        if name in target_modules:
            target_modules[name].training = module.training


def to_torch(module: nn.Module) -> torch.nn.Module:
    """The equivalent ``torch.nn.Module`` with identical weights, buffers, dtype and train/eval mode."""
    twin = build_torch(module)
    twin_modules = dict(twin.named_modules())
    for name, sub in module.named_modules():  # parents first, so a child's own dtype wins
        dtype = sub._own_dtype()
        if dtype is not None and name in twin_modules:
            twin_modules[name].to(TORCH_DTYPES[dtype])
    _check_same_layout(module, twin)
    twin.load_state_dict(OrderedDict((k, torch.from_numpy(v)) for k, v in module.state_dict().items()))
    for name, param in module.named_parameters():  # a frozen parameter stays frozen in the twin
        twin.get_parameter(name).requires_grad_(param.requires_grad)
    _match_modes(module, twin)
    return twin


def from_torch(torch_module: torch.nn.Module) -> nn.Module:
    """The scratch twin of a torch module: identical weights, buffers, dtype and mode."""
    twin = build_scratch(torch_module)
    twin_modules = dict(twin.named_modules())
    for name, sub in torch_module.named_modules():
        params = list(sub.parameters(recurse=False))
        if params and name in twin_modules:
            twin_modules[name].to(NUMPY_DTYPES[params[0].dtype])
    _check_same_layout(twin, torch_module)
    twin.load_state_dict(torch_module.state_dict())
    _match_modes(torch_module, twin)
    return twin


def _sequential_to_torch(module: nn.Sequential) -> torch.nn.Sequential:
    return torch.nn.Sequential(OrderedDict((name, build_torch(child, name)) for name, child in module.named_children()))


def _sequential_from_torch(module: torch.nn.Sequential) -> nn.Sequential:
    return nn.Sequential(OrderedDict((name, build_scratch(child, name)) for name, child in module.named_children()))


def _register_builtin_twins() -> None:
    register_twin(nn.Sequential, _sequential_to_torch, torch_cls=torch.nn.Sequential, reverse=_sequential_from_torch)
    for scratch_cls, torch_cls, factory, reverse in TWINS:
        register_twin(scratch_cls, factory, torch_cls=torch_cls, reverse=reverse)


_register_builtin_twins()
