"""Stochastic weight averaging and EMA of a model's weights, mirroring ``torch.optim.swa_utils``:
``AveragedModel``, its averaging functions, the ``SWALR`` scheduler and ``update_bn``.

The arithmetic is torch's CPU arithmetic, operation for operation, so the averages equal torch's bit for bit:

.. code-block:: text

    SWA (avg_fn / the default):   p_avg + (p - p_avg) / (n + 1)
    SWA (multi_avg_fn):           lerp(p_avg, p, w),  w = float32(1 / (n + 1))
    EMA (avg_fn):                 decay · p_ema + (1 - decay) · p
    EMA (multi_avg_fn):           lerp(p_ema, p, 1 - decay)
    lerp(a, b, w) = fma(w, b - a, a) if |w| < 0.5 else fma(w - 1, b - a, b)   (torch's vectorized kernel)
"""

from __future__ import annotations

import copy
import itertools
import math
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from ..nn.modules.module import Module
from ..nn.modules.normalization import _BatchNorm
from ._torch_arith import fma as _fma
from .lr_scheduler.base import LRScheduler, _format_param, _warn_get_lr_called_within_step
from .optimizer import Optimizer

__all__ = ["SWALR", "AveragedModel", "get_ema_avg_fn", "get_ema_multi_avg_fn", "get_swa_avg_fn",
           "get_swa_multi_avg_fn", "update_bn"]

ParamList = list[NDArray[Any]]
AvgFn = Callable[[NDArray[Any], NDArray[Any], NDArray[np.int64]], NDArray[Any]]
MultiAvgFn = Callable[[ParamList, ParamList, NDArray[np.int64]], None]


def _lerp_(start: NDArray[Any], end: NDArray[Any], weight: float) -> None:
    """``start.lerp_(end, weight)`` in place, torch's CPU kernel (two fused branches, exact at both ends)."""
    w = np.full_like(start, weight)
    diff = end - start
    start[...] = _fma(w, diff, start) if abs(weight) < 0.5 else _fma(w - 1, diff, end)


def _as_float32_math(x: NDArray[Any]) -> NDArray[Any]:
    """An integer buffer (num_batches_tracked) times a Python float is float32 in torch (the default dtype)."""
    return x.astype(np.float32) if x.dtype.kind in "iub" else x


def _check_decay(decay: float) -> None:
    if decay < 0.0 or decay > 1.0:
        raise ValueError(f"Invalid decay value {decay} provided. Please provide a value in [0,1] range.")


def get_ema_multi_avg_fn(decay: float = 0.999) -> MultiAvgFn:
    """In-place EMA of lists: ``lerp(p_ema, p, 1 - decay)`` for float arrays; for integer ones
    ``p_ema · decay + p · (1 - decay)`` in float32, truncated back (torch's ``copy_``)."""
    _check_decay(decay)

    def ema_update(ema_param_list: ParamList, current_param_list: ParamList, _: Any) -> None:
        if ema_param_list[0].dtype.kind in "fc":
            for p_ema, p_model in zip(ema_param_list, current_param_list, strict=True):
                _lerp_(p_ema, p_model, 1 - decay)
            return
        for p_ema, p_model in zip(ema_param_list, current_param_list, strict=True):
            factor, rest = np.float32(decay), np.float32(1 - decay)
            p_ema[...] = _as_float32_math(p_ema) * factor + _as_float32_math(p_model) * rest
    ema_update.__swa_kind__ = ("ema_multi", decay)  # type: ignore[attr-defined]
    return ema_update


def get_swa_multi_avg_fn() -> MultiAvgFn:
    """In-place SWA of lists: ``lerp(p_avg, p, 1 / (n + 1))``; torch's weight is ``1 / n_averaged_tensor``, a
    float32 0-d tensor read as a Python float, so the weight is rounded to float32 (even for float64 arrays)."""

    def swa_update(averaged_param_list: ParamList, current_param_list: ParamList,
                   num_averaged: NDArray[np.int64] | int) -> None:
        n = int(num_averaged)
        if averaged_param_list[0].dtype.kind in "fc":
            weight = float(np.float32(1 / (n + 1)))
            for p_avg, p_model in zip(averaged_param_list, current_param_list, strict=True):
                _lerp_(p_avg, p_model, weight)
            return
        raise RuntimeError("Integer division with addcdiv is no longer supported, and in a future release addcdiv "
                           "will perform a true division of tensor1 and tensor2. The historic addcdiv behavior can "
                           "be implemented as (input + value * torch.trunc(tensor1 / tensor2)).to(input.dtype) for "
                           "integer inputs and as (input + value * tensor1 / tensor2) for float inputs. The future "
                           "addcdiv behavior is just the latter implementation: (input + value * tensor1 / "
                           "tensor2), for all dtypes.")
    swa_update.__swa_kind__ = ("swa_multi",)  # type: ignore[attr-defined]
    return swa_update


def get_ema_avg_fn(decay: float = 0.999) -> AvgFn:
    """EMA of one array: returns ``decay · p_ema + (1 - decay) · p``."""
    _check_decay(decay)

    def ema_update(ema_param: NDArray[Any], current_param: NDArray[Any], num_averaged: Any) -> NDArray[Any]:
        return decay * _as_float32_math(ema_param) + (1 - decay) * _as_float32_math(current_param)
    ema_update.__swa_kind__ = ("ema", decay)  # type: ignore[attr-defined]
    return ema_update


def get_swa_avg_fn() -> AvgFn:
    """SWA of one array: returns ``p_avg + (p - p_avg) / (n + 1)`` (n as a Python int: NumPy would widen a float32
    array divided by an int64 0-d array to float64; torch keeps float32, and divides integers in float32)."""

    def swa_update(averaged_param: NDArray[Any], current_param: NDArray[Any],
                   num_averaged: NDArray[np.int64] | int) -> NDArray[Any]:
        averaged, current = _as_float32_math(averaged_param), _as_float32_math(current_param)
        out: NDArray[Any] = averaged + (current - averaged) / (int(num_averaged) + 1)
        return out
    swa_update.__swa_kind__ = ("swa",)  # type: ignore[attr-defined]
    return swa_update


class AveragedModel(Module):
    r"""A copy (``module``) of ``model`` whose parameters (and buffers, with ``use_buffers=True``) are running
    averages of ``model``'s, updated by ``update_parameters(model)``; ``n_averaged`` counts the updates.

    The first update copies ``model``'s values; each later one applies ``avg_fn(p_avg, p, n_averaged)``
    (returns the new value) or ``multi_avg_fn(p_avgs, ps, n_averaged)`` (in place); neither: the equal
    average (SWA). Without ``use_buffers`` the buffers are copied from ``model`` at every update.

    ``forward`` and ``backward`` are ``module``'s, so it serves as a model. state_dict keys: ``n_averaged``,
    ``module.<model's keys>``, as torch. ``device`` is accepted for torch's signature; scratch has one (CPU).
    """

    def __init__(self, model: Module, device: Any = None, avg_fn: AvgFn | None = None,
                 multi_avg_fn: MultiAvgFn | None = None, use_buffers: bool = False) -> None:
        super().__init__()
        if avg_fn is not None and multi_avg_fn is not None:
            raise AssertionError("Only one of avg_fn and multi_avg_fn should be provided")
        if not isinstance(model, Module):
            raise TypeError(f"AveragedModel: expected a scratch.nn.Module, got {type(model).__name__}")
        self.module = copy.deepcopy(model)
        self.register_buffer("n_averaged", np.array(0, dtype=np.int64))
        self.avg_fn = avg_fn
        self.multi_avg_fn = multi_avg_fn
        self.use_buffers = use_buffers

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        return self.module(*args, **kwargs)

    def backward(self, grad_output: Any) -> Any:
        return self.module.backward(grad_output)

    def _pairs(self, model: Module) -> Iterator[tuple[NDArray[Any], NDArray[Any]]]:
        """(averaged array, model's array): parameters, then buffers with ``use_buffers``; as torch's
        ``zip(strict=False)``, the shorter list ends it."""
        if self.use_buffers:
            ours: Iterable[Any] = itertools.chain(self.module.parameters(), self.module.buffers())
            theirs: Iterable[Any] = itertools.chain(model.parameters(), model.buffers())
        else:
            ours, theirs = self.parameters(), model.parameters()
        for mine, other in zip(ours, theirs, strict=False):
            yield (mine if isinstance(mine, np.ndarray) else mine.data), (
                other if isinstance(other, np.ndarray) else other.data)

    def update_parameters(self, model: Module) -> None:
        """Fold ``model``'s current values into the averages (the first call copies them)."""
        pairs = list(self._pairs(model))
        n = self.n_averaged
        if int(n) == 0:
            for mine, other in pairs:
                mine[...] = other
        elif self.avg_fn is not None:
            for mine, other in pairs:
                mine[...] = self.avg_fn(mine, other, n.copy())
        else:
            self._average_by_dtype(pairs, n)
        if not self.use_buffers:  # the buffers follow the model's
            for mine, other in zip(self.module.buffers(), model.buffers(), strict=True):
                mine[...] = other
        n[...] += 1

    def _average_by_dtype(self, pairs: list[tuple[NDArray[Any], NDArray[Any]]], n: NDArray[np.int64]) -> None:
        """torch groups the arrays by dtype (``_group_tensors_by_device_and_dtype``), first seen first; on the CPU
        the default is ``get_swa_avg_fn`` array by array (the foreach kernels are for accelerators)."""
        groups: dict[np.dtype[Any], list[tuple[NDArray[Any], NDArray[Any]]]] = {}
        for mine, other in pairs:
            groups.setdefault(mine.dtype, []).append((mine, other))
        for group in groups.values():
            if self.multi_avg_fn is not None:
                self.multi_avg_fn([m for m, _ in group], [o for _, o in group], n.copy())
            else:
                swa = get_swa_avg_fn()
                for mine, other in group:
                    mine[...] = swa(mine, other, n)


def update_bn(loader: Iterable[Any], model: Module, device: Any = None) -> None:
    """One pass over ``loader`` in train mode recomputes every BatchNorm's running statistics from scratch, as a
    cumulative average (momentum None, restored afterwards). A batch that is a list or tuple gives its first
    element to the model. ``device`` is accepted for torch's signature."""
    momenta = {}
    for module in model.modules():
        if isinstance(module, _BatchNorm):
            module.reset_running_stats()
            momenta[module] = module.momentum
    if not momenta:
        return
    was_training = model.training
    model.train()
    for module in momenta:
        module.momentum = None
    for batch in loader:
        model(batch[0] if isinstance(batch, list | tuple) else batch)
    for module, momentum in momenta.items():
        module.momentum = momentum
    model.train(was_training)


class SWALR(LRScheduler):
    r"""Anneal each group's lr to ``swa_lr`` over ``anneal_epochs`` epochs, then hold it:

    .. code-block:: text

        alpha(t) = (1 - cos(pi t)) / 2  ("cos")   or   t  ("linear"),    t = clamp(step / anneal_epochs, 0, 1)
        lr_prev  = (lr - alpha(t_prev) · swa_lr) / (1 - alpha(t_prev))   (swa_lr if alpha(t_prev) = 1)
        new lr   = swa_lr · alpha(t) + lr_prev · (1 - alpha(t))

    Chainable like torch's: the start lr is recovered from the group's current lr.
    """

    def __init__(self, optimizer: Optimizer, swa_lr: float | list[float], anneal_epochs: int = 10,
                 anneal_strategy: Literal["cos", "linear"] = "cos", last_epoch: int = -1) -> None:
        swa_lrs = _format_param("swa_lr", optimizer, swa_lr)
        for value, group in zip(swa_lrs, optimizer.param_groups, strict=True):
            group["swa_lr"] = value
        if anneal_strategy not in ["cos", "linear"]:
            raise ValueError(f"anneal_strategy must be one of 'cos' or 'linear', instead got {anneal_strategy}")
        self._set_anneal_func(anneal_strategy)
        if not isinstance(anneal_epochs, int) or anneal_epochs < 0:
            raise ValueError(f"anneal_epochs must be equal or greater than 0, got {anneal_epochs}")
        self.anneal_epochs = anneal_epochs
        super().__init__(optimizer, last_epoch)

    @staticmethod
    def _linear_anneal(t: float) -> float:
        return t

    @staticmethod
    def _cosine_anneal(t: float) -> float:
        return (1 - math.cos(math.pi * t)) / 2

    @staticmethod
    def _get_initial_lr(lr: Any, swa_lr: Any, alpha: float) -> Any:
        if alpha == 1:
            return swa_lr
        return (lr - alpha * swa_lr) / (1 - alpha)

    def get_lr(self) -> list[Any]:
        _warn_get_lr_called_within_step(self)
        step = self._step_count - 1
        if self.anneal_epochs == 0:
            step = max(1, step)
        prev_alpha = self.anneal_func(max(0, min(1, (step - 1) / max(1, self.anneal_epochs))))
        prev_lrs = [self._get_initial_lr(group["lr"], group["swa_lr"], prev_alpha)
                    for group in self.optimizer.param_groups]
        alpha = self.anneal_func(max(0, min(1, step / max(1, self.anneal_epochs))))
        return [group["swa_lr"] * alpha + lr * (1 - alpha)
                for group, lr in zip(self.optimizer.param_groups, prev_lrs, strict=True)]

    def _set_anneal_func(self, anneal_strategy: Literal["cos", "linear"]) -> None:
        self._anneal_strategy = anneal_strategy
        self.anneal_func = self._cosine_anneal if anneal_strategy == "cos" else self._linear_anneal

    def state_dict(self) -> dict[str, Any]:
        """Every attribute but the optimizer and the anneal function, as torch."""
        return {key: value for key, value in self.__dict__.items() if key not in ("optimizer", "anneal_func")}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.__dict__.update(state_dict)
        self._set_anneal_func(self._anneal_strategy)
