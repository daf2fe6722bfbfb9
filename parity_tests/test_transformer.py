"""TransformerEncoderLayer, TransformerDecoderLayer, TransformerEncoder, TransformerDecoder and Transformer:
parity with torch in training (dropout under shared masks) and eval, post- and pre-norm, relu / gelu / a
module as activation, masks and is_causal, every layout; state_dict keys, torch's construction quirks,
subclassed children honoured, bad input."""

import re
import warnings

import numpy as np
import pytest
import torch

from scratch import nn
from scratch.gradcheck import gradcheck
from torch_ref.convert import from_torch, to_torch
from torch_ref.testing import DTYPES

from .attention_helpers import assert_call_parity, normal

E, NHEAD, FF, S, T_LEN, N = 8, 2, 16, 5, 4, 3
ACTIVATIONS = {"relu": lambda d: "relu", "gelu": lambda d: "gelu", "gelu-tanh-module": lambda d: nn.GELU("tanh"),
               "prelu-module": lambda d: nn.PReLU(dtype=d)}  # a parameter: state_dict key activation.weight


def randomized(module, seed=13):
    """Random values in every parameter: torch's constant LayerNorm and zero biases would hide gradient slips."""
    rng = np.random.default_rng(seed)
    for name, param in module.named_parameters():
        scaled = "norm" in name and name.endswith("weight")
        param.data[...] = rng.uniform(0.6, 1.4, param.shape) if scaled else rng.uniform(-0.5, 0.5, param.shape)
    return module


def seq(dtype, length, batch_first, batched=True, seed=1):
    if not batched:
        return normal(dtype, length, E, seed=seed)
    return normal(dtype, *((N, length) if batch_first else (length, N)), E, seed=seed)


def layer_options(dtype, train, norm_first, activation, batch_first=False, bias=True):
    return {"dim_feedforward": FF, "dropout": 0.3 if train else 0.1, "activation": ACTIVATIONS[activation](dtype),
            "batch_first": batch_first, "norm_first": norm_first, "bias": bias, "dtype": dtype,
            "rng": np.random.default_rng(7)}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("train", [True, False])
def test_encoder_layer(train, norm_first, activation, dtype):
    layer = randomized(nn.TransformerEncoderLayer(E, NHEAD, **layer_options(dtype, train, norm_first, activation)))
    assert_call_parity(layer.train(train), seq(dtype, S, False))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("train", [True, False])
def test_decoder_layer(train, norm_first, activation, dtype):
    layer = randomized(nn.TransformerDecoderLayer(E, NHEAD, **layer_options(dtype, train, norm_first, activation)))
    assert_call_parity(layer.train(train), seq(dtype, T_LEN, False), seq(dtype, S, False, seed=2))


def causal(length, dtype):
    return nn.Transformer.generate_square_subsequent_mask(length, dtype=dtype)


def padding(length, seed=3, batched=True):
    mask = np.random.default_rng(seed).random((N, length) if batched else length) < 0.3
    mask[..., 0] = False
    return mask


ENCODER_MASKS = {
    "none": lambda d, b: {},
    "causal-detected": lambda d, b: {"mask": causal(S, d)},
    "causal-bool-detected": lambda d, b: {"mask": np.triu(np.ones((S, S), bool), 1)},
    "causal-flag": lambda d, b: {"mask": causal(S, d), "is_causal": True},
    "padding-bool": lambda d, b: {"src_key_padding_mask": padding(S, batched=b)},
    "padding-and-float-mask": lambda d, b: {"src_key_padding_mask": np.where(padding(S, batched=b), -np.inf, 0.0)
                                            .astype(d), "mask": normal(d, S, S, seed=4)},
    "causal-and-padding": lambda d, b: {"mask": np.triu(np.ones((S, S), bool), 1),
                                        "src_key_padding_mask": padding(S, batched=b)},
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("layout", ["time-major", "batch-first", "unbatched"])
@pytest.mark.parametrize("masks", ENCODER_MASKS)
@pytest.mark.parametrize("train", [True, False])
def test_encoder(train, masks, layout, dtype):
    options = layer_options(dtype, train, masks == "none", "gelu", batch_first=layout == "batch-first")
    layer = nn.TransformerEncoderLayer(E, NHEAD, **options)
    encoder = randomized(nn.TransformerEncoder(layer, 2, nn.LayerNorm(E, dtype=dtype), enable_nested_tensor=False))
    src = seq(dtype, S, layout == "batch-first", batched=layout != "unbatched")
    assert_call_parity(encoder.train(train), src, **ENCODER_MASKS[masks](dtype, layout != "unbatched"))


DECODER_MASKS = {
    "none": lambda d: {},
    "causal-detected": lambda d: {"tgt_mask": causal(T_LEN, d)},
    "causal-flag-and-memory-mask": lambda d: {"tgt_mask": causal(T_LEN, d), "tgt_is_causal": True,
                                              "memory_mask": np.random.default_rng(5).random((T_LEN, S)) < 0.2},
    "padding": lambda d: {"tgt_key_padding_mask": padding(T_LEN), "memory_key_padding_mask": padding(S, seed=6)},
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("masks", DECODER_MASKS)
@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("train", [True, False])
def test_decoder(train, norm_first, masks, dtype):
    layer = nn.TransformerDecoderLayer(E, NHEAD, **layer_options(dtype, train, norm_first, "relu", batch_first=True))
    decoder = randomized(nn.TransformerDecoder(layer, 2, None if norm_first else nn.LayerNorm(E, dtype=dtype)))
    assert_call_parity(decoder.train(train), seq(dtype, T_LEN, True), seq(dtype, S, True, seed=2),
                       **DECODER_MASKS[masks](dtype))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("norm_first", "batch_first", "activation"), [(False, False, "relu"), (True, True, "gelu"),
                                                                       (False, True, "prelu-module")])
@pytest.mark.parametrize("train", [True, False])
def test_transformer(train, norm_first, batch_first, activation, dtype):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the enable_nested_tensor notice, torch's too
        model = nn.Transformer(E, NHEAD, 2, 1, FF, 0.2, ACTIVATIONS[activation](dtype), batch_first=batch_first,
                               norm_first=norm_first, dtype=dtype, rng=np.random.default_rng(2))
    randomized(model).train(train)
    assert_call_parity(model, seq(dtype, S, batch_first), seq(dtype, T_LEN, batch_first, seed=2),
                       tgt_mask=causal(T_LEN, dtype), src_key_padding_mask=padding(S),
                       memory_key_padding_mask=padding(S))


@pytest.mark.filterwarnings("ignore:enable_nested_tensor is True:UserWarning")
def test_transformer_unbatched():
    model = randomized(nn.Transformer(E, NHEAD, 1, 1, FF, 0.0, dtype=np.float64))
    assert_call_parity(model, seq(np.float64, S, False, batched=False), seq(np.float64, T_LEN, False, False, seed=2),
                       tgt_mask=causal(T_LEN, np.float64))


CLASSES = {
    "TransformerEncoderLayer": lambda e: e.TransformerEncoderLayer(E, NHEAD, FF),
    "TransformerEncoderLayer(gelu module, no bias)": lambda e: e.TransformerEncoderLayer(
        E, NHEAD, FF, activation=e.GELU(), bias=False),
    "TransformerEncoderLayer(prelu)": lambda e: e.TransformerEncoderLayer(E, NHEAD, FF, activation=e.PReLU()),
    "TransformerDecoderLayer": lambda e: e.TransformerDecoderLayer(E, NHEAD, FF, norm_first=True),
    "TransformerEncoder": lambda e: e.TransformerEncoder(e.TransformerEncoderLayer(E, NHEAD, FF), 3, e.LayerNorm(E)),
    "TransformerDecoder": lambda e: e.TransformerDecoder(e.TransformerDecoderLayer(E, NHEAD, FF), 2),
    "Transformer": lambda e: e.Transformer(E, NHEAD, 2, 2, FF),
    "Transformer(no bias, prelu)": lambda e: e.Transformer(E, NHEAD, 1, 1, FF, activation=e.PReLU(), bias=False),
}


@pytest.mark.filterwarnings("ignore:enable_nested_tensor is True:UserWarning")
@pytest.mark.parametrize("name", CLASSES)
def test_module_tree_and_state_dict_as_torch(name):
    ours, theirs = CLASSES[name](nn), CLASSES[name](torch.nn)
    assert [(n, type(m).__name__) for n, m in ours.named_modules()] == \
        [(n, type(m).__name__) for n, m in theirs.named_modules()]
    assert {k: v.shape for k, v in ours.state_dict().items()} == \
        {k: tuple(v.shape) for k, v in theirs.state_dict().items()}
    assert list(ours.state_dict()) == list(theirs.state_dict())
    back = from_torch(to_torch(ours))
    for key, value in ours.state_dict().items():
        np.testing.assert_array_equal(back.state_dict()[key], value)


@pytest.mark.parametrize("activation", ["relu", "gelu"])
def test_a_named_activation_is_no_child_as_torchs_function(activation):
    layer, twin = nn.TransformerEncoderLayer(E, NHEAD, FF, activation=activation), None
    twin = to_torch(layer)
    assert "activation" not in dict(layer.named_children()) and "activation" not in dict(twin.named_children())
    assert twin.activation is getattr(torch.nn.functional, activation)
    assert layer.activation_relu_or_gelu == twin.activation_relu_or_gelu == (1 if activation == "relu" else 2)
    assert from_torch(twin)._activation_name == activation


@pytest.mark.parametrize("dtype", [None, np.float64])
def test_generate_square_subsequent_mask_as_torch(dtype):
    ours = nn.Transformer.generate_square_subsequent_mask(4, dtype=dtype)
    theirs = torch.nn.Transformer.generate_square_subsequent_mask(4, dtype=None if dtype is None else torch.float64)
    np.testing.assert_array_equal(ours, theirs.numpy())
    assert ours.dtype == theirs.numpy().dtype


def test_the_stack_copies_the_layer_and_shares_its_generator():
    """As torch: every layer starts from the layer's weights. The rng is shared, not copied, so each layer
    draws its own dropout masks (copies of one generator would drop the same positions in every layer)."""
    rng = np.random.default_rng(0)
    encoder = nn.TransformerEncoder(nn.TransformerEncoderLayer(E, NHEAD, FF, 0.5, rng=rng), 2,
                                    enable_nested_tensor=False)
    first, second = encoder.layers
    assert first is not second and first.self_attn.rng is rng and second.dropout.rng is rng
    for a, b in zip(first.state_dict().values(), second.state_dict().values()):
        np.testing.assert_array_equal(a, b)
    encoder(seq(np.float32, S, False))
    assert not np.array_equal(first.dropout.mask, second.dropout.mask)


def test_subclassed_layers_are_called_and_get_torchs_masks_and_causal_flag():
    calls = []

    class Recording(nn.TransformerEncoderLayer):
        def forward(self, src, src_mask=None, src_key_padding_mask=None, is_causal=False):
            calls.append((src_mask.dtype, is_causal))
            return super().forward(src, src_mask, src_key_padding_mask, is_causal)

        def backward(self, grad_output):
            calls.append("backward")
            return super().backward(grad_output)

    encoder = nn.TransformerEncoder(Recording(E, NHEAD, FF, 0.0), 2, enable_nested_tensor=False)
    out = encoder(seq(np.float32, S, False), mask=np.triu(np.ones((S, S), bool), 1))
    encoder.backward(np.ones_like(out))
    assert calls == [(np.dtype(np.float32), True)] * 2 + ["backward"] * 2  # made float, detected as causal


@pytest.mark.filterwarnings("ignore:enable_nested_tensor is True:UserWarning")
def test_backward_returns_one_gradient_per_input():
    decoder_layer = nn.TransformerDecoderLayer(E, NHEAD, FF, 0.0)
    out = decoder_layer(seq(np.float32, T_LEN, False), seq(np.float32, S, False, seed=2))
    grad_tgt, grad_memory = decoder_layer.backward(normal(np.float32, *out.shape, seed=3))
    assert grad_tgt.shape == (T_LEN, N, E) and grad_memory.shape == (S, N, E)
    model = nn.Transformer(E, NHEAD, 1, 1, FF, 0.0)
    out = model(seq(np.float32, S, False), seq(np.float32, T_LEN, False, seed=2))
    grad_src, grad_tgt = model.backward(normal(np.float32, *out.shape, seed=3))
    assert grad_src.shape == (S, N, E) and grad_tgt.shape == (T_LEN, N, E)


def test_nested_tensor_notice_as_torch():
    with pytest.warns(UserWarning, match=re.escape("enable_nested_tensor is True, but self.use_nested_tensor is False "
                                                   "because encoder_layer.self_attn.batch_first was not True")):
        encoder = nn.TransformerEncoder(nn.TransformerEncoderLayer(E, NHEAD, FF), 1)
    assert encoder.use_nested_tensor is False
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert nn.TransformerEncoder(nn.TransformerEncoderLayer(E, NHEAD, FF, batch_first=True), 1).use_nested_tensor


BAD = [
    (lambda: nn.TransformerEncoderLayer(E, NHEAD, activation="tanh"), ValueError,
     "TransformerEncoderLayer: activation should be relu/gelu, not tanh"),
    (lambda: nn.TransformerDecoderLayer(E, NHEAD, activation=np.tanh), TypeError,
     "TransformerDecoderLayer: activation must be 'relu', 'gelu' or a scratch.nn.Module"),
    (lambda: nn.TransformerEncoderLayer(E, 3), ValueError, "MultiheadAttention: embed_dim must be divisible"),
    (lambda: nn.TransformerEncoderLayer(E, NHEAD)(normal(np.float32, S, N, 4)), ValueError,
     "TransformerEncoderLayer: expected src of shape (S, N, 8)"),
    (lambda: nn.TransformerEncoderLayer(E, NHEAD)(normal(np.float64, S, N, E)), TypeError,
     "MultiheadAttention: expected input of dtype float32"),
    (lambda: nn.TransformerDecoderLayer(E, NHEAD)(normal(np.float32, S, N, E), normal(np.float32, S, E)), ValueError,
     "MultiheadAttention: For batched (3-D) `query`, expected `key` and `value` to be 3-D"),
    (lambda: nn.TransformerEncoderLayer(E, NHEAD)(normal(np.float32, S, N, E), is_causal=True), RuntimeError,
     "MultiheadAttention: Need attn_mask if specifying the is_causal hint"),
    (lambda: nn.Transformer(E, NHEAD, 1, 1, FF)(normal(np.float32, S, N, E), normal(np.float32, S, 2, E)),
     ValueError, "Transformer: the batch number of src and tgt must be equal"),
    (lambda: nn.Transformer(E, NHEAD, 1, 1, FF)(normal(np.float32, S, N, E), normal(np.float32, S, N, 4)),
     ValueError, "Transformer: the feature number of src and tgt must be equal to d_model=8"),
    (lambda: nn.TransformerEncoder(nn.TransformerEncoderLayer(E, NHEAD), 1)(normal(np.float32, S, N, E),
                                                                             mask=np.zeros((S, S), int)),
     TypeError, "TransformerEncoder: only bool and floating types of mask"),
    (lambda: nn.Transformer(device="cuda"), ValueError, "Transformer: scratch runs on the CPU only"),
]


@pytest.mark.filterwarnings("ignore:enable_nested_tensor is True:UserWarning")
@pytest.mark.parametrize(("call", "error", "message"), BAD, ids=[m for _, _, m in BAD])
def test_bad_input(call, error, message):
    with pytest.raises(error, match=re.escape(message)):
        call()


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("cls", [nn.TransformerEncoderLayer, nn.TransformerDecoderLayer])
def test_finite_differences(cls, norm_first):
    """Independent of torch: every input and parameter gradient of a small layer against central differences."""
    layer = randomized(cls(4, 2, 6, 0.0, "gelu", norm_first=norm_first, dtype=np.float64))
    inputs = [normal(np.float64, 3, 2, 4, seed=1)] + ([normal(np.float64, 4, 2, 4, seed=2)]
                                                        if cls is nn.TransformerDecoderLayer else [])
    result = gradcheck(layer, *inputs, rng=np.random.default_rng(99)).raise_on_failure()
    names = {"input"} if len(inputs) == 1 else {"input[0]", "input[1]"}
    assert {c.quantity for c in result.checks} == names | {n for n, _ in layer.named_parameters()}
    assert all(c.norm > 1e-6 for c in result.checks), [(c.quantity, c.norm) for c in result.checks if c.norm <= 1e-6]
