"""NAdam (Dozat, 2016): Adam with Nesterov momentum, with L2 or decoupled weight decay and maximize."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..nn.parameter import Parameter
from .adam import lerp_
from .optimizer import Optimizer, ParamsT, check_betas, check_nonnegative, step_grad, weight_decayed


class NAdam(Optimizer):
    r"""NAdam, torch's update rule exactly (its single-tensor code path):

    .. code-block:: text

        input: lr γ, betas (β1, β2), eps ε, weight_decay λ, momentum_decay ψ,
               decoupled_weight_decay, maximize
        state: m ← 0, v ← 0, π ← 1, t ← 0
        for each parameter θ with a gradient g:
            if maximize:  g ← -g
            t ← t + 1
            if λ ≠ 0:
                if decoupled_weight_decay:  θ ← θ (1 - γ λ)
                else:                       g ← g + λ θ
            μ_t ← β1 (1 - 0.96^(t ψ) / 2)
            μ_t+1 ← β1 (1 - 0.96^((t + 1) ψ) / 2)
            π ← π μ_t                                              (rounded to float32)
            m ← m + (1 - β1)(g - m)                                (torch's lerp)
            v ← β2 v + (1 - β2) g²
            d ← sqrt(v / (1 - β2^t)) + ε
            θ ← θ - γ (1 - μ_t) / (1 - π) · g / d
            θ ← θ - γ μ_t+1 / (1 - π μ_t+1) · m / d

    State: ``step`` (t, a float), ``mu_product`` (π), ``exp_avg`` (m) and ``exp_avg_sq`` (v).
    """

    _float32_scalars = ("mu_product",)  # load_state_dict keeps it a 0-d float32 array (torch's casts it)

    def __init__(self, params: ParamsT, lr: float = 2e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, momentum_decay: float = 4e-3,
                 decoupled_weight_decay: bool = False, *, maximize: bool = False) -> None:
        check_nonnegative(lr=lr, eps=eps)
        check_betas(betas, type(self).__name__)
        check_nonnegative(weight_decay=weight_decay, momentum_decay=momentum_decay)
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                    "momentum_decay": momentum_decay, "decoupled_weight_decay": decoupled_weight_decay,
                    "maximize": maximize}
        super().__init__(params, defaults)

    def _update(self, param: Parameter, group: dict[str, Any]) -> None:
        lr, eps, weight_decay = float(group["lr"]), float(group["eps"]), float(group["weight_decay"])
        beta1, beta2 = (float(beta) for beta in group["betas"])
        momentum_decay = float(group["momentum_decay"])
        # torch's quirk: mu_product is a 0-d tensor of its default scalar dtype (float32) whatever the
        # parameter's dtype, so the running product is rounded to float32 at every step.
        state = self._lazy_state(param, "exp_avg", "exp_avg_sq", mu_product=np.array(1.0, dtype=np.float32))
        grad = step_grad(param, group["maximize"])
        state["step"] += 1
        step = state["step"]
        bias_correction2 = 1 - beta2**step
        grad = weight_decayed(param, grad, lr, weight_decay, group["decoupled_weight_decay"])
        mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * momentum_decay)))
        mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * momentum_decay)))
        state["mu_product"] *= mu
        mu_product = float(state["mu_product"])
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        lerp_(exp_avg, grad, 1 - beta1)
        exp_avg_sq *= beta2
        exp_avg_sq += (1 - beta2) * grad * grad
        denom = np.sqrt(exp_avg_sq / bias_correction2) + eps
        mu_product_next = mu_product * mu_next
        param.data += (-lr * (1.0 - mu) / (1.0 - mu_product)) * grad / denom
        param.data += ((-lr * mu_next) / (1.0 - mu_product_next)) * exp_avg / denom
