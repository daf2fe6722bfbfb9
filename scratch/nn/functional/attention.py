r"""Attention as pure ``forward -> (out, cache)`` / ``backward(dout, cache)`` pairs: torch's
``scaled_dot_product_attention`` and ``multi_head_attention_forward`` (MultiheadAttention's math).

For a query q (L, E), keys k (S, E) and values v (S, E_v), batched over any leading dims:

    scores = (q * scale) k^T + bias       (L, S)   scale = 1 / sqrt(E) by default
    A      = softmax(scores) along S               each row of A sums to 1
    A_d    = A * keep / (1 - p)                    dropout on the weights (keep ~ Bernoulli(1 - p))
    out    = A_d v                        (L, E_v)

``bias`` holds the masks: 0 where a position takes part, -inf where it does not (a boolean mask,
True = take part, as torch's SDPA), a float mask added as it is, or the causal mask
(-inf above the diagonal, top-left aligned when L != S).

Backward, with dout = dL/dout (the softmax Jacobian dA_ij/dS_ik = A_ij (δ_jk - A_ik), applied row by row):

    dA_d = dout v^T,   dv = A_d^T dout,   dA = dA_d * keep / (1 - p),
    dS   = A * (dA - rowsum(dA * A)),
    dq   = (dS k) * scale,   dk = dS^T (q * scale).

Batched over all leading dims with ``@`` (matmul broadcasting), no loop over heads or positions; a
key or query broadcast against the other's batch dims gets its gradient summed over them.

A row whose every score is -inf (a fully masked query): torch 2.13's SDPA on the CPU (flash and
math kernels alike, ``_safe_softmax``) gives weights 0 there, so the output row is 0 and its
gradients are 0; matched. MultiheadAttention's need_weights=True path uses a plain softmax and
gives NaN instead; ``attend_forward(..., safe=False)`` is that path.

Multi-head attention projects q, k, v, splits them into heads and runs the same core over
(N, heads, L, head_dim) in one batched product (``multi_head_attention_forward``'s docstring);
its steps are in ``_attention_core``.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple, cast

import numpy as np

from ._attention_core import (
    MHA,
    AttendCache,
    MHACache,
    MHAOptions,
    add_batch_axis,
    attend_backward,
    attend_forward,
    attention_bias,
    canonical_masks,
    causal_bias,
    check_key_value,
    check_mha_shapes,
    draw_keep,
    dropout_noise,
    extend_keys,
    input_grad,
    keep_mask,
    linear,
    mask_to_bias,
    merge_heads,
    project,
    project_backward,
    split_heads,
    unbroadcast,
    weight_grad,
)
from .dropout import check_probability

__all__ = ["multi_head_attention_backward", "multi_head_attention_forward", "scaled_dot_product_attention",
           "scaled_dot_product_attention_backward", "scaled_dot_product_attention_forward"]

SDPA = "scaled_dot_product_attention"


# ------------------------------------------------------------------------------ SDPA
class SDPACache(NamedTuple):
    attend: AttendCache
    shapes: tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]  # of query, key and value
    groups: tuple[int, int]  # GQA: how many query heads share each key head and each value head (1: none)
    keep: np.ndarray | None  # the dropout keep-mask used (boolean, the weights' shape)


def _check_inputs(query: np.ndarray, key: np.ndarray, value: np.ndarray, enable_gqa: bool) -> tuple[int, int]:
    """torch's checks of SDPA's inputs; returns the GQA group sizes of key and value."""
    for name, x in (("query", query), ("key", key), ("value", value)):
        if not isinstance(x, np.ndarray) or x.dtype.kind != "f":
            got = x.dtype if isinstance(x, np.ndarray) else type(x).__name__
            raise TypeError(f"{SDPA}: expected {name} to be a floating numpy.ndarray, got {got}")
    if min(query.ndim, key.ndim, value.ndim) < 2:
        raise ValueError(f"{SDPA}: Expected query, key, and value to all be at least 2 dimensional, but got "
                         f"query.dim: {query.ndim} key.dim: {key.ndim} and value.dim: {value.ndim} instead.")
    if not query.dtype == key.dtype == value.dtype:
        raise TypeError(f"{SDPA}: Expected query, key, and value to have the same dtype, but got query.dtype: "
                        f"{query.dtype} key.dtype: {key.dtype} and value.dtype: {value.dtype} instead.")
    if query.shape[-1] != key.shape[-1] or key.shape[-2] != value.shape[-2]:
        raise ValueError(f"{SDPA}: expected query (*, L, E), key (*, S, E) and value (*, S, Ev), got shapes "
                         f"{query.shape}, {key.shape} and {value.shape}")
    groups = [1, 1]
    if enable_gqa and query.ndim >= 3:
        for i, x in enumerate((key, value)):
            if x.ndim < 3 or query.shape[-3] % x.shape[-3]:
                raise ValueError(f"{SDPA}: Number of heads in key and value must divide the number of heads in "
                                 f"query, got query {query.shape}, key {key.shape}, value {value.shape}")
            groups[i] = query.shape[-3] // x.shape[-3]
    return groups[0], groups[1]


def _grouped(shape: tuple[int, ...], groups: int) -> tuple[int, ...]:
    """A key's (value's) shape with its heads repeated ``groups`` times (GQA), as the attention sees it."""
    return shape if groups == 1 else (*shape[:-3], shape[-3] * groups, *shape[-2:])


def _bias(attn_mask: np.ndarray | None, is_causal: bool, scores_shape: tuple[int, ...],
          dtype: np.dtype) -> np.ndarray | None:
    if is_causal and attn_mask is not None:
        raise ValueError(f"{SDPA}: Explicit attn_mask should not be set when is_causal=True")
    if is_causal:
        return causal_bias(scores_shape[-2], scores_shape[-1], dtype)
    if attn_mask is None:
        return None
    bias = mask_to_bias(attn_mask, dtype, SDPA, "attn_mask", take_part=True)
    try:
        fits = np.broadcast_shapes(bias.shape, scores_shape) == scores_shape
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(f"{SDPA}: expected attn_mask broadcastable to the weights' shape {scores_shape} "
                         f"(*, L, S), got {bias.shape}")
    return bias


def _ungroup(grad: np.ndarray, groups: int) -> np.ndarray:
    """GQA's backward: the gradients of the query heads that shared one key (value) head, summed."""
    if groups == 1:
        return grad
    shape = grad.shape
    return cast("np.ndarray", grad.reshape(*shape[:-3], shape[-3] // groups, groups, *shape[-2:]).sum(axis=-3))


def scaled_dot_product_attention_forward(
        query: np.ndarray, key: np.ndarray, value: np.ndarray, attn_mask: np.ndarray | None = None,
        dropout_p: float = 0.0, is_causal: bool = False, scale: float | None = None, enable_gqa: bool = False, *,
        dropout_mask: np.ndarray | None = None, rng: np.random.Generator | None = None,
) -> tuple[np.ndarray, SDPACache]:
    r"""torch's ``scaled_dot_product_attention`` (see the module docstring for the math).

    Args:
        query, key, value: (*, Hq, L, E), (*, H, S, E), (*, H, S, Ev); any number of leading dims,
            broadcast against each other; at least 2-D.
        attn_mask: boolean (True = the position takes part) or float (added to the scores, the query's
            dtype), broadcastable to the weights' shape (*, Hq, L, S).
        dropout_p: dropout on the weights, applied whenever > 0 (as torch: pass 0.0 in eval mode).
        is_causal: mask out the keys after each query (-inf above the diagonal); no attn_mask with it.
        scale: multiplies q k^T; default 1 / sqrt(E).
        enable_gqa: grouped-query attention: key and value with H heads (dim -3) dividing Hq serve
            Hq / H query heads each (torch's ``repeat_interleave``).
        dropout_mask: the boolean keep-mask to use (the weights' shape) instead of drawing one.
        rng: ``np.random.Generator`` for the keep-mask (default: scratch's global generator).

    The cache's ``keep`` is the keep-mask used. Shape: output (*, Hq, L, Ev).
    """
    groups = _check_inputs(query, key, value, enable_gqa)
    check_probability(dropout_p, SDPA)
    k = np.repeat(key, groups[0], axis=-3) if groups[0] > 1 else key
    v = np.repeat(value, groups[1], axis=-3) if groups[1] > 1 else value
    try:
        batch = np.broadcast_shapes(query.shape[:-2], k.shape[:-2], v.shape[:-2])
    except ValueError:
        raise ValueError(f"{SDPA}: the batch and head dims of query {query.shape}, key {key.shape} and value "
                         f"{value.shape} do not broadcast (enable_gqa=True lets fewer key/value heads serve "
                         "the query heads)") from None
    scores_shape = (*batch, query.shape[-2], key.shape[-2])
    bias = _bias(attn_mask, is_causal, scores_shape, query.dtype)
    keep = None
    if dropout_p > 0:
        keep = draw_keep(scores_shape, dropout_p, rng) if dropout_mask is None else np.asarray(dropout_mask)
        if keep.shape != scores_shape or keep.dtype != bool:
            raise ValueError(f"{SDPA}: expected a boolean dropout_mask of the weights' shape {scores_shape}, "
                             f"got {keep.dtype} {keep.shape}")
    scale = 1.0 / math.sqrt(query.shape[-1]) if scale is None else scale
    noise = dropout_noise(keep, dropout_p, query.dtype)
    out, _, cache = attend_forward(query, k, v, bias, scale, noise, safe=True)
    return out, SDPACache(cache, (query.shape, key.shape, value.shape), groups, keep)


def scaled_dot_product_attention_backward(dout: np.ndarray,
                                          cache: SDPACache) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""(dL/dquery, dL/dkey, dL/dvalue) of ``scaled_dot_product_attention_forward``, each of its input's
    shape (summed over broadcast dims and, with GQA, over the query heads sharing a key or value head)."""
    dq, dk, dv = attend_backward(dout, cache.attend)
    q_shape, k_shape, v_shape = cache.shapes
    dk = _ungroup(unbroadcast(dk, _grouped(k_shape, cache.groups[0])), cache.groups[0])
    dv = _ungroup(unbroadcast(dv, _grouped(v_shape, cache.groups[1])), cache.groups[1])
    return unbroadcast(dq, q_shape), dk, dv


def scaled_dot_product_attention(query: np.ndarray, key: np.ndarray, value: np.ndarray,
                                 attn_mask: np.ndarray | None = None, dropout_p: float = 0.0,
                                 is_causal: bool = False, scale: float | None = None, enable_gqa: bool = False, *,
                                 dropout_mask: np.ndarray | None = None,
                                 rng: np.random.Generator | None = None) -> np.ndarray:
    """torch's name: the output of ``scaled_dot_product_attention_forward`` alone."""
    return scaled_dot_product_attention_forward(query, key, value, attn_mask, dropout_p, is_causal, scale, enable_gqa,
                                                dropout_mask=dropout_mask, rng=rng)[0]


# -------------------------------------------------------------------- multi-head attention


class MHAGrads(NamedTuple):
    """Every gradient of ``multi_head_attention_forward``: the three inputs (each its own, also when they
    are one array: the caller sums, as autograd does) and each weight (None where there is none)."""

    query: np.ndarray
    key: np.ndarray
    value: np.ndarray
    in_proj_weight: np.ndarray | None
    in_proj_bias: np.ndarray | None
    q_proj_weight: np.ndarray | None
    k_proj_weight: np.ndarray | None
    v_proj_weight: np.ndarray | None
    bias_k: np.ndarray | None
    bias_v: np.ndarray | None
    out_proj_weight: np.ndarray
    out_proj_bias: np.ndarray | None


def multi_head_attention_forward(
        query: np.ndarray, key: np.ndarray, value: np.ndarray, embed_dim_to_check: int, num_heads: int,
        in_proj_weight: np.ndarray | None, in_proj_bias: np.ndarray | None, bias_k: np.ndarray | None,
        bias_v: np.ndarray | None, add_zero_attn: bool, dropout_p: float, out_proj_weight: np.ndarray,
        out_proj_bias: np.ndarray | None, training: bool = True, key_padding_mask: np.ndarray | None = None,
        need_weights: bool = True, attn_mask: np.ndarray | None = None, use_separate_proj_weight: bool = False,
        q_proj_weight: np.ndarray | None = None, k_proj_weight: np.ndarray | None = None,
        v_proj_weight: np.ndarray | None = None, average_attn_weights: bool = True, is_causal: bool = False, *,
        batch_first: bool = False, dropout_mask: np.ndarray | None = None, rng: np.random.Generator | None = None,
) -> tuple[tuple[np.ndarray, np.ndarray | None], MHACache]:
    r"""torch's ``multi_head_attention_forward`` (static_k / static_v are not supported).

    q = query W_q^T + b_q, k = key W_k^T + b_k, v = value W_v^T + b_v, each split into H heads of E / H;
    bias_k / bias_v append one key / value position, add_zero_attn one of zeros; then per head
    A = softmax(q k^T / sqrt(E / H) + masks), dropout on A in training, head = A v, and
    out = concat(heads) W_o^T + b_o. Boolean masks mark the positions to *leave out* (True = masked).

    need_weights=True follows torch's math path (plain softmax: a query whose keys are all masked gives
    NaN, as torch) and returns A after dropout, averaged over the heads when average_attn_weights;
    need_weights=False follows torch's SDPA path (safe softmax: such a query gives out = b_o) and, with
    is_causal and no key_padding_mask, uses the causal mask in place of attn_mask, as torch does.
    The two paths differ from torch's only by rounding.

    Shapes (L target, S source length, N batch, E embed_dim): query (L, N, E), key (S, N, kdim), value
    (S, N, vdim) -- (N, L, E) etc. with ``batch_first`` (keyword-only, scratch's: torch's module transposes
    instead) -- or unbatched (L, E), (S, kdim), (S, vdim); key_padding_mask (N, S) or (S,); attn_mask
    (L, S) or (N * H, L, S). Output (L, N, E) (or as the input's layout), weights (N, L, S') averaged or
    (N, H, L, S'), S' = S + (bias_k given) + add_zero_attn; unbatched without N.
    """
    batched = check_mha_shapes(query, key, value, key_padding_mask, attn_mask, num_heads)
    check_probability(dropout_p, MHA)
    fused = query is key is value and not use_separate_proj_weight
    bf = batch_first and batched
    query, key, value = (cast("np.ndarray", add_batch_axis(x, batched, 1)) for x in (query, key, value))
    key_padding_mask = add_batch_axis(key_padding_mask, batched, 0)
    kpm, attn_mask, causal = canonical_masks(query, key_padding_mask, attn_mask, is_causal, need_weights)
    embed_dim = query.shape[-1]
    if embed_dim != embed_dim_to_check or embed_dim % num_heads:
        raise ValueError(f"{MHA}: was expecting embedding dimension of {embed_dim_to_check} (divisible by "
                         f"num_heads={num_heads}), but got query of shape {query.shape}")
    packed = not use_separate_proj_weight
    w_in = cast("np.ndarray", in_proj_weight)  # given when packed
    weights: tuple[Any, ...] = ((w_in[:embed_dim], w_in[embed_dim:2 * embed_dim], w_in[2 * embed_dim:])
                                if packed else (q_proj_weight, k_proj_weight, v_proj_weight))
    biases = (None,) * 3 if in_proj_bias is None else tuple(np.split(in_proj_bias, 3))
    check_key_value(query, key, value, weights, packed, bf)
    opts = MHAOptions(fused, packed, in_proj_bias is not None, bias_k is not None, add_zero_attn, bf, batched,
                      num_heads, need_weights, average_attn_weights)
    q, k, v = project((query, key, value), weights, biases, (in_proj_weight, in_proj_bias), opts)
    k, v, extra = extend_keys(k, v, bias_k, bias_v, add_zero_attn)
    bias = attention_bias(attn_mask, kpm, causal, (*q.shape[:3], key.shape[1 if bf else 0]), extra, query.dtype)
    keep = keep_mask(q.shape[:3] + k.shape[2:3], dropout_p if training else 0.0, dropout_mask, rng)
    scale = math.sqrt(1.0 / q.shape[-1]) if need_weights else 1.0 / math.sqrt(q.shape[-1])
    heads, dropped, attend = attend_forward(q, k, v, bias, scale, dropout_noise(keep, dropout_p, q.dtype),
                                            safe=not need_weights)
    merged = merge_heads(heads, bf)
    out = linear(merged, out_proj_weight, out_proj_bias)
    attn_weights = (dropped.mean(axis=1) if average_attn_weights else dropped) if need_weights else None
    if not batched:
        out, attn_weights = out[:, 0], None if attn_weights is None else attn_weights[0]
    cache = MHACache(attend, (query, key, value), weights, opts, merged, out_proj_weight, out_proj_bias is not None,
                     keep)
    return (out, attn_weights), cache


def multi_head_attention_backward(grad_attn_output: np.ndarray, grad_attn_weights: np.ndarray | None,
                                  cache: MHACache) -> MHAGrads:
    r"""Every gradient of ``multi_head_attention_forward``, given dL/d(attn_output) and, with need_weights,
    dL/d(attn_weights) (None: 0). Backward through the chain, with the attention core's rules (module
    docstring): out_proj (dW_o = dout^T concat, d concat = dout W_o), the heads' attention
    (dL/dA_d gets grad_attn_weights / H per head when averaged), the extra positions (d bias_k is the
    appended position's gradient summed over the batch; the zero row's is dropped), the projections
    (dx = dq W_q, dW_q = dq^T x, db_q = sum dq; their packed concatenation for in_proj_weight / bias).
    """
    opts = cache.options
    dout = grad_attn_output if opts.batched else grad_attn_output[:, None]
    d_merged = input_grad(dout, cache.out_proj_weight)
    d_out_weight = weight_grad(dout, cache.merged)
    d_out_bias = dout.reshape(-1, dout.shape[-1]).sum(axis=0)
    extra = None
    if grad_attn_weights is not None and opts.need_weights:
        extra = grad_attn_weights if opts.batched else grad_attn_weights[None]
        if opts.average:  # the mean over the heads spreads its gradient evenly back to each head
            extra = extra[:, None] / extra.dtype.type(opts.num_heads)
    dq, dk, dv = attend_backward(split_heads(d_merged, opts.num_heads, opts.batch_first), cache.attend, extra)
    if opts.zero_attn:
        dk, dv = dk[:, :, :-1], dv[:, :, :-1]
    d_bias_k = d_bias_v = None
    if opts.bias_kv:  # bias_k (1, 1, E) = (heads x head_dim) appended to every sample's keys
        d_bias_k = dk[:, :, -1].sum(axis=0).reshape(1, 1, -1)
        d_bias_v = dv[:, :, -1].sum(axis=0).reshape(1, 1, -1)
        dk, dv = dk[:, :, :-1], dv[:, :, :-1]
    (dquery, dkey, dvalue), dweights, dbiases = project_backward(dq, dk, dv, cache)
    if not opts.batched:
        dquery, dkey, dvalue = dquery[:, 0], dkey[:, 0], dvalue[:, 0]
    packed_w = np.concatenate(dweights) if opts.packed else None
    packed_b = np.concatenate(dbiases) if opts.in_bias else None
    separate = cast("tuple[Any, Any, Any]", (None, None, None) if opts.packed else tuple(dweights))
    return MHAGrads(dquery, dkey, dvalue, packed_w, packed_b, *separate, d_bias_k, d_bias_v, d_out_weight,
                    d_out_bias if cache.out_bias else None)
