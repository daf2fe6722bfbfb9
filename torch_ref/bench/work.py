"""The timed bodies: one call of each function is one unit of work in one engine.

Each ``scratch_*`` function and its ``torch_*`` twin do the same work on the same arrays, and return
what a smoke test can check (a loss, an output or a gradient). Nothing here times anything.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

#: the torch variants of an optimizer: the default path (a Python loop over parameters on the CPU),
#: the multi-tensor ``foreach`` path and the single-kernel ``fused`` path.
TORCH_KERNELS: dict[str, dict[str, Any]] = {"torch": {}, "torch-foreach": {"foreach": True},
                                             "torch-fused": {"fused": True}}


def scratch_forward_backward(module: Any, x: np.ndarray, grad: np.ndarray) -> Any:
    """forward, then backward of a random upstream gradient; returns dL/dx."""
    module(x)
    return module.backward(grad)


def torch_forward_backward(module: torch.nn.Module, x: torch.Tensor, grad: torch.Tensor) -> torch.Tensor | None:
    x.grad = None
    out = module(x)
    out = out[0] if isinstance(out, tuple) else out  # an LSTM's output, without (h_n, c_n)
    out.backward(grad)
    return x.grad


def scratch_self_attention(module: Any, x: np.ndarray, grad: np.ndarray) -> np.ndarray:
    """MultiheadAttention forward on (x, x, x) without weights, then backward; returns dL/dx (all three uses)."""
    module.zero_grad()
    module(x, x, x, need_weights=False)
    grad_q, grad_k, grad_v = module.backward(grad)
    return grad_q + grad_k + grad_v


def torch_self_attention(module: torch.nn.Module, x: torch.Tensor, grad: torch.Tensor) -> torch.Tensor | None:
    module.zero_grad()
    x.grad = None
    out, _ = module(x, x, x, need_weights=False)
    out.backward(grad)
    return x.grad


def scratch_loss(criterion: Any, logits: np.ndarray, target: np.ndarray) -> np.ndarray:
    """A loss forward and backward; returns dL/dlogits."""
    criterion(logits, target)
    return criterion.backward()


def torch_loss(criterion: torch.nn.Module, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor | None:
    logits.grad = None
    criterion(logits, target).backward()
    return logits.grad


def scratch_train_step(model: Any, criterion: Any, optimizer: Any, x: np.ndarray, y: np.ndarray) -> float:
    """One training step: zero_grad, forward, loss, backward, optimizer step; returns the loss."""
    optimizer.zero_grad()
    loss = criterion(model(x), y)
    model.backward(criterion.backward())
    optimizer.step()
    return float(loss)


def torch_train_step(model: torch.nn.Module, criterion: torch.nn.Module, optimizer: torch.optim.Optimizer,
                     x: torch.Tensor, y: torch.Tensor) -> float:
    optimizer.zero_grad()
    loss = criterion(model(x), y)
    loss.backward()
    optimizer.step()
    return loss.item()


def scratch_optimizer_step(optimizer: Any) -> np.ndarray:
    """One step of an optimizer whose gradients are already set; returns the first parameter."""
    optimizer.step()
    return optimizer.param_groups[0]["params"][0].data


def torch_optimizer_step(optimizer: torch.optim.Optimizer) -> torch.Tensor:
    optimizer.step()
    return optimizer.param_groups[0]["params"][0].detach()


def scratch_epoch(model: Any, criterion: Any, optimizer: Any, x: np.ndarray, y: np.ndarray, batch_size: int) -> float:
    """One epoch in order, ``batch_size`` rows per step (1: per-sample updates); returns the mean step loss."""
    losses = [scratch_train_step(model, criterion, optimizer, x[i:i + batch_size], y[i:i + batch_size])
              for i in range(0, len(x), batch_size)]
    return sum(losses) / len(losses)


def torch_epoch(model: torch.nn.Module, criterion: torch.nn.Module, optimizer: torch.optim.Optimizer,
                x: torch.Tensor, y: torch.Tensor, batch_size: int) -> float:
    losses = [torch_train_step(model, criterion, optimizer, x[i:i + batch_size], y[i:i + batch_size])
              for i in range(0, len(x), batch_size)]
    return sum(losses) / len(losses)
