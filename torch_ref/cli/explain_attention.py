r"""``parity explain attention``: every intermediate value of one self-attention layer, forward and backward,
scratch's beside torch's, on numbers small enough to redo on paper.

The case: a sequence of L = 3 tokens of width E = 2 (``X``, unbatched), one head (``--heads 2``: two heads of
width 1), a causal mask (``--no-mask``: none), and the loss L = sum(C * Y), a fixed weighted sum of the layer's
output Y, so that dL/dY = C. Per head h, with d = E / H and the head's rows of the projections:

    forward:  Q = X W_q^T + b_q,  K = X W_k^T + b_k,  V = X W_v^T + b_v   (each (L, d) per head)
              S = Q K^T / sqrt(d),  S_m = S + M (M: 0, or -inf above the diagonal),  A = softmax(S_m) by rows
              O = A V,  Y = concat_h(O) W_o^T + b_o
    backward: dY = C,  dW_o = dY^T concat(O),  db_o = sum_rows dY,  dO = dY W_o (split by head)
              dA = dO V^T,  dV = A^T dO,  dS = A * (dA - rowsum(dA * A))   (the softmax Jacobian)
              dQ = dS K / sqrt(d),  dK = dS^T Q / sqrt(d)
              dX = dQ W_q + dK W_k + dV W_v   (self-attention: X feeds all three projections)
              dW_q = dQ^T X, db_q = sum_rows dQ (likewise for k and v)

scratch's values come from the functions its MultiheadAttention runs (``_attention_core``: the projection,
the softmax and its backward ``softmax_rows_backward``), step by step; torch's from the same steps in torch
ops on the weights of scratch's layer's twin, each intermediate with ``retain_grad`` (torch's own layer is
one fused function, whose insides no hook reaches). The last rows check the layers themselves: scratch's
``MultiheadAttention`` forward and backward against torch's twin of it.
"""

from __future__ import annotations

import math
from typing import Any, cast

import numpy as np
import torch

from scratch import nn
from scratch.nn.functional import _attention_core as core

from ..convert import to_torch
from ..tolerance import rtol
from .explain import Row, grad_of, row

#: the input X (L, E), the layer's weights and the loss weights C: round numbers, to redo on paper
X = [[1.0, 0.5], [-0.5, 1.0], [0.0, -1.0]]
W_Q, W_K, W_V = [[0.5, -0.5], [1.0, 0.5]], [[1.0, 0.0], [-0.5, 0.5]], [[0.5, 1.0], [1.0, -1.0]]
B_Q, B_K, B_V = [0.1, 0.0], [0.0, 0.2], [-0.1, 0.1]
W_O, B_O = [[1.0, -0.5], [0.5, 0.5]], [0.0, 0.1]
C = [[1.0, -1.0], [0.5, 2.0], [-1.0, 0.5]]
LENGTH, WIDTH = 3, 2


def build_layer(heads: int, dtype: np.dtype) -> nn.MultiheadAttention:
    """scratch's layer holding the case's weights."""
    layer = nn.MultiheadAttention(WIDTH, heads, dtype=dtype)
    layer.in_proj_weight.data[...] = np.array(W_Q + W_K + W_V)
    layer.in_proj_bias.data[...] = np.array(B_Q + B_K + B_V)
    layer.out_proj.weight.data[...] = np.array(W_O)
    layer.out_proj.bias.data[...] = np.array(B_O)
    return layer


def causal_mask(masked: bool) -> np.ndarray | None:
    """True above the diagonal (MultiheadAttention's convention: True = may not attend), or None."""
    return np.triu(np.ones((LENGTH, LENGTH), dtype=bool), k=1) if masked else None


def _heads(a: Any, heads: int) -> Any:
    """(L, E) -> (H, L, d): the head's columns of each row."""
    return a.reshape(LENGTH, heads, WIDTH // heads).transpose(0, 1) if isinstance(a, torch.Tensor) else \
        a.reshape(LENGTH, heads, WIDTH // heads).transpose(1, 0, 2)


def _scratch_steps(layer: nn.MultiheadAttention, x: np.ndarray, mask: np.ndarray | None) -> dict[str, Any]:
    """The forward and backward, step by step, with the functions scratch's layer runs."""
    heads, dtype = layer.num_heads, x.dtype
    w, b = np.split(layer.in_proj_weight.data, 3), np.split(layer.in_proj_bias.data, 3)
    q, k, v = (_heads(core.linear(x, w[i], b[i]), heads) for i in range(3))
    scale = 1.0 / math.sqrt(WIDTH // heads)
    scores = (q * dtype.type(scale)) @ k.swapaxes(-1, -2)
    masked = scores + (0 if mask is None else core.mask_to_bias(mask, dtype, "explain", "mask", take_part=False))
    weights = core.softmax_rows(masked.copy(), safe=False)
    o = weights @ v
    merged = o.transpose(1, 0, 2).reshape(LENGTH, WIDTH)
    y = core.linear(merged, layer.out_proj.weight.data, layer.out_proj.bias.data)
    dy = np.array(C, dtype=dtype)
    d_merged = core.input_grad(dy, layer.out_proj.weight.data)
    do = _heads(d_merged, heads)
    da, dv = do @ v.swapaxes(-1, -2), weights.swapaxes(-1, -2) @ do
    ds = core.softmax_rows_backward(da, weights)
    dq, dk = (ds @ k) * dtype.type(scale), ds.swapaxes(-1, -2) @ (q * dtype.type(scale))
    flat = [d.transpose(1, 0, 2).reshape(LENGTH, WIDTH) for d in (dq, dk, dv)]
    dx = sum(core.input_grad(d, wi) for d, wi in zip(flat, w))
    grads = {f"dL/dW_{n}": core.weight_grad(d, x) for n, d in zip("qkv", flat)}
    grads |= {f"dL/db_{n}": d.sum(axis=0) for n, d in zip("qkv", flat)}
    return {"Q": q, "K": k, "V": v, "S = Q K^T / sqrt(d)": scores, "S_m = S + M": masked,
            "A = softmax(S_m)": weights, "O = A V": o, "Y": y, "L = sum(C * Y)": np.sum(dy * y),
            "dL/dY = C": dy, "dL/dW_o": core.weight_grad(dy, merged), "dL/db_o": dy.sum(axis=0), "dL/dO": do,
            "dL/dA": da, "dL/dV": dv, "dL/dS": ds, "dL/dQ": dq, "dL/dK": dk, "dL/dX": dx, **grads}


def _torch_steps(twin: torch.nn.MultiheadAttention, x: np.ndarray, mask: np.ndarray | None) -> dict[str, Any]:
    """The same steps in torch ops, with torch's autograd for every gradient (``retain_grad``)."""
    heads = twin.num_heads
    xt = torch.from_numpy(x).requires_grad_(True)
    w, b = twin.in_proj_weight.chunk(3), twin.in_proj_bias.chunk(3)
    q, k, v = (_heads(torch.nn.functional.linear(xt, w[i], b[i]), heads) for i in range(3))
    scores = (q * math.sqrt(1.0 / (WIDTH // heads))) @ k.transpose(-1, -2)
    masked = scores if mask is None else scores.masked_fill(torch.from_numpy(mask), -math.inf)
    weights = torch.softmax(masked, dim=-1)
    o = weights @ v
    merged = o.transpose(0, 1).reshape(LENGTH, WIDTH)
    y = twin.out_proj(merged)
    for t in (q, k, v, scores, masked, weights, o, merged, y):
        t.retain_grad()
    loss = (torch.tensor(C, dtype=xt.dtype) * y).sum()
    loss.backward()
    dw_in = grad_of(twin.in_proj_weight)
    wq, wk, wv = (dw_in[i * WIDTH:(i + 1) * WIDTH] for i in range(3))
    bq, bk, bv = grad_of(twin.in_proj_bias).chunk(3)
    values = {"Q": q, "K": k, "V": v, "S = Q K^T / sqrt(d)": scores, "S_m = S + M": masked,
              "A = softmax(S_m)": weights, "O = A V": o, "Y": y, "L = sum(C * Y)": loss, "dL/dY = C": y.grad,
              "dL/dW_o": twin.out_proj.weight.grad, "dL/db_o": twin.out_proj.bias.grad, "dL/dO": o.grad,
              "dL/dA": weights.grad, "dL/dV": v.grad, "dL/dS": masked.grad, "dL/dQ": q.grad, "dL/dK": k.grad,
              "dL/dX": xt.grad, "dL/dW_q": wq, "dL/dW_k": wk, "dL/dW_v": wv, "dL/db_q": bq, "dL/db_k": bk,
              "dL/db_v": bv}
    return {name: t.detach().numpy() for name, t in values.items()}


def _layer_rows(layer: nn.MultiheadAttention, twin: torch.nn.MultiheadAttention, x: np.ndarray,
                mask: np.ndarray | None, tol: float, steps: dict[str, np.ndarray]) -> list[Row]:
    """scratch's MultiheadAttention itself (forward and backward) against torch's."""
    layer.zero_grad()
    y, _ = layer(x, x, x, attn_mask=mask)
    dx = sum(layer.backward(np.array(C, dtype=x.dtype)))
    xt = torch.from_numpy(x).requires_grad_(True)
    twin.zero_grad()
    yt, _ = twin(xt, xt, xt, attn_mask=None if mask is None else torch.from_numpy(mask))
    yt.backward(torch.tensor(C, dtype=xt.dtype))
    ours = {"Y": y, "dL/dX": dx} | {f"dL/d{n}": p.grad for n, p in layer.named_parameters()}
    theirs = {"Y": yt, "dL/dX": xt.grad} | {f"dL/d{n}": p.grad for n, p in twin.named_parameters()}
    return [row("layer", name, "MultiheadAttention", ours[name], theirs[name].detach().numpy(), tol,
                _summand_scale(name, steps)) for name in ours]


#: a bias gradient is a sum of rows of its projection's gradient; db_k is 0 in exact arithmetic (every row of
#: dS sums to 0: softmax ignores a shift of a whole row of scores), so each is judged against its summands
SUMMANDS = {"dL/db_q": ("dL/dQ",), "dL/db_k": ("dL/dK",), "dL/db_v": ("dL/dV",), "dL/db_o": ("dL/dY = C",),
            "dL/din_proj_bias": ("dL/dQ", "dL/dK", "dL/dV"), "dL/dout_proj.bias": ("dL/dY = C",)}


def _summand_scale(name: str, theirs: dict[str, np.ndarray]) -> float:
    return max((float(np.abs(theirs[s]).max()) for s in SUMMANDS.get(name, ())), default=0.0)


def attention_rows(heads: int = 1, masked: bool = True, dtype: Any = np.float64) -> list[Row]:
    """Every value of the case, scratch's beside torch's, in the order computed, then the layers' own."""
    dtype = np.dtype(dtype)
    layer, x, mask = build_layer(heads, dtype), np.array(X, dtype=dtype), causal_mask(masked)
    twin = cast(torch.nn.MultiheadAttention, to_torch(layer))
    ours, theirs = _scratch_steps(layer, x, mask), _torch_steps(twin, x, mask)
    tol = rtol(dtype, WIDTH * LENGTH)
    phase = {"L = sum(C * Y)": "loss"}
    rows = [row(phase.get(name, "backward" if name.startswith("dL/") else "forward"), name, "", ours[name],
                theirs[name], tol, _summand_scale(name, theirs)) for name in ours]
    return rows + _layer_rows(layer, twin, x, mask, tol, theirs)


def case_header(heads: int, masked: bool) -> str:
    """The case's numbers, as the learner needs them to redo it."""
    mask = "causal (token i attends to tokens 0..i)" if masked else "none"
    return (f"X = {X}\nW_q = {W_Q}, b_q = {B_Q}\nW_k = {W_K}, b_k = {B_K}\nW_v = {W_V}, b_v = {B_V}\n"
            f"W_o = {W_O}, b_o = {B_O}\nheads = {heads} (d = {WIDTH // heads}), mask: {mask}\n"
            f"L = sum(C * Y), C = {C}\nsoftmax backward, row by row: dS = A * (dA - rowsum(dA * A)); each row of "
            "dS sums to 0, so dL/db_k is 0 up to rounding\n(a bias gradient is judged against the rows it sums)")
