"""Adagrad (Duchi, Hazan & Singer, 2011), with learning-rate decay, weight decay and maximize."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..nn.parameter import Parameter
from .optimizer import Optimizer, ParamsT, check_nonnegative, step_grad, weight_decayed


class Adagrad(Optimizer):
    r"""Adagrad, torch's update rule exactly (its single-tensor code path, dense gradients):

    .. code-block:: text

        input: lr γ, lr_decay η, weight_decay λ, initial_accumulator_value s0, eps ε, maximize
        state: s ← s0, t ← 0
        for each parameter θ with a gradient g:
            t ← t + 1
            if maximize:  g ← -g
            if λ ≠ 0:     g ← g + λ θ
            γ_t ← γ / (1 + (t - 1) η)
            s ← s + g²
            θ ← θ - γ_t g / (sqrt(s) + ε)

    State: ``step`` (t, a float) and ``sum`` (s), made for every parameter at construction.
    """

    def __init__(self, params: ParamsT, lr: float = 1e-2, lr_decay: float = 0, weight_decay: float = 0,
                 initial_accumulator_value: float = 0, eps: float = 1e-10, *, maximize: bool = False) -> None:
        check_nonnegative(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                          initial_accumulator_value=initial_accumulator_value, eps=eps)
        defaults = {"lr": lr, "lr_decay": lr_decay, "eps": eps, "weight_decay": weight_decay,
                    "initial_accumulator_value": initial_accumulator_value, "maximize": maximize}
        super().__init__(params, defaults)
        # torch's quirk: the state of every parameter (gradient or not) is made here, from the constructor's
        # initial_accumulator_value (a group's own value is ignored); a parameter added later gets it lazily.
        for group in self.param_groups:
            for param in group["params"]:
                self.state[param] = {"step": 0.0, "sum": np.full_like(param.data, initial_accumulator_value)}

    def _update(self, param: Parameter, group: dict[str, Any]) -> None:
        lr, lr_decay, eps = float(group["lr"]), float(group["lr_decay"]), float(group["eps"])
        weight_decay = float(group["weight_decay"])
        state = self._lazy_state(param, sum=np.full_like(param.data, self.defaults["initial_accumulator_value"]))
        state["step"] += 1
        grad = step_grad(param, group["maximize"])
        grad = weight_decayed(param, grad, lr, weight_decay)
        clr = lr / (1 + (state["step"] - 1) * lr_decay)
        state_sum = state["sum"]
        state_sum += grad * grad
        std = np.sqrt(state_sum) + eps
        param.data += -clr * grad / std
