r"""MultiheadAttention: torch's parameters, options and masks around the pair in
``scratch.nn.functional.attention`` (``multi_head_attention_forward`` / ``_backward``)."""

from __future__ import annotations

from typing import Any, cast

import numpy as np

from .. import functional as F
from .. import init
from ..functional.dropout import check_probability
from ..parameter import Parameter
from ._checks import check_device, check_float, check_size
from .linear import NonDynamicallyQuantizableLinear
from .module import Module, resolve_dtype

__all__ = ["MultiheadAttention"]


class MultiheadAttention(Module):
    r"""Multi-head attention (Vaswani et al., 2017), with torch's parameters, options and masks:

    .. math:: \text{MultiHead}(Q, K, V) = \text{Concat}(\text{head}_1, \dots, \text{head}_h) W^O,
              \quad \text{head}_i = \text{softmax}\Big(\frac{Q W_i^Q (K W_i^K)^T}{\sqrt{E / h}} + M\Big) V W_i^V

    Forward (``Q``, ``K``, ``V`` the query, key, value; M the masks, 0 or -inf)::

        q, k, v = Q W_q^T + b_q, K W_k^T + b_k, V W_v^T + b_v      split into h heads of E / h
        [k; bias_k], [v; bias_v]                                    add_bias_kv: one more key/value position
        [k; 0], [v; 0]                                              add_zero_attn: a position of zeros
        A = softmax(q k^T / sqrt(E / h) + M),  A_d = dropout(A)     dropout in training only
        out = Concat(A_d v) W_o^T + b_o                             (out_proj)

    Backward runs the chain in reverse (``multi_head_attention_backward``), with the softmax rule
    dS = A * (dA - rowsum(dA * A)); ``backward(grad_attn_output, grad_attn_weights=None)`` returns
    ``(grad_query, grad_key, grad_value)`` -- three gradients even when query, key and value are one
    array (the caller sums them, as autograd does) -- and accumulates every parameter's gradient.
    With need_weights=True a gradient for the returned weights may be given (None: zero).

    Args:
        embed_dim: E, the model dimension (split across the heads: head_dim = E / num_heads).
        num_heads: h, which must divide E.
        dropout: dropout probability on the attention weights (training only). Default: 0.0.
        bias: in_proj_bias and out_proj.bias. Default: True.
        add_bias_kv: learn bias_k and bias_v (1, 1, E), appended to the keys and values. Default: False.
        add_zero_attn: append a position of zeros to the keys and values. Default: False.
        kdim, vdim: the key's and value's feature sizes. Default: None (E). When both equal E the
            projections are one packed ``in_proj_weight`` (3E, E); else ``q_proj_weight`` (E, E),
            ``k_proj_weight`` (E, kdim), ``v_proj_weight`` (E, vdim).
        batch_first: inputs and outputs are (N, L, E) rather than (L, N, E). Default: False.
        device: None or "cpu". dtype: the parameters' floating dtype. Default: float32.
        rng: ``np.random.Generator`` for the initial weights and the dropout masks (default: scratch's
            global generator). The last keep-mask is ``self.dropout_mask`` (boolean (N, h, L, S'), or None).

    Initialization, as torch's ``_reset_parameters``: xavier_uniform_ on the projection weights, zeros
    for in_proj_bias and out_proj.bias, xavier_normal_ on bias_k and bias_v; out_proj.weight keeps
    Linear's initialization.

    ``forward(query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
    average_attn_weights=True, is_causal=False)`` returns ``(attn_output, attn_weights)``:

    - boolean masks: True = *leave this position out* (torch's MultiheadAttention convention, the
      opposite of scaled_dot_product_attention's); float masks are added to the scores;
    - key_padding_mask (N, S) or (S,) unbatched; attn_mask (L, S) or (N * h, L, S);
    - attn_weights: None with need_weights=False, else the weights after dropout, (N, L, S') averaged
      over the heads or (N, h, L, S') per head (without N unbatched); S' counts bias_k and the zero row;
    - need_weights=True follows torch's math path: a query whose keys are all masked gets NaN weights
      and a NaN output row, as torch; need_weights=False follows torch's SDPA path, whose safe softmax
      gives that row b_o (out_proj's bias) instead, as torch. Either path matches torch's up to
      rounding (torch's fast path, taken in eval without autograd, too);
    - is_causal needs an attn_mask; with need_weights=False and no key_padding_mask the causal mask
      replaces attn_mask, as in torch.

    Shape:
        - query (L, N, E), key (S, N, kdim), value (S, N, vdim); (N, L, E) etc. with batch_first;
          unbatched (L, E), (S, kdim), (S, vdim) (batch_first is then ignored, as torch).
        - attn_output: like the query.
    """

    bias_k: Parameter | None
    bias_v: Parameter | None

    _input_kind = "float"  # see ``_checks``

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
                 add_bias_kv: bool = False, add_zero_attn: bool = False, kdim: int | None = None,
                 vdim: int | None = None, batch_first: bool = False, device: Any = None, dtype: Any = None, *,
                 rng: np.random.Generator | None = None) -> None:
        super().__init__()
        check_device("MultiheadAttention", device)
        if check_size("MultiheadAttention", "embed_dim", embed_dim) <= 0 or \
                check_size("MultiheadAttention", "num_heads", num_heads) <= 0:
            raise ValueError(f"MultiheadAttention: embed_dim and num_heads must be greater than 0, got "
                             f"embed_dim={embed_dim} and num_heads={num_heads} instead")
        if embed_dim % num_heads:
            raise ValueError(f"MultiheadAttention: embed_dim must be divisible by num_heads, got embed_dim="
                             f"{embed_dim} and num_heads={num_heads}")
        check_probability(dropout, "MultiheadAttention")
        dtype = resolve_dtype(dtype)
        self.embed_dim, self.num_heads, self.dropout, self.batch_first = embed_dim, num_heads, dropout, batch_first
        self.kdim = embed_dim if kdim is None else check_size("MultiheadAttention", "kdim", kdim, minimum=1)
        self.vdim = embed_dim if vdim is None else check_size("MultiheadAttention", "vdim", vdim, minimum=1)
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.head_dim = embed_dim // num_heads
        self.add_zero_attn = add_zero_attn
        self.rng = rng
        #: The boolean keep-mask of the last forward's dropout, (N, num_heads, L, S'); None without dropout.
        self.dropout_mask: np.ndarray | None = None
        self._register(bias, add_bias_kv, dtype, rng)
        self._reset_parameters(rng=rng)

    def _register(self, bias: bool, add_bias_kv: bool, dtype: np.dtype, rng: np.random.Generator | None) -> None:
        """The parameters, in torch's registration order (so the state_dict keys come in torch's order)."""
        e = self.embed_dim
        if self._qkv_same_embed_dim:
            self.in_proj_weight = Parameter(np.empty((3 * e, e), dtype=dtype))
            for name in ("q_proj_weight", "k_proj_weight", "v_proj_weight"):
                self.register_parameter(name, None)
        else:
            self.q_proj_weight = Parameter(np.empty((e, e), dtype=dtype))
            self.k_proj_weight = Parameter(np.empty((e, self.kdim), dtype=dtype))
            self.v_proj_weight = Parameter(np.empty((e, self.vdim), dtype=dtype))
            self.register_parameter("in_proj_weight", None)
        if bias:
            self.in_proj_bias = Parameter(np.empty(3 * e, dtype=dtype))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = NonDynamicallyQuantizableLinear(e, e, bias=bias, dtype=dtype, rng=rng)
        if add_bias_kv:
            self.bias_k = Parameter(np.empty((1, 1, e), dtype=dtype))
            self.bias_v = Parameter(np.empty((1, 1, e), dtype=dtype))
        else:
            self.bias_k = self.bias_v = None

    def _reset_parameters(self, *, rng: np.random.Generator | None = None) -> None:
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight, rng=rng)
        else:
            for weight in (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight):
                init.xavier_uniform_(weight, rng=rng)
        if self.in_proj_bias is not None:
            init.zeros_(self.in_proj_bias)
            init.zeros_(self.out_proj.bias)
        for bias in (self.bias_k, self.bias_v):
            if bias is not None:
                init.xavier_normal_(bias, rng=rng)

    def _check_input_dtype(self, args: tuple[Any, ...]) -> None:
        """query, key and value (the masks have their own rules): floating arrays of the parameters' dtype."""
        for name, x in zip(("query", "key", "value"), args[:3]):
            check_float("MultiheadAttention", name, x)
        super()._check_input_dtype(args[:3])

    def _array(self, name: str) -> np.ndarray | None:
        param = getattr(self, name)  # bias_k / bias_v are plain None attributes without add_bias_kv, as in torch
        return None if param is None else param.data

    def forward(self, query: np.ndarray, key: np.ndarray, value: np.ndarray,
                key_padding_mask: np.ndarray | None = None, need_weights: bool = True,
                attn_mask: np.ndarray | None = None, average_attn_weights: bool = True,
                is_causal: bool = False) -> tuple[np.ndarray, np.ndarray | None]:
        out_bias = self.out_proj.bias
        (out, weights), cache = F.multi_head_attention_forward(
            query, key, value, self.embed_dim, self.num_heads, self._array("in_proj_weight"),
            self._array("in_proj_bias"), self._array("bias_k"), self._array("bias_v"), self.add_zero_attn,
            self.dropout, self.out_proj.weight.data, None if out_bias is None else out_bias.data,
            training=self.training, key_padding_mask=key_padding_mask, need_weights=need_weights,
            attn_mask=attn_mask, use_separate_proj_weight=not self._qkv_same_embed_dim,
            q_proj_weight=self._array("q_proj_weight"), k_proj_weight=self._array("k_proj_weight"),
            v_proj_weight=self._array("v_proj_weight"), average_attn_weights=average_attn_weights,
            is_causal=is_causal, batch_first=self.batch_first, rng=self.rng)
        self.dropout_mask = cache.keep
        self._save((cache, (out.shape, out.dtype), None if weights is None else (weights.shape, weights.dtype)))
        return out, weights

    def backward(self, grad_attn_output: np.ndarray,
                 grad_attn_weights: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        cache, out_meta, weights_meta = self._saved(grad_attn_output)
        _check_grad("grad_attn_output", grad_attn_output, out_meta)
        if grad_attn_weights is not None:
            if weights_meta is None:
                raise ValueError("MultiheadAttention.backward: got grad_attn_weights, but the forward returned no "
                                 "weights (need_weights=False)")
            _check_grad("grad_attn_weights", grad_attn_weights, weights_meta)
        grads = F.multi_head_attention_backward(grad_attn_output, grad_attn_weights, cache)
        for name in ("in_proj_weight", "in_proj_bias", "q_proj_weight", "k_proj_weight", "v_proj_weight",
                     "bias_k", "bias_v"):
            param = getattr(self, name)
            if param is not None:
                param.accumulate_grad(getattr(grads, name), fresh=True)
        self.out_proj.weight.accumulate_grad(grads.out_proj_weight, fresh=True)
        if self.out_proj.bias is not None:  # then it has a gradient
            self.out_proj.bias.accumulate_grad(cast("np.ndarray", grads.out_proj_bias), fresh=True)
        return grads.query, grads.key, grads.value

    def extra_repr(self) -> str:
        return ""


def _check_grad(name: str, grad: Any, meta: tuple[Any, ...]) -> None:
    if not isinstance(grad, np.ndarray):
        raise TypeError(f"MultiheadAttention.backward: expected {name} to be a numpy.ndarray, got "
                        f"{type(grad).__name__}")
    if (grad.shape, grad.dtype) != meta:
        raise ValueError(f"MultiheadAttention.backward: expected {name} of shape {meta[0]} and dtype {meta[1]} (the "
                         f"forward's), got shape {grad.shape} and dtype {grad.dtype}")
