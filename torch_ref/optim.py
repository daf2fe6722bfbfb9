"""Twin optimizers: the torch optimizer with the same class, param groups and options."""

from __future__ import annotations

from typing import Any

import torch


def to_torch_optimizer(optimizer: Any, params: dict[int, torch.nn.Parameter]) -> torch.optim.Optimizer:
    """Build ``torch.optim.<same class>`` over the torch parameters that ``params`` maps each
    scratch parameter's ``id`` to, with every param group's options copied."""
    torch_cls = getattr(torch.optim, type(optimizer).__name__, None)
    if torch_cls is None:
        raise TypeError(f"to_torch_optimizer: torch.optim has no {type(optimizer).__name__}")
    groups = []
    for group in optimizer.param_groups:
        options = {key: value for key, value in group.items() if key != "params"}
        groups.append({"params": [params[id(p)] for p in group["params"]], **options})
    return torch_cls(groups)
