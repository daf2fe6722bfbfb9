"""Twin of PairwiseDistance: torch keeps its ``p`` as ``norm``, which the generic rule (one attribute per
constructor argument, of the same name) cannot read; scratch keeps the same attribute."""

from __future__ import annotations

import torch

from scratch import nn

from .registry import Twin

TWINS = [
    Twin(nn.PairwiseDistance, torch.nn.PairwiseDistance,
         lambda m: torch.nn.PairwiseDistance(m.norm, m.eps, m.keepdim),
         lambda m: nn.PairwiseDistance(m.norm, m.eps, m.keepdim)),
]
