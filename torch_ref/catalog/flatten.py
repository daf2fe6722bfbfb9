"""Flatten and Unflatten: the reshapes, whose gradient is the upstream gradient reshaped back."""

from __future__ import annotations

from scratch import nn

from .case import Case, module_case
from .data import normal

CASES: list[Case] = [
    module_case("Flatten", lambda d, r: (nn.Flatten(), [normal(r, d, 4, 3, 5)])),
    module_case("Flatten(4-D input)", lambda d, r: (nn.Flatten(), [normal(r, d, 2, 3, 4, 5)])),
    module_case("Flatten(start_dim=1,end_dim=2)", lambda d, r: (nn.Flatten(1, 2), [normal(r, d, 2, 3, 4, 5)])),
    module_case("Flatten(all dims)", lambda d, r: (nn.Flatten(0, -1), [normal(r, d, 2, 3, 4)])),
    module_case("Unflatten", lambda d, r: (nn.Unflatten(1, (3, 4)), [normal(r, d, 5, 12, 2)])),
    module_case("Unflatten(-1 size,last dim)", lambda d, r: (nn.Unflatten(-1, (2, -1, 3)), [normal(r, d, 5, 2, 12)])),
    module_case("Unflatten(first dim,list)", lambda d, r: (nn.Unflatten(0, [2, 3]), [normal(r, d, 6, 4)])),
]
