"""Twins of Embedding and EmbeddingBag: their constructors take ``_weight`` (and Embedding's ``_freeze``), which
they keep as no attribute, so the generic twin cannot build them. ``to_torch`` copies the weight afterwards,
``from_torch`` passes torch's weight as ``_weight`` (so building the twin draws nothing from scratch's generator)."""

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


def _bag_options(m: nn.EmbeddingBag | T.EmbeddingBag) -> dict:
    return {"max_norm": m.max_norm, "norm_type": m.norm_type, "scale_grad_by_freq": m.scale_grad_by_freq,
            "mode": m.mode, "sparse": m.sparse, "include_last_offset": m.include_last_offset,
            "padding_idx": m.padding_idx}


def _bag_to_torch(m: nn.EmbeddingBag) -> T.EmbeddingBag:
    dtype = torch.from_numpy(m.weight.data[:0]).dtype
    twin = T.EmbeddingBag(m.num_embeddings, m.embedding_dim, **_bag_options(m), dtype=dtype)
    twin.weight.requires_grad = m.weight.requires_grad
    return twin


def _bag_from_torch(t: T.EmbeddingBag) -> nn.EmbeddingBag:
    bag = nn.EmbeddingBag(t.num_embeddings, t.embedding_dim, **_bag_options(t), _weight=t.weight.detach().numpy())
    bag.weight.requires_grad = t.weight.requires_grad
    return bag


TWINS = [Twin(nn.Embedding, T.Embedding, _to_torch, _from_torch),
         Twin(nn.EmbeddingBag, T.EmbeddingBag, _bag_to_torch, _bag_from_torch)]
