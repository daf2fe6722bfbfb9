"""Threshold, Hardshrink, Hardsigmoid, Hardswish and RReLU: at random inputs, at their kinks (where torch
picks a one-sided gradient), in place, and RReLU in training (scratch's slopes replayed in torch) and eval."""

from __future__ import annotations

import numpy as np

from scratch import nn

from .activation import at_kinks, spread_out
from .case import Case, Make, elementwise, fresh, inplace_case, module_case
from .data import normal


def _rrelu(module: nn.RReLU, training: bool, *shape: int) -> Make:
    """RReLU in training (slopes drawn from the case's rng) or eval mode, on a normal input with a few zeros."""
    def make(dtype: np.dtype, rng: np.random.Generator) -> tuple[nn.Module, list]:
        m = fresh(module)
        m.rng = np.random.default_rng(rng.integers(2**32))
        x = normal(rng, dtype, *shape, scale=3)
        x.reshape(-1)[::5] = 0
        return m.train(training), [x]
    return make


def _inplace(module: nn.Module) -> Make:
    return lambda d, r: (fresh(module), [normal(r, d, 8, 12, scale=4)])


CASES: list[Case] = [
    module_case("Threshold(threshold=0.1,value=20)", elementwise(nn.Threshold(0.1, 20.0))),
    module_case("Threshold(threshold=-1,value=-3)", elementwise(nn.Threshold(-1.0, -3.0))),
    module_case("Threshold(at kink)", at_kinks(nn.Threshold(0.5, 2.0), 0.5), tags=("kink",)),
    module_case("Hardshrink", elementwise(nn.Hardshrink())),
    module_case("Hardshrink(lambd=2)", elementwise(nn.Hardshrink(2.0))),
    module_case("Hardshrink(at kinks)", at_kinks(nn.Hardshrink(1.5), 1.5, -1.5, -0.0), tags=("kink",)),
    module_case("Hardsigmoid", elementwise(nn.Hardsigmoid(), scale=4)),
    module_case("Hardsigmoid(at kinks)", at_kinks(nn.Hardsigmoid(), -3.0, 3.0), tags=("kink",)),
    module_case("Hardsigmoid(spread to ±1e4)", spread_out(nn.Hardsigmoid())),
    module_case("Hardswish", elementwise(nn.Hardswish(), scale=4)),
    module_case("Hardswish(at kinks)", at_kinks(nn.Hardswish(), -3.0, 3.0, 0.0), tags=("kink",)),
    module_case("Hardswish(spread to ±1e4)", spread_out(nn.Hardswish())),
    module_case("RReLU(eval)", _rrelu(nn.RReLU(), False, 8, 12)),
    module_case("RReLU(lower=0.2,upper=0.5,training)", _rrelu(nn.RReLU(0.2, 0.5), True, 8, 12)),
    module_case("RReLU(training,3-D)", _rrelu(nn.RReLU(), True, 2, 3, 5)),
    module_case("RReLU(lower=upper=0.3,training)", _rrelu(nn.RReLU(0.3, 0.3), True, 8, 12)),
    module_case("RReLU(lower=-0.5,upper=2,eval)", _rrelu(nn.RReLU(-0.5, 2.0), False, 8, 12)),
    *[inplace_case(f"{type(m).__name__}(inplace)", _inplace(m)) for m in
      (nn.Threshold(0.1, 20.0, inplace=True), nn.Hardsigmoid(inplace=True), nn.Hardswish(inplace=True),
       nn.RReLU(inplace=True).eval())],
]
