"""Rprop (Riedmiller & Braun, 1993): resilient backpropagation, with maximize."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..nn.parameter import Parameter
from .optimizer import Optimizer, ParamsT, check_nonnegative, check_pair, step_grad


class Rprop(Optimizer):
    r"""Rprop, torch's update rule exactly (its single-tensor code path):

    .. code-block:: text

        input: lr γ, etas (η-, η+), step_sizes (Γmin, Γmax), maximize
        state: g_prev ← 0, η ← γ (elementwise), t ← 0
        for each parameter θ with a gradient g:
            if maximize:  g ← -g
            t ← t + 1
            s ← sign(g · g_prev)                                   (NaN stays NaN)
            s ← η+ where s > 0,  η- where s < 0,  1 where s = 0
            η ← clamp(η s, Γmin, Γmax)
            g ← 0 where s = η-                                      (a sign change skips the step)
            θ ← θ - sign(g) η
            g_prev ← g

    State: ``step`` (t, a float), ``prev`` (g_prev) and ``step_size`` (η, starting at the group's lr).
    """

    def __init__(self, params: ParamsT, lr: float = 1e-2, etas: tuple[float, float] = (0.5, 1.2),
                 step_sizes: tuple[float, float] = (1e-6, 50), *, maximize: bool = False) -> None:
        check_nonnegative(lr=lr)
        check_pair("etas", etas, type(self).__name__, "(etaminus, etaplus)")
        check_pair("step_sizes", step_sizes, type(self).__name__, "(min_step, max_step)")
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        defaults = {"lr": lr, "etas": etas, "step_sizes": step_sizes, "maximize": maximize}
        super().__init__(params, defaults)

    def _update(self, param: Parameter, group: dict[str, Any]) -> None:
        etaminus, etaplus = float(group["etas"][0]), float(group["etas"][1])
        step_size_min, step_size_max = float(group["step_sizes"][0]), float(group["step_sizes"][1])
        state = self._lazy_state(param, "prev", step_size=np.full_like(param.data, float(group["lr"])))
        grad = step_grad(param, group["maximize"])
        state["step"] += 1
        prev, step_size = state["prev"], state["step_size"]
        sign = np.array(np.sign(grad * prev))  # an array even for a 0-d parameter
        sign[sign > 0] = etaplus
        sign[sign < 0] = etaminus
        sign[sign == 0] = 1
        step_size *= sign
        np.clip(step_size, step_size_min, step_size_max, out=step_size)
        grad = np.array(grad, copy=True)
        grad[sign == etaminus] = 0
        param.data -= np.sign(grad) * step_size  # torch's addcmul(value=-1)
        prev[...] = grad
