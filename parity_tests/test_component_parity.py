"""The harness itself: module_parity on a user's layer with two inputs, two outputs and a buffer,
registered through torch_ref.register_twin; planted bugs are reported at the quantity they corrupt."""

import numpy as np
import pytest
import torch

import torch_ref
from scratch import nn
from scratch.nn import Parameter
from torch_ref import module_parity


class Mix(nn.Module):
    """(x, y) -> (x * s + y, x * y), counting its calls in a buffer. Shapes: x, y (N, F); s (F)."""

    def __init__(self, features, dtype=np.float64):
        super().__init__()
        self.s = Parameter(np.linspace(0.5, 1.5, features).astype(dtype))
        self.register_buffer("calls", np.zeros((), dtype=dtype))

    def forward(self, x, y):
        self.calls += 1
        self._save((x, y))
        return x * self.s.data + y, x * y

    def backward(self, grad_sum, grad_product):
        x, y = self._cache
        self.s.accumulate_grad((grad_sum * x).sum(axis=0))
        return grad_sum * self.s.data + grad_product * y, grad_sum + grad_product * x


class TorchMix(torch.nn.Module):
    def __init__(self, features):
        super().__init__()
        self.s = torch.nn.Parameter(torch.zeros(features))
        self.register_buffer("calls", torch.zeros(()))

    def forward(self, x, y):
        self.calls += 1
        return x * self.s + y, x * y


class MixWrongSecondGradient(Mix):
    def backward(self, grad_sum, grad_product):
        grad_x, grad_y = super().backward(grad_sum, grad_product)
        return grad_x, grad_y + grad_product  # a slip in dL/dy only


class MixForgetsToCount(Mix):
    def forward(self, x, y):
        self.calls -= 1  # cancels the count: the buffer goes out of step with torch's
        return super().forward(x, y)


torch_ref.register_twin(Mix, lambda m: TorchMix(m.s.shape[0]))


def inputs(dtype, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((5, 3)).astype(dtype), rng.standard_normal((5, 3)).astype(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_two_inputs_two_outputs_and_a_buffer_all_compared(dtype):
    result = module_parity(Mix(3, dtype), *inputs(dtype))
    assert result.ok, "\n".join(result.failures())
    assert [c.quantity for c in result.comparisons] == [
        "output[0]", "output[1]", "grad_input[0]", "grad_input[1]", "s.grad", "calls"]


@pytest.mark.parametrize(("module", "culprit"), [(MixWrongSecondGradient(3), "grad_input[1]"),
                                                 (MixForgetsToCount(3), "calls")], ids=["grad", "buffer"])
def test_a_planted_bug_is_reported_at_its_quantity_only(module, culprit):
    result = module_parity(module, *inputs(np.float64))
    assert [c.quantity for c in result.comparisons if not c.ok] == [culprit]
