"""``LRScheduler``, the base of every scheduler, and the helpers torch's schedulers share.

A scheduler rewrites ``group["lr"]`` of every param group when ``step()`` is called, once per
epoch (or iteration), after ``optimizer.step()``. Most are *chainable*: ``get_lr()`` computes the
new lr from the group's current one, so several schedulers on one optimizer compose.
"""

from __future__ import annotations

import warnings
from functools import wraps
from typing import Any, cast
from weakref import ref

import numpy as np

from ..optimizer import Optimizer

EPOCH_DEPRECATION_WARNING = (
    "The epoch parameter in `scheduler.step()` was not necessary and is being deprecated where possible. "
    "Please use `scheduler.step()` to step the scheduler. During the deprecation, if epoch is different from "
    "None, the closed form is used instead of the new chainable form, where available. Please open an issue if "
    "you are unable to replicate your use case: https://github.com/pytorch/pytorch/issues/new/choose."
)


def _format_param(name: str, optimizer: Optimizer, param: Any) -> list[Any]:
    """One value per param group: a list/tuple of that length, or a scalar repeated."""
    if isinstance(param, list | tuple):
        if len(param) != len(optimizer.param_groups):
            raise ValueError(f"{name} must have the same length as optimizer.param_groups. {name} has "
                             f"{len(param)} values, param_groups has {len(optimizer.param_groups)}.")
        return list(param)
    return [param] * len(optimizer.param_groups)


def _param_groups_val_list(optimizer: Optimizer, key: str) -> list[Any]:
    """group[key] of every group; an array (a tensor lr in torch) copied, so it does not alias the group's."""
    return [_copy_value(group[key]) for group in optimizer.param_groups]


def _copy_value(value: Any) -> Any:
    return value.copy() if isinstance(value, np.ndarray) else value


def _update_param_group_val(group: dict[str, Any], key: str, value: Any) -> None:
    """Set group[key]; an array value there (torch's tensor lr) is updated in place, keeping its dtype and
    identity, as torch's ``_update_param_group_val`` fills a tensor lr."""
    if isinstance(group[key], np.ndarray):
        group[key][...] = value
    else:
        group[key] = value


def _set_momentum(group: dict[str, Any], momentum: float, use_beta1: bool) -> None:
    """Write a cycled momentum into the group: SGD's ``momentum`` or Adam's ``betas[0]``."""
    if use_beta1:
        group["betas"] = (momentum, *group["betas"][1:])
    else:
        group["momentum"] = momentum


def _warn_get_lr_called_within_step(scheduler: LRScheduler) -> None:
    if not scheduler._get_lr_called_within_step:
        warnings.warn("To get the last learning rate computed by the scheduler, please use `get_last_lr()`.",
                      UserWarning, stacklevel=2)


def _patch_track_step_called(scheduler: LRScheduler) -> None:
    """Wrap ``optimizer.step`` so the first ``scheduler.step()`` can warn when it came first."""
    opt = scheduler.optimizer
    if hasattr(opt.step, "_wrapped_by_lr_sched"):
        return
    opt_ref = ref(opt)
    func = cast(Any, opt.step).__func__  # the class's step, unbound

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        optimizer = cast(Any, opt_ref())  # alive while its step runs
        optimizer._opt_called = True
        return func.__get__(optimizer, optimizer.__class__)(*args, **kwargs)

    wrapper._wrapped_by_lr_sched = True  # type: ignore[attr-defined]  # torch's marker on the wrapper
    opt.step = wrapper  # type: ignore[method-assign]  # torch patches the instance's step the same way


class _EnableGetLrCall:
    def __init__(self, scheduler: LRScheduler) -> None:
        self.scheduler = scheduler

    def __enter__(self) -> _EnableGetLrCall:
        self.scheduler._get_lr_called_within_step = True
        return self

    def __exit__(self, *exc: object) -> None:
        self.scheduler._get_lr_called_within_step = False


class _InitialMode:
    def __init__(self, scheduler: LRScheduler) -> None:
        self.scheduler = scheduler

    def __enter__(self) -> None:
        self.scheduler._is_initial = True

    def __exit__(self, *exc: object) -> None:
        self.scheduler._is_initial = False


class LRScheduler:
    """Base class. Subclasses implement ``get_lr()``: the new lr of each group at ``last_epoch``,
    and may implement ``_get_closed_form_lr()``, used instead when ``step(epoch)`` is given an epoch.

    Args:
        optimizer: the wrapped optimizer.
        last_epoch: the index of the last epoch; -1 starts afresh (and records ``initial_lr`` in
            every group), anything else resumes and needs ``initial_lr`` already there.

    Construction performs torch's initial step, which sets the epoch-0 lr.
    """

    _get_lr_called_within_step: bool = False
    _is_initial: bool = False

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", _copy_value(group["lr"]))
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(f"param 'initial_lr' is not specified in param_groups[{i}] when resuming "
                                   "scheduler with last_epoch >= 0.\nThis typically happens when:\n1. You're trying "
                                   "to resume training from a checkpoint but haven't properly loaded the optimizer "
                                   "state\n2. You're using last_epoch >= 0 for a fresh training run (not recommended)")
        self.base_lrs: list[float] = _param_groups_val_list(optimizer, "initial_lr")
        self.last_epoch = last_epoch
        _patch_track_step_called(self)
        self._initial_step()

    def _initial_step(self) -> None:
        self._step_count = 0
        with _InitialMode(self):
            self.step()

    def state_dict(self) -> dict[str, Any]:
        """Every attribute but the optimizer, as torch (values are not copied)."""
        return {key: value for key, value in self.__dict__.items() if key != "optimizer"}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.__dict__.update(state_dict)

    def get_last_lr(self) -> list[float]:
        """The lr of each group after the last ``step()``."""
        return self._last_lr

    def get_lr(self) -> list[float]:
        raise NotImplementedError

    def step(self, epoch: int | None = None) -> None:
        """Advance one epoch (chainable ``get_lr``), or jump to ``epoch`` (closed form where there is one)."""
        if self._step_count == 1:
            if not hasattr(self.optimizer.step, "_wrapped_by_lr_sched"):
                warnings.warn("Seems like `optimizer.step()` has been overridden after learning rate scheduler "
                              "initialization. Please, make sure to call `optimizer.step()` before "
                              "`lr_scheduler.step()`.", UserWarning, stacklevel=2)
            elif not getattr(self.optimizer, "_opt_called", False):
                warnings.warn("Detected call of `lr_scheduler.step()` before `optimizer.step()`. In PyTorch 1.1.0 "
                              "and later, you should call them in the opposite order: `optimizer.step()` before "
                              "`lr_scheduler.step()`.  Failure to do this will result in PyTorch skipping the first "
                              "value of the learning rate schedule.", UserWarning, stacklevel=2)
        self._step_count += 1
        if epoch is not None:
            warnings.warn(EPOCH_DEPRECATION_WARNING, UserWarning, stacklevel=2)
        self._update_lr(epoch)

    def _update_lr(self, epoch: int | None = None) -> None:
        with _EnableGetLrCall(self):
            if epoch is None:
                self.last_epoch += 1
                values = self.get_lr()
            else:
                self.last_epoch = epoch
                closed_form = getattr(self, "_get_closed_form_lr", None)
                values = closed_form() if closed_form is not None else self.get_lr()
        for group, lr in zip(self.optimizer.param_groups, values, strict=True):
            _update_param_group_val(group, "lr", lr)
        self._last_lr: list[float] = _param_groups_val_list(self.optimizer, "lr")
