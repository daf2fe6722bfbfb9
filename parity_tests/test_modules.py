"""Forward, input-gradient and parameter-gradient parity of every module, in both dtypes."""

import numpy as np
import pytest

from scratch import nn

from .helpers import DTYPES, assert_module_parity


def normal(dtype, *shape, scale=1.0, seed=0):
    return (scale * np.random.default_rng(seed).standard_normal(shape)).astype(dtype)


def with_zeros(dtype, *shape):
    """Normal values with a quarter of them exactly 0: the ReLU kink, where torch's gradient is 0."""
    x = normal(dtype, *shape)
    x.reshape(-1)[::4] = 0
    return x


MODULES = {
    "linear": lambda d: (nn.Linear(12, 7, dtype=d), normal(d, 16, 12)),
    "linear-no-bias": lambda d: (nn.Linear(12, 7, bias=False, dtype=d), normal(d, 16, 12)),
    "linear-unbatched": lambda d: (nn.Linear(5, 3, dtype=d), normal(d, 5)),
    "linear-4d-input": lambda d: (nn.Linear(6, 4, dtype=d), normal(d, 2, 3, 5, 6)),
    "linear-one-feature": lambda d: (nn.Linear(1, 1, dtype=d), normal(d, 9, 1)),
    "linear-wide": lambda d: (nn.Linear(300, 200, dtype=d), normal(d, 64, 300)),
    "identity": lambda d: (nn.Identity(3, key="ignored"), normal(d, 4, 5)),
    "flatten": lambda d: (nn.Flatten(), normal(d, 2, 3, 4, 5)),
    "flatten-1-2": lambda d: (nn.Flatten(1, 2), normal(d, 2, 3, 4, 5)),
    "flatten-all": lambda d: (nn.Flatten(0, -1), normal(d, 2, 3, 4)),
    "relu": lambda d: (nn.ReLU(), normal(d, 8, 10)),
    "relu-at-zero": lambda d: (nn.ReLU(), with_zeros(d, 8, 10)),
    "sigmoid": lambda d: (nn.Sigmoid(), normal(d, 8, 10, scale=3)),
    # partly saturated: an all-saturated input has gradients that are pure round-off noise
    "sigmoid-saturated": lambda d: (nn.Sigmoid(), normal(d, 8, 10, scale=15)),
    "tanh": lambda d: (nn.Tanh(), normal(d, 8, 10, scale=2)),
    "tanh-saturated": lambda d: (nn.Tanh(), normal(d, 8, 10, scale=8)),
    "softmax-dim1": lambda d: (nn.Softmax(dim=1), normal(d, 8, 10, scale=3)),
    "softmax-dim0": lambda d: (nn.Softmax(dim=0), normal(d, 8, 10, scale=3)),
    "softmax-dim-1-3d": lambda d: (nn.Softmax(dim=-1), normal(d, 4, 3, 6, scale=3)),
    "softmax-large-logits": lambda d: (nn.Softmax(dim=1), 1e3 + normal(d, 6, 5)),
    "log-softmax-dim1": lambda d: (nn.LogSoftmax(dim=1), normal(d, 8, 10, scale=3)),
    "log-softmax-dim0-3d": lambda d: (nn.LogSoftmax(dim=0), normal(d, 4, 3, 6, scale=3)),
    "log-softmax-large-logits": lambda d: (nn.LogSoftmax(dim=1), 1e3 + normal(d, 6, 5)),
    "log-softmax-spread-logits": lambda d: (nn.LogSoftmax(dim=1), normal(d, 6, 5, scale=1e3)),
    "mlp": lambda d: (nn.Sequential(nn.Linear(10, 16, dtype=d), nn.Tanh(), nn.Linear(16, 16, dtype=d), nn.ReLU(),
                                    nn.Linear(16, 4, dtype=d), nn.Softmax(dim=1)), normal(d, 8, 10)),
    "nested-sequential": lambda d: (nn.Sequential(nn.Sequential(nn.Linear(6, 5, dtype=d), nn.Sigmoid()),
                                                  nn.Flatten(), nn.Linear(5, 2, dtype=d)), normal(d, 3, 6)),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", MODULES)
def test_module_matches_torch(case, dtype):
    module, x = MODULES[case](dtype)
    assert_module_parity(module, x)


@pytest.mark.parametrize("dtype", DTYPES)
def test_relu_gradient_at_zero_is_zero_in_both_engines(dtype):
    x = with_zeros(dtype, 8, 10)
    result = assert_module_parity(nn.ReLU(), x)
    scratch_grad, torch_grad = result.arrays["grad_input"]
    assert np.all(scratch_grad[x == 0] == 0) and np.all(torch_grad[x == 0] == 0)


@pytest.mark.parametrize("dtype", DTYPES)
def test_parameter_free_modules_keep_the_input_dtype(dtype):
    x = normal(dtype, 3, 4)
    for module in (nn.ReLU(), nn.Sigmoid(), nn.Tanh(), nn.Softmax(dim=1), nn.LogSoftmax(dim=1), nn.Flatten()):
        out = module(x)
        assert out.dtype == dtype, type(module).__name__
        assert module.backward(np.ones_like(out)).dtype == dtype, type(module).__name__


def test_sigmoid_saturates_without_overflow_warnings():
    with np.errstate(over="raise"):
        out = nn.Sigmoid()(np.array([-1000.0, 1000.0], dtype=np.float32))
    np.testing.assert_array_equal(out, [0.0, 1.0])
