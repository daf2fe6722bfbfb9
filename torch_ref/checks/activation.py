"""The activations beyond the foundation's: LeakyReLU, ELU, SELU, CELU, GELU, SiLU, Mish, Softplus,
Softsign, Hardtanh, ReLU6 and PReLU; each at random inputs, at its kinks, at extremes, and in place."""

from __future__ import annotations

import numpy as np
import torch

from scratch import nn

from ..arrays import random_like
from ..convert import to_torch
from ..report import ParityResult
from ..tolerance import MIN_GRAD_NORM, reduction_length, rtol
from .kit import Check, Make, activation, module_check, normal


def at_kinks(module: nn.Module, *kinks: float) -> Make:
    """``make`` for a normal (8, 12) input times 3 with every third element set to one of ``kinks``."""
    def make(dtype: np.dtype, rng: np.random.Generator) -> tuple[nn.Module, list]:
        x = normal(rng, dtype, 8, 12, scale=3)
        every_third = x.reshape(-1)[::3]
        every_third[...] = np.resize(np.asarray(kinks, dtype=dtype), every_third.size)
        return module, [x]
    return make


def spread(module: nn.Module, top: float = 4.0) -> Make:
    """``make`` for an (8, 12) input of both signs with magnitudes from 1e-2 up to 10^top (log-uniform)."""
    def make(dtype: np.dtype, rng: np.random.Generator) -> tuple[nn.Module, list]:
        magnitude = 10.0 ** rng.uniform(-2, top, (8, 12))
        return module, [(rng.choice([-1.0, 1.0], (8, 12)) * magnitude).astype(dtype)]
    return make


def inplace_parity(module: nn.Module, x: np.ndarray, rng: np.random.Generator) -> ParityResult:
    """``module_parity`` for an ``inplace=True`` module: torch's twin runs on a non-leaf copy of the input
    (torch refuses in-place ops on a leaf that requires grad), and scratch's input array must end up
    holding the output, as torch's tensor does ("input" compares the two inputs after the forward)."""
    tol = rtol(x.dtype, reduction_length(x))
    leaf = torch.tensor(x, requires_grad=True)
    torch_input = leaf.clone()
    torch_out = to_torch(module)(torch_input)
    out = module(x)
    grad_output = random_like(out, rng)
    grad_input = module.backward(grad_output)
    torch_out.backward(torch.from_numpy(grad_output))
    result = ParityResult()
    result.add("output", out, torch_out, tol)
    result.add("input", x, torch_input.detach(), tol)
    result.add("grad_input", grad_input, leaf.grad, tol, MIN_GRAD_NORM)
    return result


def inplace_check(name: str, module: nn.Module) -> Check:
    return Check(name, lambda dtype, rng: inplace_parity(module, normal(rng, dtype, 8, 12, scale=3), rng))


def _prelu(num_parameters: int, *shape: int) -> Make:
    """PReLU with random slopes of both signs on a normal input of ``shape``."""
    def make(dtype: np.dtype, rng: np.random.Generator) -> tuple[nn.Module, list]:
        module = nn.PReLU(num_parameters, dtype=dtype)
        module.weight.data[...] = rng.uniform(-0.5, 0.5, num_parameters)
        return module, [normal(rng, dtype, *shape, scale=3)]
    return make


CHECKS: list[Check] = [
    module_check("LeakyReLU", activation(nn.LeakyReLU())),
    module_check("LeakyReLU(negative_slope=0.2)", activation(nn.LeakyReLU(0.2))),
    module_check("LeakyReLU(at kink 0)", at_kinks(nn.LeakyReLU(0.2), 0.0, -0.0)),
    module_check("ELU", activation(nn.ELU())),
    module_check("ELU(alpha=0.7)", activation(nn.ELU(alpha=0.7))),
    module_check("ELU(at kink 0)", at_kinks(nn.ELU(alpha=0.7), 0.0, -0.0)),
    module_check("ELU(spread to ±1e4)", spread(nn.ELU())),
    module_check("SELU", activation(nn.SELU())),
    module_check("SELU(at kink 0)", at_kinks(nn.SELU(), 0.0)),
    module_check("SELU(spread to ±1e4)", spread(nn.SELU())),
    module_check("CELU", activation(nn.CELU())),
    module_check("CELU(alpha=0.3)", activation(nn.CELU(alpha=0.3))),
    module_check("CELU(at kink 0)", at_kinks(nn.CELU(alpha=0.3), 0.0)),
    module_check("CELU(spread to ±1e4)", spread(nn.CELU(alpha=1.7))),
    module_check("GELU", activation(nn.GELU())),
    module_check("GELU(approximate=tanh)", activation(nn.GELU(approximate="tanh"))),
    module_check("GELU(spread to ±1e4)", spread(nn.GELU())),
    module_check("GELU(approximate=tanh,spread to ±1e4)", spread(nn.GELU(approximate="tanh"))),
    module_check("SiLU", activation(nn.SiLU())),
    module_check("SiLU(spread to ±1e4)", spread(nn.SiLU())),
    module_check("Mish", activation(nn.Mish())),
    module_check("Mish(spread to ±1e4)", spread(nn.Mish())),
    module_check("Softplus", activation(nn.Softplus())),
    module_check("Softplus(beta=2,threshold=5)", activation(nn.Softplus(beta=2.0, threshold=5.0))),
    module_check("Softplus(past threshold)", activation(nn.Softplus(beta=0.5, threshold=1.0), scale=10)),
    module_check("Softplus(spread to ±1e4)", spread(nn.Softplus())),
    module_check("Softsign", activation(nn.Softsign())),
    module_check("Softsign(spread to ±1e4)", spread(nn.Softsign())),
    module_check("Hardtanh", activation(nn.Hardtanh(), scale=1.5)),
    module_check("Hardtanh(min_val=-0.3,max_val=2)", activation(nn.Hardtanh(-0.3, 2.0))),
    module_check("Hardtanh(at kinks)", at_kinks(nn.Hardtanh(-0.3, 2.0), -0.3, 2.0)),
    module_check("ReLU6", activation(nn.ReLU6(), scale=5)),
    module_check("ReLU6(at kinks)", at_kinks(nn.ReLU6(), 0.0, 6.0)),
    module_check("PReLU", _prelu(1, 8, 12)),
    module_check("PReLU(num_parameters=3,(N,C,H))", _prelu(3, 8, 3, 5)),
    module_check("PReLU((N,C,H),one slope)", _prelu(1, 8, 3, 5)),
    module_check("PReLU(1-D input)", _prelu(1, 12)),
    inplace_check("LeakyReLU(inplace)", nn.LeakyReLU(0.2, inplace=True)),
    inplace_check("ELU(inplace)", nn.ELU(alpha=0.7, inplace=True)),
    inplace_check("SELU(inplace)", nn.SELU(inplace=True)),
    inplace_check("CELU(inplace)", nn.CELU(alpha=0.3, inplace=True)),
    inplace_check("SiLU(inplace)", nn.SiLU(inplace=True)),
    inplace_check("Mish(inplace)", nn.Mish(inplace=True)),
    inplace_check("Hardtanh(inplace)", nn.Hardtanh(-0.3, 2.0, inplace=True)),
    inplace_check("ReLU6(inplace)", nn.ReLU6(inplace=True)),
]
