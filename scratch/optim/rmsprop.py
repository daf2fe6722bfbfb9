"""RMSprop (Hinton's lecture 6e), with momentum, centering, weight decay and maximize."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..nn.parameter import Parameter
from .adam import lerp_
from .optimizer import Optimizer, ParamsT, check_nonnegative, step_grad, weight_decayed


class RMSprop(Optimizer):
    r"""RMSprop, torch's update rule exactly (its single-tensor code path):

    .. code-block:: text

        input: lr γ, alpha α, eps ε, weight_decay λ, momentum μ, centered, maximize
        state: v ← 0, b ← 0, g_avg ← 0, t ← 0
        for each parameter θ with a gradient g:
            if maximize:  g ← -g
            t ← t + 1
            if λ ≠ 0:     g ← g + λ θ
            v ← α v + (1 - α) g²
            if centered:
                g_avg ← g_avg + (1 - α)(g - g_avg)                 (torch's lerp)
                d ← sqrt(v - g_avg²) + ε
            else:
                d ← sqrt(v) + ε
            if μ > 0:
                b ← μ b + g / d
                θ ← θ - γ b
            else:
                θ ← θ - γ g / d

    eps is added *outside* the square root, as torch does.

    State: ``step`` (t, a float), ``square_avg`` (v), and ``momentum_buffer`` (b) when
    momentum > 0, ``grad_avg`` (g_avg) when centered.
    """

    def __init__(self, params: ParamsT, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0, momentum: float = 0, centered: bool = False, *,
                 maximize: bool = False) -> None:
        check_nonnegative(lr=lr, eps=eps, momentum=momentum, weight_decay=weight_decay, alpha=alpha)
        defaults = {"lr": lr, "momentum": momentum, "alpha": alpha, "eps": eps, "centered": centered,
                    "weight_decay": weight_decay, "maximize": maximize}
        super().__init__(params, defaults)

    def _update(self, param: Parameter, group: dict[str, Any]) -> None:
        lr, alpha, eps = float(group["lr"]), float(group["alpha"]), float(group["eps"])
        weight_decay, momentum = float(group["weight_decay"]), float(group["momentum"])
        state = self._lazy_state(param, "square_avg", *(["momentum_buffer"] if momentum > 0 else []),
                                 *(["grad_avg"] if group["centered"] else []))
        grad = step_grad(param, group["maximize"])
        state["step"] += 1
        grad = weight_decayed(param, grad, lr, weight_decay)
        square_avg = state["square_avg"]
        square_avg *= alpha
        square_avg += (1 - alpha) * grad * grad
        if group["centered"]:
            grad_avg = state["grad_avg"]
            lerp_(grad_avg, grad, 1 - alpha)
            avg = np.sqrt(square_avg - grad_avg * grad_avg) + eps
        else:
            avg = np.sqrt(square_avg) + eps
        if momentum > 0:
            buf = state["momentum_buffer"]
            buf *= momentum
            buf += grad / avg
            param.data += -lr * buf
        else:
            param.data += -lr * grad / avg
