"""Twins of the activation family beyond the foundation's: (scratch class, torch class, to_torch, from_torch)."""

from __future__ import annotations

import torch

from scratch import nn

from .types import TwinRow

T = torch.nn

PAIRS: list[TwinRow] = [
    (nn.LeakyReLU, T.LeakyReLU, lambda m: T.LeakyReLU(m.negative_slope, m.inplace),
     lambda t: nn.LeakyReLU(t.negative_slope, t.inplace)),
    (nn.ELU, T.ELU, lambda m: T.ELU(m.alpha, m.inplace), lambda t: nn.ELU(t.alpha, t.inplace)),
    (nn.SELU, T.SELU, lambda m: T.SELU(m.inplace), lambda t: nn.SELU(t.inplace)),
    (nn.CELU, T.CELU, lambda m: T.CELU(m.alpha, m.inplace), lambda t: nn.CELU(t.alpha, t.inplace)),
    (nn.GELU, T.GELU, lambda m: T.GELU(m.approximate), lambda t: nn.GELU(t.approximate)),
    (nn.SiLU, T.SiLU, lambda m: T.SiLU(m.inplace), lambda t: nn.SiLU(t.inplace)),
    (nn.Mish, T.Mish, lambda m: T.Mish(m.inplace), lambda t: nn.Mish(t.inplace)),
    (nn.Softplus, T.Softplus, lambda m: T.Softplus(m.beta, m.threshold), lambda t: nn.Softplus(t.beta, t.threshold)),
    (nn.Softsign, T.Softsign, lambda m: T.Softsign(), lambda t: nn.Softsign()),
    (nn.Hardtanh, T.Hardtanh, lambda m: T.Hardtanh(m.min_val, m.max_val, m.inplace),
     lambda t: nn.Hardtanh(t.min_val, t.max_val, t.inplace)),
    (nn.ReLU6, T.ReLU6, lambda m: T.ReLU6(m.inplace), lambda t: nn.ReLU6(t.inplace)),
    (nn.PReLU, T.PReLU, lambda m: T.PReLU(m.num_parameters, m.init), lambda t: nn.PReLU(t.num_parameters, t.init)),
]
