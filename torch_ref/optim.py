"""Twin optimizers: the torch optimizer with the same class, param groups and options, and the
conversion of an optimizer's ``state_dict()`` from one engine's format to the other's."""

from __future__ import annotations

import copy
import inspect
from typing import Any

import numpy as np
import torch

# torch's choices of kernel, which scratch has no use for: dropped going to scratch; going back, torch's
# load_state_dict restores each one through its optimizer's __setstate__ defaults.
TORCH_ONLY_OPTIONS = ("foreach", "fused", "capturable", "differentiable")


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
    every tensor becomes a NumPy copy (same dtype and shape), ``step`` a float, and torch's kernel
    options (``foreach``, ``fused``, ``capturable``, ``differentiable``) are dropped."""
    state = {index: {name: _state_from_torch(name, value) for name, value in values.items()}
             for index, values in state_dict["state"].items()}
    groups = [{key: _number_from_torch(value) for key, value in group.items() if key not in TORCH_ONLY_OPTIONS}
              for group in state_dict["param_groups"]]
    return {"state": state, "param_groups": groups}


def optimizer_state_to_torch(state_dict: dict[str, Any]) -> dict[str, Any]:
    """A scratch optimizer's ``state_dict()`` in torch's format, for torch's ``load_state_dict``:
    every array becomes a tensor copy, ``step`` a 0-d tensor of torch's scalar dtype; the kernel
    options are left for torch's load_state_dict to restore."""
    state = {index: {name: _state_to_torch(name, value) for name, value in values.items()}
             for index, values in state_dict["state"].items()}
    return {"state": state, "param_groups": copy.deepcopy(state_dict["param_groups"])}


def _state_from_torch(name: str, value: Any) -> Any:
    if name == "step":
        return float(value)
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy().copy()
    return copy.deepcopy(value)


def _number_from_torch(value: Any) -> Any:
    """A group option: a 0-d tensor (torch allows a tensor lr) becomes a float."""
    if isinstance(value, torch.Tensor) and value.ndim == 0:
        return value.item()
    return copy.deepcopy(value)


def _state_to_torch(name: str, value: Any) -> Any:
    if name == "step":
        return torch.tensor(float(value), dtype=_scalar_dtype())
    if name == "mu_product":
        # torch's load_state_dict casts every tensor but ``step`` to its parameter's dtype, which would
        # make NAdam's float32 mu_product float64; a number is turned into a float32 tensor by
        # NAdam.__setstate__, as a fresh NAdam has it.
        return float(np.asarray(value))
    if isinstance(value, np.ndarray):
        return torch.tensor(value)
    return copy.deepcopy(value)


def _scalar_dtype() -> torch.dtype:
    """torch's dtype for ``step`` (``torch.optim.optimizer._get_scalar_dtype``)."""
    return torch.float64 if torch.get_default_dtype() == torch.float64 else torch.float32
