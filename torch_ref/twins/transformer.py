"""Twins of the Transformer family: TransformerEncoderLayer, TransformerDecoderLayer, TransformerEncoder,
TransformerDecoder and Transformer.

A twin is torch's class built with the scratch module's options (the activation as the same name, so
torch keeps F.relu / F.gelu, or as the twin of the scratch activation module), whose children are
then replaced by the twins of the scratch module's children: its MultiheadAttention and Dropout
children are the masked twins (``twins/attention.py``, ``twins/dropout.py``), so in training the two
engines drop the same weights and activations. The reverse builds scratch's class from torch's
options and children the same way (a torch activation F.relu / F.gelu becomes "relu" / "gelu").
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import torch

from scratch import nn

from .registry import Twin, build_scratch, build_torch

T = torch.nn
TF = torch.nn.functional


def _layer_options(m: Any) -> dict:
    """The constructor options of either engine's layer (either Module: Any), read off its children."""
    return {"d_model": m.self_attn.embed_dim, "nhead": m.self_attn.num_heads,
            "dim_feedforward": m.linear1.out_features, "dropout": m.dropout.p, "layer_norm_eps": m.norm1.eps,
            "batch_first": m.self_attn.batch_first, "norm_first": m.norm_first, "bias": m.linear1.bias is not None}


def _torch_activation(m: nn.Module) -> str | torch.nn.Module:
    if "activation" in m._modules:
        return build_torch(m.activation, "activation")
    return m._activation_name


def _scratch_activation(t: torch.nn.Module) -> str | nn.Module:
    if t.activation is TF.relu or t.activation is TF.gelu:
        return "relu" if t.activation is TF.relu else "gelu"
    if isinstance(t.activation, torch.nn.Module):
        return build_scratch(t.activation, "activation")
    raise TypeError(f"from_torch: {type(t).__name__}'s activation {t.activation!r} is neither F.relu, F.gelu nor a "
                    "module; scratch needs a module with a backward")


def _layer_to_torch(torch_cls: type) -> Callable[[nn.Module], torch.nn.Module]:
    def factory(m: nn.Module) -> torch.nn.Module:
        twin = torch_cls(**_layer_options(m), activation=_torch_activation(m))
        for name, child in m.named_children():
            setattr(twin, name, build_torch(child, name))
        return twin
    return factory


def _layer_from_torch(scratch_cls: type) -> Callable[[torch.nn.Module], nn.Module]:
    def factory(t: Any) -> nn.Module:  # a torch layer, its children read by name
        dtype = t.linear1.weight.detach().numpy().dtype
        layer = scratch_cls(**_layer_options(t), activation=_scratch_activation(t), dtype=dtype)
        for name, child in t.named_children():
            setattr(layer, name, build_scratch(child, name))
        return layer
    return factory


def _norm(norm: Any, build: Callable[[Any, str], Any]) -> Any:
    return None if norm is None else build(norm, "norm")


def _stack_to_torch(m: nn.Module, torch_cls: type, **options: object) -> torch.nn.Module:
    layers = [build_torch(layer, f"layers.{i}") for i, layer in enumerate(m.layers)]
    with warnings.catch_warnings():  # torch's nested-tensor notice; the scratch module gave it already
        warnings.simplefilter("ignore")
        twin = torch_cls(layers[0], m.num_layers, _norm(m.norm, build_torch), **options)
    twin.layers = T.ModuleList(layers)
    return twin


def _stack_from_torch(t: Any, scratch_cls: type, **options: object) -> nn.Module:  # t: a torch stack
    layers = [build_scratch(layer, f"layers.{i}") for i, layer in enumerate(t.layers)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        stack = scratch_cls(layers[0], t.num_layers, _norm(t.norm, build_scratch), **options)
    stack.layers = nn.ModuleList(layers)
    return stack


def _transformer_to_torch(m: nn.Transformer) -> T.Transformer:
    return T.Transformer(m.d_model, m.nhead, custom_encoder=build_torch(m.encoder, "encoder"),
                         custom_decoder=build_torch(m.decoder, "decoder"), batch_first=m.batch_first)


def _transformer_from_torch(t: T.Transformer) -> nn.Transformer:
    return nn.Transformer(t.d_model, t.nhead, custom_encoder=build_scratch(t.encoder, "encoder"),
                          custom_decoder=build_scratch(t.decoder, "decoder"), batch_first=t.batch_first)


TWINS = [
    Twin(nn.TransformerEncoderLayer, T.TransformerEncoderLayer, _layer_to_torch(T.TransformerEncoderLayer),
         _layer_from_torch(nn.TransformerEncoderLayer)),
    Twin(nn.TransformerDecoderLayer, T.TransformerDecoderLayer, _layer_to_torch(T.TransformerDecoderLayer),
         _layer_from_torch(nn.TransformerDecoderLayer)),
    Twin(nn.TransformerEncoder, T.TransformerEncoder,
         lambda m: _stack_to_torch(m, T.TransformerEncoder, enable_nested_tensor=m.enable_nested_tensor,
                                   mask_check=m.mask_check),
         lambda t: _stack_from_torch(t, nn.TransformerEncoder, enable_nested_tensor=t.enable_nested_tensor,
                                     mask_check=t.mask_check)),
    Twin(nn.TransformerDecoder, T.TransformerDecoder, lambda m: _stack_to_torch(m, T.TransformerDecoder),
         lambda t: _stack_from_torch(t, nn.TransformerDecoder)),
    Twin(nn.Transformer, T.Transformer, _transformer_to_torch, _transformer_from_torch),
]
