"""L-BFGS (Liu & Nocedal, 1989), with torch's strong-Wolfe line search, after minFunc."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import numpy as np

from .._array import as_numpy
from ..nn.parameter import Parameter
from . import _torch_arith as arith
from ._line_search import strong_wolfe
from .optimizer import Optimizer, ParamsT


class LBFGS(Optimizer):
    r"""L-BFGS, torch's algorithm exactly. ``step(closure)`` needs a closure that recomputes the loss and
    the gradients (``zero_grad``, forward, backward) and returns the loss. One parameter group only.

    .. code-block:: text

        input: lr γ, max_iter, max_eval, tolerance_grad τg, tolerance_change τc, history_size m,
               line_search_fn
        state (kept across steps): d, t, the last m pairs (y_i, s_i) and ρ_i = 1 / y_i·s_i,
               H_diag, the previous gradient g_prev and loss, n_iter, func_evals
        f ← closure();  g ← the parameters' gradients as one flat vector (zeros for a missing one)
        if max|g| ≤ τg:  return f
        repeat at most max_iter times:
            n_iter ← n_iter + 1
            if n_iter = 1:  d ← -g;  history ← empty;  H_diag ← 1
            else:
                y ← g - g_prev;  s ← t d
                if y·s > 1e-10:                                   (curvature: keep the pair)
                    drop the oldest pair if m are kept; keep (y, s), ρ ← 1 / y·s
                    H_diag ← y·s / y·y
                q ← -g                                             (two-loop recursion)
                for i from newest to oldest:  α_i ← ρ_i s_i·q;  q ← q - α_i y_i
                d ← r ← H_diag q
                for i from oldest to newest:  β ← ρ_i y_i·r;  r ← r + (α_i - β) s_i
            g_prev ← g;  loss_prev ← f
            t ← min(1, 1 / Σ|g|) γ on the very first iteration, else γ
            if g·d > -τc:  stop                                    (not a descent direction)
            if line_search_fn = "strong_wolfe":
                (f, g, t) ← the strong-Wolfe search from θ along d from t (at most max_eval - evals
                            evaluations); θ ← θ + t d
            else:
                θ ← θ + t d
                unless this is the last iteration:  f ← closure();  g ← the gradients
            stop if: max_iter iterations, max_eval evaluations, max|g| ≤ τg, max|t d| ≤ τc,
                     or |f - loss_prev| < τc
        return the first f

    Scalars keep torch's types: dot products and ρ, H_diag are NumPy scalars of the parameters' dtype
    (torch's 0-d tensors); a loss is a Python float.

    Arithmetic: torch's, operation for operation (``_torch_arith``): ``add_(alpha=)`` is one fused multiply-add
    (the two-loop recursion and the parameter update), dot products follow MKL's summation order and Σ|g| torch's
    cascade (single-threaded torch: with more threads MKL and ATen split long vectors). On the
    optim_db inputs (torch_ref/oracle) that makes every float64 iterate, search direction and curvature pair
    equal torch's bit for bit, and float32 too without the line search.

    Where it is not: torch's float32 ``sqrt`` (MKL's vector math on the CPU) is not correctly rounded (up to
    0.75 ulp; ~17% of random inputs differ from NumPy's by one ulp, float64 ~1.3%): in the strong-Wolfe search's
    cubic interpolation the one-ulp difference meets a cancellation (the minimizer x2 - (x2 - x1) ratio, ratio near
    1) and moves t by 16 ulps; in one optim_db case (float32, strong_wolfe with StepLR + ReduceLROnPlateau) the
    parameters stay within the policy but the two-loop coefficients part from torch's past it (1.7e-2 by step 3),
    a strict xfail of the oracle (torch_ref/oracle/gaps.py).

    State (on the first parameter, as torch's): ``func_evals``, ``n_iter``, ``d``, ``t``, ``old_dirs``
    (the y_i), ``old_stps`` (the s_i), ``ro`` (ρ_i), ``H_diag``, ``prev_flat_grad``, ``prev_loss`` and ``al``.
    """

    def __init__(self, params: ParamsT, lr: float = 1, max_iter: int = 20, max_eval: int | None = None,
                 tolerance_grad: float = 1e-7, tolerance_change: float = 1e-9, history_size: int = 100,
                 line_search_fn: str | None = None) -> None:
        if not 0.0 <= lr:  # noqa: SIM300 (torch's test, which a NaN fails)
            raise ValueError(f"Invalid learning rate: {lr}")
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        defaults = {"lr": lr, "max_iter": max_iter, "max_eval": max_eval, "tolerance_grad": tolerance_grad,
                    "tolerance_change": tolerance_change, "history_size": history_size,
                    "line_search_fn": line_search_fn}
        super().__init__(params, defaults)
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        self._params = self.param_groups[0]["params"]

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One L-BFGS step (up to ``max_iter`` iterations), following the pseudocode above line by line."""
        if closure is None:
            raise TypeError("LBFGS.step() requires a closure that recomputes the loss and the gradients")
        group = self.param_groups[0]
        lr, max_iter, max_eval = group["lr"], group["max_iter"], group["max_eval"]
        tolerance_grad, tolerance_change = group["tolerance_grad"], group["tolerance_change"]
        state = self.state[self._params[0]]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)
        orig_loss = closure()
        loss = float(orig_loss)
        current_evals = 1
        state["func_evals"] += 1
        flat_grad = self._gather_flat_grad()
        if np.abs(flat_grad).max() <= tolerance_grad:
            return orig_loss
        memory: dict[str, Any] = {key: state.get(key) for key in ("d", "t", "old_dirs", "old_stps", "ro", "H_diag",
                                                  "prev_flat_grad", "prev_loss")}
        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1
            d = memory["d"] = self._direction(state, memory, flat_grad)
            memory["prev_flat_grad"], memory["prev_loss"] = flat_grad.copy(), loss
            t = memory["t"] = min(1.0, 1.0 / arith.abs_sum(flat_grad)) * lr if state["n_iter"] == 1 else lr
            gtd = arith.dot(flat_grad, d)
            if gtd > -tolerance_change:
                break
            loss, flat_grad, t, ls_func_evals, opt_cond = self._move(closure, group, d, t, loss, flat_grad, gtd,
                                                                     n_iter, max_eval - current_evals)
            memory["t"] = t
            current_evals += ls_func_evals
            state["func_evals"] += ls_func_evals
            if n_iter == max_iter or current_evals >= max_eval or opt_cond:
                break
            if np.abs(d * t).max() <= tolerance_change or abs(loss - memory["prev_loss"]) < tolerance_change:
                break
        state.update(memory)
        return orig_loss

    def _direction(self, state: dict[str, Any], memory: dict[str, Any], flat_grad: np.ndarray) -> np.ndarray:
        """The search direction: -g at the first iteration, else the two-loop recursion over the kept pairs
        (updated first with this iteration's pair, if its curvature y·s exceeds 1e-10)."""
        if state["n_iter"] == 1:
            memory.update(old_dirs=[], old_stps=[], ro=[], H_diag=1)
            return -flat_grad
        history_size = self.param_groups[0]["history_size"]
        old_dirs, old_stps, ro = memory["old_dirs"], memory["old_stps"], memory["ro"]
        y = flat_grad - memory["prev_flat_grad"]
        s = memory["d"] * memory["t"]
        ys = arith.dot(y, s)
        if ys > 1e-10:
            if len(old_dirs) == history_size:
                old_dirs.pop(0)
                old_stps.pop(0)
                ro.pop(0)
            old_dirs.append(y)
            old_stps.append(s)
            ro.append(1.0 / ys)
            memory["H_diag"] = ys / arith.dot(y, y)
        if "al" not in state:
            state["al"] = [None] * history_size
        al = state["al"]
        q = -flat_grad
        for i in range(len(old_dirs) - 1, -1, -1):
            al[i] = arith.dot(old_stps[i], q) * ro[i]
            arith.add_scaled_(q, old_dirs[i], -al[i])
        r: np.ndarray = q * memory["H_diag"]  # H_diag is a scalar (memory holds Any)
        for i in range(len(old_dirs)):
            be_i = arith.dot(old_dirs[i], r) * ro[i]
            arith.add_scaled_(r, old_stps[i], al[i] - be_i)
        return r

    def _move(self, closure: Callable[[], Any], group: dict[str, Any], d: np.ndarray, t: Any, loss: float,
              flat_grad: np.ndarray, gtd: Any, n_iter: int, max_ls: int) -> tuple[float, np.ndarray, Any, int, bool]:
        """Step along ``d``: by the line search, or by t (then re-evaluated unless it was the last iteration).
        Returns (loss, flat gradient, t, evaluations made, whether max|g| ≤ tolerance_grad)."""
        tolerance_grad = group["tolerance_grad"]
        if group["line_search_fn"] is not None:
            if group["line_search_fn"] != "strong_wolfe":
                raise RuntimeError("only 'strong_wolfe' is supported")
            x_init = [p.data.copy() for p in self._params]
            loss, flat_grad, t, evals = strong_wolfe(
                lambda x, step, direction: self._directional_evaluate(closure, x, step, direction),
                x_init, t, d, loss, flat_grad, gtd, max_ls=max_ls)
            self._add_grad(t, d)
            return loss, flat_grad, t, evals, bool(np.abs(flat_grad).max() <= tolerance_grad)
        self._add_grad(t, d)
        if n_iter == group["max_iter"]:
            return loss, flat_grad, t, 0, False
        loss = float(closure())
        flat_grad = self._gather_flat_grad()
        return loss, flat_grad, t, 1, bool(np.abs(flat_grad).max() <= tolerance_grad)

    def _gather_flat_grad(self) -> np.ndarray:
        """The gradients as one flat vector, zeros for a parameter without one."""
        return np.concatenate([np.zeros(p.data.size, p.dtype) if p.grad is None else p.grad.reshape(-1)
                               for p in self._params])

    def _add_grad(self, step_size: Any, update: np.ndarray) -> None:
        """θ ← θ + step_size · update, the flat ``update`` dealt out to the parameters (torch's add(alpha=))."""
        offset = 0
        for p in self._params:
            arith.add_scaled_(p.data, update[offset:offset + p.data.size].reshape(p.shape), step_size)
            offset += p.data.size

    def _directional_evaluate(self, closure: Callable[[], Any], x: list[np.ndarray], t: Any,
                              d: np.ndarray) -> tuple[float, np.ndarray]:
        """(loss, flat gradient) at x + t d; the parameters are then put back to x."""
        self._add_grad(t, d)
        loss = float(closure())
        flat_grad = self._gather_flat_grad()
        for p, data in zip(self._params, x, strict=True):
            p.data[...] = data
        return loss, flat_grad

    def _loaded_state(self, name: str, value: Any, param: Parameter) -> Any:
        """LBFGS's state is flat vectors, lists of them and scalars, not arrays like its parameter: arrays
        (and tensors) become NumPy copies, at any depth; numbers stay as they are."""
        if isinstance(value, list | tuple):
            return type(value)(self._loaded_state(name, item, param) for item in value)
        if hasattr(value, "shape"):
            array = np.array(as_numpy(value), copy=True)
            return array[()] if array.ndim == 0 else array  # a 0-d tensor: a NumPy scalar, as the step makes
        return copy.deepcopy(value)
