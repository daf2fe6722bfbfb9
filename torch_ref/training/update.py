"""What one optimizer step does beyond the optimizer's own update, identically in both engines: clipping the
gradients to a total norm first (``clip_grad_norm_``) and stepping a learning-rate scheduler after.

``Update`` wraps an engine's optimizer in place of it (everything else passes through to the optimizer), so
a session steps both engines the same way whatever they are asked to do around the step.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

import scratch.nn.utils
import scratch.optim.lr_scheduler

#: ``make_scheduler(lr_scheduler_module, optimizer, steps)``: called once with ``scratch.optim.lr_scheduler`` and
#: the scratch optimizer, once with ``torch.optim.lr_scheduler`` and torch's, so both build the same schedule
#: for a run of ``steps`` steps.
SchedulerFactory = Callable[[Any, Any, int], Any]


class Update:
    """An optimizer whose ``step()`` clips its gradients to ``max_grad_norm`` (None: no clipping), runs the
    optimizer's step and then the scheduler's (None: none); every other attribute is the optimizer's."""

    def __init__(self, optimizer: Any, clip: Callable[..., Any], scheduler: Any = None,
                 max_grad_norm: float | None = None) -> None:
        self.optimizer, self.clip, self.scheduler, self.max_grad_norm = optimizer, clip, scheduler, max_grad_norm
        self.grad_norms: list[float] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.__dict__["optimizer"], name)

    def step(self) -> None:
        if self.max_grad_norm is not None:
            params = [p for group in self.optimizer.param_groups for p in group["params"]]
            self.grad_norms.append(float(self.clip(params, self.max_grad_norm)))
        self.optimizer.step()
        if self.scheduler is not None:
            self.scheduler.step()


def wrap_updates(session: Any, make_scheduler: SchedulerFactory | None, max_grad_norm: float | None,
                 steps: int) -> None:
    """Replace the session's two optimizers by ``Update``s with the same clipping and schedule."""
    if make_scheduler is None and max_grad_norm is None:
        return
    ours, theirs = session.optimizer, session.torch_optimizer
    session.optimizer = Update(ours, scratch.nn.utils.clip_grad_norm_, None if make_scheduler is None else
                               make_scheduler(scratch.optim.lr_scheduler, ours, steps), max_grad_norm)
    session.torch_optimizer = Update(theirs, torch.nn.utils.clip_grad_norm_, None if make_scheduler is None else
                                     make_scheduler(torch.optim.lr_scheduler, theirs, steps), max_grad_norm)
