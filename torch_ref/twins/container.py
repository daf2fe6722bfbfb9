"""Twins of the containers: a torch container holding the twin of each child (Sequential, ModuleList,
ModuleDict) under the same name, or a parameter of the same shape, dtype and ``requires_grad`` for each
parameter (ParameterList, ParameterDict; other objects as they are); the converter copies the values."""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import torch

from scratch import nn

from .registry import Twin, build_scratch, build_torch

T = torch.nn


def _sequential_to_torch(module: nn.Sequential) -> torch.nn.Sequential:
    return torch.nn.Sequential(OrderedDict((name, build_torch(child, name)) for name, child in module.named_children()))


def _sequential_from_torch(module: torch.nn.Sequential) -> nn.Sequential:
    return nn.Sequential(OrderedDict((name, build_scratch(child, name)) for name, child in module.named_children()))


def _torch_parameter(value: object) -> object:
    """An empty torch Parameter of a scratch Parameter's shape and dtype; other objects as they are."""
    if isinstance(value, nn.Parameter):
        return T.Parameter(torch.from_numpy(np.empty_like(value.data)), requires_grad=value.requires_grad)
    return value


def _scratch_parameter(value: object) -> object:
    if isinstance(value, torch.Tensor):
        return nn.Parameter(np.empty(tuple(value.shape), dtype=value.detach().numpy().dtype),
                            requires_grad=value.requires_grad)
    return value


TWINS = [
    Twin(nn.Sequential, T.Sequential, _sequential_to_torch, _sequential_from_torch),
    Twin(nn.ModuleList, T.ModuleList,
         lambda m: T.ModuleList([build_torch(c, str(i)) for i, c in enumerate(m)]),
         lambda t: nn.ModuleList([build_scratch(c, str(i)) for i, c in enumerate(t)])),
    Twin(nn.ModuleDict, T.ModuleDict,
         # torch's ModuleDict takes (key, module) pairs as well as a mapping (its annotation names only the mapping)
         lambda m: T.ModuleDict([(k, build_torch(c, k)) for k, c in m.items()]),  # type: ignore[arg-type]
         lambda t: nn.ModuleDict([(k, build_scratch(c, k)) for k, c in t.items()])),
    Twin(nn.ParameterList, T.ParameterList,
         lambda m: T.ParameterList([_torch_parameter(p) for p in m]),
         lambda t: nn.ParameterList([_scratch_parameter(p) for p in t])),
    Twin(nn.ParameterDict, T.ParameterDict,
         lambda m: T.ParameterDict([(k, _torch_parameter(p)) for k, p in m.items()]),
         lambda t: nn.ParameterDict([(k, _scratch_parameter(p)) for k, p in t.items()])),
]
