"""Adam (Kingma & Ba, 2014), with AMSGrad, L2 or decoupled weight decay, and maximize."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..nn.parameter import Parameter
from .optimizer import Optimizer, ParamsT, check_betas, check_nonnegative, run_blocked, step_grad, weight_decayed


def lerp_(start: np.ndarray, end: np.ndarray, weight: float, scratch: np.ndarray | None = None) -> None:
    """start ← start + weight (end - start), in place, evaluated as torch's lerp kernel does.
    ``scratch``, an array like ``start``, holds the temporary (else one is allocated)."""
    diff = np.subtract(end, start, out=scratch)
    if abs(weight) < 0.5:
        diff *= weight
        start += diff
    else:  # torch switches form here, to stay exact as weight → 1: start ← end - (end - start)(1 - weight)
        diff *= 1 - weight
        np.subtract(end, diff, out=start)


_BUFFERS = ("exp_avg", "exp_avg_sq")
_AMSGRAD_BUFFERS = ("exp_avg", "exp_avg_sq", "max_exp_avg_sq")


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

    eps is added *after* the bias correction of sqrt(v̂), as torch does. The update runs in place, into
    scratch arrays, block by block (``run_blocked``): the same operations, in the same order, the blocks of
    a large parameter shared out among ``scratch.get_num_threads()`` threads. Passes over memory in a step:
    θ, g, m, v read and θ, m, v written once each (7; 9 with amsgrad), the kernel's 13 ufunc passes
    running on a block still in cache (maximize and weight decay, when set, add whole-array passes before).

    State: ``step`` (t, a float), ``exp_avg`` (m), ``exp_avg_sq`` (v) and, with amsgrad,
    ``max_exp_avg_sq`` (v_max).

    Flat path: a param group of small parameters, at least two distinct ones of one dtype with at most
    ``FLAT_LIMIT`` (65536) elements in all, each with a gradient of that dtype and all at the same step,
    is updated as one flat array: the parameters and gradients are concatenated, the update above runs
    once on the concatenation (one pass of each NumPy operation for the whole group instead of one per
    parameter, like torch's foreach path), and the new values are copied back. Every element goes through
    the same operations with the same scalars, so the results are bit-identical to per-parameter updates.
    On this path ``opt.state[p]``'s arrays (``exp_avg``, ``exp_avg_sq``, ``max_exp_avg_sq``) become views
    into the group's flat buffers: they stay up to date, writing into one writes into the flat buffer, and
    an array put in its place (by hand or by ``load_state_dict``) is copied into the flat buffer at the
    next flat step. Any other group (a single parameter, more elements, mixed dtypes, a missing gradient,
    parameters at different steps) is updated parameter by parameter.
    """

    def __init__(self, params: ParamsT, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, amsgrad: bool = False, *, maximize: bool = False,
                 decoupled_weight_decay: bool = False) -> None:
        check_nonnegative(lr=lr, eps=eps)
        check_betas(betas, type(self).__name__)
        check_nonnegative(weight_decay=weight_decay)
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay, "amsgrad": amsgrad,
                    "maximize": maximize, "decoupled_weight_decay": decoupled_weight_decay}
        super().__init__(params, defaults)

    def _flat_buffers(self, group: dict[str, Any]) -> tuple[str, ...]:
        """Adam's update is elementwise: it takes the flat path, with these zero-initialized buffers."""
        return _AMSGRAD_BUFFERS if group["amsgrad"] else _BUFFERS

    def _update(self, param: Parameter, group: dict[str, Any]) -> None:
        state = self._lazy_state(param, *self._flat_buffers(group))
        self._apply(param, state, group, self._scratch(param, 2))

    def _apply(self, param: Any, state: dict[str, Any], group: dict[str, Any], scratch: list[np.ndarray]) -> None:
        """The update above, in place, on ``param`` (a Parameter, or a group's ``FlatGroup`` of flat arrays)
        and its ``state`` (``step`` and the buffers), with two ``scratch`` arrays like ``param.data``."""
        lr, eps, weight_decay = float(group["lr"]), float(group["eps"]), float(group["weight_decay"])
        beta1, beta2 = float(group["betas"][0]), float(group["betas"][1])
        grad = step_grad(param, group["maximize"])
        state["step"] += 1
        if weight_decay != 0:  # else weight_decayed returns grad itself: its call skipped
            grad = weight_decayed(param, grad, lr, weight_decay, group["decoupled_weight_decay"])
        step = state["step"]
        scalars = (1 - beta1, beta2, lr / (1 - beta1**step), (1 - beta2**step) ** 0.5, eps)
        maximum = state["max_exp_avg_sq"] if group["amsgrad"] else None
        run_blocked(_adam_block, (param.data, grad, state["exp_avg"], state["exp_avg_sq"], maximum), scratch[:2],
                    scalars)


def _adam_block(param: np.ndarray, grad: np.ndarray, exp_avg: np.ndarray, exp_avg_sq: np.ndarray,
                max_exp_avg_sq: np.ndarray | None, tmp: np.ndarray, denom: np.ndarray, *,
                scalars: tuple[float, ...]) -> None:
    """Adam's update of one block of a parameter, in place, in torch's operation order (``max_exp_avg_sq``
    None without amsgrad; ``tmp`` and ``denom`` are scratch);
    ``scalars`` = (1 - β1, β2, γ / (1 - β1^t), sqrt(1 - β2^t), ε)."""
    one_minus_beta1, beta2, step_size, bias_correction2_sqrt, eps = scalars
    lerp_(exp_avg, grad, one_minus_beta1, tmp)
    exp_avg_sq *= beta2
    np.multiply(grad, 1 - beta2, out=tmp)  # v += (1 - β2) g g, in torch's addcmul order
    tmp *= grad
    exp_avg_sq += tmp
    if max_exp_avg_sq is not None:  # amsgrad
        np.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
    np.sqrt(exp_avg_sq if max_exp_avg_sq is None else max_exp_avg_sq, out=denom)  # sqrt(v̂) / sqrt(1 - β2^t) + ε
    denom /= bias_correction2_sqrt
    denom += eps
    np.multiply(exp_avg, -step_size, out=tmp)  # θ += (-step_size m) / denom, in torch's addcdiv order
    tmp /= denom
    param += tmp
