"""torch_ref.testing's public assertions, as a user's test suite calls them: a layer of one's own passes, a
planted bug fails with the report's table of the failing quantities, rtol/atol/rng behave as documented."""

import numpy as np
import pytest
import torch

import torch_ref
from scratch import nn
from torch_ref.testing import (
    assert_loss_parity,
    assert_module_parity,
    assert_optimizer_parity,
    assert_training_parity,
)
from torch_ref.tolerance import rtol


class Scale(nn.Module):
    """y = x * s with a learnable s (the README's layer)."""

    def __init__(self, features: int) -> None:
        super().__init__()
        self.scale = nn.Parameter(np.linspace(0.5, 1.5, features))

    def forward(self, x):
        self._save(x)
        return x * self.scale.data

    def backward(self, grad_output):
        x = self._saved(grad_output)
        self.scale.accumulate_grad((grad_output * x).reshape(-1, x.shape[-1]).sum(axis=0))
        return grad_output * self.scale.data


class WrongScale(Scale):
    """A planted bug: dL/dx forgets the scale."""

    def backward(self, grad_output):
        super().backward(grad_output)
        return grad_output


class TorchScale(torch.nn.Module):
    def __init__(self, features: int) -> None:
        super().__init__()
        self.scale = torch.nn.Parameter(torch.ones(features, dtype=torch.float64))

    def forward(self, x):
        return x * self.scale


class HalfGradMSE(nn.MSELoss):
    """A planted bug: the gradient forgets the factor 2."""

    def backward(self, grad=None):
        return super().backward(grad) / 2


torch_ref.register_twin(Scale, lambda m: TorchScale(m.scale.shape[0]))


def x_of(*shape):
    return np.random.default_rng(0).standard_normal(shape)


def test_a_users_layer_passes_and_returns_the_result():
    result = assert_module_parity(Scale(3), x_of(4, 3))
    assert [c.quantity for c in result.comparisons] == ["output", "grad_input", "scale.grad"]
    assert all(c.tol == rtol(np.float64, 4) for c in result.comparisons)  # the policy: n = 4 rows summed


def test_a_planted_bug_fails_with_the_table_of_failing_quantities():
    with pytest.raises(AssertionError) as failure:
        assert_module_parity(WrongScale(3), x_of(4, 3))
    message = str(failure.value)
    assert message.startswith("WrongScale differs from torch in 1 of 3 quantities:")
    header, rule, row = message.splitlines()[1:4]
    assert header.split() == ["module", "quantity", "max", "abs", "err", "max", "rel", "err", "tol", "ok"]
    assert set(rule) == {"-"}
    assert row.split()[:2] == ["WrongScale", "grad_input"] and row.split()[-1] == "FAIL"
    assert "scale.grad" not in message and "scratch: [[" in message  # only the failing quantity, with its arrays


def test_an_explicit_rtol_replaces_the_policy():
    x = x_of(4, 3)
    with pytest.raises(AssertionError):
        assert_module_parity(WrongScale(3), x)
    err = torch_ref.module_parity(WrongScale(3), x).comparisons[1].max_rel_err
    result = assert_module_parity(WrongScale(3), x, rtol=2 * err)
    assert {c.tol for c in result.comparisons} == {2 * err}
    with pytest.raises(AssertionError, match="grad_input"):
        assert_module_parity(WrongScale(3), x, rtol=err / 2)


def test_atol_passes_small_absolute_errors_only():
    x = x_of(4, 3)
    err = torch_ref.module_parity(WrongScale(3), x).comparisons[1].max_abs_err
    assert_module_parity(WrongScale(3), x, atol=2 * err)
    with pytest.raises(AssertionError, match="grad_input"):
        assert_module_parity(WrongScale(3), x, atol=err / 2)


def test_atol_never_passes_a_trivial_gradient():
    x = np.zeros((4, 3))  # scale.grad = sum(g * x) = 0 in both engines: a comparison that proves nothing
    with pytest.raises(AssertionError, match=r"scale\.grad[\s\S]*trivial"):
        assert_module_parity(Scale(3), x, atol=1.0)


def test_rng_draws_the_upstream_gradient():
    first = assert_module_parity(Scale(3), x_of(4, 3), rng=np.random.default_rng(5)).arrays["scale.grad"][0]
    same = assert_module_parity(Scale(3), x_of(4, 3), rng=5).arrays["scale.grad"][0]
    other = assert_module_parity(Scale(3), x_of(4, 3), rng=6).arrays["scale.grad"][0]
    np.testing.assert_array_equal(first, same)
    assert not np.allclose(first, other)


def test_loss_parity_passes_and_a_broken_loss_fails_with_the_table():
    target = x_of(5) + 1
    assert_loss_parity(nn.MSELoss(), x_of(5), target)
    with pytest.raises(AssertionError) as failure:
        assert_loss_parity(HalfGradMSE(), x_of(5), target)
    message = str(failure.value)
    assert message.startswith("HalfGradMSE(reduction='mean') differs from torch in 1 of 2 quantities:")
    assert "grad_input" in message and "FAIL" in message


def test_optimizer_parity_with_an_explicit_rtol():
    result = assert_optimizer_parity("Adam", {"lr": 1e-2}, steps=5, rtol=1e-12)
    assert {c.tol for c in result.comparisons} == {1e-12}
    with pytest.raises(AssertionError, match="differs from torch"):
        assert_optimizer_parity("Adam", {"lr": 1e-2}, dtype=np.float32, steps=5, rtol=1e-12)


def model_of(layer: nn.Module) -> nn.Sequential:
    return nn.Sequential(nn.Linear(4, 3, dtype=np.float64), layer, nn.Tanh(), nn.Linear(3, 2, dtype=np.float64))


def test_training_parity_passes_and_names_the_module_at_fault():
    x, y = x_of(16, 4), np.random.default_rng(1).integers(0, 2, 16)
    report = assert_training_parity(model_of(Scale(3)), nn.CrossEntropyLoss(), x, y, steps=3, batch_size=8)
    assert len(report.losses) == 3
    with pytest.raises(AssertionError) as failure:
        assert_training_parity(model_of(WrongScale(3)), nn.CrossEntropyLoss(), x, y, steps=3, batch_size=8)
    message = str(failure.value)
    assert "Sequential trained side by side diverges from torch" in message
    assert "first divergence: step 0, module '1', grad_input" in message


def test_training_parity_with_no_step_compares_nothing_and_fails():
    with pytest.raises(AssertionError, match="nothing was compared"):
        assert_training_parity(model_of(Scale(3)), nn.CrossEntropyLoss(), x_of(4, 4), np.zeros(4, int), steps=0)
