"""Adamax (Kingma & Ba, 2014): Adam with the infinity norm, with weight decay and maximize."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..nn.parameter import Parameter
from .adam import lerp_
from .optimizer import Optimizer, ParamsT, check_betas, check_nonnegative, step_grad, weight_decayed


class Adamax(Optimizer):
    r"""Adamax, torch's update rule exactly (its single-tensor code path):

    .. code-block:: text

        input: lr γ, betas (β1, β2), eps ε, weight_decay λ, maximize
        state: m ← 0, u ← 0, t ← 0
        for each parameter θ with a gradient g:
            if maximize:  g ← -g
            t ← t + 1
            if λ ≠ 0:     g ← g + λ θ
            m ← m + (1 - β1)(g - m)                                (torch's lerp)
            u ← max(β2 u, |g| + ε)
            θ ← θ - γ / (1 - β1^t) · m / u

    eps is added to |g| *inside* the maximum, as torch does.

    State: ``step`` (t, a float), ``exp_avg`` (m) and ``exp_inf`` (u).

    The update is elementwise, so a group of small parameters takes the flat path (see ``Optimizer``):
    ``_apply`` below runs once on the group's concatenated arrays, bit-identical to per-parameter updates.
    """

    def __init__(self, params: ParamsT, lr: float = 2e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, *, maximize: bool = False) -> None:
        check_nonnegative(lr=lr, eps=eps)
        check_betas(betas, type(self).__name__)
        check_nonnegative(weight_decay=weight_decay)
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay, "maximize": maximize}
        super().__init__(params, defaults)

    def _flat_buffers(self, group: dict[str, Any]) -> tuple[str, ...]:
        """Adamax's update is elementwise: it takes the flat path, with these zero-initialized buffers."""
        return ("exp_avg", "exp_inf")

    def _update(self, param: Parameter, group: dict[str, Any]) -> None:
        state = self._lazy_state(param, *self._flat_buffers(group))
        self._apply(param, state, group, self._scratch(param, 2))

    def _apply(self, param: Any, state: dict[str, Any], group: dict[str, Any], scratch: list[np.ndarray]) -> None:
        """The update above, in place, on ``param`` (a Parameter, or a group's ``FlatGroup`` of flat arrays)
        and its ``state``, with two ``scratch`` arrays like ``param.data``."""
        lr, eps, weight_decay = float(group["lr"]), float(group["eps"]), float(group["weight_decay"])
        beta1, beta2 = float(group["betas"][0]), float(group["betas"][1])
        grad = step_grad(param, group["maximize"])
        state["step"] += 1
        grad = weight_decayed(param, grad, lr, weight_decay)
        exp_avg, exp_inf = state["exp_avg"], state["exp_inf"]
        tmp, norm = scratch[:2]
        lerp_(exp_avg, grad, 1 - beta1, tmp)
        exp_inf *= beta2
        np.abs(grad, out=norm)
        norm += eps
        np.maximum(exp_inf, norm, out=exp_inf)
        clr = lr / (1 - beta1 ** state["step"])
        np.multiply(exp_avg, -clr, out=tmp)  # θ += (-clr m) / u, in torch's addcdiv order
        tmp /= exp_inf
        param.data += tmp
