r"""The scale a module's input gradient is judged against when its formula cancels larger terms.

The parity measure (``torch_ref/tolerance.py``) judges an element's error relative to |b_i| + max|b|, the
array's own scale, standing in for the magnitude of the terms each value was computed from. For a gradient
that cancels terms larger than every value of its array this is not the round-off bound: with
dL/dx = g (1 - y^2), Tanh's gradient is a difference of the terms g and g y^2, and a rounding of y (NumPy's
and torch's tanh differ in the last ulp, ``|δy| <~ eps |y|``) moves it by ``2 |g| |y| |δy| <~ 2 eps |g| y^2``,
which for y near ±1 is far above eps |g (1 - y^2)|. Relative to the magnitude of its terms, |g| (1 + y^2),
that same error is O(eps), as any correct rounding is. So such a gradient is compared with the measure's
scale raised to ``max_i |g_i| (1 + y_i^2)`` (``compare_arrays(scale=...)``, as ``tolerance.py`` describes for
trajectories): the tolerance is unchanged, only what it is relative to. A formula slip is off by about
|b| itself and still fails. Only the classes whose gradient formula is listed here are judged so, and only
the inputs it names (MultiheadAttention's value gradient keeps the measure's own scale).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple, cast

import numpy as np
import torch

from scratch.nn.functional import multi_head_attention_forward
from scratch.nn.functional._attention_core import input_grad, merge_heads, split_heads

from ..arrays import leaves, to_numpy


class Pass(NamedTuple):
    """One torch pass of the oracle: the module, its forward arguments by name, its output and the upstream
    gradient of each output leaf (NumPy; None where the leaf takes none)."""

    module: torch.nn.Module
    inputs: dict[str, Any]
    output: Any
    grad_output: Any


def _tanh_terms(run: Pass) -> dict[str, float]:
    """max |g| (1 + y^2): the terms of dL/dx = g - g y^2."""
    y, g = (np.asarray(to_numpy(leaves(a)[0]), dtype=np.float64) for a in (run.output, run.grad_output))
    return {next(iter(run.inputs)): float(np.max(np.abs(g) * (1 + y * y), initial=0.0))}


def _float64(value: Any) -> Any:
    """A floating tensor as a float64 array, a boolean mask as a bool array, anything else unchanged."""
    if not isinstance(value, torch.Tensor):
        return value
    array = to_numpy(value)
    return array.astype(np.float64) if value.is_floating_point() else array


def _finite_max(terms: np.ndarray) -> float:
    return float(np.max(terms[np.isfinite(terms)], initial=0.0))


def _mha_forward(run: Pass) -> tuple[Any, Any]:
    """scratch's functional forward in float64 on torch's weights and the pass's inputs: (output, cache)."""
    m, x = cast("torch.nn.MultiheadAttention", run.module), {k: _float64(v) for k, v in run.inputs.items()}
    w = {name: _float64(p) for name, p in m.named_parameters()}
    return multi_head_attention_forward(
        x["query"], x["key"], x["value"], m.embed_dim, m.num_heads, w.get("in_proj_weight"), w.get("in_proj_bias"),
        w.get("bias_k"), w.get("bias_v"), m.add_zero_attn, 0.0, w["out_proj.weight"], w.get("out_proj.bias"),
        training=False, key_padding_mask=x.get("key_padding_mask"), need_weights=x.get("need_weights", True),
        attn_mask=x.get("attn_mask"), use_separate_proj_weight=not m._qkv_same_embed_dim,
        q_proj_weight=w.get("q_proj_weight"), k_proj_weight=w.get("k_proj_weight"),
        v_proj_weight=w.get("v_proj_weight"), average_attn_weights=x.get("average_attn_weights", True),
        is_causal=x.get("is_causal", False), batch_first=m.batch_first)


def _mha_terms(run: Pass) -> dict[str, float]:
    r"""The terms of MultiheadAttention's query and key gradients, which cancel in the softmax Jacobian
    dS = A * (dA - rowsum(dA * A)) (A the weights of a head, dA their upstream gradient: dout_head v^T plus
    the returned weights' gradient, / H when averaged). Their magnitude is the backward with every product
    and sum in absolute values, in float64 from torch's weights and the pass's inputs:

        T = A * (|dA| + |rowsum(dA * A)|),  dq: (T |k|) * scale,  dk: T^T |q * scale|,

    the heads merged, then |dq| |W_q| for the query (|dk| |W_k| for the key; bias_k's and the zero row's
    positions dropped). The value gradient does not go through dS: its scale is the measure's own. With
    dropout in training torch draws its own mask, so the measure's own scale stands for every input.
    """
    module = cast("torch.nn.MultiheadAttention", run.module)
    if module.training and module.dropout > 0:
        return {}
    _, cache = _mha_forward(run)
    opts, attend = cache.options, cache.attend
    grad_out = np.asarray(run.grad_output[0], dtype=np.float64)
    grad_weights = None if run.grad_output[1] is None else np.asarray(run.grad_output[1], dtype=np.float64)
    dout = grad_out if opts.batched else grad_out[:, None]
    d_heads = split_heads(input_grad(dout, cache.out_proj_weight), opts.num_heads, opts.batch_first)
    d_weights = d_heads @ attend.v.swapaxes(-1, -2)
    if grad_weights is not None and opts.need_weights:
        extra = grad_weights if opts.batched else grad_weights[None]
        d_weights = d_weights + (extra[:, None] / opts.num_heads if opts.average else extra)
    a = attend.weights
    terms = a * (np.abs(d_weights) + np.abs((d_weights * a).sum(axis=-1, keepdims=True)))
    dq = (terms @ np.abs(attend.k)) * attend.scale
    dk = terms.swapaxes(-1, -2) @ np.abs(attend.q_scaled)
    dk = dk[:, :, : dk.shape[2] - int(opts.zero_attn) - int(opts.bias_kv)]
    w_q, w_k = (np.abs(w) for w in cache.proj_weights[:2])
    return {"query": _finite_max(input_grad(merge_heads(dq, opts.batch_first), w_q)),
            "key": _finite_max(input_grad(merge_heads(dk, opts.batch_first), w_k))}


#: class name -> the pass -> input name -> the magnitude of that input gradient's terms
TERMS: dict[str, Callable[[Pass], dict[str, float]]] = {"Tanh": _tanh_terms, "MultiheadAttention": _mha_terms}


def gradient_scale(name: str, run: Pass) -> dict[str, float]:
    """The scale of each input gradient of class ``name``: the magnitude of the terms it cancels for the
    inputs its formula in ``TERMS`` names; an input left out (every input of an unlisted class) keeps 0,
    the measure's own scale (max|b|)."""
    return TERMS[name](run) if name in TERMS else {}
