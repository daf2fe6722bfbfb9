r"""Transformer, TransformerEncoder, TransformerDecoder; the layers are in ``transformer_layers``
(re-exported here, as torch's ``torch.nn.modules.transformer`` holds all five)."""

from __future__ import annotations

import copy
import warnings
from typing import Any, cast

import numpy as np

from .. import init
from ._checks import check_device, check_size
from .container import ModuleList
from .module import Module, resolve_dtype
from .normalization import LayerNorm
from .transformer_layers import TransformerDecoderLayer, TransformerEncoderLayer, canonical_mask

__all__ = ["Transformer", "TransformerDecoder", "TransformerDecoderLayer", "TransformerEncoder",
           "TransformerEncoderLayer"]


def generate_square_subsequent_mask(sz: int, dtype: Any = None) -> np.ndarray:
    """The causal mask (sz, sz): -inf above the diagonal, 0 on and below it, float32 by default (torch's)."""
    return np.triu(np.full((sz, sz), -np.inf, dtype=resolve_dtype(dtype)), k=1)


def _get_clones(module: Module, n: int) -> ModuleList:
    """n deep copies of ``module``, as torch (so every layer starts from the same weights). A generator
    (``rng=``) is shared, not copied: copies would draw the very same dropout masks in every layer."""
    generators = {id(value): value for sub in module.modules() for value in vars(sub).values()
                  if isinstance(value, np.random.Generator)}
    return ModuleList([copy.deepcopy(module, memo=dict(generators)) for _ in range(n)])


def _get_seq_len(src: np.ndarray, batch_first: bool) -> int:
    return cast("int", src.shape[0] if src.ndim == 2 else src.shape[1 if batch_first else 0])


def _detect_is_causal_mask(mask: np.ndarray | None, is_causal: bool | None, size: int | None) -> bool:
    """torch's: ``is_causal`` when given, else whether ``mask`` equals the causal mask of its dtype (boolean
    True above the diagonal, or float -inf there)."""
    if is_causal is not None or mask is None:
        return is_causal is True
    sz = size if size is not None else mask.shape[-2]
    causal = np.triu(np.ones((sz, sz), dtype=bool), k=1)
    if mask.dtype != bool:
        causal = np.where(causal, -np.inf, 0.0).astype(mask.dtype)
    return mask.shape == causal.shape and bool((mask == causal).all())


def _why_not_sparsity_fast_path(layer: Module) -> str:
    """torch's reasons (checked in its order) for not using nested tensors; scratch has none either way."""
    name = "encoder_layer"
    if not isinstance(layer, TransformerEncoderLayer):
        return f"{name} was not TransformerEncoderLayer"
    attn = layer.self_attn
    reasons = [(layer.norm_first, f"{name}.norm_first was True"),
               (not attn.batch_first, f"{name}.self_attn.batch_first was not True(use batch_first for better "
                                      "inference performance)"),
               (not attn._qkv_same_embed_dim, f"{name}.self_attn._qkv_same_embed_dim was not True"),
               (attn.in_proj_bias is None, f"{name}.self_attn was passed bias=False"),
               (not layer.activation_relu_or_gelu, f"{name}.activation_relu_or_gelu was not True"),
               (layer.norm1.eps != layer.norm2.eps, f"{name}.norm1.eps was not equal to {name}.norm2.eps"),
               (attn.num_heads % 2 == 1, f"{name}.self_attn.num_heads is odd")]
    return next((why for failed, why in reasons if failed), "")


class TransformerEncoder(Module):
    r"""A stack of ``num_layers`` deep copies of ``encoder_layer`` (all starting from its weights, as
    torch), then ``norm`` if given.

    Forward: x_0 = src, x_i = layers[i](x_{i-1}, masks), y = norm(x_n). Backward: g = norm'(dL/dy),
    then each layer's backward in reverse order; returns dL/dsrc.

    ``forward(src, mask=None, src_key_padding_mask=None, is_causal=None)``: boolean masks become float
    here, as torch; ``is_causal=None`` detects a causal ``mask`` (torch's ``_detect_is_causal_mask``).
    ``enable_nested_tensor`` and ``mask_check`` are kept for torch's signature (scratch has no nested
    tensors); torch's warning when nested tensors cannot be used is mirrored.

    Shape: src as the layer's; output the same.
    """

    def __init__(self, encoder_layer: Module, num_layers: int, norm: Module | None = None,
                 enable_nested_tensor: bool = True, mask_check: bool = True) -> None:
        super().__init__()
        self.layers = _get_clones(encoder_layer, check_size("TransformerEncoder", "num_layers", num_layers))
        self.num_layers = num_layers
        self.norm = norm
        self.enable_nested_tensor = enable_nested_tensor
        self.use_nested_tensor = enable_nested_tensor
        self.mask_check = mask_check
        why_not = _why_not_sparsity_fast_path(encoder_layer)
        if enable_nested_tensor and why_not:
            warnings.warn(f"enable_nested_tensor is True, but self.use_nested_tensor is False because {why_not}",
                          stacklevel=2)
            self.use_nested_tensor = False

    def forward(self, src: np.ndarray, mask: np.ndarray | None = None,
                src_key_padding_mask: np.ndarray | None = None, is_causal: bool | None = None) -> np.ndarray:
        if not isinstance(src, np.ndarray) or src.dtype.kind != "f":
            raise TypeError(f"TransformerEncoder: expected src to be a floating numpy.ndarray, got "
                            f"{getattr(src, 'dtype', type(src).__name__)}")
        src_key_padding_mask = canonical_mask("TransformerEncoder", src_key_padding_mask, "src_key_padding_mask",
                                              src.dtype, mask, "mask")
        mask = canonical_mask("TransformerEncoder", mask, "mask", src.dtype)
        batch_first = self.layers[0].self_attn.batch_first
        is_causal = _detect_is_causal_mask(mask, is_causal, _get_seq_len(src, batch_first))
        output = src
        for layer in self.layers:
            output = layer(output, src_mask=mask, is_causal=is_causal, src_key_padding_mask=src_key_padding_mask)
        if self.norm is not None:
            output = self.norm(output)
        self._save(True)
        return output

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        self._saved(grad_output)
        grad = grad_output if self.norm is None else self.norm.backward(grad_output)
        for layer in reversed(self.layers):
            grad = layer.backward(grad)
        return grad


class TransformerDecoder(Module):
    r"""A stack of ``num_layers`` deep copies of ``decoder_layer``, then ``norm`` if given; every layer
    attends to the same ``memory``.

    Forward: x_0 = tgt, x_i = layers[i](x_{i-1}, memory, masks), y = norm(x_n). Backward: g = norm'(dL/dy),
    then the layers in reverse order, each returning (dL/dx_{i-1}, its share of dL/dmemory); the shares
    are summed. ``backward`` returns (dL/dtgt, dL/dmemory).

    ``forward(tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
    memory_key_padding_mask=None, tgt_is_causal=None, memory_is_causal=False)``; tgt_is_causal=None
    detects a causal tgt_mask, as torch.
    """

    def __init__(self, decoder_layer: Module, num_layers: int, norm: Module | None = None) -> None:
        super().__init__()
        self.layers = _get_clones(decoder_layer, check_size("TransformerDecoder", "num_layers", num_layers))
        self.num_layers = num_layers
        self.norm = norm

    def forward(self, tgt: np.ndarray, memory: np.ndarray, tgt_mask: np.ndarray | None = None,
                memory_mask: np.ndarray | None = None, tgt_key_padding_mask: np.ndarray | None = None,
                memory_key_padding_mask: np.ndarray | None = None, tgt_is_causal: bool | None = None,
                memory_is_causal: bool = False) -> np.ndarray:
        batch_first = self.layers[0].self_attn.batch_first
        tgt_is_causal = _detect_is_causal_mask(tgt_mask, tgt_is_causal, _get_seq_len(tgt, batch_first))
        output = tgt
        for layer in self.layers:
            output = layer(output, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                           tgt_key_padding_mask=tgt_key_padding_mask, memory_key_padding_mask=memory_key_padding_mask,
                           tgt_is_causal=tgt_is_causal, memory_is_causal=memory_is_causal)
        if self.norm is not None:
            output = self.norm(output)
        self._save(True)
        return output

    def backward(self, grad_output: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        self._saved(grad_output)
        grad = grad_output if self.norm is None else self.norm.backward(grad_output)
        grad_memory: np.ndarray | None = None
        for layer in reversed(self.layers):
            grad, share = layer.backward(grad)
            grad_memory = share if grad_memory is None else grad_memory + share
        return grad, cast("np.ndarray", grad_memory)  # a decoder has at least one layer


class Transformer(Module):
    r"""The encoder-decoder Transformer (Vaswani et al., 2017): memory = encoder(src), y = decoder(tgt, memory).

    Backward: (dL/dtgt, dL/dmemory) = decoder'(dL/dy), then dL/dsrc = encoder'(dL/dmemory);
    ``backward(grad_output)`` returns ``(dL/dsrc, dL/dtgt)``.

    Args: d_model=512, nhead=8, num_encoder_layers=6, num_decoder_layers=6, dim_feedforward=2048,
    dropout=0.1, activation="relu" ("gelu" or a scratch module), custom_encoder=None, custom_decoder=None,
    layer_norm_eps=1e-5, batch_first=False, norm_first=False, bias=True, device=None ("cpu"), dtype=None
    (float32), rng (keyword: weights and dropout masks). The encoder and decoder end with a LayerNorm.
    As torch, every parameter with more than one dimension is re-drawn from xavier_uniform_ at the end.

    ``forward(src, tgt, src_mask=None, tgt_mask=None, memory_mask=None, src_key_padding_mask=None,
    tgt_key_padding_mask=None, memory_key_padding_mask=None, src_is_causal=None, tgt_is_causal=None,
    memory_is_causal=False)``.

    Shape: src (S, N, E), tgt (T, N, E) ((N, S, E), (N, T, E) with batch_first; unbatched (S, E),
    (T, E)); output like tgt.
    """

    def __init__(self, d_model: int = 512, nhead: int = 8, num_encoder_layers: int = 6, num_decoder_layers: int = 6,
                 dim_feedforward: int = 2048, dropout: float = 0.1, activation: str | Module = "relu",
                 custom_encoder: Module | None = None, custom_decoder: Module | None = None,
                 layer_norm_eps: float = 1e-5, batch_first: bool = False, norm_first: bool = False, bias: bool = True,
                 device: Any = None, dtype: Any = None, *, rng: np.random.Generator | None = None) -> None:
        super().__init__()
        check_device("Transformer", device)
        layer_args = (d_model, nhead, dim_feedforward, dropout, activation, layer_norm_eps, batch_first, norm_first,
                      bias)
        if custom_encoder is not None:
            self.encoder = custom_encoder
        else:
            layer = TransformerEncoderLayer(*layer_args, dtype=dtype, rng=rng)
            norm = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
            self.encoder = TransformerEncoder(layer, num_encoder_layers, norm)
        if custom_decoder is not None:
            self.decoder = custom_decoder
        else:
            decoder_layer = TransformerDecoderLayer(*layer_args, dtype=dtype, rng=rng)
            norm = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
            self.decoder = TransformerDecoder(decoder_layer, num_decoder_layers, norm)
        for param in self.parameters():
            if param.ndim > 1:
                init.xavier_uniform_(param, rng=rng)
        self.d_model, self.nhead, self.batch_first = d_model, nhead, batch_first

    def forward(self, src: np.ndarray, tgt: np.ndarray, src_mask: np.ndarray | None = None,
                tgt_mask: np.ndarray | None = None, memory_mask: np.ndarray | None = None,
                src_key_padding_mask: np.ndarray | None = None, tgt_key_padding_mask: np.ndarray | None = None,
                memory_key_padding_mask: np.ndarray | None = None, src_is_causal: bool | None = None,
                tgt_is_causal: bool | None = None, memory_is_causal: bool = False) -> np.ndarray:
        batch_axis = 0 if self.batch_first else 1
        if src.ndim == 3 and (tgt.ndim != 3 or src.shape[batch_axis] != tgt.shape[batch_axis]):
            raise ValueError(f"Transformer: the batch number of src and tgt must be equal, got src {src.shape} and "
                             f"tgt {tgt.shape} (batch_first={self.batch_first})")
        if src.shape[-1] != self.d_model or tgt.shape[-1] != self.d_model:
            raise ValueError(f"Transformer: the feature number of src and tgt must be equal to d_model={self.d_model}, "
                             f"got src {src.shape} and tgt {tgt.shape}")
        memory = self.encoder(src, mask=src_mask, src_key_padding_mask=src_key_padding_mask, is_causal=src_is_causal)
        output = self.decoder(tgt, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                              tgt_key_padding_mask=tgt_key_padding_mask,
                              memory_key_padding_mask=memory_key_padding_mask, tgt_is_causal=tgt_is_causal,
                              memory_is_causal=memory_is_causal)
        self._save(True)
        return cast("np.ndarray", output)

    def backward(self, grad_output: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        self._saved(grad_output)
        grad_tgt, grad_memory = self.decoder.backward(grad_output)
        return self.encoder.backward(grad_memory), grad_tgt

    @staticmethod
    def generate_square_subsequent_mask(sz: int, device: Any = None, dtype: Any = None) -> np.ndarray:
        r"""A float mask (sz, sz) for causal attention: -inf above the diagonal (the future), 0 elsewhere."""
        check_device("Transformer.generate_square_subsequent_mask", device)
        return generate_square_subsequent_mask(sz, dtype)
