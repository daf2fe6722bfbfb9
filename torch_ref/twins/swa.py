"""The twin of ``scratch.optim.swa_utils.AveragedModel``: torch's ``AveragedModel`` around the twin of the averaged
copy (``module``), with ``use_buffers`` and the averaging function carried over. scratch's and torch's
``get_*_avg_fn`` functions map onto each other (an EMA's decay included); another function has no twin."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import torch.optim.swa_utils as torch_swa

from scratch.optim import swa_utils

from .registry import Twin, build_scratch, build_torch

#: the averaging functions by kind: (scratch's factory, torch's factory)
FACTORIES: dict[str, tuple[Callable[..., Any], Callable[..., Any]]] = {
    "ema_multi": (swa_utils.get_ema_multi_avg_fn, torch_swa.get_ema_multi_avg_fn),
    "swa_multi": (swa_utils.get_swa_multi_avg_fn, torch_swa.get_swa_multi_avg_fn),
    "ema": (swa_utils.get_ema_avg_fn, torch_swa.get_ema_avg_fn),
    "swa": (swa_utils.get_swa_avg_fn, torch_swa.get_swa_avg_fn),
}


def _kind_of_torch(fn: Callable[..., Any]) -> tuple[Any, ...]:
    """(kind, *arguments) of one of torch's averaging functions, read from its closure (the decay)."""
    owner = fn.__qualname__.split(".<locals>.")[0]
    kind = {"get_ema_multi_avg_fn": "ema_multi", "get_swa_multi_avg_fn": "swa_multi", "get_ema_avg_fn": "ema",
            "get_swa_avg_fn": "swa"}.get(owner)
    if kind is None or fn.__module__ != torch_swa.__name__:
        raise TypeError(f"from_torch: AveragedModel's averaging function {fn.__qualname__} has no scratch twin "
                        "(only torch.optim.swa_utils' get_*_avg_fn functions convert)")
    inner = inspect.unwrap(fn)  # past torch.no_grad()'s wrapper, to the closure that holds the decay
    cells = dict(zip(inner.__code__.co_freevars, inner.__closure__ or (), strict=True))
    return (kind, cells["decay"].cell_contents) if "decay" in cells else (kind,)


def _twin_fn(fn: Callable[..., Any] | None, engine: int) -> Callable[..., Any] | None:
    if fn is None:
        return None
    if engine == 1:
        kind = getattr(fn, "__swa_kind__", None)
        if kind is None:
            raise TypeError(f"to_torch: AveragedModel's averaging function {fn.__qualname__} has no torch twin "
                            "(only scratch.optim.swa_utils' get_*_avg_fn functions convert)")
    else:
        kind = _kind_of_torch(fn)
    return FACTORIES[kind[0]][engine](*kind[1:])


def _to_torch(module: swa_utils.AveragedModel) -> torch_swa.AveragedModel:
    return torch_swa.AveragedModel(build_torch(module.module, "module"), avg_fn=_twin_fn(module.avg_fn, 1),
                                   multi_avg_fn=_twin_fn(module.multi_avg_fn, 1), use_buffers=module.use_buffers)


def _from_torch(module: torch_swa.AveragedModel) -> swa_utils.AveragedModel:
    return swa_utils.AveragedModel(build_scratch(module.module, "module"), avg_fn=_twin_fn(module.avg_fn, 0),
                                   multi_avg_fn=_twin_fn(module.multi_avg_fn, 0), use_buffers=module.use_buffers)


TWINS = [Twin(swa_utils.AveragedModel, torch_swa.AveragedModel, _to_torch, _from_torch)]
