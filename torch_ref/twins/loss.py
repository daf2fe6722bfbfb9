"""The twin of TripletMarginWithDistanceLoss, whose ``distance_function`` is a module (a child: its twin is built
too) or a function. A scratch distance given as a pure pair crosses when torch has its counterpart: the pairwise
distance pair (``F.pairwise_distance_forward``, possibly a ``functools.partial`` of it with ``p``, ``eps`` or
``keepdim``) is torch's ``F.pairwise_distance`` with the same options; torch's ``F.pairwise_distance`` (or
``torch.pairwise_distance``) comes back as that pair. Any other function has no known twin (a TypeError).

And the twin of LinearCrossEntropyLoss, whose Linear child keeps in_features and bias and whose options are
each engine's own LinearCrossEntropyOptions (mirrored field for field; a dtype crosses as the other engine's).

And the twin of AdaptiveLogSoftmaxWithLoss, whose ``cutoffs`` attribute has n_classes appended (torch's too): the
constructor takes it without; its children are built by the constructor."""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

import numpy as np
import torch

from scratch import nn
from scratch.nn import functional as F

from .registry import Twin, build_scratch, build_torch

T = torch.nn
PAIR_OPTIONS = ("p", "eps", "keepdim")


def _torch_distance(distance: Any) -> Any:
    if isinstance(distance, nn.Module):
        return build_torch(distance, "distance_function")
    forward = distance[0]
    keywords = dict(getattr(forward, "keywords", {}))
    keywords.pop("owner", None)
    if getattr(forward, "func", forward) is F.pairwise_distance_forward and set(keywords) <= set(PAIR_OPTIONS):
        return functools.partial(torch.nn.functional.pairwise_distance, **keywords)
    raise TypeError(f"to_torch: no torch twin known for the distance pair {distance!r}; pass a scratch Module "
                    "with a twin, or the pairwise distance pair")


def _scratch_distance(distance: Any) -> Any:
    if isinstance(distance, torch.nn.Module):
        return build_scratch(distance, "distance_function")
    function = getattr(distance, "func", distance)
    keywords = dict(getattr(distance, "keywords", {}))
    if function in (torch.nn.functional.pairwise_distance, torch.pairwise_distance):
        return functools.partial(F.pairwise_distance_forward, **keywords), F.pairwise_distance_backward
    raise TypeError(f"from_torch: no scratch twin known for the distance function {distance!r}")


def _to_torch(m: nn.TripletMarginWithDistanceLoss) -> T.TripletMarginWithDistanceLoss:
    return T.TripletMarginWithDistanceLoss(distance_function=_torch_distance(m.distance_function), margin=m.margin,
                                           swap=m.swap, reduction=m.reduction)


def _from_torch(t: T.TripletMarginWithDistanceLoss) -> nn.TripletMarginWithDistanceLoss:
    return nn.TripletMarginWithDistanceLoss(distance_function=_scratch_distance(t.distance_function),
                                            margin=t.margin, swap=t.swap, reduction=t.reduction)


def _options(options: Any, cls: type, dtype: Any) -> Any:
    """LinearCrossEntropyOptions as ``cls`` (the other engine's), its acc_dtype converted by ``dtype``."""
    if options is None:
        return None
    fields = {f.name: getattr(options, f.name) for f in dataclasses.fields(options)}
    if fields.get("acc_dtype") is not None:
        fields["acc_dtype"] = dtype(fields["acc_dtype"])
    return cls(**fields)


def _lce_kwargs(m: Any) -> dict[str, Any]:
    return {"out_features": tuple(m.out_features), "bias": m.linear.bias is not None, "reduction": m.reduction,
            "ignore_index": m.ignore_index, "label_smoothing": m.label_smoothing}


def _lce_to_torch(m: nn.LinearCrossEntropyLoss) -> T.LinearCrossEntropyLoss:
    weight = None if m.weight is None else torch.tensor(m.weight)
    options = _options(m.options, T.LinearCrossEntropyOptions, lambda d: torch.from_numpy(np.empty(0, d)).dtype)
    return T.LinearCrossEntropyLoss(m.linear.in_features, m.num_classes, **_lce_kwargs(m), weight=weight,
                                    options=options, dtype=torch.from_numpy(m.linear.weight.data[:0]).dtype)


def _lce_from_torch(t: T.LinearCrossEntropyLoss) -> nn.LinearCrossEntropyLoss:
    weight = None if t.weight is None else t.weight.detach().numpy().copy()
    options = _options(t.options, nn.LinearCrossEntropyOptions, lambda d: torch.empty(0, dtype=d).numpy().dtype)
    return nn.LinearCrossEntropyLoss(t.linear.in_features, t.num_classes, **_lce_kwargs(t), weight=weight,
                                     options=options, dtype=t.linear.weight.detach().numpy().dtype)


def _asm_args(m: Any) -> tuple[int, int, list[int], float, bool]:
    return m.in_features, m.n_classes, list(m.cutoffs[:-1]), m.div_value, m.head_bias


def _asm_to_torch(m: nn.AdaptiveLogSoftmaxWithLoss) -> T.AdaptiveLogSoftmaxWithLoss:
    return T.AdaptiveLogSoftmaxWithLoss(*_asm_args(m), dtype=torch.from_numpy(m.head.weight.data[:0]).dtype)


def _asm_from_torch(t: T.AdaptiveLogSoftmaxWithLoss) -> nn.AdaptiveLogSoftmaxWithLoss:
    return nn.AdaptiveLogSoftmaxWithLoss(*_asm_args(t), dtype=t.head.weight.detach().numpy().dtype)


TWINS = [Twin(nn.AdaptiveLogSoftmaxWithLoss, T.AdaptiveLogSoftmaxWithLoss, _asm_to_torch, _asm_from_torch),
         Twin(nn.TripletMarginWithDistanceLoss, T.TripletMarginWithDistanceLoss, _to_torch, _from_torch),
         Twin(nn.LinearCrossEntropyLoss, T.LinearCrossEntropyLoss, _lce_to_torch, _lce_from_torch)]
