"""Stochastic gradient descent, with momentum, dampening, Nesterov, weight decay and maximize."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..nn.parameter import Parameter
from .optimizer import Optimizer, ParamsT, step_grad, weight_decayed


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
        tmp = self._scratch(param, 1)[0]  # out= target for the temporaries: the step allocates nothing
        if momentum != 0:
            state = self.state[param]
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = np.array(grad, copy=True)
            else:
                buf *= momentum
                buf += np.multiply(grad, 1 - float(group["dampening"]), out=tmp)
            if group["nesterov"]:
                nesterov = np.multiply(buf, momentum, out=tmp)  # g + μ b, in torch's add(alpha=μ) order
                nesterov += grad
                grad = nesterov
            else:
                grad = buf
        param.data -= np.multiply(grad, lr, out=tmp)
