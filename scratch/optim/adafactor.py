"""Adafactor (Shazeer & Stern, 2018): factored second moments, as ``torch.optim.Adafactor`` computes them."""

from __future__ import annotations

from typing import Any, cast

import numpy as np

from .._array import as_numpy
from ..nn.parameter import Parameter
from .adam import lerp_
from .optimizer import Optimizer, ParamsT, step_grad


class Adafactor(Optimizer):
    r"""Adafactor, torch's update rule exactly (its single-tensor code path):

    .. code-block:: text

        input: lr γ, beta2_decay c, eps (ε1, ε2), d, weight_decay λ, maximize
        state: R ← 0 (rows), C ← 0 (columns) for a parameter of 2 or more dimensions,
               V ← 0 for a vector or a scalar, t ← 0
        for each parameter θ with a gradient g:
            if maximize:      g ← -g
            if ε1 is None:    ε1 ← the machine epsilon of θ's dtype
            t ← t + 1
            β̂ ← t^c                                          (1 - β2 at step t)
            ρ ← min(γ, 1 / sqrt(t))
            α ← max(ε2, ||θ||₂ / sqrt(numel θ)) ρ                 (before the decay)
            if λ ≠ 0:         θ ← θ (1 - γ λ)
            if θ has 2 or more dimensions:
                R ← R + β̂ (||g||₂² over the last dim / its size - R)           (torch's lerp)
                C ← C + β̂ (||g||₂² over the next-to-last dim / its size - C)
                v̂ ← R C / max(mean of R over the next-to-last dim, ε1)        (R C a matmul)
            else:
                V ← V + β̂ (g² - V)
                v̂ ← V
            u ← g / sqrt(max(v̂, ε1²))
            θ ← θ - α / max(1, ||u||₂ / (sqrt(numel u) d)) · u

    State: ``step`` (t, a float), and ``row_var`` (R, the parameter's shape with its last dim 1) and
    ``col_var`` (C, its next-to-last dim 1), or ``variance`` (V).
    """

    def __init__(self, params: ParamsT, lr: float = 1e-2, beta2_decay: float = -0.8,
                 eps: tuple[float | None, float] = (None, 1e-3), d: float = 1.0, weight_decay: float = 0.0, *,
                 maximize: bool = False) -> None:
        _check(lr=lr, beta2_decay=beta2_decay, eps=eps, d=d, weight_decay=weight_decay)
        defaults = {"lr": lr, "beta2_decay": beta2_decay, "eps": eps, "d": d, "weight_decay": weight_decay,
                    "maximize": maximize}
        super().__init__(params, defaults)

    def _update(self, param: Parameter, group: dict[str, Any]) -> None:
        lr, weight_decay, d = float(group["lr"]), float(group["weight_decay"]), float(group["d"])
        eps1, eps2 = group["eps"]
        eps1 = float(np.finfo(param.dtype).eps) if eps1 is None else float(eps1)
        grad = step_grad(param, group["maximize"])
        state = self._state(param)
        state["step"] += 1
        step = state["step"]
        one_minus_beta2 = step ** float(group["beta2_decay"])
        rho = min(lr, 1 / step**0.5)
        alpha = max(float(eps2), float(np.linalg.norm(param.data)) / param.data.size**0.5) * rho
        if weight_decay != 0:
            param.data *= 1 - lr * weight_decay
        if grad.ndim > 1:
            row_var, col_var = state["row_var"], state["col_var"]
            lerp_(row_var, _mean_square(grad, -1), one_minus_beta2)
            lerp_(col_var, _mean_square(grad, -2), one_minus_beta2)
            var_estimate = row_var @ col_var
            var_estimate /= np.maximum(row_var.mean(axis=-2, keepdims=True), eps1)
        else:
            lerp_(state["variance"], grad * grad, one_minus_beta2)
            var_estimate = np.array(state["variance"], copy=True)
        update = 1 / np.sqrt(np.maximum(var_estimate, eps1 * eps1))  # torch's rsqrt
        update *= grad
        denom = max(1.0, float(np.linalg.norm(update)) / (update.size**0.5 * d))
        param.data += update * (-alpha / denom)  # torch's add(alpha=-α / denom)

    def _state(self, param: Parameter) -> dict[str, Any]:
        """``param``'s state, made at its first update as torch makes it (factored for 2 or more dims)."""
        state = self.state[param]
        if not state:
            state["step"] = 0.0
            if param.data.ndim > 1:
                state["row_var"] = np.zeros((*param.shape[:-1], 1), dtype=param.dtype)
                state["col_var"] = np.zeros((*param.shape[:-2], 1, param.shape[-1]), dtype=param.dtype)
            else:
                state["variance"] = np.zeros_like(param.data)
        return state

    def _loaded_state(self, name: str, value: Any, param: Parameter) -> Any:
        """``Optimizer._loaded_state``, with the factored moments of their own shapes."""
        if name in ("row_var", "col_var"):
            shape = (*param.shape[:-1], 1) if name == "row_var" else (*param.shape[:-2], 1, param.shape[-1])
            array = as_numpy(value)
            if array.shape != shape:
                raise ValueError(f"state '{name}' has shape {array.shape}, expected {shape} for its parameter")
            return array.astype(param.dtype, copy=True)
        return super()._loaded_state(name, value, param)


def _mean_square(grad: np.ndarray, axis: int) -> np.ndarray:
    """||g||₂² / n along ``axis`` (kept), computed as torch does: the norm, squared, divided."""
    norm = np.linalg.norm(grad, axis=axis, keepdims=True)
    norm *= norm
    norm /= grad.shape[axis]
    return cast("np.ndarray", norm)


def _check(*, lr: float, beta2_decay: float, eps: tuple[float | None, float], d: float, weight_decay: float) -> None:
    """torch's checks and messages, in its order."""
    if not lr >= 0.0:
        raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
    if not beta2_decay <= 0.0:
        raise ValueError(f"beta2_decay should be <= 0 but is: {beta2_decay}")
    if eps[0] is not None and not eps[0] >= 0.0:
        raise ValueError(f"epsilon1 should be >= 0 but is: {eps[0]}")
    if not eps[1] >= 0.0:
        raise ValueError(f"epsilon2 should be >= 0 but is: {eps[1]}")
    if not d >= 1.0:
        raise ValueError(f"Clipping threshold d should be >= 1 but is: {d}")
    if not weight_decay >= 0.0:
        raise ValueError(f"weight_decay should be >= 0 but is: {weight_decay}")
