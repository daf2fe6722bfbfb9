"""RAdam (Liu et al., 2019): Adam with a rectified adaptive learning rate."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..nn.parameter import Parameter
from .adam import lerp_
from .optimizer import Optimizer, ParamsT, check_betas, check_nonnegative, step_grad, weight_decayed


class RAdam(Optimizer):
    r"""RAdam, torch's update rule exactly (its single-tensor code path):

    .. code-block:: text

        input: lr γ, betas (β1, β2), eps ε, weight_decay λ, decoupled_weight_decay, maximize
        state: m ← 0, v ← 0, t ← 0
        ρ_∞ ← 2 / (1 - β2) - 1
        for each parameter θ with a gradient g:
            if maximize:  g ← -g
            t ← t + 1
            if λ ≠ 0:
                if decoupled_weight_decay:  θ ← θ (1 - γ λ)
                else:                       g ← g + λ θ
            m ← m + (1 - β1)(g - m)                                (torch's lerp)
            v ← β2 v + (1 - β2) g²
            m̂ ← m / (1 - β1^t)
            ρ_t ← ρ_∞ - 2 t β2^t / (1 - β2^t)
            if ρ_t > 5:
                r ← sqrt((ρ_t - 4)(ρ_t - 2) ρ_∞ / ((ρ_∞ - 4)(ρ_∞ - 2) ρ_t))
                a ← 1 / (sqrt(v) + ε) · sqrt(1 - β2^t)
                θ ← θ - m̂ γ a r
            else:
                θ ← θ - m̂ γ

    State: ``step`` (t, a float), ``exp_avg`` (m) and ``exp_avg_sq`` (v).
    """

    def __init__(self, params: ParamsT, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, decoupled_weight_decay: bool = False, *,
                 maximize: bool = False) -> None:
        check_nonnegative(lr=lr, eps=eps)
        check_betas(betas, type(self).__name__)
        check_nonnegative(weight_decay=weight_decay)
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay, "maximize": maximize,
                    "decoupled_weight_decay": decoupled_weight_decay}
        super().__init__(params, defaults)

    def _update(self, param: Parameter, group: dict[str, Any]) -> None:
        lr, eps, weight_decay = float(group["lr"]), float(group["eps"]), float(group["weight_decay"])
        beta1, beta2 = (float(beta) for beta in group["betas"])
        state = self._lazy_state(param, "exp_avg", "exp_avg_sq")
        grad = step_grad(param, group["maximize"])
        state["step"] += 1
        step = state["step"]
        grad = weight_decayed(param, grad, lr, weight_decay, group["decoupled_weight_decay"])
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        lerp_(exp_avg, grad, 1 - beta1)
        exp_avg_sq *= beta2
        exp_avg_sq += (1 - beta2) * grad * grad
        bias_correction1 = 1 - beta1**step
        bias_correction2 = 1 - beta2**step
        bias_corrected_exp_avg = exp_avg / bias_correction1
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 * step * (beta2**step) / bias_correction2
        if rho_t > 5.0:
            rect = ((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
            # torch writes scalar / tensor, which it evaluates as tensor.reciprocal() * scalar
            adaptive_lr = 1 / (np.sqrt(exp_avg_sq) + eps) * bias_correction2**0.5
            param.data -= bias_corrected_exp_avg * lr * adaptive_lr * rect
        else:
            param.data -= bias_corrected_exp_avg * lr
