"""Embedding and EmbeddingBag: index inputs have no gradient, so each case compares the output and weight.grad
(and EmbeddingBag's per_sample_weights gradient); repeated indices, padding_idx, scale_grad_by_freq and max_norm
(which renormalizes rows in place, as torch); EmbeddingBag's modes, offsets with empty bags, include_last_offset
and 2-D inputs."""

from __future__ import annotations

from typing import Any

import numpy as np

from scratch import nn

from .case import Case, Make, module_case
from .data import classes, normal


def _embedding(num: int, dim: int, *shape: int, index_dtype: Any = np.int64, **options: Any) -> Make:
    """``Embedding(num, dim, **options)`` on random indices of ``shape``."""
    return lambda d, r: (nn.Embedding(num, dim, dtype=d, rng=r, **options),
                         [classes(r, *shape, n=num).astype(index_dtype)])


def _pretrained(dtype: np.dtype, rng: np.random.Generator) -> tuple[nn.Module, list]:
    weight = rng.standard_normal((10, 4)).astype(dtype)
    return nn.Embedding.from_pretrained(weight, freeze=False, padding_idx=-3), [classes(rng, 8, 9, n=10)]


def _bag(num: int, dim: int, *shape: int, offsets: list | None = None, weighted: bool = False,
         **options: Any) -> Make:
    """``EmbeddingBag(num, dim, **options)`` on random indices of ``shape`` (and ``offsets``, per-sample weights)."""
    def make(dtype: np.dtype, rng: np.random.Generator) -> tuple[nn.Module, list]:
        module = nn.EmbeddingBag(num, dim, dtype=dtype, rng=rng, **options)
        inputs: list = [classes(rng, *shape, n=num)]
        if offsets is not None:
            inputs.append(np.array(offsets, dtype=np.int64))
        if weighted:
            inputs.append(normal(rng, dtype, *shape))
        return module, inputs
    return make


BAG_OFFSETS = [0, 3, 3, 7, 12]  # four bags over 20 indices, the second empty

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
    module_case("EmbeddingBag", _bag(10, 6, 20, offsets=BAG_OFFSETS)),
    module_case("EmbeddingBag(sum)", _bag(10, 6, 20, offsets=BAG_OFFSETS, mode="sum")),
    module_case("EmbeddingBag(max)", _bag(10, 6, 20, offsets=BAG_OFFSETS, mode="max")),
    module_case("EmbeddingBag(max,ties)", _bag(3, 4, 30, offsets=[0, 10, 25], mode="max")),
    module_case("EmbeddingBag(2-D input)", _bag(10, 5, 4, 6)),
    module_case("EmbeddingBag(2-D input,max)", _bag(10, 5, 4, 6, mode="max")),
    module_case("EmbeddingBag(sum,per_sample_weights)", _bag(10, 6, 20, offsets=BAG_OFFSETS, weighted=True,
                                                             mode="sum")),
    module_case("EmbeddingBag(sum,per_sample_weights,padding_idx)",
                _bag(5, 3, 20, offsets=BAG_OFFSETS, weighted=True, mode="sum", padding_idx=1)),
    module_case("EmbeddingBag(include_last_offset)", _bag(10, 6, 20, offsets=[*BAG_OFFSETS, 20],
                                                          include_last_offset=True)),
    module_case("EmbeddingBag(mean,padding_idx)", _bag(5, 4, 20, offsets=BAG_OFFSETS, padding_idx=2)),
    module_case("EmbeddingBag(max,padding_idx=-1,include_last_offset)",
                _bag(5, 4, 20, offsets=[0, 1, 20], mode="max", padding_idx=-1, include_last_offset=True)),
    module_case("EmbeddingBag(sum,scale_grad_by_freq,padding_idx)",
                _bag(8, 4, 5, 6, mode="sum", scale_grad_by_freq=True, padding_idx=3)),
    module_case("EmbeddingBag(mean,scale_grad_by_freq)", _bag(12, 4, 30, offsets=BAG_OFFSETS, scale_grad_by_freq=True)),
    module_case("EmbeddingBag(max_norm)", _bag(10, 6, 20, offsets=BAG_OFFSETS, max_norm=1.5)),
    module_case("EmbeddingBag(max,max_norm,norm_type=1)", _bag(10, 6, 4, 5, mode="max", max_norm=2.0, norm_type=1.0)),
]
