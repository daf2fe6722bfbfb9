"""Not errors: an empty batch and float16, which torch accepts, scratch accepts too, with torch's shapes,
dtypes, losses and gradients (the errors themselves are in test_bad_input.py)."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest
import torch

import scratch.nn as snn

R = np.random.default_rng(7)


def _tensor(value: Any) -> Any:
    return torch.from_numpy(value.copy()) if isinstance(value, np.ndarray) else value


EMPTY = {  # torch accepts an empty batch in these: so does scratch, with the same shapes
    "ReLU": ((), (0, 3)), "Softmax": ((1,), (0, 3)), "PReLU": ((), (0, 3)), "Linear": ((3, 2), (0, 3)),
    "Conv1d": ((2, 3, 3), (0, 2, 5)), "Conv2d": ((2, 3, 3), (0, 2, 5, 5)), "ConvTranspose2d": ((2, 3, 3), (0, 2, 4, 4)),
    "MaxPool1d": ((2,), (0, 2, 4)), "MaxPool2d": ((2,), (0, 2, 4, 4)), "AvgPool2d": ((2,), (0, 2, 4, 4)),
    "AdaptiveAvgPool2d": ((2,), (0, 2, 4, 4)), "BatchNorm1d": ((3,), (0, 3)), "BatchNorm2d": ((3,), (0, 3, 2, 2)),
    "LayerNorm": ((3,), (0, 3)), "GroupNorm": ((2, 4), (0, 4, 2)), "Dropout": ((), (0, 3)),
    "Dropout2d": ((), (0, 3, 2, 2)), "Flatten": ((), (0, 3, 2)), "Unflatten": ((1, (2, 3)), (0, 6)),
    "RNN": ((3, 4), (5, 0, 3)), "LSTM": ((3, 4), (5, 0, 3)), "GRU": ((3, 4), (5, 0, 3)),
}


@pytest.mark.parametrize("name", EMPTY)
def test_empty_batch_like_torch(name: str) -> None:
    """Forward and backward of an empty batch: torch's output shape, an empty input gradient, zero parameter
    gradients, and the buffers (BatchNorm's running statistics) left as torch leaves them."""
    args, shape = EMPTY[name]
    module = getattr(snn, name)(*args)
    twin = getattr(torch.nn, name)(*args)
    twin.load_state_dict({k: torch.from_numpy(v) for k, v in module.state_dict().items()})
    tx = torch.zeros(shape, requires_grad=True)
    out, tout = module(np.zeros(shape, np.float32)), twin(tx)
    out, tout = (out[0], tout[0]) if isinstance(out, tuple) else (out, tout)
    assert out.shape == tuple(tout.shape) and out.dtype == np.float32
    grad = module.backward(np.zeros(out.shape, np.float32))
    tout.backward(torch.zeros(tout.shape))
    assert grad.shape == shape and tx.grad is not None and tuple(tx.grad.shape) == shape
    for (key, p), (tkey, tp) in zip(module.named_parameters(), twin.named_parameters(), strict=True):
        assert key == tkey and not p.grad.any() and not tp.grad.any()
    for key, value in twin.state_dict().items():
        np.testing.assert_array_equal(module.state_dict()[key], value.numpy(), err_msg=key)


FLOAT16 = ["ReLU", "Sigmoid", "Tanh", "GELU", "Softplus", "Dropout", "Flatten", "MaxPool2d", "AvgPool2d", "MSELoss",
           "BCEWithLogitsLoss"]


@pytest.mark.parametrize("name", FLOAT16)
def test_float16_kept_like_torch(name: str) -> None:
    """Parameter-free layers and losses accept float16 and keep it, as torch does."""
    inputs = (R.standard_normal((2, 3, 4, 4)).astype(np.float16),) * (2 if name.endswith("Loss") else 1)
    args = (2,) if "Pool" in name else ()
    out = getattr(snn, name)(*args)(*inputs)
    tout = getattr(torch.nn, name)(*args)(*[_tensor(v) for v in inputs])
    assert out.dtype == np.float16 and tout.dtype == torch.float16 and out.shape == tuple(tout.shape)


INDEX_TARGET = ("CrossEntropyLoss", "NLLLoss")
EMPTY_LOSSES = ["L1Loss", "MSELoss", "HuberLoss", "SmoothL1Loss", "SoftMarginLoss", "BCEWithLogitsLoss", "KLDivLoss",
                "BCELoss", "HingeEmbeddingLoss", "CrossEntropyLoss", "NLLLoss", "CosineEmbeddingLoss"]


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("name", EMPTY_LOSSES)
def test_empty_batch_loss_like_torch(name: str, reduction: str) -> None:
    """An empty batch: torch's loss (0 summed, nan averaged) and empty gradients. MultiMarginLoss is left out:
    torch's sum over an empty batch reads uninitialized memory (any value), where scratch gives 0."""
    empty = np.zeros((0, 3), np.float32)
    target = np.zeros(0, np.int64) if name in INDEX_TARGET else empty
    inputs = (empty, empty, np.zeros(0, np.float32)) if name == "CosineEmbeddingLoss" else (empty, target)
    criterion = getattr(snn, name)(reduction=reduction)
    with warnings.catch_warnings():  # KLDivLoss's note on 'mean', in both engines
        warnings.simplefilter("ignore")
        loss = criterion(*inputs)
        tloss = getattr(torch.nn, name)(reduction=reduction)(*[_tensor(v) for v in inputs])
    np.testing.assert_array_equal(loss, tloss.numpy())
    grads = criterion.backward()
    for grad in grads if isinstance(grads, tuple) else (grads,):
        assert grad.shape == empty.shape and grad.dtype == np.float32
