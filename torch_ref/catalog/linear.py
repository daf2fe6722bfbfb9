"""Linear, Identity and Bilinear: batched, unbatched and N-D inputs, with and without bias."""

from __future__ import annotations

import numpy as np

from scratch import nn

from .case import Case, Make, elementwise, module_case
from .data import normal


def _linear(in_features: int, out_features: int, *shape: int, bias: bool = True) -> Make:
    """``Linear(in_features, out_features, bias)`` on a normal input of ``shape``."""
    return lambda d, r: (nn.Linear(in_features, out_features, bias=bias, dtype=d, rng=r), [normal(r, d, *shape)])


def _bilinear(in1: int, in2: int, out: int, lead: tuple[int, ...], bias: bool = True) -> Make:
    """``Bilinear(in1, in2, out, bias)`` on two normal inputs with the leading dims ``lead``."""
    return lambda d, r: (nn.Bilinear(in1, in2, out, bias=bias, dtype=d, rng=r),
                         [normal(r, d, *lead, in1), normal(r, d, *lead, in2)])


def _lazy_linear(out_features: int, *shape: int, bias: bool = True) -> Make:
    """``LazyLinear(out_features, bias)``, materialized by its first call on a normal input of ``shape`` (from
    scratch's ``rng``; it becomes a ``Linear``)."""
    def make(dtype: np.dtype, rng: np.random.Generator) -> tuple[nn.Module, list]:
        module, inputs = nn.LazyLinear(out_features, bias=bias, dtype=dtype, rng=rng), [normal(rng, dtype, *shape)]
        module(*inputs)
        return module, inputs
    return make


CASES: list[Case] = [
    module_case("Identity", elementwise(nn.Identity())),
    module_case("Identity(ignores its arguments)", lambda d, r: (nn.Identity(3, key="ignored"), [normal(r, d, 4, 5)])),
    module_case("Linear", _linear(12, 7, 16, 12)),
    module_case("Linear(bias=False)", _linear(12, 7, 16, 12, bias=False)),
    module_case("Linear(3-D input)", _linear(12, 7, 4, 5, 12)),
    module_case("Linear(4-D input)", _linear(6, 4, 2, 3, 5, 6)),
    module_case("Linear(unbatched)", _linear(5, 3, 5)),
    module_case("Linear(one feature)", _linear(1, 1, 9, 1)),
    module_case("Linear(300,200)", _linear(300, 200, 64, 300)),
    module_case("LazyLinear", _lazy_linear(7, 16, 12)),
    module_case("LazyLinear(bias=False,3-D input)", _lazy_linear(4, 3, 5, 6, bias=False)),
    module_case("LazyLinear(unbatched)", _lazy_linear(3, 5)),
    module_case("NonDynamicallyQuantizableLinear", lambda d, r: (
        nn.NonDynamicallyQuantizableLinear(5, 4, dtype=d, rng=r), [normal(r, d, 6, 5)])),
    module_case("Bilinear", _bilinear(2, 3, 4, (8,))),
    module_case("Bilinear(bias=False)", _bilinear(2, 3, 4, (8,), bias=False)),
    module_case("Bilinear(unbatched)", _bilinear(2, 3, 4, ())),
    module_case("Bilinear(3-D inputs)", _bilinear(5, 3, 6, (2, 4))),
    module_case("Bilinear(one feature each)", _bilinear(1, 1, 1, (7,))),
    module_case("Bilinear(20,30,16)", _bilinear(20, 30, 16, (32,))),
]
