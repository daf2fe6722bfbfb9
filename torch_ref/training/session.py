"""One side-by-side training session: both engines, their optimizers and the recording, and the judging of
every recorded quantity (see ``torch_ref.training`` for what is compared and how a bug is localized)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

import scratch.optim
from scratch import nn

from ..arrays import to_numpy
from ..component import module_dtype
from ..convert import to_torch, to_torch_optimizer
from ..report import Comparison, compare_arrays
from ..tolerance import exact_zero_error, reduction_length, relative_error, trajectory_rtol
from .exact import float64_gradients
from .localize import rerun
from .recording import Tape, pairs, ran_alike, record_scratch, record_torch, stop_recording

LOSS = "loss"


class Session:
    """The two engines, their optimizers and the recording; ``run_step`` does one step of each."""

    batch: tuple[np.ndarray, np.ndarray]  # the step's (inputs, targets), set by torch_ref.training.compare

    def __init__(self, model: nn.Module, criterion: nn.Module, optimizer: tuple, rtol: float | None,
                 atol: float | None) -> None:
        self.model, self.criterion, self.rtol, self.atol = model, criterion, rtol, atol
        self.twin, self.torch_criterion = to_torch(model), to_torch(criterion)
        self.optimizer = _scratch_optimizer(model, optimizer)
        torch_params = dict(self.twin.named_parameters())
        for name, param in model.named_parameters():  # frozen parameters stay frozen in the twin
            torch_params[name].requires_grad_(param.requires_grad)
        self.torch_optimizer = to_torch_optimizer(
            self.optimizer, {id(p): torch_params[n] for n, p in model.named_parameters()})
        self.modules = dict(model.named_modules())  # every module of the tree, containers too
        self.modules[LOSS] = criterion
        twin_modules = dict(self.twin.named_modules())
        self.torch_modules = {n: twin_modules[n] for n in self.modules if n in twin_modules}
        self.torch_modules[LOSS] = self.torch_criterion
        self.tapes = {"scratch": Tape(), "torch": Tape()}
        self.scales: dict[tuple[str, str], float] = {}  # the largest |torch value| of each trajectory quantity
        self.saved: dict[str, dict[str, Any]] = {
            n: {a: m.__dict__[a] for a in ("forward", "backward") if a in m.__dict__} for n, m in self.modules.items()}
        self.inplace = {n: m.inplace for n, m in self.torch_modules.items() if getattr(m, "inplace", False) is True}

    def __enter__(self) -> Session:
        for name, module in self.modules.items():
            record_scratch(module, name, self.tapes)
        for name in self.inplace:
            self.torch_modules[name].inplace = False
        self.handles = [h for name, m in self.torch_modules.items() for h in record_torch(m, name, self.tapes)]
        return self

    def __exit__(self, *exc: Any) -> None:
        for name, module in self.modules.items():
            stop_recording(module, self.saved[name])
        for handle in self.handles:
            handle.remove()
        for name, value in self.inplace.items():
            self.torch_modules[name].inplace = value

    # ------------------------------------------------------------------------------------ one step
    def run_step(self, step: int, x: np.ndarray, y: np.ndarray) -> tuple[list[Comparison], tuple[float, float]]:
        self.tapes["scratch"], self.tapes["torch"] = Tape(), Tape()
        self.optimizer.zero_grad()
        loss = self.criterion(self.model(x), y)
        self.model.backward(self.criterion.backward())
        grads = {n: to_numpy(p.grad) for n, p in self.model.named_parameters()}
        self.torch_optimizer.zero_grad()
        tx = torch.from_numpy(np.array(x, copy=True))
        if tx.is_floating_point():
            tx.requires_grad_(True)
        torch_loss = self.torch_criterion(self.twin(tx), torch.from_numpy(np.array(y, copy=True)))
        torch_loss.backward()
        torch_grads = {n: to_numpy(p.grad) if p.grad is not None else None for n, p in self.twin.named_parameters()}
        order = self._recorded(self.tapes["scratch"].order, self.tapes["torch"].order)
        self._measure(order)
        rows = [row for n in order for row in self._forward_rows(step, n)]
        backward_order = self._recorded(self.tapes["scratch"].backward_order, self.tapes["torch"].backward_order)
        rows += [row for n in backward_order for row in self._backward_rows(step, n, grads, torch_grads)]
        self.optimizer.step()
        self.torch_optimizer.step()
        rows += self._update_rows(step)
        return rows, (float(loss), float(torch_loss.detach()))

    def _recorded(self, scratch_order: list[str], torch_order: list[str]) -> list[str]:
        """The modules both engines ran alike (a torch layer may use a child's weights without calling it, as
        MultiheadAttention's out_proj), each once, in the order scratch finished them."""
        return [n for n in ran_alike(scratch_order, torch_order) if n in self.torch_modules]

    def _measure(self, order: list[str]) -> None:
        """Each compared module's longest reduction (a container's: its own and those of the modules inside
        it) and the parameters whose gradients it is judged on: those of no compared module inside it."""
        self.sizes = {n: self._reduction(n) for n in order}
        for name in order:
            inside = [m for m in order if _inside(m, name)]
            self.sizes[name] = max([self.sizes[name], *(self.sizes[m] for m in inside)])
        self.owned: dict[str, list[str]] = {n: [] for n in order}
        self.param_owner: dict[str, tuple[str, str]] = {}
        self.owned[LOSS] = [n for n, _ in self.criterion.named_parameters()]
        for full, _ in self.model.named_parameters():
            owner = max((n for n in order if n != LOSS and (n == "" or full.startswith(f"{n}."))), key=len,
                        default=None)
            if owner is not None:
                self.owned[owner].append(full[len(owner) + 1:] if owner else full)
                self.param_owner[full] = (owner, full[len(owner) + 1:] if owner else full)

    def _reduction(self, name: str) -> int:
        module = self.modules[name]
        arrays = [a for a in self.tapes["scratch"].inputs[name] if isinstance(a, np.ndarray)]
        return reduction_length(*arrays, *(p.data for p in module.parameters(recurse=False)))

    def _tol(self, name: str, steps: int) -> float:
        if self.rtol is not None:
            return self.rtol
        inputs = self.tapes["scratch"].inputs.get(name, ())
        dtype = module_dtype(self.modules[name], tuple(a for a in inputs if isinstance(a, np.ndarray)))
        return trajectory_rtol(dtype, self.sizes.get(name, 1), steps)

    def _rows(self, step: int, name: str, pairs: list, tol: float, local: bool) -> list[Comparison]:
        """One row per (quantity, scratch value, torch value), the error measured by ``_trajectory_error``."""
        rows = []
        for quantity, ours, theirs in pairs:
            if ours is None and theirs is None:  # a frozen parameter: no gradient in either engine
                continue
            if ours is None or theirs is None:
                problem = f"missing in {'scratch' if ours is None else 'torch'}"
                rows.append(Comparison(quantity, math.inf, math.inf, tol, False, problem, name, step, local))
                continue
            c = compare_arrays(quantity, ours, theirs, tol)
            rel = c.max_rel_err if c.problem else self._trajectory_error(name, quantity, ours, theirs)
            ok = (rel <= tol or (self.atol is not None and c.max_abs_err <= self.atol)) and not c.problem
            rows.append(Comparison(quantity, c.max_abs_err, rel, tol, ok, c.problem, name, step, local))
        return rows

    def _judge(self, step: int, name: str, tol: float, raw: list, local: Callable[[], list]) -> list[Comparison]:
        """The raw rows of one module or, when one fails, those of its local rerun; a failing gradient that is
        zero in exact arithmetic passes (``_exact_zeros``)."""
        rows = self._rows(step, name, raw, tol, False)
        if all(row.ok for row in rows):
            return rows
        try:
            pairs = local()
            rows = self._rows(step, name, pairs, tol, True)
        except Exception as error:  # a rerun that fails leaves the raw verdict, with the reason
            for row in rows:
                row.problem = f"{row.problem} (local rerun failed: {error})".strip()
            return rows
        return self._exact_zeros(name, rows, pairs)

    def _exact_zeros(self, name: str, rows: list[Comparison], pairs: list) -> list[Comparison]:
        """Each failing parameter-gradient row judged again by tolerance.py's rule for a quantity that is zero in
        exact arithmetic, against torch's step rerun in float64 on the same batch (float32 and float16 runs);
        ``self.batch``, the step's (inputs, targets), is set by ``compare`` (none: the failing rows stand)."""
        failing = [row for row in rows if not row.ok and not row.problem and row.quantity.endswith(".grad")]
        pairs_of = {q: (o, t) for q, o, t in pairs}
        failing = [row for row in failing if pairs_of.get(row.quantity, (None, None))[1] is not None
                   and np.asarray(to_numpy(pairs_of[row.quantity][1])).dtype != np.float64]
        batch = getattr(self, "batch", None)
        if not failing or batch is None:
            return rows
        try:
            if getattr(self, "_reference", (None,))[0] is not batch:
                self._reference = batch, float64_gradients(self.twin, self.torch_criterion, *batch)
        except Exception:  # no reference: the failing rows stand
            return rows
        prefix = "" if name in ("", LOSS) else f"{name}."
        for row in failing:
            ours, theirs = pairs_of[row.quantity]
            ref = self._reference[1].get(prefix + row.quantity[:-len(".grad")])
            error = None if ref is None else exact_zero_error(ours, to_numpy(theirs), ref)
            if error is not None and error <= row.tol:
                row.ok, row.max_rel_err = True, error
                row.problem = "zero in exact arithmetic: rounding noise in both engines, judged against its terms"
        return rows

    def _forward_rows(self, step: int, name: str) -> list[Comparison]:
        theirs = self.tapes["torch"].outputs.get(name)

        def local() -> list:
            return pairs("output", rerun(self.modules[name], name, self.tapes, False)[0], theirs)

        return self._judge(step, name, self._tol(name, step), pairs("output", self.tapes["scratch"].outputs[name],
                                                                      theirs), local)

    def _backward_rows(self, step: int, name: str, grads: dict, torch_grads: dict) -> list[Comparison]:
        module = self.modules[name]
        prefix = "" if name in ("", LOSS) else f"{name}."
        params = self.owned.get(name, [])
        theirs_in = self.tapes["torch"].grad_inputs.get(name)
        ours_in = self.tapes["scratch"].grad_inputs.get(name, [])
        if name == LOSS:  # the gradient with respect to the model's output only, never the target
            theirs_in, ours_in = (theirs_in or [])[:1], ours_in[:1]
        raw = pairs("grad_input", ours_in, theirs_in)
        raw += [(f"{p}.grad", grads.get(prefix + p), torch_grads.get(prefix + p)) for p in params]

        def local() -> list:
            _, grad_input, param_grads = rerun(module, name, self.tapes, True, grads=name != LOSS)
            local_pairs = pairs("grad_input", grad_input[:len(ours_in)] if name == LOSS else grad_input, theirs_in)
            return local_pairs + [(f"{p}.grad", param_grads.get(p), torch_grads.get(prefix + p)) for p in params]

        return self._judge(step, name, self._tol(name, step), raw, local)

    def _update_rows(self, step: int) -> list[Comparison]:
        torch_params = dict(self.twin.named_parameters())
        rows = []
        for full, param in self.model.named_parameters():
            owner, local_name = self.param_owner.get(full) or full.rpartition(".")[::2]
            tol = self._tol(owner, step + 1) if owner in self.sizes else self._param_tol(param, step + 1)
            tparam = torch_params[full]
            pairs = [(local_name, param.data, tparam.detach())]
            state, torch_state = self.optimizer.state.get(param, {}), self.torch_optimizer.state.get(tparam, {})
            pairs += [(f"state.{local_name}.{key}", *_state_pair(value, torch_state.get(key)))
                      for key, value in state.items()]
            rows += self._rows(step, owner, pairs, tol, False)
        torch_buffers = dict(self.twin.named_buffers())
        for full, buffer in self.model.named_buffers():  # running statistics, after this step's forward
            owner, _, local_name = full.rpartition(".")
            dtype = buffer.dtype if np.issubdtype(buffer.dtype, np.floating) else np.float64  # ints: exact anyway
            tol = self.rtol if self.rtol is not None else trajectory_rtol(dtype, self.sizes.get(owner, 1), step + 1)
            rows += self._rows(step, owner, [(local_name, buffer, torch_buffers.get(full))], tol, False)
        return rows

    def _trajectory_error(self, name: str, quantity: str, ours: Any, theirs: Any) -> float:
        """tolerance.py's measure, its scale the largest |torch value| this quantity has had in the run so far."""
        b = np.asarray(to_numpy(theirs), dtype=np.float64)
        finite = np.abs(b[np.isfinite(b)])
        scale = max(self.scales.get((name, quantity), 0.0), float(finite.max()) if finite.size else 0.0)
        self.scales[(name, quantity)] = scale
        return relative_error(ours, b, scale=scale)[1]

    def _param_tol(self, param: Any, steps: int) -> float:
        return self.rtol if self.rtol is not None else trajectory_rtol(param.dtype, reduction_length(param.data), steps)


def _inside(name: str, container: str) -> bool:
    """Whether module ``name`` is strictly inside module ``container`` of the model (the loss is in none)."""
    return name not in (container, LOSS) and (container == "" or name.startswith(f"{container}."))


def _state_pair(ours: Any, theirs: Any) -> tuple[Any, Any]:
    """An optimizer state entry of both engines as comparable arrays (``step``: float vs 0-d tensor)."""
    if theirs is None:
        return ours, None
    if not isinstance(ours, np.ndarray):
        return np.float64(ours), np.float64(float(theirs))
    return ours, to_numpy(theirs)


def _scratch_optimizer(model: nn.Module, optimizer: tuple) -> scratch.optim.Optimizer:
    """``(name or scratch.optim.Optimizer subclass, options)`` built over the model's parameters."""
    name, options = optimizer
    cls = getattr(scratch.optim, name, None) if isinstance(name, str) else name
    if not (isinstance(cls, type) and issubclass(cls, scratch.optim.Optimizer)):
        raise ValueError(f"compare: unknown optimizer {name!r}; expected a scratch.optim name or subclass")
    return cls(model.parameters(), **dict(options))
