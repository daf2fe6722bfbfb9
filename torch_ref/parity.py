"""Train a scratch model and its torch twin side by side and report where and when they part.

``compare`` runs both engines step by step on the same batches and compares, in the order of
computation, every leaf module's output (first to last) and the loss, then the loss's and every leaf
module's grad_input and parameter gradients (last to first), then every parameter and optimizer
state entry and every buffer (running statistics) after the update.

Recording: each scratch leaf module and the criterion get instance attributes ``forward`` and
``backward`` for the run, calling the module's own methods (a user's subclass is honoured) and keeping
copies; the torch twin gets forward hooks and full backward hooks. Full backward hooks reject in-place
modules, so the twin's ``inplace`` flags are off during the run (same values) and restored afterwards.

Localization: when a module's comparison fails, its scratch computation is rerun on a deep copy fed
torch's input (and, in the backward, torch's grad_output) and that local result is judged instead
(``row.local``), so a module that merely received a diverged input or gradient is not blamed. The
rerun replays the generator state the module drew from, so a Dropout draws the same mask (the torch
Dropout twin applies scratch's last mask, so scratch runs first). The update rows are not localized:
after a wrong gradient the states it fed diverge too, but only after the first divergence.

Tolerances: ``rtol(dtype, n)`` at step 0, n the module's longest reduction, ``trajectory_rtol(dtype, n,
s)`` after s optimizer steps. The error is tolerance.py's measure, with its trajectory scale: the largest
magnitude each quantity has had over the run so far (at step 0, the measure itself).

Where it stops: only leaf modules are recorded, so a container that computes something itself (a
residual sum) or owns parameters gets no output or gradient rows of its own, and its error shows up at
the next recorded quantity. A gradient that is exactly 0 in exact arithmetic (the bias of a layer just
before BatchNorm in training mode) is rounding noise in both engines and is reported as a divergence.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

import scratch.optim
from scratch import nn
from scratch import random as scratch_random

from .compare import compare as compare_arrays
from .compare import leaves, module_dtype
from .convert import to_torch
from .optim import to_torch_optimizer
from .parity_report import Divergence, Report, Row
from .tolerance import reduction_length, relative_error, trajectory_rtol

LOSS = "loss"


# ------------------------------------------------------------------------------------------ recording
@dataclass
class _Tape:
    """What one engine's modules saw during one step, by module name, as NumPy copies."""

    order: list[str] = field(default_factory=list)
    inputs: dict[str, tuple] = field(default_factory=dict)
    outputs: dict[str, list] = field(default_factory=dict)
    grad_outputs: dict[str, tuple] = field(default_factory=dict)
    grad_inputs: dict[str, list] = field(default_factory=dict)
    rng_states: dict[str, Any] = field(default_factory=dict)


def _np(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return value.detach().numpy().copy()
    return np.array(value, copy=True) if isinstance(value, (np.ndarray, np.generic)) else value


def _copy_tree(tree: Any) -> list:
    return [_np(leaf) for leaf in leaves(tree) if leaf is not None]


def _generator(module: nn.Module) -> np.random.Generator | None:
    if "rng" not in vars(module) and not hasattr(type(module), "rng"):
        return None
    rng = getattr(module, "rng", None)
    return rng if isinstance(rng, np.random.Generator) else scratch_random.default_generator()


def _wrap(module: nn.Module, name: str, tapes: dict[str, _Tape]) -> None:
    """Install recording ``forward``/``backward`` instance attributes on a scratch module."""
    forward, backward = module.forward, module.backward

    def recorded_forward(*args: Any, **kwargs: Any) -> Any:
        tape = tapes["scratch"]
        generator = _generator(module)
        tape.rng_states[name] = None if generator is None else copy.deepcopy(generator.bit_generator.state)
        tape.inputs[name] = tuple(_np(a) for a in args)
        out = forward(*args, **kwargs)
        tape.outputs[name] = _copy_tree(out)
        tape.order.append(name)
        return out

    def recorded_backward(*grads: Any) -> Any:
        tapes["scratch"].grad_outputs[name] = tuple(_np(g) for g in grads)
        grad_input = backward(*grads)
        tapes["scratch"].grad_inputs[name] = _copy_tree(grad_input)
        return grad_input

    object.__setattr__(module, "forward", recorded_forward)
    object.__setattr__(module, "backward", recorded_backward)


def _unwrap(module: nn.Module, saved: dict[str, Any]) -> None:
    for attr in ("forward", "backward"):
        module.__dict__.pop(attr, None)
        if attr in saved:
            object.__setattr__(module, attr, saved[attr])


def _hook(module: torch.nn.Module, name: str, tapes: dict[str, _Tape]) -> list:
    def on_forward(_: Any, args: tuple, output: Any) -> None:
        tapes["torch"].inputs[name] = tuple(_np(a) for a in args)
        tapes["torch"].outputs[name] = _copy_tree(output)

    def on_backward(_: Any, grad_input: tuple, grad_output: tuple) -> None:
        tapes["torch"].grad_outputs[name] = tuple(_np(g) for g in grad_output)
        tapes["torch"].grad_inputs[name] = _copy_tree(grad_input)

    return [module.register_forward_hook(on_forward), module.register_full_backward_hook(on_backward)]


# ------------------------------------------------------------------------------------------- judging
def _rerun(module: nn.Module, tapes: dict[str, _Tape], name: str, backward: bool) -> tuple[list, list, dict]:
    """The module's own results on torch's inputs (and torch's grad_output): outputs, grad_inputs, param grads."""
    clone = copy.deepcopy(module)
    for attr in ("forward", "backward"):
        clone.__dict__.pop(attr, None)
    for param in clone.parameters():
        param.grad = None
    state = tapes["scratch"].rng_states.get(name)
    if state is not None:
        generator = np.random.default_rng()
        generator.bit_generator.state = copy.deepcopy(state)
        clone.rng = generator
    ours, theirs = tapes["scratch"].inputs[name], tapes["torch"].inputs[name]
    inputs = [t if isinstance(t, np.ndarray) and np.issubdtype(t.dtype, np.floating) else o
              for o, t in zip(ours, theirs, strict=False)]
    out = clone(*inputs)
    if not backward:
        return _copy_tree(out), [], {}
    grads = [g for g in tapes["torch"].grad_outputs[name]] if name != LOSS else []
    grad_input = clone.backward(*grads)
    return _copy_tree(out), _copy_tree(grad_input), {n: p.grad for n, p in clone.named_parameters()}


def _names(base: str, count: int) -> list[str]:
    return [base] if count == 1 else [f"{base}[{i}]" for i in range(count)]


def _pairs(base: str, ours: list, theirs: list | None) -> list[tuple[str, Any, Any]]:
    theirs = [] if theirs is None else theirs
    count = max(len(ours), len(theirs), 1)
    return [(name, ours[i] if i < len(ours) else None, theirs[i] if i < len(theirs) else None)
            for i, name in enumerate(_names(base, count))]


class _Session:
    """The two engines, their optimizers and the recording; ``run_step`` does one step of each."""

    def __init__(self, model: nn.Module, criterion: nn.Module, optimizer: tuple, rtol: float | None,
                 atol: float | None) -> None:
        self.model, self.criterion, self.rtol, self.atol = model, criterion, rtol, atol
        self.twin, self.torch_criterion = to_torch(model), to_torch(criterion)
        self.optimizer = _scratch_optimizer(model, optimizer)
        torch_params = dict(self.twin.named_parameters())
        for name, param in model.named_parameters():  # frozen parameters stay frozen in the twin
            torch_params[name].requires_grad_(param.requires_grad)
        self.torch_optimizer = _torch_optimizer(
            self.optimizer, {id(p): torch_params[n] for n, p in model.named_parameters()})
        self.modules = {n: m for n, m in model.named_modules() if not any(True for _ in m.children())}
        self.modules[LOSS] = criterion
        twin_modules = dict(self.twin.named_modules())
        self.torch_modules = {n: twin_modules[n] for n in self.modules if n in twin_modules}
        self.torch_modules[LOSS] = self.torch_criterion
        self.tapes = {"scratch": _Tape(), "torch": _Tape()}
        self.scales: dict[tuple[str, str], float] = {}  # the largest |torch value| of each trajectory quantity
        self.saved = {n: {a: m.__dict__[a] for a in ("forward", "backward") if a in m.__dict__}
                      for n, m in self.modules.items()}
        self.inplace = {n: m.inplace for n, m in self.torch_modules.items() if getattr(m, "inplace", False) is True}

    def __enter__(self) -> _Session:
        for name, module in self.modules.items():
            _wrap(module, name, self.tapes)
        for name in self.inplace:
            self.torch_modules[name].inplace = False
        self.handles = [h for name, m in self.torch_modules.items() for h in _hook(m, name, self.tapes)]
        return self

    def __exit__(self, *exc: Any) -> None:
        for name, module in self.modules.items():
            _unwrap(module, self.saved[name])
        for handle in self.handles:
            handle.remove()
        for name, value in self.inplace.items():
            self.torch_modules[name].inplace = value

    # ------------------------------------------------------------------------------------ one step
    def run_step(self, step: int, x: np.ndarray, y: np.ndarray) -> tuple[list[Row], tuple[float, float]]:
        self.tapes["scratch"], self.tapes["torch"] = _Tape(), _Tape()
        self.optimizer.zero_grad()
        loss = self.criterion(self.model(x), y)
        self.model.backward(self.criterion.backward())
        grads = {n: _np(p.grad) for n, p in self.model.named_parameters()}
        self.torch_optimizer.zero_grad()
        tx = torch.from_numpy(np.array(x, copy=True))
        if tx.is_floating_point():
            tx.requires_grad_(True)
        torch_loss = self.torch_criterion(self.twin(tx), torch.from_numpy(np.array(y, copy=True)))
        torch_loss.backward()
        torch_grads = {n: _np(p.grad) if p.grad is not None else None for n, p in self.twin.named_parameters()}
        order = [n for n in self.tapes["scratch"].order if n in self.torch_modules]
        self.sizes = {n: self._reduction(n) for n in order}
        rows = [row for n in order for row in self._forward_rows(step, n)]
        rows += [row for n in reversed(order) for row in self._backward_rows(step, n, grads, torch_grads)]
        self.optimizer.step()
        self.torch_optimizer.step()
        rows += self._update_rows(step)
        return rows, (float(loss), float(torch_loss.detach()))

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

    def _rows(self, step: int, name: str, pairs: list, tol: float, local: bool) -> list[Row]:
        """One row per (quantity, scratch value, torch value), the error measured by ``_trajectory_error``."""
        rows = []
        for quantity, ours, theirs in pairs:
            if ours is None and theirs is None:  # a frozen parameter: no gradient in either engine
                continue
            if ours is None or theirs is None:
                problem = f"missing in {'scratch' if ours is None else 'torch'}"
                rows.append(Row(step, name, quantity, math.inf, math.inf, tol, False, local, problem))
                continue
            c = compare_arrays(quantity, ours, theirs, tol)
            rel = c.max_rel_err if c.problem else self._trajectory_error(name, quantity, ours, theirs)
            ok = (rel <= tol or (self.atol is not None and c.max_abs_err <= self.atol)) and not c.problem
            rows.append(Row(step, name, quantity, c.max_abs_err, rel, tol, ok, local, c.problem))
        return rows

    def _judge(self, step: int, name: str, tol: float, raw: list, local: Callable[[], list]) -> list[Row]:
        """The raw rows of one module or, when one fails, those of its local rerun."""
        rows = self._rows(step, name, raw, tol, False)
        if all(row.ok for row in rows):
            return rows
        try:
            return self._rows(step, name, local(), tol, True)
        except Exception as error:  # a rerun that fails leaves the raw verdict, with the reason
            for row in rows:
                row.problem = f"{row.problem} (local rerun failed: {error})".strip()
            return rows

    def _forward_rows(self, step: int, name: str) -> list[Row]:
        theirs = self.tapes["torch"].outputs.get(name)

        def local() -> list:
            return _pairs("output", _rerun(self.modules[name], self.tapes, name, False)[0], theirs)

        return self._judge(step, name, self._tol(name, step), _pairs("output", self.tapes["scratch"].outputs[name],
                                                                      theirs), local)

    def _backward_rows(self, step: int, name: str, grads: dict, torch_grads: dict) -> list[Row]:
        module = self.modules[name]
        prefix = "" if name in ("", LOSS) else f"{name}."
        params = [n for n, _ in module.named_parameters()]
        theirs_in = self.tapes["torch"].grad_inputs.get(name)
        ours_in = self.tapes["scratch"].grad_inputs.get(name, [])
        if name == LOSS:  # the gradient with respect to the model's output only, never the target
            theirs_in, ours_in = (theirs_in or [])[:1], ours_in[:1]
        raw = _pairs("grad_input", ours_in, theirs_in)
        raw += [(f"{p}.grad", grads.get(prefix + p), torch_grads.get(prefix + p)) for p in params]

        def local() -> list:
            _, grad_input, param_grads = _rerun(module, self.tapes, name, True)
            pairs = _pairs("grad_input", grad_input[:len(ours_in)] if name == LOSS else grad_input, theirs_in)
            return pairs + [(f"{p}.grad", param_grads.get(p), torch_grads.get(prefix + p)) for p in params]

        return self._judge(step, name, self._tol(name, step), raw, local)

    def _update_rows(self, step: int) -> list[Row]:
        torch_params = dict(self.twin.named_parameters())
        rows = []
        for full, param in self.model.named_parameters():
            owner, _, local_name = full.rpartition(".")
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
        b = np.asarray(_np(theirs), dtype=np.float64)
        finite = np.abs(b[np.isfinite(b)])
        scale = max(self.scales.get((name, quantity), 0.0), float(finite.max()) if finite.size else 0.0)
        self.scales[(name, quantity)] = scale
        return relative_error(ours, b, scale=scale)[1]

    def _param_tol(self, param: Any, steps: int) -> float:
        return self.rtol if self.rtol is not None else trajectory_rtol(param.dtype, reduction_length(param.data), steps)


def _state_pair(ours: Any, theirs: Any) -> tuple[Any, Any]:
    """An optimizer state entry of both engines as comparable arrays (``step``: float vs 0-d tensor)."""
    if theirs is None:
        return ours, None
    if not isinstance(ours, np.ndarray):
        return np.float64(ours), np.float64(float(theirs))
    return ours, _np(theirs)


def _scratch_optimizer(model: nn.Module, optimizer: tuple) -> scratch.optim.Optimizer:
    """``(name or scratch.optim.Optimizer subclass, options)`` built over the model's parameters."""
    name, options = optimizer
    cls = getattr(scratch.optim, name, None) if isinstance(name, str) else name
    if not (isinstance(cls, type) and issubclass(cls, scratch.optim.Optimizer)):
        raise ValueError(f"compare: unknown optimizer {name!r}; expected a scratch.optim name or subclass")
    return cls(model.parameters(), **dict(options))


def _torch_optimizer(optimizer: scratch.optim.Optimizer, params: dict[int, torch.nn.Parameter]) -> Any:
    """``to_torch_optimizer``; for a user's subclass (``BuggySGD(SGD)``) the twin is that of the nearest
    base class torch.optim knows, built the same way."""
    for cls in type(optimizer).__mro__:
        if hasattr(torch.optim, cls.__name__) and issubclass(cls, scratch.optim.Optimizer):
            break
    else:
        raise TypeError(f"compare: torch.optim has no twin of {type(optimizer).__name__} or its bases")
    if cls is type(optimizer):
        return to_torch_optimizer(optimizer, params)
    stand_in = type(cls.__name__, (), {})()  # to_torch_optimizer picks the torch class by the class name
    stand_in.param_groups, stand_in.defaults = optimizer.param_groups, optimizer.defaults
    return to_torch_optimizer(stand_in, params)


def _batch(array: np.ndarray, step: int, batch_size: int | None) -> np.ndarray:
    """Rows ``[b * batch_size, (b + 1) * batch_size)`` with b = step cycling through the batches in order."""
    if batch_size is None:
        return array
    batches = max(math.ceil(len(array) / batch_size), 1)
    start = (step % batches) * batch_size
    return array[start:start + batch_size]


def compare(model: nn.Module, criterion: nn.Module, inputs: np.ndarray, targets: np.ndarray, *,
            optimizer: tuple[str | type, dict] = ("Adam", {"lr": 1e-3}), steps: int = 10,
            batch_size: int | None = None, rtol: float | None = None, atol: float | None = None,
            callback: Callable[[int, Report], None] | None = None) -> Report:
    """Train ``model`` and its torch twin for ``steps`` steps on the same batches and compare every
    quantity of every step (see the module docstring); ``report.first_divergence`` localizes a bug.

    ``optimizer`` is ``(name, options)``, the name of a ``scratch.optim`` class (or such a class);
    ``batch_size`` None uses every row at each step; ``rtol`` replaces the dtype's tolerance, and a
    comparison within ``atol`` (absolute) passes too. ``callback(step, report)`` runs after each step.
    """
    if not isinstance(steps, int) or steps < 0:
        raise ValueError(f"compare: steps must be a non-negative int, got {steps!r}")
    if batch_size is not None and (not isinstance(batch_size, int) or batch_size < 1):
        raise ValueError(f"compare: batch_size must be a positive int or None, got {batch_size!r}")
    if len(inputs) != len(targets):
        raise ValueError(f"compare: inputs have {len(inputs)} rows but targets {len(targets)}")
    session = _Session(model, criterion, optimizer, rtol, atol)
    report = Report(model=model, twin=session.twin)
    with session:
        for step in range(steps):
            rows, losses = session.run_step(step, _batch(inputs, step, batch_size), _batch(targets, step, batch_size))
            report.rows += rows
            report.losses.append(losses)
            if callback is not None:
                callback(step, report)
    return report


__all__ = ["Divergence", "Report", "Row", "compare"]
