"""Adam (Kingma & Ba, 2014), with AMSGrad, L2 or decoupled weight decay, and maximize."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..nn.parameter import Parameter
from .optimizer import Optimizer, ParamsT, check_betas, check_nonnegative, weight_decayed


def lerp_(start: np.ndarray, end: np.ndarray, weight: float) -> None:
    """start ← start + weight (end - start), in place, evaluated as torch's lerp kernel does."""
    if abs(weight) < 0.5:
        start += weight * (end - start)
    else:  # torch switches form here, to stay exact as weight → 1
        start[...] = end - (end - start) * (1 - weight)


class Adam(Optimizer):
    r"""Adam, torch's update rule exactly (its single-tensor code path):

    .. code-block:: text

        input: lr γ, betas (β1, β2), eps ε, weight_decay λ, amsgrad, maximize,
               decoupled_weight_decay
        state: m ← 0, v ← 0, v_max ← 0, t ← 0
        for each parameter θ with a gradient g:
            if maximize:  g ← -g
            t ← t + 1
            if λ ≠ 0:
                if decoupled_weight_decay:  θ ← θ (1 - γ λ)        (AdamW)
                else:                       g ← g + λ θ
            m ← m + (1 - β1)(g - m)                                (torch's lerp)
            v ← β2 v + (1 - β2) g²
            if amsgrad:  v_max ← max(v_max, v);  v̂ ← v_max  else  v̂ ← v
            θ ← θ - γ / (1 - β1^t) · m / (sqrt(v̂) / sqrt(1 - β2^t) + ε)

    eps is added *after* the bias correction of sqrt(v̂), as torch does.

    State: ``step`` (t, a float), ``exp_avg`` (m), ``exp_avg_sq`` (v) and, with amsgrad,
    ``max_exp_avg_sq`` (v_max).
    """

    def __init__(self, params: ParamsT, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, amsgrad: bool = False, *, maximize: bool = False,
                 decoupled_weight_decay: bool = False) -> None:
        check_nonnegative(lr=lr, eps=eps)
        check_betas(betas)
        check_nonnegative(weight_decay=weight_decay)
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay, "amsgrad": amsgrad,
                    "maximize": maximize, "decoupled_weight_decay": decoupled_weight_decay}
        super().__init__(params, defaults)

    def _update(self, param: Parameter, group: dict[str, Any]) -> None:
        lr, eps, weight_decay = float(group["lr"]), float(group["eps"]), float(group["weight_decay"])
        beta1, beta2 = (float(beta) for beta in group["betas"])
        state = self._lazy_state(param, "exp_avg", "exp_avg_sq", *(["max_exp_avg_sq"] if group["amsgrad"] else []))
        grad = -param.grad if group["maximize"] else param.grad
        state["step"] += 1
        grad = weight_decayed(param, grad, lr, weight_decay, group["decoupled_weight_decay"])
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        lerp_(exp_avg, grad, 1 - beta1)
        exp_avg_sq *= beta2
        exp_avg_sq += (1 - beta2) * grad * grad
        step = state["step"]
        step_size = lr / (1 - beta1**step)
        bias_correction2_sqrt = (1 - beta2**step) ** 0.5
        if group["amsgrad"]:
            np.maximum(state["max_exp_avg_sq"], exp_avg_sq, out=state["max_exp_avg_sq"])
            second_moment = state["max_exp_avg_sq"]
        else:
            second_moment = exp_avg_sq
        denom = np.sqrt(second_moment) / bias_correction2_sqrt + eps
        param.data += -step_size * exp_avg / denom
