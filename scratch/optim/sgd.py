"""Stochastic gradient descent, with momentum, dampening, Nesterov, weight decay and maximize."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..nn.parameter import Parameter
from .optimizer import Optimizer, ParamsT, run_blocked, step_grad, weight_decayed


class SGD(Optimizer):
    r"""Stochastic gradient descent, torch's update rule exactly:

    .. code-block:: text

        input: lr γ, params θ, gradient g, weight_decay λ, momentum μ, dampening τ,
               nesterov, maximize
        for each parameter θ with a gradient g:
            if maximize:  g ← -g
            if λ ≠ 0:     g ← g + λ θ
            if μ ≠ 0:
                if first step:  b ← g                      (the buffer starts as the gradient)
                else:           b ← μ b + (1 - τ) g
                if nesterov:    g ← g + μ b
                else:           g ← b
            θ ← θ - γ g

    State: ``momentum_buffer`` (b), only when momentum ≠ 0.

    The update runs block by block, with the blocks of a large parameter shared out among
    ``scratch.get_num_threads()`` threads (``run_blocked``): each array is read and written from memory
    once per step (the passes are counted in ``_sgd_block``); maximize and weight decay, when set, add
    whole-array passes before it.
    """

    def __init__(self, params: ParamsT, lr: float = 1e-3, momentum: float = 0, dampening: float = 0,
                 weight_decay: float = 0, nesterov: bool = False, *, maximize: bool = False) -> None:
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        defaults = {"lr": lr, "momentum": momentum, "dampening": dampening, "weight_decay": weight_decay,
                    "nesterov": nesterov, "maximize": maximize}
        super().__init__(params, defaults)

    def _update(self, param: Parameter, group: dict[str, Any]) -> None:
        lr, momentum, weight_decay = float(group["lr"]), float(group["momentum"]), float(group["weight_decay"])
        grad = step_grad(param, group["maximize"])
        grad = weight_decayed(param, grad, lr, weight_decay)
        buf, first = None, False
        if momentum != 0:
            state = self.state[param]
            buf = state.get("momentum_buffer")
            if buf is None:  # the buffer starts as the gradient: the kernel copies it in
                buf, first = np.empty(grad.shape, grad.dtype), True
                state["momentum_buffer"] = buf
        run_blocked(_sgd_block, (param.data, grad, buf), self._scratch(param, 1),
                    (lr, momentum, 1 - float(group["dampening"]), group["nesterov"], first))


def _sgd_block(param: np.ndarray, grad: np.ndarray, buf: np.ndarray | None, tmp: np.ndarray, *,
               scalars: tuple[float, float, float, bool, bool]) -> None:
    """SGD's update of one block, in place, in torch's operation order (``buf`` None without momentum; ``tmp``
    is scratch); ``scalars`` = (γ, μ, 1 - τ, nesterov, first step). Passes over memory, each array read or
    written once for the whole update (``run_blocked``): momentum, b ← μ b + (1 - τ) g; θ ← θ - γ b reads
    g, b, θ and writes b, θ (5; the first step, b ← g, reads g, θ and writes b, θ: 4); without momentum,
    θ ← θ - γ g reads g, θ and writes θ (3). In cache: 4 ufunc passes (5 with τ ≠ 0, 6 with nesterov)."""
    lr, momentum, keep, nesterov, first = scalars
    step = grad
    if buf is not None:
        if first:
            np.copyto(buf, grad)
        else:
            buf *= momentum
            if keep == 1:  # (1 - τ) g is g itself when τ = 0, bit for bit: skip the multiply
                buf += grad
            else:
                buf += np.multiply(grad, keep, out=tmp)
        if nesterov:
            step = np.multiply(buf, momentum, out=tmp)  # g + μ b, in torch's add(alpha=μ) order
            step += grad
        else:
            step = buf
    param -= np.multiply(step, lr, out=tmp)
