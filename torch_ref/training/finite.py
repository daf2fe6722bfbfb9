"""The finiteness check of a side-by-side training run: after each step, the loss of each engine and every
floating parameter and buffer after the update. The first NaN or infinity in either engine ends the run as
failed (``Report.non_finite``): both engines agreeing on NaN is not parity, and every later step computes on it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from ..arrays import to_numpy
from ..report import NonFinite


def _values(array: Any) -> str | None:
    """None when ``array`` is finite (or not floating), else which non-finite values it holds."""
    a = np.asarray(to_numpy(array))
    if not np.issubdtype(a.dtype, np.floating) or np.isfinite(a).all():
        return None
    kinds = [kind for kind, present in (("nan", np.isnan(a).any()), ("inf", np.isinf(a).any())) if present]
    return " and ".join(kinds)


def _quantities(model: Any, twin: Any, losses: tuple[float, float]) -> Iterator[tuple[str, Any, Any]]:
    """(what, scratch's value, torch's value): the loss, then each parameter and buffer after the update."""
    yield "loss", losses[0], losses[1]
    torch_params, torch_buffers = dict(twin.named_parameters()), dict(twin.named_buffers())
    for name, param in model.named_parameters():
        yield f"parameter '{name}' after the update", param.data, torch_params[name].detach()
    for name, buffer in model.named_buffers():
        if name in torch_buffers:
            yield f"buffer '{name}' after the update", buffer, torch_buffers[name]


def first_non_finite(step: int, model: Any, twin: Any, losses: tuple[float, float]) -> NonFinite | None:
    """The first quantity of this step (``_quantities``' order) that is NaN or infinite in either engine."""
    for quantity, ours, theirs in _quantities(model, twin, losses):
        found = {engine: values for engine, value in (("scratch", ours), ("torch", theirs))
                 if (values := _values(value))}
        if found:
            kinds = sorted({kind for values in found.values() for kind in values.split(" and ")},
                           key=("nan", "inf").index)
            return NonFinite(step, list(found), quantity, " and ".join(kinds))
    return None
