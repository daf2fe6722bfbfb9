"""Twins of Embedding: its constructor takes ``_weight`` and ``_freeze``, which it keeps as no attribute, so the
generic twin cannot build it. ``to_torch`` copies the weight afterwards, ``from_torch`` passes torch's weight as
``_weight`` (so building the twin draws nothing from scratch's generator)."""

from __future__ import annotations

import torch

from scratch import nn

from .registry import Twin

T = torch.nn


def _to_torch(m: nn.Embedding) -> T.Embedding:
    return T.Embedding(m.num_embeddings, m.embedding_dim, padding_idx=m.padding_idx, max_norm=m.max_norm,
                       norm_type=m.norm_type, scale_grad_by_freq=m.scale_grad_by_freq, sparse=m.sparse,
                       _freeze=not m.weight.requires_grad)


def _from_torch(t: T.Embedding) -> nn.Embedding:
    return nn.Embedding(t.num_embeddings, t.embedding_dim, padding_idx=t.padding_idx, max_norm=t.max_norm,
                        norm_type=t.norm_type, scale_grad_by_freq=t.scale_grad_by_freq, sparse=t.sparse,
                        _weight=t.weight.detach().numpy(), _freeze=not t.weight.requires_grad)


TWINS = [Twin(nn.Embedding, T.Embedding, _to_torch, _from_torch)]
