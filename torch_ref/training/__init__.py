"""Train a scratch model and its torch twin side by side and report where and when they part.

``compare`` runs both engines step by step on the same batches and compares, in the order of
computation, every module's output and the loss (each module once its forward is done: a container after
the modules inside it), then the loss's and every module's grad_input and the gradients of the parameters
it owns (each once its backward is done), then every parameter and optimizer state entry and every buffer
(running statistics) after the update. Every module of the tree is compared, the model itself (named
``""``) and each container and composite layer (Sequential, a user's residual block, MultiheadAttention,
TransformerEncoderLayer, ...) too, as long as both engines call it: a torch layer that uses a child's
weights without calling it (MultiheadAttention's ``out_proj``) leaves that child out, and a parameter's
gradient is compared at the innermost compared module that holds it (``out_proj.weight.grad`` at the
attention).

Recording: each scratch module and the criterion get instance attributes ``forward`` and ``backward``
for the run, calling the module's own methods (a user's subclass is honoured) and keeping copies; the torch
twin gets forward hooks and full backward hooks. Full backward hooks reject in-place modules, so the twin's
``inplace`` flags are off during the run (same values) and restored afterwards.

Localization: a bug is named at the innermost module that makes it, by one rule: each module is judged on
its own computation. When a module's comparison fails, a deep copy of it is rerun fed torch's inputs (and,
in the backward, torch's grad_output), with every module inside it that both engines recorded standing in
with torch's recorded results for it (its output in the forward, its grad_input in the backward), and that
local result is judged instead (``row.local``; ``localize.py``). For a leaf that is the whole layer; for a
container it is only its own glue (a residual sum, a reshape, the sum of an attention's three input
gradients). So a module that merely received a diverged input or gradient is not blamed, a composite whose
child is the culprit agrees once the child's torch results stand in and is not blamed either, and a
composite whose children all agree but whose own output or grad_input differs is the one named. The
rerun replays the generator state each module that runs drew from, so a Dropout draws the same mask (the
torch Dropout twin applies scratch's last mask, so scratch runs first). The update rows are not localized:
after a wrong gradient the states it fed diverge too, but only after the first divergence.

Tolerances: ``rtol(dtype, n)`` at step 0, n the module's longest reduction (a container's: the longest of
its own and of the modules inside it), ``trajectory_rtol(dtype, n, s)`` after s optimizer steps. The error
is tolerance.py's measure, with its trajectory scale: the largest magnitude each quantity has had over the
run so far (at step 0, the measure itself).

Where it stops: a module called twice in one forward is recorded at its last call only (scratch keeps one
cache per module; it is compared only when both engines called it as often), and a container that reads
its children's state other than through their calls (a cached mask) sees the stand-in's, not torch's.

Zero in exact arithmetic: a parameter gradient that is exactly 0 in exact arithmetic (the bias of a layer
just before BatchNorm in training mode) is rounding noise in both engines. When its row fails, torch's
step is rerun in float64 on the same batch, and the row passes when that reference shows the quantity is
zero and scratch's noise is of torch's size (``torch_ref.tolerance.exact_zero_error``; float32 and float16
runs only). What Adam makes of such noise, a full step of random sign, still diverges: build such models
without that parameter (the ``char-gpt`` example's attention has no biases).

Non-finite values: after each step, each engine's loss and every parameter and buffer after the update must
be finite (``finite.py``). The first NaN or infinity, in either engine, stops the run there and fails it
(``report.non_finite``, ``report.verdict`` "non-finite"): two engines that agree on NaN are not at parity.
Where one engine alone went non-finite, that step's comparisons fail too and the verdict is "diverged".

Around the update: ``max_grad_norm`` and ``scheduler`` clip both engines' gradients before and step
their learning-rate schedulers after each update, each with its own engine's function (``update.py``).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable

import numpy as np

from scratch import nn

from ..report import Comparison, Report
from .finite import first_non_finite
from .session import Session
from .update import SchedulerFactory, wrap_updates

__all__ = ["Comparison", "Report", "compare"]


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
            callback: Callable[[int, Report], None] | None = None, scheduler: SchedulerFactory | None = None,
            max_grad_norm: float | None = None) -> Report:
    """Train ``model`` and its torch twin for ``steps`` steps on the same batches and compare every
    quantity of every step (see the module docstring); ``report.first_divergence`` localizes a bug.

    ``optimizer`` is ``(name, options)``, the name of a ``scratch.optim`` class (or such a class);
    ``batch_size`` None uses every row at each step; ``rtol`` replaces the dtype's tolerance, and a
    comparison within ``atol`` (absolute) passes too. ``callback(step, report)`` runs after each step.
    A NaN or infinite loss, parameter or buffer in either engine ends the run at that step, failed
    (``report.non_finite``; ``report.verdict``).
    ``max_grad_norm`` clips both engines' gradients to that total norm before each update (their own
    ``clip_grad_norm_``); ``scheduler(lr_scheduler_module, optimizer, steps)`` builds a learning-rate scheduler, called
    with ``scratch.optim.lr_scheduler`` and ``torch.optim.lr_scheduler`` in turn, stepped after each update.
    """
    if not isinstance(steps, int) or steps < 0:
        raise ValueError(f"compare: steps must be a non-negative int, got {steps!r}")
    if batch_size is not None and (not isinstance(batch_size, int) or batch_size < 1):
        raise ValueError(f"compare: batch_size must be a positive int or None, got {batch_size!r}")
    if len(inputs) != len(targets):
        raise ValueError(f"compare: inputs have {len(inputs)} rows but targets {len(targets)}")
    session = Session(model, criterion, optimizer, rtol, atol)
    wrap_updates(session, scheduler, max_grad_norm, steps)
    report = Report(model=model, twin=session.twin)
    # NumPy's overflow and invalid-value warnings are silenced: the finiteness check reports them, named
    with session, warnings.catch_warnings(), np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        # an Embedding's input (indices) needs no gradient: torch's full backward hook still fires, with a warning
        warnings.filterwarnings("ignore", message="Full backward hook is firing when gradients are computed")
        for step in range(steps):
            session.batch = _batch(inputs, step, batch_size), _batch(targets, step, batch_size)
            _step(session, report, step, callback)
            if report.non_finite is not None:
                break
    return report


def _step(session: Session, report: Report, step: int, callback: Callable[[int, Report], None] | None) -> None:
    """One step of both engines on ``session.batch``: its rows, losses and finiteness into ``report``."""
    rows, losses = session.run_step(step, *session.batch)
    report.comparisons += rows
    report.losses.append(losses)
    report.non_finite = first_non_finite(step, session.model, session.twin, losses)
    if callback is not None:
        callback(step, report)
