"""ASGD (Polyak & Juditsky, 1992): averaged stochastic gradient descent, with weight decay and maximize."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..nn.parameter import Parameter
from .optimizer import Optimizer, ParamsT, check_nonnegative, step_grad, weight_decayed


class ASGD(Optimizer):
    r"""ASGD, torch's update rule exactly (its single-tensor code path):

    .. code-block:: text

        input: lr γ, lambd λ, alpha α, t0, weight_decay w, maximize
        state: η ← γ, μ ← 1, ax ← 0, t ← 0                       (η, μ rounded to float32)
        for each parameter θ with a gradient g:
            if maximize:  g ← -g
            t ← t + 1
            if w ≠ 0:     g ← g + w θ
            θ ← θ (1 - λ η)                                        (decay)
            θ ← θ - η g
            if μ ≠ 1:     ax ← ax + (θ - ax) μ
            else:         ax ← θ
            η ← γ / (1 + λ γ t)^α                                   (rounded to float32)
            μ ← 1 / max(1, t - t0)                                  (rounded to float32)

    State: ``step`` (t, a float), ``eta`` (η) and ``mu`` (μ), each a 0-d float32 array (torch's quirk:
    0-d tensors of its default scalar dtype whatever the parameter's dtype, so both are rounded to
    float32 at every step), and ``ax`` (the running average of θ).
    """

    _float32_scalars = ("eta", "mu")

    def __init__(self, params: ParamsT, lr: float = 1e-2, lambd: float = 1e-4, alpha: float = 0.75,
                 t0: float = 1e6, weight_decay: float = 0, *, maximize: bool = False) -> None:
        check_nonnegative(lr=lr, weight_decay=weight_decay)
        defaults = {"lr": lr, "lambd": lambd, "alpha": alpha, "t0": t0, "weight_decay": weight_decay,
                    "maximize": maximize}
        super().__init__(params, defaults)

    def _update(self, param: Parameter, group: dict[str, Any]) -> None:
        lr, lambd, alpha = float(group["lr"]), float(group["lambd"]), float(group["alpha"])
        t0, weight_decay = float(group["t0"]), float(group["weight_decay"])
        state = self._lazy_state(param, "ax", eta=np.array(lr, dtype=np.float32), mu=np.array(1.0, dtype=np.float32))
        grad = step_grad(param, group["maximize"])
        state["step"] += 1
        grad = weight_decayed(param, grad, lr, weight_decay)
        eta, mu = float(state["eta"]), float(state["mu"])
        param.data *= 1 - lambd * eta
        param.data -= eta * grad  # torch's add(alpha=-η)
        ax = state["ax"]
        if mu != 1:
            ax += (param.data - ax) * mu
        else:
            ax[...] = param.data
        step = state["step"]
        state["eta"] = np.array(lr / ((1 + lambd * lr * step) ** alpha), dtype=np.float32)
        state["mu"] = np.array(1 / max(1, step - t0), dtype=np.float32)
