"""Twins of the containers: a torch container holding the twin of each child, under the same name."""

from __future__ import annotations

from collections import OrderedDict

import torch

from scratch import nn

from .registry import Twin, build_scratch, build_torch


def _sequential_to_torch(module: nn.Sequential) -> torch.nn.Sequential:
    return torch.nn.Sequential(OrderedDict((name, build_torch(child, name)) for name, child in module.named_children()))


def _sequential_from_torch(module: torch.nn.Sequential) -> nn.Sequential:
    return nn.Sequential(OrderedDict((name, build_scratch(child, name)) for name, child in module.named_children()))


TWINS = [Twin(nn.Sequential, torch.nn.Sequential, _sequential_to_torch, _sequential_from_torch)]
