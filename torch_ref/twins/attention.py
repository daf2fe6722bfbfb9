"""Twins of MultiheadAttention and NonDynamicallyQuantizableLinear (RMSNorm's is the generic one).

Dropout on the attention weights is random and the engines' generators differ, so, as for Dropout
(``twins/dropout.py``), the torch twin applies the *scratch module's last keep-mask*
(``module.dropout_mask``, shape (N, H, L, S')): ``MaskedMultiheadAttention`` is a subclass of
``torch.nn.MultiheadAttention`` whose training-mode forward with dropout > 0 runs torch's own
``multi_head_attention_forward`` with the two functions that draw the mask swapped, for that call
only, for versions taking it: ``F.dropout`` (the need_weights=True math path: ``weights * keep / (1 - p)``,
torch's dropout kernel with the mask in place of its Bernoulli draw) and ``F.scaled_dot_product_attention``
(the need_weights=False path: SDPA's math, with ``_safe_softmax`` as torch's CPU kernels, and the mask).
The scratch forward must run first, on the same inputs; the twin raises otherwise. In eval mode or
with dropout = 0 the twin is torch's module unchanged.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any
from unittest import mock

import numpy as np
import torch

from scratch import nn

from .registry import Twin

T = torch.nn
TF = torch.nn.functional


def _noise(keep: np.ndarray, p: float, like: torch.Tensor) -> torch.Tensor:
    """keep / (1 - p) in ``like``'s dtype and shape (zeros for p = 1), as torch's dropout kernel scales."""
    if keep.size != like.numel():
        raise RuntimeError(f"MultiheadAttention twin: the scratch module's last dropout mask has shape {keep.shape}, "
                           f"the weights here {tuple(like.shape)}: run the scratch forward on the same inputs first")
    mask = torch.from_numpy(keep).reshape(like.shape).to(like.dtype)
    return torch.zeros_like(like) if p == 1 else mask.div_(1 - p)


def _masked_functions(keep: np.ndarray) -> tuple[Callable, Callable]:
    """``F.dropout`` and ``F.scaled_dot_product_attention`` replacements that apply ``keep``."""

    def dropout(input: torch.Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> torch.Tensor:
        return input * _noise(keep, p, input) if training and p > 0 else input

    def sdpa(query: torch.Tensor, key: torch.Tensor, value: torch.Tensor, attn_mask: torch.Tensor | None = None,
             dropout_p: float = 0.0, is_causal: bool = False, scale: float | None = None,
             enable_gqa: bool = False) -> torch.Tensor:
        length, source = query.size(-2), key.size(-2)
        scale = 1 / math.sqrt(query.size(-1)) if scale is None else scale
        bias = torch.zeros(length, source, dtype=query.dtype)
        if is_causal:
            bias.masked_fill_(torch.ones(length, source, dtype=torch.bool).tril().logical_not(), float("-inf"))
        elif attn_mask is not None and attn_mask.dtype == torch.bool:
            bias = bias.masked_fill(attn_mask.logical_not(), float("-inf"))
        elif attn_mask is not None:
            bias = attn_mask + bias
        weights = torch.ops.aten._safe_softmax(query @ key.transpose(-2, -1) * scale + bias, -1)
        if dropout_p > 0:
            weights = weights * _noise(keep, dropout_p, weights)
        return weights @ value

    return dropout, sdpa


class MaskedMultiheadAttention(T.MultiheadAttention):
    """``torch.nn.MultiheadAttention`` that applies the dropout mask of a scratch one (module docstring)."""

    def __init__(self, *args: Any, mask: Callable[[], np.ndarray | None], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._mask = mask

    def _get_name(self) -> str:  # repr as torch's
        return "MultiheadAttention"

    def forward(self, *args: Any, **kwargs: Any) -> tuple[torch.Tensor, torch.Tensor | None]:
        if not self.training or self.dropout == 0:
            return super().forward(*args, **kwargs)
        keep = self._mask()
        if keep is None:
            raise RuntimeError("MultiheadAttention twin: run the scratch module's forward (in training mode) on the "
                               "same inputs first: it has no dropout mask yet")
        dropout, sdpa = _masked_functions(keep)
        with mock.patch.object(TF, "dropout", dropout), mock.patch.object(TF, "scaled_dot_product_attention", sdpa):
            return super().forward(*args, **kwargs)


def _mha_options(m: nn.MultiheadAttention | T.MultiheadAttention) -> dict:
    """The constructor options of either engine's MultiheadAttention, read off its parameters and attributes
    (neither keeps ``bias`` or ``add_bias_kv`` as such, so the generic twin cannot build it)."""
    return {"dropout": m.dropout, "bias": m.in_proj_bias is not None, "add_bias_kv": m.bias_k is not None,
            "add_zero_attn": m.add_zero_attn, "kdim": m.kdim, "vdim": m.vdim, "batch_first": m.batch_first}


def mha_to_torch(m: nn.MultiheadAttention) -> MaskedMultiheadAttention:
    return MaskedMultiheadAttention(m.embed_dim, m.num_heads, **_mha_options(m),
                                    dtype=torch.from_numpy(m.out_proj.weight.data[:0]).dtype,
                                    mask=lambda: m.dropout_mask)


def mha_from_torch(t: T.MultiheadAttention) -> nn.MultiheadAttention:
    return nn.MultiheadAttention(t.embed_dim, t.num_heads, **_mha_options(t),
                                 dtype=t.out_proj.weight.detach().numpy().dtype)


# torch keeps NonDynamicallyQuantizableLinear in torch.nn.modules.linear only, not in torch.nn: the generic
# rule, which looks for torch.nn's class of the same name, would build a plain Linear
TorchNDQLinear = T.modules.linear.NonDynamicallyQuantizableLinear

TWINS = [
    Twin(nn.MultiheadAttention, T.MultiheadAttention, mha_to_torch, mha_from_torch),
    Twin(nn.NonDynamicallyQuantizableLinear, TorchNDQLinear,
         lambda m: TorchNDQLinear(m.in_features, m.out_features, bias=m.bias is not None),
         lambda t: nn.NonDynamicallyQuantizableLinear(t.in_features, t.out_features, bias=t.bias is not None)),
]
