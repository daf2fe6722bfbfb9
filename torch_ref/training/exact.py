"""A float64 rerun of torch's side of one training step: the reference that tells a parameter gradient which is
zero in exact arithmetic (its float32 values rounding noise in both engines) from one that diverges (see
``torch_ref.tolerance.exact_zero_error``)."""

from __future__ import annotations

import copy

import numpy as np
import torch

from ..arrays import to_numpy


def _copy64(module: torch.nn.Module) -> torch.nn.Module:
    """A float64 copy that records nothing (the copy of a hook would record into this step's tapes)."""
    clone = copy.deepcopy(module).double()
    for sub in clone.modules():
        sub._forward_hooks.clear()
        sub._forward_pre_hooks.clear()
        sub._backward_hooks.clear()
        sub._backward_pre_hooks.clear()
    return clone


def float64_gradients(twin: torch.nn.Module, criterion: torch.nn.Module, x: np.ndarray, y: np.ndarray) -> dict:
    """Every parameter gradient of ``criterion(twin(x), y)``, by the parameter's full name, computed by float64
    copies of both on the same batch (float inputs and targets in float64 too): the whole step, since the
    rounding that a zero gradient is made of starts upstream (a BatchNorm's input gradient summing to 0)."""
    model, loss_fn = _copy64(twin), _copy64(criterion)
    model.zero_grad(set_to_none=True)

    def tensor(a: np.ndarray) -> torch.Tensor:
        t = torch.from_numpy(np.array(a, copy=True))
        return t.double() if t.is_floating_point() else t

    loss_fn(model(tensor(x)), tensor(y)).backward()
    return {n: to_numpy(p.grad) for n, p in model.named_parameters() if p.grad is not None}
