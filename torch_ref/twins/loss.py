"""The twin of TripletMarginWithDistanceLoss, whose ``distance_function`` is a module (a child: its twin is built
too) or a function. A scratch distance given as a pure pair crosses when torch has its counterpart: the pairwise
distance pair (``F.pairwise_distance_forward``, possibly a ``functools.partial`` of it with ``p``, ``eps`` or
``keepdim``) is torch's ``F.pairwise_distance`` with the same options; torch's ``F.pairwise_distance`` (or
``torch.pairwise_distance``) comes back as that pair. Any other function has no known twin (a TypeError)."""

from __future__ import annotations

import functools
from typing import Any

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


TWINS = [Twin(nn.TripletMarginWithDistanceLoss, T.TripletMarginWithDistanceLoss, _to_torch, _from_torch)]
