"""scaled_dot_product_attention: parity with torch's (every mask kind, causal, scale, GQA, broadcast
batch dims, fully masked rows), dropout under a shared mask, finite differences and bad input."""

import math
import re

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

from scratch import nn
from scratch.gradcheck import gradcheck
from scratch.nn import functional as F
from torch_ref.arrays import random_like
from torch_ref.report import ParityResult
from torch_ref.testing import DTYPES
from torch_ref.tolerance import MIN_GRAD_NORM, rtol

from .attention_helpers import normal

SDPA = "scaled_dot_product_attention"


def sdpa_parity(dtype, q_shape, k_shape, v_shape, mask=None, seed=0, nonzero=True, **options):
    """Scratch's forward/backward against torch's SDPA with autograd, the same random upstream gradient;
    every gradient must be non-trivial unless ``nonzero`` is False (no keys: dL/dq is 0 in both)."""
    q, k, v = (normal(dtype, *s, seed=seed + i) for i, s in enumerate((q_shape, k_shape, v_shape)))
    out, cache = F.scaled_dot_product_attention_forward(q, k, v, mask, **options)
    grad = random_like(out, np.random.default_rng(seed + 9))
    grads = F.scaled_dot_product_attention_backward(grad, cache)
    leaves = [torch.tensor(x, requires_grad=True) for x in (q, k, v)]
    theirs = TF.scaled_dot_product_attention(*leaves, None if mask is None else torch.tensor(mask), **options)
    theirs.backward(torch.tensor(grad))
    tol = rtol(dtype, max(*q_shape, *k_shape, *v_shape))
    result = ParityResult()
    result.add("output", out, theirs, tol)
    for name, ours, leaf in zip(("query", "key", "value"), grads, leaves):
        result.add(f"grad_{name}", ours, leaf.grad, tol, MIN_GRAD_NORM if nonzero else None)
    assert result.ok, "\n".join(result.failures())
    return out, grads


def bool_mask(shape, seed=5, p=0.3):
    return np.random.default_rng(seed).random(shape) > p


CASES = {
    "4d": lambda d: ((2, 3, 4, 8), (2, 3, 5, 8), (2, 3, 5, 6), None, {}),
    "3d": lambda d: ((2, 4, 8), (2, 5, 8), (2, 5, 8), None, {}),
    "2d": lambda d: ((4, 8), (5, 8), (5, 8), None, {}),
    "broadcast-query-batch": lambda d: ((1, 3, 4, 8), (2, 3, 5, 8), (2, 3, 5, 8), None, {}),
    "broadcast-key-heads": lambda d: ((2, 3, 4, 8), (2, 1, 5, 8), (2, 1, 5, 8), None, {}),
    "key-fewer-dims": lambda d: ((2, 3, 4, 8), (3, 5, 8), (3, 5, 8), None, {}),
    "bool-mask-2d": lambda d: ((2, 3, 4, 8), (2, 3, 5, 8), (2, 3, 5, 8), bool_mask((4, 5)), {}),
    "bool-mask-padding": lambda d: ((2, 3, 4, 8), (2, 3, 5, 8), (2, 3, 5, 8), bool_mask((2, 1, 1, 5)), {}),
    "bool-mask-full-4d": lambda d: ((2, 3, 4, 8), (2, 3, 5, 8), (2, 3, 5, 8), bool_mask((2, 3, 4, 5)), {}),
    "float-mask": lambda d: ((2, 3, 4, 8), (2, 3, 5, 8), (2, 3, 5, 8), normal(d, 3, 4, 5, seed=6), {}),
    "float-mask-inf": lambda d: ((2, 3, 4, 8), (2, 3, 5, 8), (2, 3, 5, 8),
                                 np.where(bool_mask((4, 5)), 0.5, -np.inf).astype(d), {}),
    "causal": lambda d: ((2, 3, 5, 8), (2, 3, 5, 8), (2, 3, 5, 8), None, {"is_causal": True}),
    "causal-L<S": lambda d: ((2, 3, 3, 8), (2, 3, 6, 8), (2, 3, 6, 8), None, {"is_causal": True}),
    "causal-L>S": lambda d: ((2, 3, 6, 8), (2, 3, 4, 8), (2, 3, 4, 8), None, {"is_causal": True}),
    "scale": lambda d: ((2, 3, 4, 8), (2, 3, 5, 8), (2, 3, 5, 8), None, {"scale": 0.7}),
    "negative-scale": lambda d: ((2, 3, 4, 8), (2, 3, 5, 8), (2, 3, 5, 8), None, {"scale": -0.2}),
    "gqa": lambda d: ((2, 4, 4, 8), (2, 2, 5, 8), (2, 2, 5, 6), None, {"enable_gqa": True}),
    "gqa-k-v-differ": lambda d: ((2, 6, 4, 8), (2, 3, 5, 8), (2, 1, 5, 8), bool_mask((4, 5)), {"enable_gqa": True}),
    "gqa-same-heads": lambda d: ((2, 3, 4, 8), (2, 3, 5, 8), (2, 3, 5, 8), None, {"enable_gqa": True}),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", CASES)
def test_parity(case, dtype):
    q, k, v, mask, options = CASES[case](dtype)
    sdpa_parity(dtype, q, k, v, mask, **options)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", ["bool", "float"])
def test_a_fully_masked_row_gives_zeros_as_torch(kind, dtype):
    """torch 2.13's CPU SDPA uses a safe softmax: a query with every key masked out gets weights 0 (not NaN)."""
    mask = bool_mask((4, 5))
    mask[1] = False
    if kind == "float":
        mask = np.where(mask, 0.0, -np.inf).astype(dtype)
    out, (dq, _, _) = sdpa_parity(dtype, (2, 3, 4, 8), (2, 3, 5, 8), (2, 3, 5, 8), mask)
    np.testing.assert_array_equal(out[:, :, 1], 0)
    np.testing.assert_array_equal(dq[:, :, 1], 0)


def test_no_keys_gives_zeros_as_torch():
    out, grads = sdpa_parity(np.float64, (2, 4, 8), (2, 0, 8), (2, 0, 8), nonzero=False)
    np.testing.assert_array_equal(out, 0)
    np.testing.assert_array_equal(grads[0], 0)
    assert grads[1].shape == (2, 0, 8)


def torch_reference(q, k, v, keep, p, mask=None, is_causal=False):
    """torch's documented SDPA math, with ``keep`` as the dropout draw: softmax(q k^T / sqrt(E) + bias) *
    keep / (1 - p), times v; autograd gives the gradients."""
    length, source = q.shape[-2], k.shape[-2]
    bias = torch.zeros(length, source, dtype=q.dtype)
    if is_causal:
        bias.masked_fill_(torch.ones(length, source, dtype=torch.bool).tril().logical_not(), float("-inf"))
    if mask is not None:
        bias = bias.masked_fill(mask.logical_not(), float("-inf"))
    weights = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1]) + bias, dim=-1)
    return (weights * torch.from_numpy(keep).to(q.dtype) / (1 - p)) @ v


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("p", "mask", "is_causal"), [(0.3, None, False), (0.5, "bool", False), (0.2, None, True)])
def test_dropout_with_a_shared_mask(p, mask, is_causal, dtype):
    q, k, v = normal(dtype, 2, 3, 4, 8, seed=1), normal(dtype, 2, 3, 5, 8, seed=2), normal(dtype, 2, 3, 5, 8, seed=3)
    mask = bool_mask((4, 5)) if mask == "bool" else None
    out, cache = F.scaled_dot_product_attention_forward(q, k, v, mask, p, is_causal, rng=np.random.default_rng(4))
    assert cache.keep.shape == (2, 3, 4, 5) and cache.keep.dtype == bool and 0 < cache.keep.mean() < 1
    again = F.scaled_dot_product_attention(q, k, v, mask, p, is_causal, dropout_mask=cache.keep)
    np.testing.assert_array_equal(out, again)
    grad = random_like(out, np.random.default_rng(8))
    grads = F.scaled_dot_product_attention_backward(grad, cache)
    leaves = [torch.tensor(x, requires_grad=True) for x in (q, k, v)]
    theirs = torch_reference(*leaves, cache.keep, p, None if mask is None else torch.tensor(mask), is_causal)
    theirs.backward(torch.tensor(grad))
    result = ParityResult()
    result.add("output", out, theirs, rtol(dtype, 8))
    for name, ours, leaf in zip("qkv", grads, leaves):
        result.add(f"grad_{name}", ours, leaf.grad, rtol(dtype, 8), MIN_GRAD_NORM)
    assert result.ok, "\n".join(result.failures())


def test_dropout_p_one_gives_zeros_as_torch():
    q = normal(np.float32, 2, 3, 8)
    ours = F.scaled_dot_product_attention(q, q, q, dropout_p=1.0)
    theirs = TF.scaled_dot_product_attention(*(torch.tensor(q),) * 3, dropout_p=1.0)
    np.testing.assert_array_equal(ours, theirs.numpy())
    np.testing.assert_array_equal(ours, 0)


class SDPAModule(nn.Module):
    """SDPA as a module with three inputs, for ``scratch.gradcheck``."""

    def __init__(self, mask=None, **options):
        super().__init__()
        self.mask, self.options = mask, options

    def forward(self, q, k, v):
        out, cache = F.scaled_dot_product_attention_forward(q, k, v, self.mask, **self.options)
        self._save(cache)
        return out

    def backward(self, grad_output):
        return F.scaled_dot_product_attention_backward(grad_output, self._saved(grad_output))


@pytest.mark.parametrize("options", [
    {}, {"mask": "bool"}, {"mask": "float"}, {"is_causal": True, "scale": 0.6}, {"enable_gqa": True},
    {"dropout_p": 0.4, "dropout_mask": "fixed"},
], ids=["plain", "bool-mask", "float-mask", "causal-scale", "gqa", "dropout"])
def test_finite_differences(options):
    options = dict(options)
    mask = options.pop("mask", None)
    mask = bool_mask((4, 5)) if mask == "bool" else (normal(np.float64, 4, 5, seed=7) if mask == "float" else None)
    if options.get("dropout_mask") == "fixed":
        options["dropout_mask"] = bool_mask((2, 4, 4, 5), seed=8, p=0.4)
    k_heads = 2 if options.get("enable_gqa") else 4
    inputs = (normal(np.float64, 2, 4, 4, 3, seed=1), normal(np.float64, 2, k_heads, 5, 3, seed=2),
              normal(np.float64, 2, k_heads, 5, 2, seed=3))
    result = gradcheck(SDPAModule(mask, **options), *inputs, rng=np.random.default_rng(99)).raise_on_failure()
    assert {c.quantity for c in result.checks} == {"input[0]", "input[1]", "input[2]"}
    assert all(c.norm > 1e-6 for c in result.checks)


BAD = [
    (lambda: F.scaled_dot_product_attention(np.ones(3), np.ones(3), np.ones(3)), ValueError, "at least 2 dimensional"),
    (lambda: F.scaled_dot_product_attention(np.ones((2, 3)), np.ones((2, 3), np.float32), np.ones((2, 3))),
     TypeError, "to have the same dtype"),
    (lambda: F.scaled_dot_product_attention(np.ones((2, 3)), np.ones((2, 4)), np.ones((2, 3))),
     ValueError, "expected query (*, L, E), key (*, S, E)"),
    (lambda: F.scaled_dot_product_attention(np.ones((2, 3)), np.ones((2, 3)), np.ones((2, 3)), np.ones((2, 2), bool),
                                            is_causal=True), ValueError, "Explicit attn_mask should not be set"),
    (lambda: F.scaled_dot_product_attention(np.ones((2, 3)), np.ones((2, 3)), np.ones((2, 3)), np.ones((3, 2), bool)),
     ValueError, "expected attn_mask broadcastable to the weights' shape (2, 2)"),
    (lambda: F.scaled_dot_product_attention(np.ones((2, 3)), np.ones((2, 3)), np.ones((2, 3)), np.ones((2, 2), int)),
     TypeError, "only bool and floating types of attn_mask"),
    (lambda: F.scaled_dot_product_attention(np.ones((2, 3)), np.ones((2, 3)), np.ones((2, 3)),
                                            np.ones((2, 2), np.float32)), TypeError, "query's dtype float64"),
    (lambda: F.scaled_dot_product_attention(np.ones((4, 2, 3)), np.ones((3, 2, 3)), np.ones((3, 2, 3)),
                                            enable_gqa=True), ValueError, "must divide the number of heads"),
    (lambda: F.scaled_dot_product_attention(np.ones((4, 2, 3)), np.ones((2, 2, 3)), np.ones((2, 2, 3))),
     ValueError, "do not broadcast"),
    (lambda: F.scaled_dot_product_attention(np.ones((2, 3)), np.ones((2, 3)), np.ones((2, 3)), dropout_p=1.5),
     ValueError, "dropout probability has to be between 0 and 1"),
    (lambda: F.scaled_dot_product_attention(np.ones((2, 3)), np.ones((2, 3)), np.ones((2, 3)), dropout_p=0.5,
                                            dropout_mask=np.ones((3, 2), bool)), ValueError, "boolean dropout_mask"),
    (lambda: F.scaled_dot_product_attention(np.ones((2, 3), int), np.ones((2, 3)), np.ones((2, 3))),
     TypeError, "expected query to be a floating numpy.ndarray"),
]


@pytest.mark.parametrize(("call", "error", "message"), BAD, ids=[m for _, _, m in BAD])
def test_bad_input(call, error, message):
    with pytest.raises(error, match=f"{SDPA}: .*" + re.escape(message)):
        call()
