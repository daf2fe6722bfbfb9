"""Convert between the engines: a scratch module to its ``torch.nn`` twin with identical weights and back,
and a scratch optimizer to its ``torch.optim`` twin, with optimizer state dicts in either engine's format.

Each layer's twin is built by ``torch_ref.twins`` (the generic rule, or a registered factory); the
converter then copies every parameter and buffer by its state_dict key, sets the dtype and the train/eval
mode. ``register_twin`` teaches both directions a new layer, such as a user's own.
"""

from __future__ import annotations

import copy
import inspect
from collections import OrderedDict
from typing import Any

import numpy as np
import torch
from torch.nn.parameter import is_lazy as torch_is_lazy

from scratch import nn
from scratch.nn.parameter import is_lazy

from .arrays import to_numpy
from .twins import build_scratch, build_torch, register_twin

__all__ = ["NUMPY_DTYPES", "TORCH_DTYPES", "TORCH_ONLY_OPTIONS", "from_torch", "optimizer_state_from_torch",
           "optimizer_state_to_torch", "register_twin", "to_torch", "to_torch_optimizer"]

TORCH_DTYPES = {np.dtype(np.float16): torch.float16, np.dtype(np.float32): torch.float32,
                np.dtype(np.float64): torch.float64}
NUMPY_DTYPES = {value: key for key, value in TORCH_DTYPES.items()}


def _shape(value: Any) -> tuple[int, ...] | None:
    """A state_dict entry's shape; None for a lazy module's uninitialized parameter (in either engine)."""
    return None if is_lazy(value) or torch_is_lazy(value) else tuple(value.shape)


def _uninitialized(value: Any) -> nn.UninitializedParameter | nn.UninitializedBuffer:
    """scratch's uninitialized parameter or buffer for torch's."""
    if isinstance(value, torch.nn.parameter.UninitializedBuffer):
        return nn.UninitializedBuffer(value.requires_grad, NUMPY_DTYPES[value.dtype])
    return nn.UninitializedParameter(value.requires_grad, NUMPY_DTYPES[value.dtype])


def _check_same_layout(scratch_module: nn.Module, torch_module: torch.nn.Module) -> None:
    ours = {k: _shape(v) for k, v in scratch_module.state_dict().items()}
    theirs = {k: _shape(v) for k, v in torch_module.state_dict().items()}
    # an uninitialized parameter takes any shape: loading an array into it materializes it (torch's _lazy_load_hook)
    if ours.keys() != theirs.keys() or any(None not in (ours[k], theirs[k]) and ours[k] != theirs[k] for k in ours):
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
        params = list(sub.parameters(recurse=False))
        if params and name in twin_modules:
            twin_modules[name].to(TORCH_DTYPES[params[0].dtype])
    _check_same_layout(module, twin)
    theirs = twin.state_dict()  # an uninitialized parameter (a lazy module's) loads the twin's own: nothing to copy
    twin.load_state_dict(OrderedDict((k, theirs[k] if is_lazy(v) else torch.from_numpy(v))
                                     for k, v in module.state_dict().items()))
    for name, param in module.named_parameters():  # a frozen parameter stays frozen in the twin
        twin.get_parameter(name).requires_grad = param.requires_grad
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
    twin.load_state_dict(OrderedDict((k, _uninitialized(v) if torch_is_lazy(v) else v)
                                     for k, v in torch_module.state_dict().items()))
    _match_modes(torch_module, twin)
    return twin


# ------------------------------------------------------------------------------------ optimizers
# torch's choices of kernel, which scratch has no use for: dropped going to scratch; going back, torch's
# load_state_dict restores each one through its optimizer's __setstate__ defaults.
TORCH_ONLY_OPTIONS = ("foreach", "fused", "capturable", "differentiable")
#: state entries torch keeps as float32 0-d tensors whatever the parameter's dtype (scratch: ``_float32_scalars``)
FLOAT32_SCALARS = ("mu_product", "eta", "mu")


def to_torch_optimizer(optimizer: Any, params: dict[int, torch.nn.Parameter]) -> torch.optim.Optimizer:
    """Build ``torch.optim.<same class>`` over the torch parameters that ``params`` maps each
    scratch parameter's ``id`` to, with the same defaults and every param group's options copied."""
    # the nearest class torch.optim also has, so a user's subclass of scratch's SGD gets torch's SGD
    torch_cls = next((getattr(torch.optim, cls.__name__) for cls in type(optimizer).__mro__
                      if cls.__name__ != "Optimizer" and hasattr(torch.optim, cls.__name__)), None)
    if torch_cls is None:
        raise TypeError(f"to_torch_optimizer: torch.optim has no {type(optimizer).__name__}")
    groups = []
    for group in optimizer.param_groups:
        options = {key: value for key, value in group.items() if key != "params"}
        groups.append({"params": [params[id(p)] for p in group["params"]], **options})
    # the defaults go to the constructor too (those it takes: AdamW fixes decoupled_weight_decay), since
    # Adagrad, for one, builds its state from the constructor's initial_accumulator_value
    accepted = inspect.signature(torch_cls).parameters
    return torch_cls(groups, **{key: value for key, value in optimizer.defaults.items() if key in accepted})


def optimizer_state_from_torch(state_dict: dict[str, Any]) -> dict[str, Any]:
    """A torch optimizer's ``state_dict()`` in scratch's format, for scratch's ``load_state_dict``:
    every tensor becomes a NumPy copy (same dtype and shape; in a list too, as LBFGS's history), ``step`` a
    float, and torch's kernel options (``foreach``, ``fused``, ``capturable``, ``differentiable``) are dropped."""
    state = {index: {name: _state_from_torch(name, value) for name, value in values.items()}
             for index, values in state_dict["state"].items()}
    groups = [{key: _number_from_torch(value) for key, value in group.items() if key not in TORCH_ONLY_OPTIONS}
              for group in state_dict["param_groups"]]
    return {"state": state, "param_groups": groups}


def optimizer_state_to_torch(state_dict: dict[str, Any]) -> dict[str, Any]:
    """A scratch optimizer's ``state_dict()`` in torch's format, for torch's ``load_state_dict``:
    every array becomes a tensor copy (a NumPy scalar a 0-d tensor, in a list too: LBFGS's history), ``step``
    a 0-d tensor of torch's scalar dtype; the kernel
    options are left for torch's load_state_dict to restore."""
    state = {index: {name: _state_to_torch(name, value) for name, value in values.items()}
             for index, values in state_dict["state"].items()}
    return {"state": state, "param_groups": copy.deepcopy(state_dict["param_groups"])}


def _state_from_torch(name: str, value: Any) -> Any:
    """A state entry: ``step`` a float, a tensor a NumPy copy, a list (LBFGS's history) element by element."""
    if name == "step":
        return float(value)
    if isinstance(value, torch.Tensor):
        return to_numpy(value, copy=True)
    if isinstance(value, list | tuple):
        return type(value)(_state_from_torch(name, item) for item in value)
    return copy.deepcopy(value)


def _number_from_torch(value: Any) -> Any:
    """A group option: a 0-d tensor (torch allows a tensor lr) becomes a float."""
    if isinstance(value, torch.Tensor) and value.ndim == 0:
        return value.item()
    return copy.deepcopy(value)


def _state_to_torch(name: str, value: Any) -> Any:
    """A state entry in torch's form (see ``optimizer_state_to_torch``)."""
    if name == "step":
        return torch.tensor(float(value), dtype=_scalar_dtype())
    if name in FLOAT32_SCALARS:
        # torch's load_state_dict casts every tensor but ``step`` to its parameter's dtype, which would
        # make NAdam's float32 mu_product (ASGD's eta, mu) float64; a number is turned into a float32
        # tensor by the optimizer's __setstate__, as a fresh optimizer has it.
        return float(np.asarray(value))
    if isinstance(value, np.ndarray | np.generic):  # a NumPy scalar (LBFGS's H_diag, ro): torch's 0-d tensor
        return torch.tensor(value)
    if isinstance(value, list | tuple):  # LBFGS's history (old_dirs, old_stps, ro, al), element by element
        return type(value)(_state_to_torch(name, item) for item in value)
    return copy.deepcopy(value)


def _scalar_dtype() -> torch.dtype:
    """torch's dtype for ``step`` (``torch.optim.optimizer._get_scalar_dtype``)."""
    return torch.float64 if torch.get_default_dtype() == torch.float64 else torch.float32
