r"""TransformerEncoderLayer and TransformerDecoderLayer (re-exported by ``transformer``).

Each layer calls its children through ``child(...)`` and ``child.backward(...)``, so a subclass of any
child is honoured; the residual sums are where the gradients add up (a residual ``x + f(x)`` sends its
gradient both straight through and through f, and the two are summed).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any, cast

import numpy as np

from ..functional._attention_core import mask_to_bias
from ._checks import check_device, check_float
from .activation import GELU, ReLU
from .attention import MultiheadAttention
from .dropout import Dropout
from .linear import Linear
from .module import Module, resolve_dtype
from .normalization import LayerNorm

__all__ = ["TransformerDecoderLayer", "TransformerEncoderLayer"]


def canonical_mask(owner: str, mask: np.ndarray | None, name: str, dtype: np.dtype,
                   other: np.ndarray | None = None, other_name: str = "") -> np.ndarray | None:
    """torch's ``_canonical_mask``: a boolean mask (True = masked out) as 0 / -inf in ``dtype``, a float mask
    as it is; warns, as torch, when ``other`` (the other mask of the call) has another dtype."""
    if mask is None:
        return None
    if other is not None and isinstance(mask, np.ndarray) and isinstance(other, np.ndarray) \
            and mask.dtype != other.dtype:
        warnings.warn(f"Support for mismatched {name} and {other_name} is deprecated. Use same type for both "
                      "instead.", stacklevel=4)
    return mask_to_bias(mask, dtype, owner, name, take_part=False)


def make_activation(owner: str, activation: Any) -> tuple[str | None, Module]:
    """("relu" or "gelu", a private ReLU() or GELU()) for a name, (None, the module) for a scratch module."""
    if isinstance(activation, str):
        if activation in ("relu", "gelu"):
            return activation, ReLU() if activation == "relu" else GELU()
        raise ValueError(f"{owner}: activation should be relu/gelu, not {activation}")
    if isinstance(activation, Module):
        return None, activation
    raise TypeError(f"{owner}: activation must be 'relu', 'gelu' or a scratch.nn.Module with forward and backward "
                    f"(a plain function has no backward), got {type(activation).__name__}")


class _Layer(Module):
    """What both layers share: the feed-forward block, the activation, the checks."""

    def _set_activation(self, activation: Any) -> None:
        name, module = make_activation(type(self).__name__, activation)
        if name is None:
            self.activation = module  # a child module, in named_modules and the state_dict, as torch's
        else:  # torch keeps F.relu / F.gelu, no child: a private module, outside the module tree
            object.__setattr__(self, "activation", module)
        self._activation_name = name
        relu = name == "relu" or isinstance(module, ReLU)
        self.activation_relu_or_gelu = 1 if relu else 2 if name == "gelu" or isinstance(module, GELU) else 0

    def _check(self, name: str, x: Any) -> None:
        check_float(type(self).__name__, name, x)
        d_model = self.linear1.in_features
        if x.ndim not in (2, 3) or x.shape[-1] != d_model:
            raise ValueError(f"{type(self).__name__}: expected {name} of shape (S, N, {d_model}), (N, S, {d_model}) "
                             f"with batch_first, or unbatched (S, {d_model}) (d_model={d_model}), got {x.shape}")

    def _ff_block(self, x: np.ndarray) -> np.ndarray:
        return cast("np.ndarray", self.dropout_ff_out(self.linear2(self.dropout(self.activation(self.linear1(x))))))

    def _ff_block_backward(self, grad: np.ndarray) -> np.ndarray:
        grad = self.linear2.backward(self.dropout_ff_out.backward(grad))
        return cast("np.ndarray", self.linear1.backward(self.activation.backward(self.dropout.backward(grad))))

    @property
    def dropout_ff_out(self) -> Module:
        raise NotImplementedError


def _children(layer: _Layer, d_model: int, nhead: int, dim_feedforward: int, dropout: float, batch_first: bool,
              bias: bool, dtype: np.dtype, rng: np.random.Generator | None, cross: bool) -> None:
    """self_attn (and multihead_attn), linear1, dropout, linear2, in torch's registration order."""
    layer.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias, batch_first=batch_first,
                                         dtype=dtype, rng=rng)
    if cross:
        layer.multihead_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias,
                                                  batch_first=batch_first, dtype=dtype, rng=rng)
    layer.linear1 = Linear(d_model, dim_feedforward, bias=bias, dtype=dtype, rng=rng)
    layer.dropout = Dropout(dropout, rng=rng)
    layer.linear2 = Linear(dim_feedforward, d_model, bias=bias, dtype=dtype, rng=rng)


class TransformerEncoderLayer(_Layer):
    r"""Self-attention and a feed-forward network, each in a residual branch with layer norm.

    Forward (sa = dropout1(self_attn(x, x, x)), ff = dropout2(linear2(dropout(activation(linear1(x)))))):

        norm_first=False (post-norm, the default):   h = norm1(x + sa(x));       y = norm2(h + ff(h))
        norm_first=True  (pre-norm):                 h = x + sa(norm1(x));       y = h + ff(norm2(h))

    Backward, g = dL/dy (each residual sends g on directly and through its branch; the two add):

        post-norm:  g_h = norm2'(g);  g_h += ff'(g_h);        g_x = norm1'(g_h);  dx = g_x + sa'(g_x)
        pre-norm:   g_h = g + norm2'(ff'(g));                 dx = g_h + norm1'(sa'(g_h))

    where sa'(g) sums self_attn's three input gradients (query = key = value = x).

    Args:
        d_model: the feature size E. nhead: attention heads. dim_feedforward: linear1's width. Default: 2048.
        dropout: for every Dropout child and the attention weights. Default: 0.1.
        activation: "relu" (default), "gelu" or a scratch module (with forward and backward). A name
            becomes a private ReLU() / GELU() outside the module tree, as torch keeps F.relu / F.gelu
            (no child, no state_dict key); a module is the child ``activation``, as in torch.
        layer_norm_eps: the LayerNorms' eps. Default: 1e-5. batch_first: (N, S, E) inputs. Default: False.
        norm_first: pre-norm instead of post-norm. Default: False. bias: every Linear's, LayerNorm's and
            the attention's biases. Default: True. device: None or "cpu". dtype: default float32.
        rng: ``np.random.Generator`` for the initial weights and every dropout mask.

    ``forward(src, src_mask=None, src_key_padding_mask=None, is_causal=False)``: the masks are
    MultiheadAttention's (boolean True = masked out; float added), made float here as torch does.
    torch's fast path (eval without autograd) differs from the regular path only by rounding; this is
    the regular path.

    Shape: src (S, N, E), (N, S, E) with batch_first, or unbatched (S, E); output the same.
    """

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048, dropout: float = 0.1,
                 activation: str | Module = "relu", layer_norm_eps: float = 1e-5, batch_first: bool = False,
                 norm_first: bool = False, bias: bool = True, device: Any = None, dtype: Any = None, *,
                 rng: np.random.Generator | None = None) -> None:
        super().__init__()
        check_device(type(self).__name__, device)
        dtype = resolve_dtype(dtype)
        _children(self, d_model, nhead, dim_feedforward, dropout, batch_first, bias, dtype, rng, cross=False)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.dropout1 = Dropout(dropout, rng=rng)
        self.dropout2 = Dropout(dropout, rng=rng)
        self._set_activation(activation)

    @property
    def dropout_ff_out(self) -> Module:
        return self.dropout2

    def forward(self, src: np.ndarray, src_mask: np.ndarray | None = None,
                src_key_padding_mask: np.ndarray | None = None, is_causal: bool = False) -> np.ndarray:
        self._check("src", src)
        name = type(self).__name__
        src_key_padding_mask = canonical_mask(name, src_key_padding_mask, "src_key_padding_mask", src.dtype,
                                              src_mask, "src_mask")
        src_mask = canonical_mask(name, src_mask, "src_mask", src.dtype)
        x = src
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            x = x + self._ff_block(self.norm2(x))
        else:
            x = self.norm1(x + self._sa_block(x, src_mask, src_key_padding_mask, is_causal))
            x = self.norm2(x + self._ff_block(x))
        self._save(True)
        return cast("np.ndarray", x)

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        self._saved(grad_output)
        if self.norm_first:
            grad_h = grad_output + self.norm2.backward(self._ff_block_backward(grad_output))
            return cast("np.ndarray", grad_h + self.norm1.backward(self._sa_block_backward(grad_h)))
        grad_h = self.norm2.backward(grad_output)
        grad_h = grad_h + self._ff_block_backward(grad_h)
        grad_x = self.norm1.backward(grad_h)
        return cast("np.ndarray", grad_x + self._sa_block_backward(grad_x))

    def _sa_block(self, x: np.ndarray, attn_mask: np.ndarray | None, key_padding_mask: np.ndarray | None,
                  is_causal: bool) -> np.ndarray:
        x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask, need_weights=False,
                           is_causal=is_causal)[0]
        return cast("np.ndarray", self.dropout1(x))

    def _sa_block_backward(self, grad: np.ndarray) -> np.ndarray:
        grad_q, grad_k, grad_v = self.self_attn.backward(self.dropout1.backward(grad))
        return cast("np.ndarray", grad_q + grad_k + grad_v)


class TransformerDecoderLayer(_Layer):
    r"""Self-attention, attention over the encoder's output (``memory``) and a feed-forward network, each
    in a residual branch with layer norm.

    Forward (sa = dropout1(self_attn(x, x, x)), ca(x, m) = dropout2(multihead_attn(x, m, m)),
    ff = dropout3(linear2(dropout(activation(linear1(x)))))):

        norm_first=False:  h1 = norm1(x + sa(x));  h2 = norm2(h1 + ca(h1, m));  y = norm3(h2 + ff(h2))
        norm_first=True:   h1 = x + sa(norm1(x));  h2 = h1 + ca(norm2(h1), m);  y = h2 + ff(norm3(h2))

    Backward, g = dL/dy; ca' returns (d query, d key + d value), the latter going to memory:

        post-norm:  g2 = norm3'(g); g2 += ff'(g2);  g1 = norm2'(g2); (dq, dm) = ca'(g1); g1 += dq;
                    gx = norm1'(g1);  dx = gx + sa'(gx)
        pre-norm:   g2 = g + norm3'(ff'(g));  (dq, dm) = ca'(g2);  g1 = g2 + norm2'(dq);
                    dx = g1 + norm1'(sa'(g1))

    ``backward(grad_output)`` returns ``(dL/dtgt, dL/dmemory)``. Arguments as TransformerEncoderLayer's.

    ``forward(tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
    memory_key_padding_mask=None, tgt_is_causal=False, memory_is_causal=False)``.

    Shape: tgt (T, N, E), memory (S, N, E) ((N, T, E), (N, S, E) with batch_first; unbatched (T, E),
    (S, E)); output like tgt.
    """

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048, dropout: float = 0.1,
                 activation: str | Module = "relu", layer_norm_eps: float = 1e-5, batch_first: bool = False,
                 norm_first: bool = False, bias: bool = True, device: Any = None, dtype: Any = None, *,
                 rng: np.random.Generator | None = None) -> None:
        super().__init__()
        check_device(type(self).__name__, device)
        dtype = resolve_dtype(dtype)
        _children(self, d_model, nhead, dim_feedforward, dropout, batch_first, bias, dtype, rng, cross=True)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.norm3 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.dropout1 = Dropout(dropout, rng=rng)
        self.dropout2 = Dropout(dropout, rng=rng)
        self.dropout3 = Dropout(dropout, rng=rng)
        self._set_activation(activation)

    @property
    def dropout_ff_out(self) -> Module:
        return self.dropout3

    def forward(self, tgt: np.ndarray, memory: np.ndarray, tgt_mask: np.ndarray | None = None,
                memory_mask: np.ndarray | None = None, tgt_key_padding_mask: np.ndarray | None = None,
                memory_key_padding_mask: np.ndarray | None = None, tgt_is_causal: bool = False,
                memory_is_causal: bool = False) -> np.ndarray:
        self._check("tgt", tgt)
        self._check("memory", memory)
        x = tgt
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), tgt_mask, tgt_key_padding_mask, tgt_is_causal)
            x = x + self._mha_block(self.norm2(x), memory, memory_mask, memory_key_padding_mask, memory_is_causal)
            x = x + self._ff_block(self.norm3(x))
        else:
            x = self.norm1(x + self._sa_block(x, tgt_mask, tgt_key_padding_mask, tgt_is_causal))
            x = self.norm2(x + self._mha_block(x, memory, memory_mask, memory_key_padding_mask, memory_is_causal))
            x = self.norm3(x + self._ff_block(x))
        self._save(True)
        return cast("np.ndarray", x)

    def backward(self, grad_output: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        self._saved(grad_output)
        if self.norm_first:
            grad_2 = grad_output + self.norm3.backward(self._ff_block_backward(grad_output))
            grad_q, grad_memory = self._mha_block_backward(grad_2)
            grad_1 = grad_2 + self.norm2.backward(grad_q)
            return grad_1 + self.norm1.backward(self._sa_block_backward(grad_1)), grad_memory
        grad_2 = self.norm3.backward(grad_output)
        grad_2 = grad_2 + self._ff_block_backward(grad_2)
        grad_1 = self.norm2.backward(grad_2)
        grad_q, grad_memory = self._mha_block_backward(grad_1)
        grad_x = self.norm1.backward(grad_1 + grad_q)
        return grad_x + self._sa_block_backward(grad_x), grad_memory

    # the encoder's blocks, shared: they use only self_attn and dropout1, which both layers have
    _sa_block: Callable[..., np.ndarray] = TransformerEncoderLayer._sa_block
    _sa_block_backward: Callable[..., np.ndarray] = TransformerEncoderLayer._sa_block_backward

    def _mha_block(self, x: np.ndarray, mem: np.ndarray, attn_mask: np.ndarray | None,
                   key_padding_mask: np.ndarray | None, is_causal: bool) -> np.ndarray:
        x = self.multihead_attn(x, mem, mem, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                                is_causal=is_causal, need_weights=False)[0]
        return cast("np.ndarray", self.dropout2(x))

    def _mha_block_backward(self, grad: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        grad_q, grad_k, grad_v = self.multihead_attn.backward(self.dropout2.backward(grad))
        return grad_q, grad_k + grad_v
