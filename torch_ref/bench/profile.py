"""``parity bench --profile EXAMPLE``: where one training step of an example's model spends its time, module
by module, in scratch and in torch.

The step is the one ``parity train EXAMPLE`` takes, on the example's first batch (its batch size, the
whole training set when it has none), in float32, with its optimizer and learning rate (without its
scheduler or gradient clipping): zero_grad, forward, loss, backward, optimizer step. Every module of the
model (``named_modules``: the model itself, its containers and their children) and the loss get a row.

Times are EXCLUSIVE: a module's row counts the time inside its forward (backward) minus the time inside
its children's, which are their own rows, so the rows add up to the whole step; two more rows hold the
optimizer (zero_grad and step) and the rest, the time outside every module (torch's autograd bookkeeping
between modules, for one). scratch's input checks in ``Module.__call__`` run before the wrapped forward:
they count in the caller's row. How each module is timed:

- scratch: each module's ``forward`` and ``backward`` are replaced on the instance by a wrapper that
  reads the clock on entry and exit (containers call their children through them, so each child is seen).
- torch: forward pre- and post-hooks, full backward pre- and post-hooks. A module none of whose inputs
  needs a gradient (an Embedding of indices; the model whose input is indices) gets its backward post-hook
  at once from torch, before its backward runs; such a module's backward ends instead when its own
  parameters' gradients are accumulated (``register_post_accumulate_grad_hook``), or, without parameters
  of its own, with the whole backward. The float input of the model requires a gradient, so that torch
  computes dL/dinput in the first layer as scratch does.

Each engine takes ``WARMUP`` steps, then ``steps`` timed steps, the engines alternating step by step
(after the pause of ``runner.SETTLE_S``); each cell is the median over the steps (a step that a burst of
other work slowed does not move it), and a row's share is of the sum of that engine's rows, so the
shares add up to 100%. The wrappers and hooks cost time of their own (microseconds per module call), so
a step here is slower than ``parity bench``'s.
"""

from __future__ import annotations

import contextlib
import statistics
import textwrap
import time
import warnings
from collections import defaultdict
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import torch

import scratch.optim

from .. import examples
from ..convert import to_torch, to_torch_optimizer
from .runner import SETTLE_S, gc_paused, same_threads

OUTSIDE = "(outside any module)"
WARMUP = 2
Key = tuple[str, str]  # (row, phase): phase "forward", "backward" or "step" (the optimizer)


class Clock:
    """Exclusive seconds per key from nested enter/exit events: closing a frame adds its time to its parent's
    children, which the parent subtracts. Closing a frame also closes the frames opened inside it."""

    def __init__(self) -> None:
        self.stack: list[list[Any]] = []
        self.seconds: dict[Key, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)

    def enter(self, key: Key) -> None:
        self.stack.append([key, time.perf_counter(), 0.0])

    def exit(self, key: Key) -> None:
        now = time.perf_counter()
        if not any(frame[0] == key for frame in self.stack):
            return
        while True:
            inner, started, children = self.stack.pop()
            elapsed = now - started
            self.seconds[inner] += elapsed - children
            self.calls[inner[0]] += 1
            if self.stack:
                self.stack[-1][2] += elapsed
            if inner == key:
                return

    @contextlib.contextmanager
    def frame(self, key: Key) -> Iterator[None]:
        self.enter(key)
        try:
            yield
        finally:
            self.exit(key)

    def reset(self) -> None:
        self.seconds.clear()
        self.calls.clear()


# ---------------------------------------------------------------- scratch: wrappers on the instances
def _timed(method: Callable[..., Any], key: Key, clock: Clock) -> Callable[..., Any]:
    def timed(*args: Any, **kwargs: Any) -> Any:
        clock.enter(key)
        try:
            return method(*args, **kwargs)
        finally:
            clock.exit(key)
    return timed


@contextlib.contextmanager
def scratch_timed(modules: dict[str, Any], clock: Clock) -> Iterator[None]:
    """Each module's forward and backward timed into ``clock`` as ``(name, phase)``, restored afterwards."""
    for name, module in modules.items():
        for phase in ("forward", "backward"):
            module.__dict__[phase] = _timed(getattr(module, phase), (name, phase), clock)
    try:
        yield
    finally:
        for module in modules.values():
            for phase in ("forward", "backward"):
                module.__dict__.pop(phase, None)


# ---------------------------------------------------------------- torch: hooks
def _needs_grad(args: tuple[Any, ...]) -> bool:
    return any(isinstance(a, torch.Tensor) and a.requires_grad for a in args)


def _hook_backward_end(module: torch.nn.Module, key: Key, clock: Clock, inputs_need_grad: dict[str, bool]) -> list:
    """The end of the module's backward: its full backward hook, or, when no input needed a gradient, the
    accumulation of its own parameters' gradients (none of its own: the frame closes with its parent's)."""
    own = [p for p in module.parameters(recurse=False) if p.requires_grad]
    pending = {"count": len(own)}

    def after_inputs(_module: Any, _grad_in: Any, _grad_out: Any) -> None:
        if inputs_need_grad[key[0]]:
            clock.exit(key)

    def after_param(_param: Any) -> None:  # a module never called (out_proj) has its parameters used all the same
        if inputs_need_grad.get(key[0], True):
            return
        pending["count"] -= 1
        if pending["count"] == 0:  # the last of its parameters: the module's backward is done
            pending["count"] = len(own)
            clock.exit(key)
    return [module.register_full_backward_hook(after_inputs),
            *(p.register_post_accumulate_grad_hook(after_param) for p in own)]


def _hook(module: torch.nn.Module, name: str, clock: Clock, inputs_need_grad: dict[str, bool]) -> list:
    forward, backward = (name, "forward"), (name, "backward")

    def before_forward(_module: Any, args: tuple[Any, ...]) -> None:
        inputs_need_grad[name] = _needs_grad(args)
        clock.enter(forward)

    return [module.register_forward_pre_hook(before_forward),
            module.register_forward_hook(lambda *_: clock.exit(forward)),
            module.register_full_backward_pre_hook(lambda *_: clock.enter(backward)),
            *_hook_backward_end(module, backward, clock, inputs_need_grad)]


@contextlib.contextmanager
def torch_timed(modules: dict[str, torch.nn.Module], clock: Clock) -> Iterator[None]:
    """Each module's forward and backward timed into ``clock`` through hooks, removed afterwards."""
    inputs_need_grad: dict[str, bool] = {}
    handles = [handle for name, module in modules.items() for handle in _hook(module, name, clock, inputs_need_grad)]
    try:
        with warnings.catch_warnings():  # the early post-hook is expected: see _hook_backward_end
            warnings.filterwarnings("ignore", "Full backward hook is firing when gradients are computed with "
                                    "respect to module outputs", UserWarning)
            yield
    finally:
        for handle in handles:
            handle.remove()


# ---------------------------------------------------------------- the example's step in each engine
def _first_batch(example: examples.Example) -> tuple[np.ndarray, np.ndarray]:
    """The example's first training batch, its floats in float32 (may raise ImportError: a missing extra)."""
    x, y, _, _ = example.load_data(np.random.default_rng(0))
    rows = example.batch_size or len(x)
    x, y = (a[:rows].astype(np.float32) if np.issubdtype(a.dtype, np.floating) else a[:rows] for a in (x, y))
    return x, y


def _row_names(model: Any, criterion: Any, optimizer: str) -> dict[str, str]:
    """Each row's key and its label: the model's modules (the model itself as "(model)"), the loss, the
    optimizer and the outside."""
    names = {name: f"{name or '(model)'} {type(module).__name__}" for name, module in model.named_modules()}
    return {**names, "(loss)": f"(loss) {type(criterion).__name__}", "(optimizer)": f"(optimizer) {optimizer}: "
            "zero_grad + step", OUTSIDE: OUTSIDE}


def _scratch_step(model: Any, criterion: Any, optimizer: Any, x: np.ndarray, y: np.ndarray,
                  clock: Clock) -> Callable[[], None]:
    def step() -> None:
        with clock.frame(("(optimizer)", "step")):
            optimizer.zero_grad()
        with clock.frame((OUTSIDE, "forward")):
            criterion(model(x), y)
        with clock.frame((OUTSIDE, "backward")):
            model.backward(criterion.backward())
        with clock.frame(("(optimizer)", "step")):
            optimizer.step()
    return step


def _torch_step(twin: torch.nn.Module, criterion: torch.nn.Module, optimizer: torch.optim.Optimizer,
                x: torch.Tensor, y: torch.Tensor, clock: Clock) -> Callable[[], None]:
    def step() -> None:
        x.grad = None
        with clock.frame(("(optimizer)", "step")):
            optimizer.zero_grad()
        with clock.frame((OUTSIDE, "forward")):
            loss = criterion(twin(x), y)
        with clock.frame((OUTSIDE, "backward")):
            loss.backward()
        with clock.frame(("(optimizer)", "step")):
            optimizer.step()
    return step


def _tensor(array: np.ndarray) -> torch.Tensor:
    return torch.tensor(array, requires_grad=bool(np.issubdtype(array.dtype, np.floating)))


def _engines(example: examples.Example,
             clocks: dict[str, Clock]) -> tuple[dict[str, Any], dict[str, Callable[[], None]], dict[str, str]]:
    """The instrumented context of both engines, their step functions, and the rows' labels."""
    x, y = _first_batch(example)
    model = example.build_model(np.dtype(np.float32), np.random.default_rng(0))
    criterion = example.criterion()
    twin, torch_criterion = to_torch(model), to_torch(criterion)
    optimizer = getattr(scratch.optim, example.optimizer)(model.parameters(), lr=example.lr,
                                                          **example.optimizer_options)
    torch_params = dict(twin.named_parameters())
    torch_optimizer = to_torch_optimizer(optimizer, {id(p): torch_params[name] for name, p in model.named_parameters()})
    contexts = {"scratch": scratch_timed({**dict(model.named_modules()), "(loss)": criterion}, clocks["scratch"]),
                "torch": torch_timed({**dict(twin.named_modules()), "(loss)": torch_criterion}, clocks["torch"])}
    steps = {"scratch": _scratch_step(model, criterion, optimizer, x, y, clocks["scratch"]),
             "torch": _torch_step(twin, torch_criterion, torch_optimizer, _tensor(x), torch.from_numpy(y),
                                  clocks["torch"])}
    return contexts, steps, _row_names(model, criterion, example.optimizer)


def _time_steps(steps: dict[str, Callable[[], None]], clocks: dict[str, Clock], count: int) -> dict[str, list]:
    """``WARMUP`` steps each, then ``count`` timed steps each, the engines alternating: each engine's
    exclusive seconds per key, one dict per step."""
    for step in steps.values():
        for _ in range(WARMUP):
            step()
    timed: dict[str, list[dict[Key, float]]] = {engine: [] for engine in steps}
    with gc_paused():
        for _ in range(count):
            for engine, step in steps.items():
                clocks[engine].reset()
                time.sleep(SETTLE_S)
                step()
                timed[engine].append(dict(clocks[engine].seconds))
    return timed


def profile(name: str, steps: int, threads: int) -> dict[str, Any]:
    """Per-module exclusive times of ``steps`` training steps of example ``name`` in both engines (see the
    module docstring), as a dict of rows; raises KeyError for an unknown example, ImportError for a missing
    extra (before any step)."""
    example = examples.get(name)
    clocks = {"scratch": Clock(), "torch": Clock()}
    with same_threads(threads):
        contexts, step_functions, labels = _engines(example, clocks)
        with contexts["scratch"], contexts["torch"]:
            timed = _time_steps(step_functions, clocks, steps)
    return {"example": name, "steps": steps, "threads": threads, "exclusive": True, "statistic": "median",
            "rows": _rows(labels, timed)}


def _medians(per_step: list[dict[Key, float]]) -> dict[Key, float]:
    """The median over the steps of each key's seconds (0 in a step that did not run it)."""
    keys = {key for step in per_step for key in step}
    return {key: statistics.median(step.get(key, 0.0) for step in per_step) for key in keys}


def _rows(labels: dict[str, str], timed: dict[str, list[dict[Key, float]]]) -> list[dict[str, Any]]:
    """One row per label: each engine's median seconds per phase, their total and its share of the sum of
    every row's total (the step); the ratio of the totals."""
    medians = {engine: _medians(per_step) for engine, per_step in timed.items()}
    step_s = {engine: sum(values.values()) for engine, values in medians.items()}
    rows = []
    for key, label in labels.items():
        row: dict[str, Any] = {"module": label}  # an engine that never ran a phase of the row: None
        for engine, values in medians.items():
            phases = {phase: values.get((key, phase)) for phase in ("forward", "backward", "step")}
            timed_phases = [t for t in phases.values() if t is not None]
            total = sum(timed_phases) if timed_phases else None
            row[engine] = {**phases, "total": total,
                           "share_pct": None if total is None else 100 * total / step_s[engine]}
        both = row["scratch"]["total"], row["torch"]["total"]
        row["ratio"] = both[0] / both[1] if both[0] is not None and both[1] else None
        rows.append(row)
    return rows


def _cell(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1e3:.3f}"


COLUMNS = ("fwd scratch", "fwd torch", "bwd scratch", "bwd torch", "scratch", "torch", "ratio", "% scratch",
           "% torch")
NOTE = ("Times are EXCLUSIVE: a module's row leaves out its children, which have rows of their own; each cell is the "
        "median over the steps, and each '%' column is the row's share of the sum of that engine's rows (the step), "
        "so it sums to 100%. scratch, torch: forward + backward (the optimizer: zero_grad + step); ratio = scratch / "
        "torch; '-': never run (torch's MultiheadAttention uses out_proj's weights without calling it). The timing "
        "wrappers and hooks add a cost of their own, most of it in the model's and the outside rows.")


def format_profile(result: dict[str, Any]) -> str:
    """The table: one row per module, times in ms per step, then how to read it."""
    rows = result["rows"]
    width = max(len("module"), *(len(r["module"]) for r in rows))
    header = f"{'module':<{width}}  " + "  ".join(f"{c:>7}" for c in COLUMNS)
    lines = [header, "-" * len(header)]
    for r in rows:
        s, t = r["scratch"], r["torch"]
        cells = [_cell(s["forward"]), _cell(t["forward"]), _cell(s["backward"]), _cell(t["backward"]),
                 _cell(s["total"]), _cell(t["total"]), "-" if r["ratio"] is None else f"{r['ratio']:.2f}",
                 *("-" if e["share_pct"] is None else f"{e['share_pct']:.1f}%" for e in (s, t))]
        lines.append(f"{r['module']:<{width}}  " + "  ".join(f"{c:>{len(h)}}" for c, h in zip(cells, COLUMNS)))
    step = {engine: sum(r[engine]["total"] or 0.0 for r in rows) * 1e3 for engine in ("scratch", "torch")}
    summary = (f"parity bench --profile {result['example']}: ms per training step (zero_grad, forward, loss, backward, "
               f"optimizer step) over {result['steps']} steps each, the engines alternating, {result['threads']} "
               f"threads each; step (the sum of the rows): scratch {step['scratch']:.3f} ms, torch "
               f"{step['torch']:.3f} ms.")
    return "\n".join([*lines, "", *textwrap.wrap(summary, 110), *textwrap.wrap(NOTE, 110)])
