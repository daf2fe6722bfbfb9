"""The activations: each at random inputs, at its kinks (where torch picks a one-sided gradient), over a
spread of magnitudes (saturation, overflow), and, where it has the option, in place."""

from __future__ import annotations

import numpy as np

from scratch import nn

from .case import Case, Make, elementwise, fresh, inplace_case, module_case
from .data import normal, spread, with_kinks


def at_kinks(module: nn.Module, *kinks: float) -> Make:
    """An (8, 12) normal input times 3 with every third element set to one of ``kinks``."""
    return lambda d, r: (fresh(module), [with_kinks(r, d, 8, 12, kinks=kinks)])


def spread_out(module: nn.Module, top: float = 4.0) -> Make:
    """An (8, 12) input of both signs with magnitudes from 1e-2 up to 10^top."""
    return lambda d, r: (fresh(module), [spread(r, d, 8, 12, top=top)])


def _prelu(num_parameters: int, *shape: int, kinks: bool = False) -> Make:
    """PReLU with random slopes of both signs on a normal input of ``shape``."""
    def make(dtype: np.dtype, rng: np.random.Generator) -> tuple[nn.Module, list]:
        module = nn.PReLU(num_parameters, dtype=dtype)
        module.weight.data[...] = rng.uniform(-0.5, 0.5, num_parameters)
        x = with_kinks(rng, dtype, *shape, kinks=(0.0,)) if kinks else normal(rng, dtype, *shape, scale=3)
        return module, [x]
    return make


def _elu_large_negative(dtype: np.dtype, rng: np.random.Generator) -> tuple[nn.Module, list]:
    """ELU far into its saturated tail: -x^2 for x spread up to 1e3, then two ordinary rows."""
    return nn.ELU(), [np.concatenate([-spread(rng, dtype, 8, 12, top=3) ** 2, normal(rng, dtype, 2, 12)])]


def _softsign_large(dtype: np.dtype, rng: np.random.Generator) -> tuple[nn.Module, list]:
    """Only |x| > 1e3: the gradient's two terms (torch's autograd through x / (|x| + 1)) nearly cancel."""
    x = np.sign(spread(rng, dtype, 8, 12)) * (1e3 + np.abs(spread(rng, dtype, 8, 12)))
    return nn.Softsign(), [x.astype(dtype)]


def _with_zeros(dtype: np.dtype, rng: np.random.Generator) -> tuple[nn.Module, list]:
    """A quarter of the input exactly 0: the ReLU kink, where torch's gradient is 0."""
    x = normal(rng, dtype, 8, 10)
    x.reshape(-1)[::4] = 0
    return nn.ReLU(), [x]


def _basic() -> list[Case]:
    return [
        module_case("ReLU", elementwise(nn.ReLU())),
        module_case("ReLU(at kink 0)", _with_zeros),
        module_case("Sigmoid", elementwise(nn.Sigmoid())),
        # partly saturated: an all-saturated input has gradients that are pure round-off noise
        module_case("Sigmoid(saturated)", elementwise(nn.Sigmoid(), scale=15)),
        module_case("Tanh", elementwise(nn.Tanh())),
        module_case("Tanh(saturated)", elementwise(nn.Tanh(), scale=8)),
    ]


def _rectifiers() -> list[Case]:
    return [
        module_case("LeakyReLU", elementwise(nn.LeakyReLU())),
        module_case("LeakyReLU(negative_slope=0.2)", elementwise(nn.LeakyReLU(0.2))),
        module_case("LeakyReLU(negative_slope=-0.3)", elementwise(nn.LeakyReLU(-0.3))),
        module_case("LeakyReLU(at kink 0)", at_kinks(nn.LeakyReLU(0.2), 0.0, -0.0)),
        module_case("Hardtanh", elementwise(nn.Hardtanh(), scale=1.5)),
        module_case("Hardtanh(min_val=-0.3,max_val=2)", elementwise(nn.Hardtanh(-0.3, 2.0))),
        module_case("Hardtanh(at kinks)", at_kinks(nn.Hardtanh(-0.3, 2.0), -0.3, 2.0)),
        module_case("ReLU6", elementwise(nn.ReLU6(), scale=5)),
        module_case("ReLU6(at kinks)", at_kinks(nn.ReLU6(), 0.0, 6.0)),
        module_case("PReLU", _prelu(1, 8, 12)),
        module_case("PReLU(num_parameters=3,(N,C,H))", _prelu(3, 8, 3, 5)),
        module_case("PReLU(num_parameters=4,(N,C,H,W))", _prelu(4, 2, 4, 3, 3)),
        module_case("PReLU(num_parameters=5,(N,C))", _prelu(5, 6, 5)),
        module_case("PReLU((N,C,H),one slope)", _prelu(1, 8, 3, 5)),
        module_case("PReLU(1-D input)", _prelu(1, 12)),
        module_case("PReLU(0-D input)", _prelu(1)),
        module_case("PReLU(at kink 0)", _prelu(5, 8, 5, 2, kinks=True)),
    ]


def _smooth() -> list[Case]:
    return [
        module_case("ELU", elementwise(nn.ELU())),
        module_case("ELU(alpha=0.7)", elementwise(nn.ELU(alpha=0.7))),
        module_case("ELU(at kink 0)", at_kinks(nn.ELU(alpha=0.7), 0.0, -0.0)),
        module_case("ELU(spread to ±1e4)", spread_out(nn.ELU())),
        module_case("ELU(large negative)", _elu_large_negative),
        module_case("SELU", elementwise(nn.SELU())),
        module_case("SELU(at kink 0)", at_kinks(nn.SELU(), 0.0)),
        module_case("SELU(spread to ±1e4)", spread_out(nn.SELU())),
        module_case("CELU", elementwise(nn.CELU())),
        module_case("CELU(alpha=0.3)", elementwise(nn.CELU(alpha=0.3))),
        module_case("CELU(at kink 0)", at_kinks(nn.CELU(alpha=0.3), 0.0)),
        module_case("CELU(alpha=1.7,at kink 0)", at_kinks(nn.CELU(alpha=1.7), 0.0)),
        module_case("CELU(spread to ±1e4)", spread_out(nn.CELU(alpha=1.7))),
        module_case("CELU(alpha=0.3,spread to ±1e4)", spread_out(nn.CELU(alpha=0.3))),
        module_case("GELU", elementwise(nn.GELU())),
        module_case("GELU(approximate=tanh)", elementwise(nn.GELU(approximate="tanh"))),
        module_case("GELU(spread to ±1e4)", spread_out(nn.GELU())),
        module_case("GELU(approximate=tanh,spread to ±1e4)", spread_out(nn.GELU(approximate="tanh"))),
        module_case("SiLU", elementwise(nn.SiLU())),
        module_case("SiLU(spread to ±1e4)", spread_out(nn.SiLU())),
        module_case("Mish", elementwise(nn.Mish())),
        module_case("Mish(spread to ±1e4)", spread_out(nn.Mish())),
        module_case("Softplus", elementwise(nn.Softplus())),
        module_case("Softplus(beta=2,threshold=5)", elementwise(nn.Softplus(beta=2.0, threshold=5.0))),
        module_case("Softplus(past threshold)", elementwise(nn.Softplus(beta=0.5, threshold=1.0), scale=10)),
        module_case("Softplus(beta=-1)", elementwise(nn.Softplus(beta=-1.0))),
        module_case("Softplus(spread to ±1e4)", spread_out(nn.Softplus())),
        module_case("Softsign", elementwise(nn.Softsign())),
        module_case("Softsign(spread to ±1e4)", spread_out(nn.Softsign())),
        module_case("Softsign(|x| above 1e3)", _softsign_large),
        module_case("Softshrink", elementwise(nn.Softshrink())),
        module_case("Softshrink(lambd=1.5,at kinks)", at_kinks(nn.Softshrink(1.5), 1.5, -1.5)),
    ]


def _inplace(module: nn.Module) -> Make:
    return lambda d, r: (fresh(module), [normal(r, d, 8, 12, scale=3)])


def _in_place() -> list[Case]:
    modules = [nn.LeakyReLU(0.2, inplace=True), nn.ELU(alpha=0.7, inplace=True), nn.SELU(inplace=True),
               nn.CELU(alpha=0.3, inplace=True), nn.SiLU(inplace=True), nn.Mish(inplace=True),
               nn.Hardtanh(-0.3, 2.0, inplace=True), nn.ReLU6(inplace=True), nn.ReLU(inplace=True)]
    return [inplace_case(f"{type(m).__name__}(inplace)", _inplace(m)) for m in modules]


CASES: list[Case] = [*_basic(), *_rectifiers(), *_smooth(), *_in_place()]
