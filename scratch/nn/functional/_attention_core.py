r"""The shared core of attention (``scaled_dot_product_attention`` and ``multi_head_attention``): the
softmax of the scores, the dropout noise on the weights, masks as additive biases, and the pair
``attend_forward`` / ``attend_backward``. The math is in ``scratch.nn.functional.attention``.
"""

from __future__ import annotations

import warnings
from typing import Any, NamedTuple, cast

import numpy as np

from ...random import get_rng

__all__: list[str] = []  # internal: the public pairs live in ``attention``


class AttendCache(NamedTuple):
    """What ``attend_backward`` needs: the scaled queries, keys, values, the softmax weights A and the
    dropout noise (keep / (1 - p), or None without dropout)."""

    q_scaled: np.ndarray
    k: np.ndarray
    v: np.ndarray
    weights: np.ndarray
    noise: np.ndarray | None
    scale: float


def softmax_rows(scores: np.ndarray, safe: bool) -> np.ndarray:
    r"""softmax along the last axis, in place in ``scores``. A row of -inf only gives NaN (``safe=False``,
    torch's ``softmax``) or zeros (``safe=True``, torch's ``_safe_softmax``, which SDPA uses)."""
    row_max = np.max(scores, axis=-1, keepdims=True, initial=-np.inf)
    masked_rows = row_max == -np.inf
    if safe:
        row_max[masked_rows] = 0.0
    with np.errstate(invalid="ignore", divide="ignore"):  # -inf - -inf and 0 / 0: the NaN torch gives
        scores -= row_max
        np.exp(scores, out=scores)
        scores /= scores.sum(axis=-1, keepdims=True)
    if safe and masked_rows.any():
        np.copyto(scores, 0.0, where=masked_rows)
    return scores


def softmax_rows_backward(d_weights: np.ndarray, weights: np.ndarray) -> np.ndarray:
    r"""dL/dS of A = softmax(S) along the last axis, from dL/dA: the softmax Jacobian
    dA_i/dS_j = A_i (δ_ij - A_j) applied row by row, dS = A * (dA - rowsum(dA * A)).

    Shapes: d_weights and weights (*, L, S) -> (*, L, S). A masked-out position (A = 0) gets dS = 0.
    """
    return cast("np.ndarray", weights * (d_weights - (d_weights * weights).sum(axis=-1, keepdims=True)))


def draw_keep(shape: tuple[int, ...], p: float, rng: np.random.Generator | None) -> np.ndarray:
    """A boolean keep-mask, P(keep) = 1 - p, drawn as scratch's Dropout draws (``rng`` or the global generator)."""
    if p == 1:
        return np.zeros(shape, dtype=bool)
    return np.asarray(get_rng(rng).random(shape) >= p)


def dropout_noise(keep: np.ndarray | None, p: float, dtype: np.dtype) -> np.ndarray | None:
    """keep / (1 - p) in ``dtype`` (zeros for p = 1), as torch's dropout kernel scales; None: no dropout."""
    if keep is None:
        return None
    if p == 1:
        return np.zeros(keep.shape, dtype=dtype)
    return cast("np.ndarray | None", keep.astype(dtype) / dtype.type(1 - p))


def attend_forward(q: np.ndarray, k: np.ndarray, v: np.ndarray, bias: np.ndarray | None, scale: float,
                   noise: np.ndarray | None, safe: bool) -> tuple[np.ndarray, np.ndarray, AttendCache]:
    r"""The core: out = dropout(softmax((q * scale) k^T + bias)) v, returning (out, A_d, cache) where A_d
    are the weights after dropout. ``noise`` is keep / (1 - p) of the scores' shape, or None.

    Shapes: q (*, L, E), k (*, S, E), v (*, S, E_v), bias broadcastable to (*, L, S) -> out (*, L, E_v).
    """
    q_scaled = q * q.dtype.type(scale)
    scores = q_scaled @ k.swapaxes(-1, -2)
    if bias is not None:
        scores += bias
    weights = softmax_rows(scores, safe)
    dropped = weights if noise is None else weights * noise
    return dropped @ v, dropped, AttendCache(q_scaled, k, v, weights, noise, scale)


def attend_backward(dout: np.ndarray, cache: AttendCache,
                    grad_weights: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""(dq, dk, dv) of ``attend_forward``, in the broadcast batch shape; ``grad_weights`` is an extra
    dL/dA_d (the returned weights' gradient), added before the softmax backward:

        dA_d = dout v^T (+ grad_weights),  dv = A_d^T dout,  dA = dA_d * noise,
        dS = A * (dA - rowsum(dA * A)),    dq = (dS k) * scale,  dk = dS^T (q * scale).
    """
    q_scaled, k, v, weights, noise, scale = cache
    dropped = weights if noise is None else weights * noise
    d_dropped = dout @ v.swapaxes(-1, -2)
    if grad_weights is not None:
        d_dropped += grad_weights
    dv = dropped.swapaxes(-1, -2) @ dout
    d_weights = d_dropped if noise is None else d_dropped * noise
    d_scores = softmax_rows_backward(d_weights, weights)
    dq = (d_scores @ k) * q_scaled.dtype.type(scale)
    dk = d_scores.swapaxes(-1, -2) @ q_scaled
    return dq, dk, dv


def causal_bias(length: int, source: int, dtype: np.dtype) -> np.ndarray:
    """0 on and below the diagonal, -inf above it (top-left aligned), of shape (L, S)."""
    return np.triu(np.full((length, source), -np.inf, dtype=dtype), k=1)


def mask_to_bias(mask: np.ndarray, dtype: np.dtype, owner: str, name: str, take_part: bool) -> np.ndarray:
    """A boolean mask as 0 / -inf (``take_part``: True marks positions that attend, SDPA's convention;
    else True marks positions that are masked out, MultiheadAttention's), or a float mask as it is."""
    if not isinstance(mask, np.ndarray):
        raise TypeError(f"{owner}: expected {name} to be a numpy.ndarray or None, got {type(mask).__name__}")
    if mask.dtype == bool:
        bias = np.zeros(mask.shape, dtype=dtype)
        bias[~mask if take_part else mask] = -np.inf
        return bias
    if mask.dtype.kind != "f":
        raise TypeError(f"{owner}: only bool and floating types of {name} are supported, got dtype {mask.dtype}")
    if mask.dtype != dtype:
        raise TypeError(f"{owner}: expected a float {name} of the query's dtype {dtype}, got {mask.dtype}")
    return mask


def unbroadcast(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """``grad`` summed over the dims that broadcasting added or stretched, back to ``shape``."""
    lead = grad.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(shape) if n == 1 and grad.shape[lead + i] != 1)
    return grad.sum(axis=axes).reshape(shape) if axes else grad


# ------------------------------------------------------- MultiheadAttention's steps
MHA = "MultiheadAttention"


class MHAOptions(NamedTuple):
    fused: bool  # self-attention with packed weights: one matrix product projects q, k and v
    packed: bool  # in_proj_weight (3E, E) rather than q/k/v_proj_weight
    in_bias: bool
    bias_kv: bool
    zero_attn: bool
    batch_first: bool  # the layout of the (batched) inputs
    batched: bool
    num_heads: int
    need_weights: bool
    average: bool


class MHACache(NamedTuple):
    attend: AttendCache
    inputs: tuple[np.ndarray, np.ndarray, np.ndarray]  # batched, in the caller's layout
    proj_weights: tuple[np.ndarray, np.ndarray, np.ndarray]  # W_q, W_k, W_v
    options: MHAOptions
    merged: np.ndarray  # the heads' outputs concatenated, before out_proj, in the caller's layout
    out_proj_weight: np.ndarray
    out_bias: bool
    keep: np.ndarray | None  # the dropout keep-mask, (N, H, L, S') with S' counting bias_k and the zero row


def check_mha_shapes(query: np.ndarray, key: np.ndarray, value: np.ndarray, key_padding_mask: np.ndarray | None,
                      attn_mask: np.ndarray | None, num_heads: int) -> bool:
    """torch's ``_mha_shape_check``: (batched) 3-D or (unbatched) 2-D inputs and masks to match; True if batched."""
    for name, x in (("query", query), ("key", key), ("value", value)):
        if not isinstance(x, np.ndarray) or x.dtype.kind != "f":
            got = x.dtype if isinstance(x, np.ndarray) else type(x).__name__
            raise TypeError(f"{MHA}: expected {name} to be a floating numpy.ndarray, got {got}")
    if query.ndim not in (2, 3):
        raise ValueError(f"{MHA}: query should be unbatched 2D or batched 3D array but received {query.ndim}-D query")
    batched = query.ndim == 3
    kind, want = ("batched (3-D)", 3) if batched else ("unbatched (2-D)", 2)
    if key.ndim != want or value.ndim != want:
        raise ValueError(f"{MHA}: For {kind} `query`, expected `key` and `value` to be {want}-D but found "
                         f"{key.ndim}-D and {value.ndim}-D arrays respectively")
    if key_padding_mask is not None and np.ndim(key_padding_mask) != want - 1:
        raise ValueError(f"{MHA}: For {kind} `query`, expected `key_padding_mask` to be `None` or {want - 1}-D but "
                         f"found {np.ndim(key_padding_mask)}-D array instead")
    if attn_mask is not None and np.ndim(attn_mask) not in (2, 3):
        raise ValueError(f"{MHA}: For {kind} `query`, expected `attn_mask` to be `None`, 2-D or 3-D but found "
                         f"{np.ndim(attn_mask)}-D array instead")
    if not batched and attn_mask is not None and attn_mask.ndim == 3:
        expected = (num_heads, query.shape[0], key.shape[0])
        if attn_mask.shape != expected:
            raise ValueError(f"{MHA}: Expected `attn_mask` shape to be {expected} but got {attn_mask.shape}")
    return batched


def canonical_masks(query: np.ndarray, key_padding_mask: np.ndarray | None, attn_mask: np.ndarray | None,
                     is_causal: bool, need_weights: bool) -> tuple[np.ndarray | None, np.ndarray | None, bool]:
    """torch's mask handling: boolean masks (True = masked out) become 0 / -inf in the query's dtype; with
    is_causal, no key_padding_mask and need_weights=False, attn_mask is dropped for SDPA's causal mask
    (torch's quirk: the hint wins over the mask it stands for); a key_padding_mask turns is_causal off."""
    if (key_padding_mask is not None and attn_mask is not None
            and key_padding_mask.dtype != attn_mask.dtype):
        warnings.warn("Support for mismatched key_padding_mask and attn_mask is deprecated. Use same type for "
                      "both instead.", stacklevel=5)
    if key_padding_mask is not None:
        key_padding_mask = mask_to_bias(key_padding_mask, query.dtype, MHA, "key_padding_mask", take_part=False)
    if is_causal and attn_mask is None:
        raise RuntimeError(f"{MHA}: Need attn_mask if specifying the is_causal hint. You may use the Transformer "
                           "module method `generate_square_subsequent_mask` to create this mask.")
    if is_causal and key_padding_mask is None and not need_weights:
        return None, None, True
    if attn_mask is not None:
        attn_mask = mask_to_bias(attn_mask, query.dtype, MHA, "attn_mask", take_part=False)
    return key_padding_mask, attn_mask, False


def linear(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None) -> np.ndarray:
    """x W^T + b as one matrix product, over a contiguous array or a (1, 0)-transposed view of one."""
    if not x.flags.c_contiguous and x.ndim == 3 and x.swapaxes(0, 1).flags.c_contiguous:
        return linear(x.swapaxes(0, 1), weight, bias).swapaxes(0, 1)
    out = (x.reshape(-1, x.shape[-1]) @ weight.T).reshape(*x.shape[:-1], weight.shape[0])
    if bias is not None:
        out += bias
    return cast("np.ndarray", out)


def input_grad(grad: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """grad W, the input gradient of ``linear``, as one 2-D product (NumPy's stacked matmul against a
    broadcast 2-D operand can miss BLAS)."""
    return cast("np.ndarray", (grad.reshape(-1, grad.shape[-1]) @ weight).reshape(*grad.shape[:-1], weight.shape[1]))


def weight_grad(grad: np.ndarray, x: np.ndarray) -> np.ndarray:
    """sum over the leading dims of grad^T x: the weight gradient of ``_linear``."""
    return cast("np.ndarray", grad.reshape(-1, grad.shape[-1]).T @ x.reshape(-1, x.shape[-1]))


def split_heads(x: np.ndarray, num_heads: int, batch_first: bool) -> np.ndarray:
    """(L, N, E) (or (N, L, E) with batch_first) -> (N, H, L, E / H), contiguous."""
    lead = x.shape[:2]
    x = x.reshape(*lead, num_heads, x.shape[-1] // num_heads)
    return np.ascontiguousarray(x.transpose(0, 2, 1, 3) if batch_first else x.transpose(1, 2, 0, 3))


def merge_heads(x: np.ndarray, batch_first: bool) -> np.ndarray:
    """(N, H, L, E / H) -> (L, N, E) (or (N, L, E) with batch_first), contiguous: ``split_heads``' inverse."""
    n, h, length, d = x.shape
    if batch_first:
        return x.transpose(0, 2, 1, 3).reshape(n, length, h * d)
    return x.transpose(2, 0, 1, 3).reshape(length, n, h * d)


def check_key_value(query: np.ndarray, key: np.ndarray, value: np.ndarray, weights: tuple[Any, ...], packed: bool,
                     batch_first: bool) -> None:
    """Feature sizes against the projection weights, and sequence/batch sizes of key and value, as torch."""
    if packed and key.shape != value.shape:
        raise ValueError(f"{MHA}: key shape {key.shape} does not match value shape {value.shape}")
    if not packed and key.shape[:2] != value.shape[:2]:
        raise ValueError(f"{MHA}: key's sequence and batch dims {key.shape[:2]} do not match value's "
                         f"{value.shape[:2]}")
    axis = 0 if batch_first else 1
    if key.shape[axis] != query.shape[axis]:
        raise ValueError(f"{MHA}: expected key and value with the query's batch size {query.shape[axis]}, got "
                         f"query {query.shape} and key {key.shape}")
    for name, dim, x, w in (("key", "kdim", key, weights[1]), ("value", "vdim", value, weights[2])):
        if x.shape[-1] != w.shape[1]:
            raise ValueError(f"{MHA}: expected {name} with {w.shape[1]} features ({dim}={w.shape[1]}), got "
                             f"{name} of shape {x.shape}")


def project(inputs: tuple[Any, ...], weights: tuple[Any, ...], biases: tuple[Any, ...], in_proj: tuple[Any, ...],
            opts: MHAOptions) -> list[np.ndarray]:
    """q, k, v = x W^T + b for each input, split into heads (N, H, L, E / H); self-attention with packed
    weights is one matrix product, as torch's ``_in_projection_packed``."""
    if opts.fused:
        proj = linear(inputs[0], *in_proj)
        shape = proj.shape[:2]
        proj = proj.reshape(*shape, 3, opts.num_heads, proj.shape[-1] // (3 * opts.num_heads))
        order = (2, 0, 3, 1, 4) if opts.batch_first else (2, 1, 3, 0, 4)  # -> (3, N, H, L, E / H)
        proj = np.ascontiguousarray(proj.transpose(order))
        return [proj[0], proj[1], proj[2]]
    return [split_heads(linear(x, w, b), opts.num_heads, opts.batch_first) for x, w, b in zip(inputs, weights, biases)]


def extend_keys(k: np.ndarray, v: np.ndarray, bias_k: np.ndarray | None, bias_v: np.ndarray | None,
                 add_zero_attn: bool) -> tuple[np.ndarray, np.ndarray, int]:
    """Append bias_k / bias_v as one more key / value position, then (add_zero_attn) a position of zeros."""
    n, h, _, d = k.shape
    extra = 0
    if (bias_k is None) != (bias_v is None):
        raise ValueError(f"{MHA}: bias_k and bias_v must be given together")
    if bias_k is not None:
        k = np.concatenate([k, np.broadcast_to(bias_k.reshape(1, h, 1, d), (n, h, 1, d))], axis=2)
        v = np.concatenate([v, np.broadcast_to(cast("np.ndarray", bias_v).reshape(1, h, 1, d), (n, h, 1, d))], axis=2)
        extra += 1
    if add_zero_attn:
        k = np.concatenate([k, np.zeros((n, h, 1, d), dtype=k.dtype)], axis=2)
        v = np.concatenate([v, np.zeros((n, h, 1, v.shape[-1]), dtype=v.dtype)], axis=2)
        extra += 1
    return k, v, extra


def attention_bias(attn_mask: np.ndarray | None, key_padding_mask: np.ndarray | None, causal: bool,
                    shape: tuple[int, int, int, int], extra: int, dtype: np.dtype) -> np.ndarray | None:
    """The additive bias of the scores (N, H, L, S + extra): attn_mask (L, S) or (N * H, L, S) plus the
    key_padding_mask (N, S), each padded with 0 for the extra positions (bias_k, the zero row), or SDPA's
    causal mask."""
    n, h, length, source = shape
    if causal:
        return causal_bias(length, source + extra, dtype)

    def pad(mask: np.ndarray) -> np.ndarray:
        return np.pad(mask, [(0, 0)] * (mask.ndim - 1) + [(0, extra)]) if extra else mask

    bias = None
    if attn_mask is not None:
        expected = (length, source) if attn_mask.ndim == 2 else (n * h, length, source)
        if attn_mask.shape != expected:
            raise ValueError(f"{MHA}: The shape of the {attn_mask.ndim}D attn_mask is {attn_mask.shape}, but should "
                             f"be {expected}.")
        bias = pad(attn_mask).reshape(*((n, h) if attn_mask.ndim == 3 else (1, 1)), length, source + extra)
    if key_padding_mask is not None:
        if key_padding_mask.shape != (n, source):
            raise ValueError(f"{MHA}: expected key_padding_mask of shape {(n, source)} (N, S), got "
                             f"{key_padding_mask.shape}")
        padding = pad(key_padding_mask).reshape(n, 1, 1, source + extra)
        bias = padding if bias is None else bias + padding
    return bias


def keep_mask(shape: tuple[int, ...], p: float, given: np.ndarray | None,
               rng: np.random.Generator | None) -> np.ndarray | None:
    """The dropout keep-mask of the weights: None without dropout, else ``given`` (checked) or a fresh draw."""
    if p == 0:
        return None
    if given is None:
        return draw_keep(shape, p, rng)
    if not isinstance(given, np.ndarray) or given.dtype != bool or given.shape != shape:
        got = f"{given.dtype} {given.shape}" if isinstance(given, np.ndarray) else type(given).__name__
        raise ValueError(f"{MHA}: expected a boolean dropout_mask of the weights' shape {shape}, got {got}")
    return given


def add_batch_axis(x: np.ndarray | None, batched: bool, axis: int) -> np.ndarray | None:
    return x if x is None or batched else np.expand_dims(x, axis)


def project_backward(dq: np.ndarray, dk: np.ndarray, dv: np.ndarray, cache: MHACache) -> list[list[Any]]:
    """dL/d(each input) and the projections' weight and bias gradients (three each), from the heads' grads."""
    opts = cache.options
    inputs, weights = cache.inputs, cache.proj_weights
    dproj = [merge_heads(d, opts.batch_first) for d in (dq, dk, dv)]
    if opts.fused:  # one product for the packed weight's gradient, as the forward's one projection
        stacked = np.concatenate(dproj, axis=-1)
        dweights = np.split(weight_grad(stacked, inputs[0]), 3)
    else:
        dweights = [weight_grad(d, x) for d, x in zip(dproj, inputs)]
    dbiases = [d.reshape(-1, d.shape[-1]).sum(axis=0) for d in dproj] if opts.in_bias else [None] * 3
    dinputs = [input_grad(d, w) for d, w in zip(dproj, weights)]
    return [dinputs, dweights, dbiases]
