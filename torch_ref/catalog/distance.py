"""PairwiseDistance: p = 2, 1, 3, inf and 0.5, eps, keepdim, unbatched, and a pair at distance 0 (x1 - x2 = -eps)."""

from __future__ import annotations

import numpy as np

from scratch import nn

from .case import Case, fresh, module_case
from .data import normal


def _pair(module: nn.Module, *shape: int, zero_row: bool = False):
    def make(d: np.dtype, r: np.random.Generator) -> tuple:
        x1, x2 = np.asarray(normal(r, d, *shape)), np.asarray(normal(r, d, *shape))
        if zero_row:  # x1 - x2 + eps = 0 in the first row: torch's gradient there is 0
            x2[0] = x1[0] + d.type(module.eps)
            x1[0] = x2[0] - d.type(module.eps)
        return fresh(module), [x1, x2]
    return make


CASES: list[Case] = [
    module_case("PairwiseDistance", _pair(nn.PairwiseDistance(), 8, 5)),
    module_case("PairwiseDistance(p=1,keepdim)", _pair(nn.PairwiseDistance(p=1.0, keepdim=True), 8, 5)),
    module_case("PairwiseDistance(p=3,eps=0.1)", _pair(nn.PairwiseDistance(p=3.0, eps=0.1), 8, 5)),
    module_case("PairwiseDistance(p=inf)", _pair(nn.PairwiseDistance(p=float("inf")), 8, 5)),
    module_case("PairwiseDistance(p=0.5)", _pair(nn.PairwiseDistance(p=0.5), 8, 5)),
    module_case("PairwiseDistance(unbatched,keepdim)", _pair(nn.PairwiseDistance(keepdim=True), 6)),
    module_case("PairwiseDistance(0-D)", _pair(nn.PairwiseDistance(), )),
]
