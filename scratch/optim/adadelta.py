"""Adadelta (Zeiler, 2012), with weight decay and maximize."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..nn.parameter import Parameter
from .optimizer import Optimizer, ParamsT, check_nonnegative, step_grad, weight_decayed


class Adadelta(Optimizer):
    r"""Adadelta, torch's update rule exactly (its single-tensor code path):

    .. code-block:: text

        input: lr γ, rho ρ, eps ε, weight_decay λ, maximize
        state: v ← 0, u ← 0, t ← 0
        for each parameter θ with a gradient g:
            t ← t + 1
            if maximize:  g ← -g
            if λ ≠ 0:     g ← g + λ θ
            v ← ρ v + (1 - ρ) g²
            Δ ← sqrt(u + ε) / sqrt(v + ε) · g
            u ← ρ u + (1 - ρ) Δ²
            θ ← θ - γ Δ

    State: ``step`` (t, a float), ``square_avg`` (v) and ``acc_delta`` (u).
    """

    def __init__(self, params: ParamsT, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6,
                 weight_decay: float = 0, *, maximize: bool = False) -> None:
        check_nonnegative(lr=lr)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        check_nonnegative(eps=eps, weight_decay=weight_decay)
        defaults = {"lr": lr, "rho": rho, "eps": eps, "weight_decay": weight_decay, "maximize": maximize}
        super().__init__(params, defaults)

    def _update(self, param: Parameter, group: dict[str, Any]) -> None:
        lr, rho, eps = float(group["lr"]), float(group["rho"]), float(group["eps"])
        weight_decay = float(group["weight_decay"])
        state = self._lazy_state(param, "square_avg", "acc_delta")
        state["step"] += 1
        grad = step_grad(param, group["maximize"])
        grad = weight_decayed(param, grad, lr, weight_decay)
        square_avg, acc_delta = state["square_avg"], state["acc_delta"]
        square_avg *= rho
        square_avg += (1 - rho) * grad * grad
        delta = np.sqrt(acc_delta + eps) / np.sqrt(square_avg + eps) * grad
        acc_delta *= rho
        acc_delta += (1 - rho) * delta * delta
        param.data += -lr * delta
