"""Backward order (before forward, twice after one forward) and anomaly mode."""

import copy

import numpy as np
import pytest

from scratch import nn
from scratch.nn.utils import AnomalyError, detect_anomaly, is_anomaly_enabled

RNG = np.random.default_rng(0)


def randn(*shape):
    return RNG.standard_normal(shape)


# (module, forward inputs); float64 throughout
ORDERED = {
    "Linear": (lambda: nn.Linear(3, 2, dtype=np.float64), lambda: (randn(4, 3),)),
    "ReLU": (nn.ReLU, lambda: (randn(4, 3),)),
    "Conv2d": (lambda: nn.Conv2d(2, 3, 3, dtype=np.float64), lambda: (randn(1, 2, 5, 5),)),
    "MaxPool2d": (lambda: nn.MaxPool2d(2), lambda: (randn(1, 2, 4, 4),)),
    "BatchNorm1d": (lambda: nn.BatchNorm1d(3, dtype=np.float64), lambda: (randn(4, 3),)),
    "Dropout": (nn.Dropout, lambda: (randn(4, 3),)),
    "LSTM": (lambda: nn.LSTM(3, 2, dtype=np.float64), lambda: (randn(5, 4, 3),)),
    "Embedding": (lambda: nn.Embedding(5, 2, dtype=np.float64), lambda: (np.array([1, 4, 0]),)),
    "Sequential": (lambda: nn.Sequential(nn.Linear(3, 2, dtype=np.float64), nn.Tanh()), lambda: (randn(4, 3),)),
    "MSELoss": (nn.MSELoss, lambda: (randn(4, 3), randn(4, 3))),
    "CrossEntropyLoss": (nn.CrossEntropyLoss, lambda: (randn(4, 3), np.array([0, 2, 1, 1]))),
}


def upstream(output):
    """A random gradient shaped like the output (its first element for an RNN's (output, state))."""
    out = output[0] if isinstance(output, tuple) else output
    return RNG.standard_normal(out.shape).astype(out.dtype)


def backward(module, output):
    if isinstance(module, nn.modules.loss._base._Loss):
        return module.backward()
    return module.backward(upstream(output))


def last_layer_name(module):
    """The layer whose backward runs first."""
    return type(module[-1] if isinstance(module, nn.Sequential) else module).__name__


@pytest.mark.parametrize("name", ORDERED)
def test_backward_before_forward_is_a_clear_error(name):
    module = ORDERED[name][0]()
    with pytest.raises(RuntimeError, match=rf"{last_layer_name(module)}\.backward called before forward"):
        module.backward(randn(4, 2))


@pytest.mark.parametrize("name", ORDERED)
def test_a_second_backward_needs_a_new_forward(name):
    build, inputs = ORDERED[name]
    module = build()
    output = module(*inputs())
    backward(module, output)
    with pytest.raises(RuntimeError, match=r"\.backward called a second time after one forward: run forward again"):
        backward(module, output)
    output = module(*inputs())
    backward(module, output)  # a new forward makes backward possible again


def test_a_copy_made_after_backward_also_needs_a_new_forward():
    layer = nn.Linear(3, 2, dtype=np.float64)
    out = layer(randn(4, 3))
    layer.backward(upstream(out))
    with pytest.raises(RuntimeError, match=r"Linear\.backward called a second time"):
        copy.deepcopy(layer).backward(upstream(out))


class Doubling:
    """A mixin whose backward a module inherits from outside nn.Module."""

    def backward(self, grad_output):
        self._saved(grad_output)
        return 2 * grad_output


class MixedIn(Doubling, nn.Module):
    def forward(self, x):
        self._save(True)
        return 2 * x


def test_a_backward_from_a_mixin_is_used_up_and_checked_too():
    module = MixedIn()
    out = module(randn(2, 3))
    module.backward(upstream(out))
    with pytest.raises(RuntimeError, match=r"MixedIn\.backward called a second time"):
        module.backward(upstream(out))
    module(randn(2, 3))
    with detect_anomaly(), pytest.raises(AnomalyError, match=r"MixedIn backward produced a non-finite gradient"):
        module.backward(np.full((2, 3), np.inf))


def test_a_rejected_gradient_does_not_use_up_the_forward():
    layer = nn.Linear(3, 2, dtype=np.float64)
    out = layer(randn(4, 3))
    with pytest.raises(ValueError, match="expected a gradient of shape"):
        layer.backward(randn(4, 3))
    assert layer.backward(upstream(out)).shape == (4, 3)


class Overflowing(nn.Module):
    """A user's module whose forward overflows: exp of a large input."""

    def forward(self, x):
        out = np.exp(np.minimum(x, 800.0))
        self._save(out)
        return out

    def backward(self, grad_output):
        return grad_output * self._saved(grad_output)


class NaNGradient(nn.Tanh):
    """A user's subclass whose backward, overridden, puts a NaN into the input gradient."""

    def backward(self, grad_output):
        grad = super().backward(grad_output).copy()
        grad[0, 0] = np.nan
        return grad


def model_with(odd_one):
    return nn.Sequential(nn.Linear(3, 4, dtype=np.float64), odd_one, nn.Linear(4, 2, dtype=np.float64))


def test_anomaly_mode_names_the_first_module_with_a_non_finite_output():
    model, x = model_with(Overflowing()), np.full((2, 3), 1e3)
    model[0].weight.data[...] = 1.0
    with np.errstate(all="ignore"):
        assert not np.isfinite(model(x)).all()  # outside anomaly mode nothing is checked
    message = r"Overflowing \(at '1'\) forward produced a non-finite output 0 \(0 NaN and 8 infinite of 8 values\)"
    with np.errstate(over="ignore"), detect_anomaly(model), pytest.raises(AnomalyError, match=message):
        model(x)


def test_anomaly_mode_says_when_the_input_was_already_not_finite():
    x = randn(2, 3)
    x[1, 2] = np.nan
    with detect_anomaly(), pytest.raises(AnomalyError, match=r"^detect_anomaly: Linear forward .* its input 0 was "
                                                             r"already not finite"):
        nn.Linear(3, 2, dtype=np.float64)(x)


def test_anomaly_mode_names_the_first_module_whose_gradient_is_not_finite():
    model = model_with(NaNGradient())
    out = model(randn(2, 3))
    with detect_anomaly(model), pytest.raises(AnomalyError, match=r"NaNGradient \(at '1'\) backward produced a "
                                                                r"non-finite gradient for input 0 \(1 NaN"):
        model.backward(upstream(out))


def test_anomaly_mode_checks_parameter_gradients():
    layer = nn.Linear(3, 2)
    x = np.full((1, 3), 1e20, dtype=np.float32)
    out = layer(x)  # finite: |W| < 1, so |y| < 3e20
    with np.errstate(over="ignore"), detect_anomaly(), pytest.raises(
            AnomalyError, match=r"Linear backward left a non-finite gradient in parameter 'weight' \(0 NaN and 6 inf"):
        layer.backward(np.full(out.shape, 1e20, dtype=np.float32))  # dL/dW = 1e40 overflows float32


def test_anomaly_mode_nests_and_restores():
    assert not is_anomaly_enabled()
    with detect_anomaly():
        with detect_anomaly():
            assert is_anomaly_enabled()
        assert is_anomaly_enabled()
    assert not is_anomaly_enabled()
    with pytest.raises(KeyError), detect_anomaly():
        raise KeyError("an error inside the block")
    assert not is_anomaly_enabled()


def test_a_finite_model_trains_unchanged_in_anomaly_mode():
    model = model_with(nn.ReLU())
    x = randn(5, 3)
    out = model(x)
    grad = upstream(out)
    expected = model.backward(grad)
    with detect_anomaly(model):
        np.testing.assert_array_equal(model(x), out)
        np.testing.assert_array_equal(model.backward(grad), expected)
