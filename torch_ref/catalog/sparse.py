"""Embedding: index inputs have no gradient, so each case compares the output and weight.grad; repeated
indices, padding_idx, scale_grad_by_freq and max_norm (which renormalizes rows in place, as torch)."""

from __future__ import annotations

from typing import Any

import numpy as np

from scratch import nn

from .case import Case, Make, module_case
from .data import classes


def _embedding(num: int, dim: int, *shape: int, index_dtype: Any = np.int64, **options: Any) -> Make:
    """``Embedding(num, dim, **options)`` on random indices of ``shape``."""
    return lambda d, r: (nn.Embedding(num, dim, dtype=d, rng=r, **options),
                         [classes(r, *shape, n=num).astype(index_dtype)])


def _pretrained(dtype: np.dtype, rng: np.random.Generator) -> tuple[nn.Module, list]:
    weight = rng.standard_normal((10, 4)).astype(dtype)
    return nn.Embedding.from_pretrained(weight, freeze=False, padding_idx=-3), [classes(rng, 8, 9, n=10)]


CASES: list[Case] = [
    module_case("Embedding", _embedding(10, 6, 4, 7)),
    module_case("Embedding(1-D indices)", _embedding(10, 6, 12)),
    module_case("Embedding(repeated indices)", _embedding(10, 6, 8, 9)),
    module_case("Embedding(0-D index)", lambda d, r: (nn.Embedding(10, 6, dtype=d, rng=r), [np.array(3)])),
    module_case("Embedding(3-D int32 indices)", _embedding(10, 3, 2, 3, 4, index_dtype=np.int32)),
    module_case("Embedding(padding_idx)", _embedding(10, 6, 8, 9, padding_idx=2)),
    module_case("Embedding(padding_idx=-1)", _embedding(10, 6, 8, 9, padding_idx=-1)),
    module_case("Embedding(scale_grad_by_freq)", _embedding(10, 6, 8, 9, scale_grad_by_freq=True)),
    module_case("Embedding(padding_idx,scale_grad_by_freq)",
                _embedding(10, 6, 4, 7, padding_idx=-2, scale_grad_by_freq=True)),
    module_case("Embedding(max_norm)", _embedding(10, 6, 4, 7, max_norm=1.5)),
    module_case("Embedding(max_norm,norm_type=1,padding_idx)",
                _embedding(10, 6, 8, 9, max_norm=2.0, norm_type=1.0, padding_idx=3)),
    module_case("Embedding(max_norm,norm_type=inf)", _embedding(10, 6, 8, 9, max_norm=1.0, norm_type=float("inf"))),
    module_case("Embedding(from_pretrained,freeze=False,padding_idx=-3)", _pretrained),
    module_case("Embedding(1000,32,scale_grad_by_freq)", _embedding(1000, 32, 64, 50, scale_grad_by_freq=True),
                ("large",)),
]
