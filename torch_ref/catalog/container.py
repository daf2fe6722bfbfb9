"""Sequential: a model's gradients flow through each child's own backward."""

from __future__ import annotations

import numpy as np

from scratch import nn

from .case import Case, module_case
from .data import normal


def _mlp(dtype: np.dtype, rng: np.random.Generator) -> tuple[nn.Module, list]:
    model = nn.Sequential(nn.Linear(10, 16, dtype=dtype, rng=rng), nn.Tanh(), nn.Linear(16, 16, dtype=dtype, rng=rng),
                          nn.ReLU(), nn.Linear(16, 3, dtype=dtype, rng=rng), nn.LogSoftmax(dim=1))
    return model, [normal(rng, dtype, 8, 10)]


def _smooth_mlp(dtype: np.dtype, rng: np.random.Generator) -> tuple[nn.Module, list]:
    model = nn.Sequential(nn.Linear(6, 5, dtype=dtype, rng=rng), nn.GELU(), nn.Linear(5, 4, dtype=dtype, rng=rng),
                          nn.PReLU(4, dtype=dtype), nn.Linear(4, 3, dtype=dtype, rng=rng), nn.Mish())
    return model, [normal(rng, dtype, 7, 6)]


def _nested(dtype: np.dtype, rng: np.random.Generator) -> tuple[nn.Module, list]:
    inner = nn.Sequential(nn.Linear(6, 5, dtype=dtype, rng=rng), nn.Sigmoid())
    return nn.Sequential(inner, nn.Flatten(), nn.Linear(5, 2, dtype=dtype, rng=rng)), [normal(rng, dtype, 3, 6)]


CASES: list[Case] = [
    module_case("Sequential(MLP)", _mlp),
    module_case("Sequential(Linear,GELU,PReLU,Mish)", _smooth_mlp),
    module_case("Sequential(nested)", _nested),
]
