"""TripletMarginLoss (p, eps, swap, unbatched, ties of the swap's minimum) and TripletMarginWithDistanceLoss (the
default distance, a PairwiseDistance module, the pairwise distance pair), every reduction; all three inputs'
gradients are compared. PairwiseDistance itself is in torch_ref/catalog/distance.py."""

from __future__ import annotations

import functools

import numpy as np

from scratch import nn
from scratch.nn import functional as F

from ..case import Case, module_case
from ..data import normal
from . import REDUCTIONS, with_reduction


def _triplet(make_loss, *shape: int, tie: bool = False):
    """``make_loss(reduction)`` on three normal inputs of ``shape``; with ``tie`` the positive equals the anchor, so
    d(a, n) = d(p, n) exactly: the swap's minimum ties in every row (torch gives each half the gradient)."""
    def make(d: np.dtype, r: np.random.Generator, red: str) -> tuple:
        a, p, n = (normal(r, d, *shape) for _ in range(3))
        if tie:
            p = a.copy()
        return make_loss(red), [a, p, n]
    return make


def per_reduction_module(name: str, make) -> list[Case]:
    subject, _, options = name.partition("(")
    options = options.rstrip(")")
    return [module_case(f"{subject}({options + ',' if options else ''}{red})", with_reduction(make, red))
            for red in REDUCTIONS]


TM, TD = nn.TripletMarginLoss, nn.TripletMarginWithDistanceLoss
L1_PAIR = (functools.partial(F.pairwise_distance_forward, p=1.0), F.pairwise_distance_backward)

CASES: list[Case] = [
    *per_reduction_module("TripletMarginLoss", _triplet(lambda red: TM(reduction=red), 8, 5)),
    *per_reduction_module("TripletMarginLoss(margin=2,p=1,swap)", _triplet(
        lambda red: TM(margin=2.0, p=1.0, swap=True, reduction=red), 8, 5)),
    *per_reduction_module("TripletMarginLoss(p=3,eps=0.1,swap)", _triplet(
        lambda red: TM(p=3.0, eps=0.1, swap=True, reduction=red), 8, 5)),
    *per_reduction_module("TripletMarginLoss(p=inf)", _triplet(lambda red: TM(p=float("inf"), reduction=red), 8, 5)),
    *per_reduction_module("TripletMarginLoss(p=1.5,unbatched)", _triplet(lambda red: TM(p=1.5, reduction=red), 6)),
    *per_reduction_module("TripletMarginLoss(swap,at ties)", _triplet(
        lambda red: TM(swap=True, margin=5.0, reduction=red), 8, 5, tie=True)),
    *per_reduction_module("TripletMarginWithDistanceLoss", _triplet(lambda red: TD(reduction=red), 8, 5)),
    *per_reduction_module("TripletMarginWithDistanceLoss(PairwiseDistance(p=1),margin=2,swap)", _triplet(
        lambda red: TD(distance_function=nn.PairwiseDistance(p=1.0), margin=2.0, swap=True, reduction=red), 8, 5)),
    *per_reduction_module("TripletMarginWithDistanceLoss(L1 pair,swap,unbatched)", _triplet(
        lambda red: TD(distance_function=L1_PAIR, swap=True, reduction=red), 6)),
]
