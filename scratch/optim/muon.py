"""Muon (Jordan et al., 2024): momentum orthogonalized by Newton-Schulz iterations in bfloat16, as
``torch.optim.Muon`` computes it on the CPU."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..nn.parameter import Parameter
from ._newton_schulz import zeropower_via_newtonschulz
from .optimizer import Optimizer, ParamsT, step_grad, weight_decayed

__all__ = ["Muon"]

# torch's constants (torch/optim/_muon.py, from Keller Jordan's post)
EPS = 1e-7
DEFAULT_A, DEFAULT_B, DEFAULT_C = 3.4445, -4.7750, 2.0315
DEFAULT_NS_STEPS = 5
ADJUST_LR_FNS = ("original", "match_rms_adamw")


class Muon(Optimizer):
    r"""Muon, torch's update rule exactly (its single-tensor code path, the only one torch has):

    .. code-block:: text

        input: lr γ, weight_decay λ, momentum μ, nesterov, ns_coefficients (a, b, c), eps ε,
               ns_steps k, adjust_lr_fn
        state: M ← 0 (momentum buffer)
        for each parameter θ (a matrix of A rows and B columns) with a gradient g:
            M ← M + (1 - μ)(g - M)                         (torch's lerp: M ← μ M + (1 - μ) g)
            if nesterov:  U ← g + μ (M - g)                (torch's lerp: (1 - μ) g + μ M)
            else:         U ← M
            O ← NS(U), in bfloat16 (see below):
                X ← bf16(U);  if A > B:  X ← Xᵀ            (so that X Xᵀ is the smaller Gram matrix)
                X ← X / max(||X||_F, ε)
                k times:  G ← X Xᵀ;  G ← b G + c G G;  X ← a X + G X
                if A > B:  X ← Xᵀ
            θ ← θ (1 - γ λ)                                (decoupled weight decay, with the unadjusted γ)
            γ' ← γ sqrt(max(1, A / B))     if adjust_lr_fn is None or "original"   (Keller Jordan's)
                 0.2 γ sqrt(max(A, B))     if adjust_lr_fn == "match_rms_adamw"     (Moonshot's)
            θ ← θ - γ' O

    State: ``momentum_buffer`` (M) alone, no ``step``, as torch's.

    Only 2-D parameters: the constructor rejects any other, with torch's message; like torch it does not
    check a group added later with ``add_param_group``, whose non-matrix parameter then fails at ``step``
    ("Param gradient must be a 2D matrix"). ``ns_steps`` >= 100 and ``ns_coefficients`` not of three values
    are refused at ``step``, where torch refuses them.

    **bfloat16.** torch runs the Newton-Schulz iterations in bfloat16 whatever the parameter's dtype (float64
    included), each op computing in float32 and rounding its result to bfloat16. NumPy has no bfloat16:
    ``_newton_schulz.py`` keeps bfloat16 values in float32 arrays whose 16 low bits are zero (torch's
    round-to-nearest-even on the float32 bit pattern) and computes each op in float32 in the order torch's CPU
    kernels do. The momentum lerps and the final add are torch's fused multiply-adds (``_fma``), so the
    bfloat16 input is torch's bit for bit, and so is the output on small matrices (thousands of random ones up
    to 16 × 16, measured against torch's ``_zeropower_via_newtonschulz``). Products larger than 16³
    multiply-adds torch computes with oneDNN, in an order not mirrored here: there an element can differ by one
    bfloat16 ulp now and then, as torch's own kernels differ (its tests skip Muon's compiled-vs-eager check).
    """

    def __init__(self, params: ParamsT, lr: float = 1e-3, weight_decay: float = 0.1, momentum: float = 0.95,
                 nesterov: bool = True, ns_coefficients: tuple[float, float, float] = (DEFAULT_A, DEFAULT_B, DEFAULT_C),
                 eps: float = EPS, ns_steps: int = DEFAULT_NS_STEPS, adjust_lr_fn: str | None = None) -> None:
        _check(lr=lr, momentum=momentum, weight_decay=weight_decay, adjust_lr_fn=adjust_lr_fn)
        defaults = {"lr": lr, "weight_decay": weight_decay, "momentum": momentum, "nesterov": nesterov,
                    "ns_coefficients": ns_coefficients, "eps": eps, "ns_steps": ns_steps, "adjust_lr_fn": adjust_lr_fn}
        super().__init__(params, defaults)
        for group in self.param_groups:
            for param in group["params"]:
                if param.ndim != 2:  # torch prints a torch.Size; scratch, the shape tuple
                    raise ValueError("Muon only supports 2D parameters whereas we found a parameter with size: "
                                     f"{param.shape}")

    def _update(self, param: Parameter, group: dict[str, Any]) -> None:
        lr, weight_decay, momentum = _scalar(group["lr"]), float(group["weight_decay"]), float(group["momentum"])
        grad = step_grad(param, False)
        if grad.ndim != 2:
            raise ValueError("Param gradient must be a 2D matrix")
        state = self.state[param]
        if "momentum_buffer" not in state:
            state["momentum_buffer"] = np.zeros_like(grad)
        buf = state["momentum_buffer"]
        buf[...] = _lerp(buf, grad, 1 - momentum)
        update = _lerp(grad, buf, momentum) if group["nesterov"] else buf
        ortho = zeropower_via_newtonschulz(update, group["ns_coefficients"], int(group["ns_steps"]),
                                           float(group["eps"]))
        adjusted_lr = adjust_lr(lr, group["adjust_lr_fn"], param.shape)
        weight_decayed(param, grad, lr, weight_decay, decoupled=True)  # θ ← θ (1 - γ λ)
        # torch's add_(update, alpha=-γ'): the bfloat16 update cast to θ's dtype, then one fused multiply-add
        param.data[...] = _fma(param.dtype.type(-adjusted_lr), ortho.astype(param.dtype), param.data)


def _scalar(lr: Any) -> Any:
    """The learning rate as torch's Muon uses it: a float, or a tensor lr (here an array) as a 0-d value of its
    own dtype, so that γ' and 1 - γ λ are computed in that dtype (float32 for ``torch.tensor(0.001)``), as
    torch's arithmetic on a 0-d tensor is."""
    if isinstance(lr, np.ndarray):
        return lr.reshape(())[()]
    return float(lr)


def _check(*, lr: float, momentum: float, weight_decay: float, adjust_lr_fn: str | None) -> None:
    """torch's checks and messages, in its order."""
    if isinstance(lr, np.ndarray) and lr.size != 1:
        raise ValueError("Tensor lr must be 1-element")
    if not lr >= 0.0:
        raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
    if not momentum >= 0.0:
        raise ValueError(f"momentum should be >= 0 but is: {momentum}")
    if not weight_decay >= 0.0:
        raise ValueError(f"weight decay should be >= 0 but is: {weight_decay}")
    if adjust_lr_fn is not None and adjust_lr_fn not in ADJUST_LR_FNS:
        raise ValueError(f"Adjust learning rate function {adjust_lr_fn} is not supported")


def adjust_lr(lr: float, adjust_lr_fn: str | None, shape: tuple[int, ...]) -> float:
    """γ' for a parameter of ``shape`` (A, B): γ sqrt(max(1, A / B)) ("original", the default), or
    0.2 γ sqrt(max(A, B)) ("match_rms_adamw"), torch's ``_adjust_lr``."""
    rows, cols = shape[:2]
    if adjust_lr_fn is None or adjust_lr_fn == "original":
        ratio = math.sqrt(max(1, rows / cols))
    elif adjust_lr_fn == "match_rms_adamw":
        ratio = 0.2 * math.sqrt(max(rows, cols))
    else:
        ratio = 1.0
    return lr * ratio


def _lerp(start: np.ndarray, end: np.ndarray, weight: float) -> np.ndarray:
    """torch's lerp kernel: fma(w, end - start, start) for |w| < 0.5, else fma(w - 1, end - start, end),
    with w in the arrays' dtype."""
    dtype = start.dtype.type
    w = dtype(weight)
    diff = np.subtract(end, start, dtype=start.dtype)
    return _fma(w, diff, start) if abs(w) < 0.5 else _fma(w - dtype(1), diff, end)


def _fma(a: Any, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """a b + c rounded once to ``c``'s dtype, as torch's vectorized CPU kernels (lerp, add with alpha) compute
    it: in float64, exact for float32 operands (a product of two float32 values has 48 bits); float64 operands
    are rounded twice (one float64 ulp at most, far inside the tolerance)."""
    return (np.float64(a) * b.astype(np.float64) + c.astype(np.float64)).astype(c.dtype)
