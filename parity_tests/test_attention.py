"""MultiheadAttention: parity with torch over every option (bias, add_bias_kv, add_zero_attn, kdim/vdim,
batch_first, unbatched, need_weights, average_attn_weights), every mask kind, dropout under shared masks,
gradients of the returned weights too; finite differences, initialization, state_dict keys, bad input."""

import itertools
import re

import numpy as np
import pytest
import torch

from scratch import nn
from scratch.gradcheck import gradcheck
from torch_ref.convert import to_torch
from torch_ref.testing import DTYPES

from .attention_helpers import assert_call_parity, call_parity, normal

E, H, L, S, N = 8, 2, 5, 4, 3


def randomized(module, seed=11):
    """Random values in every parameter (the zero biases torch starts from would hide a wrong bias gradient)."""
    rng = np.random.default_rng(seed)
    for param in module.parameters():
        param.data[...] = rng.uniform(-0.6, 0.6, param.shape)
    return module


def inputs(dtype, kdim, vdim, batch_first, batched=True, self_attention=True):
    """query, key, value: one array three times for self-attention, else three of their own sizes."""
    def shape(length, width):
        if not batched:
            return (length, width)
        return (N, length, width) if batch_first else (length, N, width)
    if self_attention:
        x = normal(dtype, *shape(L, E))
        return x, x, x
    return normal(dtype, *shape(L, E), seed=1), normal(dtype, *shape(S, kdim), seed=2), \
        normal(dtype, *shape(S, vdim), seed=3)


OPTIONS = list(itertools.product([True, False], [False, True], [False, True], [None, (3, 5)], [False, True]))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("need_weights", [True, False])
@pytest.mark.parametrize(("bias", "add_bias_kv", "add_zero_attn", "kvdim", "batch_first"), OPTIONS)
def test_every_option(bias, add_bias_kv, add_zero_attn, kvdim, batch_first, need_weights, dtype):
    kdim, vdim = kvdim or (None, None)
    module = randomized(nn.MultiheadAttention(E, H, bias=bias, add_bias_kv=add_bias_kv, add_zero_attn=add_zero_attn,
                                              kdim=kdim, vdim=vdim, batch_first=batch_first, dtype=dtype))
    q, k, v = inputs(dtype, kdim or E, vdim or E, batch_first, self_attention=kvdim is None)
    assert_call_parity(module, q, k, v, need_weights=need_weights)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("average", [True, False])
@pytest.mark.parametrize("self_attention", [True, False])
@pytest.mark.parametrize("batched", [True, False])
def test_weights_averaged_or_per_head_with_their_gradient(batched, self_attention, average, dtype):
    module = randomized(nn.MultiheadAttention(E, H, add_zero_attn=True, dtype=dtype))
    q, k, v = inputs(dtype, E, E, False, batched=batched, self_attention=self_attention)
    result = assert_call_parity(module, q, k, v, average_attn_weights=average)
    weights = result.arrays["output[1]"][0]
    source = (L if self_attention else S) + 1
    assert weights.shape == (((N,) if batched else ()) + (() if average else (H,)) + (L, source))


def masks(dtype, kind, batched=True):
    """key_padding_mask and attn_mask of each kind (True / -inf = leave out), no query left without keys."""
    rng = np.random.default_rng(4)
    padding = rng.random((N, L) if batched else (L,)) < 0.3
    padding[..., 0] = False
    attention = rng.random((L, L)) < 0.3
    attention[:, 0] = False
    heads = rng.random((N * H if batched else H, L, L)) < 0.3
    heads[..., 0] = False
    as_float = lambda m: np.where(m, -np.inf, rng.normal(0, 0.5, m.shape)).astype(dtype)  # noqa: E731
    return {
        "padding-bool": {"key_padding_mask": padding},
        "padding-float": {"key_padding_mask": as_float(padding)},
        "attn-2d-bool": {"attn_mask": attention},
        "attn-2d-float": {"attn_mask": as_float(attention)},
        "attn-3d-bool": {"attn_mask": heads},
        "attn-3d-float": {"attn_mask": as_float(heads)},
        "both-bool": {"key_padding_mask": padding, "attn_mask": heads},
        "both-float": {"key_padding_mask": as_float(padding), "attn_mask": as_float(attention)},
        "causal": {"attn_mask": np.triu(np.ones((L, L), bool), 1), "is_causal": True},
        "causal-padding": {"attn_mask": np.triu(np.ones((L, L), bool), 1), "is_causal": True,
                           "key_padding_mask": padding},
        # torch's quirk, matched: with need_weights=False and no padding mask, is_causal replaces the attn_mask
        "causal-hint-wins": {"attn_mask": attention, "is_causal": True},
    }[kind]


MASKS = ["padding-bool", "padding-float", "attn-2d-bool", "attn-2d-float", "attn-3d-bool", "attn-3d-float",
         "both-bool", "both-float", "causal", "causal-padding", "causal-hint-wins"]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("need_weights", [True, False])
@pytest.mark.parametrize("layout", ["time-major", "batch-first", "unbatched"])
@pytest.mark.parametrize("kind", MASKS)
def test_masks(kind, layout, need_weights, dtype):
    # with is_causal the appended bias_k / bias_v column lies above the diagonal: never attended, zero gradient
    module = randomized(nn.MultiheadAttention(E, H, add_bias_kv="causal" not in kind, add_zero_attn=True,
                                              batch_first=layout == "batch-first", dtype=dtype))
    q, k, v = inputs(dtype, E, E, layout == "batch-first", batched=layout != "unbatched")
    assert_call_parity(module, q, k, v, need_weights=need_weights, **masks(dtype, kind, layout != "unbatched"))


@pytest.mark.parametrize("dtype", DTYPES)
def test_a_fully_padded_sample_is_nan_with_weights_and_the_bias_without(dtype):
    """torch: the math path (need_weights=True) gives NaN for a query with no keys left (and NaN spreads into
    the gradients, as in torch); the SDPA path gives weights 0, so the output is out_proj's bias."""
    module = randomized(nn.MultiheadAttention(E, H, dtype=dtype))
    q, k, v = inputs(dtype, E, E, False)
    padding = np.zeros((N, L), bool)
    padding[1] = True
    result = call_parity(module, q, k, v, key_padding_mask=padding, grad_all_outputs=False)
    assert result.ok, "\n".join(result.failures())
    out, weights = result.arrays["output[0]"][0], result.arrays["output[1]"][0]
    assert np.isnan(out[:, 1]).all() and np.isnan(weights[1]).all() and not np.isnan(out[:, 0]).any()
    module.zero_grad()
    result = call_parity(module, q, k, v, key_padding_mask=padding, need_weights=False)
    assert result.ok, "\n".join(result.failures())
    np.testing.assert_allclose(result.arrays["output[0]"][0][:, 1], np.broadcast_to(module.out_proj.bias.data, (L, E)),
                               rtol=1e-6)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("need_weights", [True, False])
@pytest.mark.parametrize(("add_bias_kv", "add_zero_attn"), [(False, False), (True, True)])
def test_dropout_in_training_uses_a_mask_the_twin_shares(add_bias_kv, add_zero_attn, need_weights, dtype):
    module = randomized(nn.MultiheadAttention(E, H, dropout=0.4, add_bias_kv=add_bias_kv, add_zero_attn=add_zero_attn,
                                              dtype=dtype, rng=np.random.default_rng(3)))
    q, k, v = inputs(dtype, E, E, False)
    assert_call_parity(module, q, k, v, need_weights=need_weights, key_padding_mask=masks(dtype, "padding-bool")[
        "key_padding_mask"])
    assert module.dropout_mask.shape == (N, H, L, L + add_bias_kv + add_zero_attn)
    assert 0.3 < 1 - module.dropout_mask.mean() < 0.5  # about p of the weights dropped


def test_eval_mode_draws_no_mask_and_matches_torch():
    module = randomized(nn.MultiheadAttention(E, H, dropout=0.4)).eval()
    q, k, v = inputs(np.float32, E, E, False)
    assert_call_parity(module, q, k, v)
    assert module.dropout_mask is None


def test_torch_fast_path_differs_by_rounding_only():
    """Eval mode, no autograd, batch_first self-attention: torch takes its fused kernel; scratch its one path."""
    module = randomized(nn.MultiheadAttention(E, H, batch_first=True)).eval()
    x = normal(np.float32, N, L, E)
    ours, _ = module(x, x, x, need_weights=False)
    twin = to_torch(module)
    with torch.no_grad():
        tx = torch.from_numpy(x)
        theirs, _ = twin(tx, tx, tx, need_weights=False)
    np.testing.assert_allclose(ours, theirs.numpy(), rtol=0, atol=1e-5 * np.abs(ours).max())


def test_self_attention_returns_three_gradients_that_sum_to_torchs():
    module = randomized(nn.MultiheadAttention(E, H, dtype=np.float64))
    x = normal(np.float64, L, N, E)
    out, _ = module(x, x, x)
    grads = module.backward(np.ones_like(out) + normal(np.float64, *out.shape, seed=5))
    assert len(grads) == 3 and all(g.shape == x.shape for g in grads)
    assert not np.allclose(grads[0], grads[1])  # the query's and the key's are different gradients


class WithWeights(nn.Module):
    """MultiheadAttention's (output, weights) flattened into one array, for ``scratch.gradcheck``."""

    def __init__(self, mha, **options):
        super().__init__()
        self.mha, self.options = mha, options

    def forward(self, q, k, v):
        out, weights = self.mha(q, k, v, **self.options)
        self._save((out.shape, None if weights is None else weights.shape))
        return np.concatenate([out.ravel()] + ([] if weights is None else [weights.ravel()]))

    def backward(self, grad_output):
        out_shape, weights_shape = self._saved(grad_output)
        size = int(np.prod(out_shape))
        grad_weights = None if weights_shape is None else grad_output[size:].reshape(weights_shape)
        return self.mha.backward(grad_output[:size].reshape(out_shape), grad_weights)


@pytest.mark.parametrize(("options", "forward"), [
    ({}, {}),
    ({"add_bias_kv": True, "add_zero_attn": True}, {"average_attn_weights": False}),
    ({"kdim": 3, "vdim": 2}, {"need_weights": False}),
    ({"bias": False, "batch_first": True}, {"attn_mask": "float"}),
    ({"dropout": 0.3}, {"key_padding_mask": "bool"}),
], ids=["plain", "bias-kv-zero-attn-per-head", "kdim-vdim-no-weights", "no-bias-float-mask", "dropout-padding"])
def test_finite_differences(options, forward):
    mha = randomized(nn.MultiheadAttention(4, 2, dtype=np.float64, **options))
    forward = dict(forward)
    if forward.get("attn_mask") == "float":
        forward["attn_mask"] = normal(np.float64, 3, 3, seed=6)
    if forward.get("key_padding_mask") == "bool":
        forward["key_padding_mask"] = np.array([[False, True, False], [False, False, True]])
    if options.get("dropout"):  # a fixed mask: each evaluation draws a new one otherwise
        mha.eval()
    module = WithWeights(mha, **forward)
    kdim, vdim = options.get("kdim", 4), options.get("vdim", 4)
    first = (2, 3) if options.get("batch_first") else (3, 2)
    q, k, v = (normal(np.float64, *first, w, seed=i) for i, w in enumerate((4, kdim, vdim)))
    result = gradcheck(module, q, k, v, rng=np.random.default_rng(99)).raise_on_failure()
    expected = {"input[0]", "input[1]", "input[2]"} | {f"mha.{n}" for n, _ in mha.named_parameters()}
    assert {c.quantity for c in result.checks} == expected
    assert all(c.norm > 1e-6 for c in result.checks), [(c.quantity, c.norm) for c in result.checks]


@pytest.mark.parametrize("options", [{}, {"kdim": 3, "vdim": 5}, {"bias": False}, {"add_bias_kv": True},
                                     {"kdim": 3, "add_bias_kv": True, "bias": False}])
def test_state_dict_keys_and_shapes_as_torch(options):
    ours, theirs = nn.MultiheadAttention(E, H, **options), torch.nn.MultiheadAttention(E, H, **options)
    assert {k: v.shape for k, v in ours.state_dict().items()} == \
        {k: tuple(v.shape) for k, v in theirs.state_dict().items()}
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert repr(ours) == repr(theirs)


def test_initialization_as_torch():
    module = nn.MultiheadAttention(64, 4, add_bias_kv=True, rng=np.random.default_rng(0))
    bound = np.sqrt(6 / (64 + 192))  # xavier_uniform_ of the (3E, E) packed weight
    assert np.abs(module.in_proj_weight.data).max() <= bound < 1.05 * np.abs(module.in_proj_weight.data).max()
    np.testing.assert_array_equal(module.in_proj_bias.data, 0)
    np.testing.assert_array_equal(module.out_proj.bias.data, 0)
    assert abs(module.bias_k.data.std() - np.sqrt(2 / (64 + 64))) < 0.04  # xavier_normal_: fans E and E
    again = nn.MultiheadAttention(64, 4, add_bias_kv=True, rng=np.random.default_rng(0))
    for a, b in zip(module.state_dict().values(), again.state_dict().values()):
        np.testing.assert_array_equal(a, b)


def _mha(**options):
    return nn.MultiheadAttention(E, H, **options)


X = normal(np.float32, L, N, E)
BAD = [
    (lambda: nn.MultiheadAttention(E, 3), ValueError, "embed_dim must be divisible by num_heads"),
    (lambda: nn.MultiheadAttention(0, 2), ValueError, "embed_dim and num_heads must be greater than 0"),
    (lambda: _mha()(X[0, 0], X[0, 0], X[0, 0]), ValueError, "query should be unbatched 2D or batched 3D"),
    (lambda: _mha()(X, X[0], X), ValueError, "expected `key` and `value` to be 3-D but found 2-D and 3-D"),
    (lambda: _mha()(X, X, X, key_padding_mask=np.zeros(L, bool)), ValueError, "`key_padding_mask` to be `None` or 2-D"),
    (lambda: _mha()(X, X, X, key_padding_mask=np.zeros((N, L + 1), bool)), ValueError,
     "expected key_padding_mask of shape (3, 5)"),
    (lambda: _mha()(X, X, X, attn_mask=np.zeros((L, L + 1), bool)), ValueError, "The shape of the 2D attn_mask is"),
    (lambda: _mha()(X, X, X, attn_mask=np.zeros((N, L, L), bool)), ValueError, "The shape of the 3D attn_mask is"),
    (lambda: _mha()(X[:, 0], X[:, 0], X[:, 0], attn_mask=np.zeros((N, L, L), bool)), ValueError,
     "Expected `attn_mask` shape to be (2, 5, 5)"),
    (lambda: _mha()(X, X, X, attn_mask=np.zeros((L, L), int)), TypeError, "only bool and floating types of attn_mask"),
    (lambda: _mha()(X, X, X, key_padding_mask=np.zeros((N, L))), TypeError, "float key_padding_mask of the query's"),
    (lambda: _mha()(X, X, X, attn_mask=np.zeros((L, L)), is_causal=True, key_padding_mask=np.zeros((N, L), int)),
     TypeError, "only bool and floating types of key_padding_mask"),
    (lambda: _mha()(X, X, X, is_causal=True), RuntimeError, "Need attn_mask if specifying the is_causal hint"),
    (lambda: _mha(kdim=3)(X, X, X), ValueError, "expected key with 3 features (kdim=3)"),
    (lambda: _mha()(X[..., :4], X[..., :4], X[..., :4]), ValueError, "was expecting embedding dimension of 8"),
    (lambda: _mha()(X, X[:, :2], X[:, :2]), ValueError, "expected key and value with the query's batch size 3"),
    (lambda: _mha()(X, X, X[:4]), ValueError, "key shape (5, 3, 8) does not match value shape (4, 3, 8)"),
    (lambda: _mha()(X.astype(np.float64), X, X), TypeError, "expected input of dtype float32"),
    (lambda: _mha()(X, X.astype(np.int64), X), TypeError, "expected key of a floating-point dtype"),
]


@pytest.mark.filterwarnings("ignore:Support for mismatched key_padding_mask:UserWarning")  # torch warns there too
@pytest.mark.parametrize(("call", "error", "message"), BAD, ids=[m for _, _, m in BAD])
def test_bad_input(call, error, message):
    with pytest.raises(error, match="MultiheadAttention: .*" + re.escape(message)):
        call()


def test_bad_gradients():
    module = _mha()
    out, _ = module(X, X, X, need_weights=False)
    with pytest.raises(ValueError, match="got grad_attn_weights, but the forward returned no weights"):
        module.backward(out, np.ones((N, L, L), np.float32))
    module(X, X, X)
    with pytest.raises(ValueError, match=re.escape("expected grad_attn_output of shape (5, 3, 8)")):
        module.backward(out[:2])


def test_mismatched_mask_types_warn_as_torch():
    padding, attention = np.zeros((N, L), bool), np.zeros((L, L), np.float32)
    with pytest.warns(UserWarning, match="Support for mismatched key_padding_mask and attn_mask is deprecated"):
        _mha()(X, X, X, key_padding_mask=padding, attn_mask=attention)
    with pytest.warns(UserWarning, match="Support for mismatched key_padding_mask and attn_mask is deprecated"):
        tx = torch.from_numpy(X)
        torch.nn.MultiheadAttention(E, H)(tx, tx, tx, key_padding_mask=torch.from_numpy(padding),
                                          attn_mask=torch.from_numpy(attention))
