"""AdaptiveLogSoftmaxWithLoss beyond its catalog cases: float64 finite differences of the output and the loss
together, the gradient of either alone, log_prob and predict equal to torch's, a hidden size of 0, an empty batch,
torch's layout, and torch's errors on bad targets, shapes and cutoffs."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch

from scratch import nn
from torch_ref import from_torch, to_torch
from torch_ref.catalog.data import classes, normal
from torch_ref.testing import assert_gradcheck

ALSM = nn.AdaptiveLogSoftmaxWithLoss


class _OutputAndLoss(nn.Module):
    """The output and the loss as one array (gradcheck's objective is Σ y ∘ g): ``concat(output.ravel(), loss)``;
    backward splits g into the two upstream gradients."""

    def __init__(self, asm: ALSM) -> None:
        super().__init__()
        self.asm = asm

    def forward(self, input: np.ndarray, target: np.ndarray) -> np.ndarray:
        output, loss = self.asm(input, target)
        self._save(output.shape)
        return np.concatenate([output.reshape(-1), loss.reshape(1)])

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        shape = self._saved(grad_output)
        return self.asm.backward(grad_output[:-1].reshape(shape), grad_output[-1])


def _pair(*args: Any, seed: int = 0, dtype: Any = np.float64, **kwargs: Any) -> tuple[ALSM, torch.nn.Module]:
    module = ALSM(*args, **kwargs, dtype=dtype, rng=np.random.default_rng(seed))
    return module, to_torch(module)


@pytest.mark.parametrize("args, kwargs, batch", [
    ((6, 12, [3, 7]), {"div_value": 2.0}, (9,)),
    ((8, 20, [2, 5, 11]), {"div_value": 1.5, "head_bias": True}, (12,)),
    ((5, 7, [4]), {"div_value": 1.0, "head_bias": True}, ()),
])
def test_gradcheck_of_the_output_and_the_loss_in_float64(args, kwargs, batch):
    rng = np.random.default_rng(1)
    module = ALSM(*args, **kwargs, dtype=np.float64, rng=rng)
    target = classes(rng, *batch, n=args[1])
    if not batch:
        target = np.array(args[2][0] + 1)  # a tail target, so the cluster's layers are checked too
    assert_gradcheck(_OutputAndLoss(module), normal(rng, np.float64, *batch, args[0]), target)


@pytest.mark.parametrize("which", ["output", "loss", "both"])
def test_the_gradient_of_either_output_alone_is_torchs(which):
    module, twin = _pair(10, 16, [4, 9], div_value=2.0, head_bias=True)
    rng = np.random.default_rng(2)
    x, target = normal(rng, np.float64, 14, 10), classes(rng, 14, n=16)
    g_out = normal(rng, np.float64, 14) if which != "loss" else None
    g_loss = np.array(1.7) if which != "output" else None
    module(x, target)
    grad_input = module.backward(g_out, g_loss)
    tx = torch.from_numpy(x).requires_grad_()
    out, loss = twin(tx, torch.from_numpy(target))
    pairs = [(t, torch.from_numpy(g)) for t, g in ((out, g_out), (loss, g_loss)) if g is not None]
    torch.autograd.backward([t for t, _ in pairs], [g for _, g in pairs])
    np.testing.assert_allclose(grad_input, tx.grad.numpy(), rtol=1e-12, atol=1e-14)
    theirs = dict(twin.named_parameters())
    for name, param in module.named_parameters():
        np.testing.assert_allclose(param.grad, theirs[name].grad.numpy(), rtol=1e-12, atol=1e-14, err_msg=name)
    assert np.linalg.norm(grad_input) > 1e-3


def test_log_prob_and_predict_are_torchs():
    """Rows whose head prefers a shortlist class, rows that go to the full distribution, and all of one kind:
    the cluster entries' head bias set high makes most rows take the tail path of predict."""
    module, _ = _pair(6, 15, [3, 8, 12], div_value=1.0, head_bias=True, seed=3)
    rng = np.random.default_rng(4)
    for shift in (0.0, 3.0, -30.0, 30.0):  # mixed, mostly tail, all shortlist, all tail
        module.head.bias.data[3:] = shift
        twin = to_torch(module)
        x = normal(rng, np.float64, 40, 6, scale=2)
        with torch.no_grad():
            expected_log_prob = twin.log_prob(torch.from_numpy(x)).numpy()
            expected_predict = twin.predict(torch.from_numpy(x)).numpy()
        log_prob = module.log_prob(x)
        np.testing.assert_allclose(log_prob, expected_log_prob, rtol=1e-12, atol=1e-13)
        np.testing.assert_allclose(np.exp(log_prob).sum(axis=1), 1.0, rtol=1e-12)
        predict = module.predict(x)
        assert predict.dtype == np.int64
        np.testing.assert_array_equal(predict, expected_predict)
        np.testing.assert_array_equal(predict, log_prob.argmax(axis=1))
    assert module.log_prob(x[:0]).shape == (0, 15) and module.predict(x[:0]).shape == (0,)


def test_log_prob_between_forward_and_backward_leaves_the_backward_alone():
    module, _ = _pair(6, 10, [3], div_value=2.0)
    other, _ = _pair(6, 10, [3], div_value=2.0)
    rng = np.random.default_rng(5)
    x, target, g = normal(rng, np.float64, 5, 6), classes(rng, 5, n=10), normal(rng, np.float64, 5)
    module(x, target)
    other(x, target)
    module.log_prob(normal(rng, np.float64, 3, 6))
    module.predict(normal(rng, np.float64, 3, 6))
    np.testing.assert_array_equal(module.backward(g), other.backward(g))


def test_a_hidden_size_of_0_and_an_empty_batch_are_torchs():
    """in_features // div_value**k == 0: the cluster's logits are 0 (a uniform distribution), its gradients empty;
    an empty batch gives an empty output and a NaN loss, as torch's mean."""
    with pytest.warns(UserWarning, match="zero-element"):
        module, twin = _pair(6, 9, [3, 6])  # hidden sizes 6 // 4 = 1 and 6 // 16 = 0
    rng = np.random.default_rng(6)
    x, target, g = normal(rng, np.float64, 10, 6), np.array([0, 3, 6, 8, 7, 1, 4, 6, 2, 8]), normal(rng, np.float64, 10)
    out, loss = module(x, target)
    tx = torch.from_numpy(x).requires_grad_()
    t_out, t_loss = twin(tx, torch.from_numpy(target))
    torch.autograd.backward([t_out, t_loss], [torch.from_numpy(g), torch.tensor(0.5, dtype=torch.float64)])
    np.testing.assert_allclose(out, t_out.detach().numpy(), rtol=1e-13)
    np.testing.assert_allclose(loss, t_loss.detach().numpy(), rtol=1e-13)
    np.testing.assert_allclose(module.backward(g, np.array(0.5)), tx.grad.numpy(), rtol=1e-12, atol=1e-14)
    assert module.tail[1][0].weight.grad.shape == (0, 6)
    out, loss = module(x[:0], target[:0])
    assert out.shape == (0,) and np.isnan(loss) and loss.dtype == np.float64
    assert module.backward(out, np.array(1.0)).shape == (0, 6)


def test_layout_repr_and_twins_are_torchs():
    module = ALSM(16, 40, (5, 15, 30), div_value=2.0, head_bias=True)
    twin = torch.nn.AdaptiveLogSoftmaxWithLoss(16, 40, [5, 15, 30], div_value=2.0, head_bias=True)
    assert repr(module) == repr(twin)
    assert list(module.state_dict()) == list(twin.state_dict())
    assert {k: v.shape for k, v in module.state_dict().items()} == {k: tuple(v.shape)
                                                                    for k, v in twin.state_dict().items()}
    assert module.cutoffs == twin.cutoffs == [5, 15, 30, 40]
    for name in ("shortlist_size", "n_clusters", "head_size", "in_features", "n_classes", "div_value", "head_bias"):
        assert getattr(module, name) == getattr(twin, name), name
    back = from_torch(twin.double())
    assert type(back) is ALSM and back.head.weight.dtype == np.float64 and back.cutoffs == module.cutoffs
    out = module(normal(np.random.default_rng(0), np.float32, 3, 16), np.array([0, 20, 39]))
    assert type(out).__name__ == "_ASMoutput" and out._fields == ("output", "loss")
    assert out.output.dtype == out.loss.dtype == np.float32 and out.loss.shape == ()


@pytest.mark.parametrize("target", [[1, 10], [-1, 2], [10, 12]])
def test_targets_out_of_range_are_torchs_error(target):
    """torch's message, as an IndexError like scratch's other losses' out-of-range targets (torch: RuntimeError)."""
    module, twin = _pair(8, 10, [3, 6], div_value=2.0)
    x, t = np.ones((2, 8)), np.array(target)
    with pytest.raises(RuntimeError) as theirs:
        twin(torch.from_numpy(x), torch.from_numpy(t))
    with pytest.raises(IndexError, match=r"AdaptiveLogSoftmaxWithLoss: Target values should be in \[0, 9\]") as ours:
        module(x, t)
    assert str(ours.value).endswith(str(theirs.value))


@pytest.mark.parametrize("cutoffs", [[], [6, 3], [3, 3], [0, 3], [3, 10], [2.5], [-1]])
def test_bad_cutoffs_are_torchs_errors(cutoffs):
    with pytest.raises(ValueError) as theirs:
        torch.nn.AdaptiveLogSoftmaxWithLoss(8, 10, cutoffs)
    with pytest.raises(ValueError) as ours:
        ALSM(8, 10, cutoffs)
    assert str(ours.value) == f"AdaptiveLogSoftmaxWithLoss: {theirs.value}"


@pytest.mark.parametrize("shape, target, error, message", [
    ((3, 8), [[1, 2, 3]], ValueError, "0D or 1D target tensor expected, multi-target not supported"),
    ((3, 8), [1, 2], ValueError, "Input and target should have the same size in the batch dimension"),
    ((3, 2, 8), [1, 2, 3], ValueError, "1D target tensor expects 2D input tensors"),
    ((3, 8), 1, ValueError, "0D target tensor expects 1D input tensors"),
    ((3, 7), [1, 2, 3], ValueError, r"expected input with 8 features in its last dimension, got shape \(3, 7\)"),
])
def test_bad_shapes_name_the_module(shape, target, error, message):
    module, twin = _pair(8, 10, [3, 6], div_value=2.0)
    x, t = np.ones(shape), np.array(target)
    with pytest.raises((RuntimeError, ValueError)):
        twin(torch.from_numpy(x), torch.from_numpy(t))
    with pytest.raises(error, match=f"AdaptiveLogSoftmaxWithLoss: {message}"):
        module(x, t)


def test_bad_dtypes_and_gradients_name_the_module():
    module = ALSM(8, 10, [3], div_value=2.0)
    with pytest.raises(TypeError, match="AdaptiveLogSoftmaxWithLoss: expected an integer target"):
        module(np.ones((2, 8), np.float32), np.array([1.0, 2.0]))
    with pytest.raises(TypeError, match="AdaptiveLogSoftmaxWithLoss: expected input of dtype float32"):
        module(np.ones((2, 8)), np.array([1, 2]))
    with pytest.raises(TypeError, match=r"AdaptiveLogSoftmaxWithLoss: expected input .* float"):
        module(np.ones((2, 8), np.int64), np.array([1, 2]))
    module(np.ones((2, 8), np.float32), np.array([1, 5]))
    with pytest.raises(ValueError, match=r"backward: expected grad_output of shape \(2,\) and dtype float32"):
        module.backward(np.ones(3, np.float32))
    with pytest.raises(ValueError, match="backward: expected a scalar grad_loss"):
        module.backward(None, np.ones(2))
    with pytest.raises(ValueError, match=r"AdaptiveLogSoftmaxWithLoss.log_prob: expected input of shape \(N, 8\)"):
        module.log_prob(np.ones(8, np.float32))
    with pytest.raises(ValueError, match="AdaptiveLogSoftmaxWithLoss: n_classes must be >= 0"):
        ALSM(8, -1, [3])
