"""Local response normalization: LocalResponseNorm (3-D to 5-D inputs, even and odd windows) and
CrossMapLRN2d (torch's legacy window and backward)."""

from __future__ import annotations

from typing import Any

from scratch import nn

from .case import Case, Make, module_case
from .data import normal


def _lrn(cls: type, shape: tuple[int, ...], *args: Any) -> Make:
    return lambda d, r: (cls(*args), [normal(r, d, *shape, scale=2)])


_L, _X = nn.LocalResponseNorm, nn.CrossMapLRN2d

CASES: list[Case] = [
    module_case("LocalResponseNorm(3,(N,C,L))", _lrn(_L, (2, 5, 7), 3)),
    module_case("LocalResponseNorm(2,uneven pad)", _lrn(_L, (2, 5, 4, 4), 2)),
    module_case("LocalResponseNorm(1,1.,0.5,2.,5-D)", _lrn(_L, (1, 5, 3, 3, 3), 1, 1.0, 0.5, 2.0)),
    module_case("LocalResponseNorm(4,alpha=0.5,beta=1.5,k=0.5)", _lrn(_L, (3, 6, 5), 4, 0.5, 1.5, 0.5)),
    module_case("LocalResponseNorm(size above the channels)", _lrn(_L, (2, 3, 4, 4), 7, 0.3)),
    module_case("CrossMapLRN2d(3)", _lrn(_X, (2, 6, 3, 4), 3, 0.5)),
    module_case("CrossMapLRN2d(2,alpha=0.3,beta=1.5,k=2)", _lrn(_X, (2, 5, 3, 3), 2, 0.3, 1.5, 2.0)),
    module_case("CrossMapLRN2d(5,1 channel)", _lrn(_X, (2, 1, 3, 3), 5, 0.5)),
    module_case("CrossMapLRN2d(4,defaults)", _lrn(_X, (2, 8, 3, 2), 4)),
    module_case("CrossMapLRN2d(size above the channels)", _lrn(_X, (2, 3, 2, 2), 9, 0.5)),
]
