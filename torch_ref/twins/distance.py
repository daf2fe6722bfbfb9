"""The twin of PairwiseDistance: torch keeps its ``p`` as the attribute ``norm``, as scratch does, so the generic
twin (which reads each constructor argument off an attribute of the same name) cannot build it."""

from __future__ import annotations

import torch

from scratch import nn

from .registry import Twin

T = torch.nn

TWINS = [Twin(nn.PairwiseDistance, T.PairwiseDistance,
              lambda m: T.PairwiseDistance(p=m.norm, eps=m.eps, keepdim=m.keepdim),
              lambda t: nn.PairwiseDistance(p=t.norm, eps=t.eps, keepdim=t.keepdim))]
