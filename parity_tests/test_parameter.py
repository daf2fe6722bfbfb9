"""``Parameter.grad`` is checked on assignment, as torch checks ``tensor.grad``: a wrong-shaped gradient would
otherwise broadcast over every row in an optimizer's step, silently."""

import numpy as np
import pytest
import torch

from scratch import nn, optim

OPTIMIZERS = [optim.SGD, optim.Adam, optim.RMSprop, optim.Adagrad]
WRONG = [
    (np.ones(4), RuntimeError, r"Parameter.grad: assigned grad has shape \(4,\), the parameter's is \(3, 4\)"),
    (np.ones((3, 4), np.float32), RuntimeError, "assigned grad has dtype float32, the parameter's is float64"),
    ([[1.0] * 4] * 3, TypeError, "expected to be a numpy.ndarray or None but got grad of type list"),
]


@pytest.mark.parametrize("grad, error, message", WRONG, ids=["shape", "dtype", "list"])
def test_a_wrong_gradient_is_refused_as_torch_refuses_it(grad, error, message):
    param, twin = nn.Parameter(np.zeros((3, 4))), torch.nn.Parameter(torch.zeros(3, 4, dtype=torch.float64))
    with pytest.raises((RuntimeError, TypeError)):
        twin.grad = torch.from_numpy(grad) if isinstance(grad, np.ndarray) else grad
    with pytest.raises(error, match=message):
        param.grad = grad
    assert param.grad is None


@pytest.mark.parametrize("optimizer", OPTIMIZERS, ids=lambda cls: cls.__name__)
def test_no_optimizer_step_sees_a_refused_gradient(optimizer):
    param = nn.Parameter(np.arange(12.0).reshape(3, 4))
    step = optimizer([param], lr=0.1)
    with pytest.raises(RuntimeError):
        param.grad = np.ones(4)
    step.step()  # no gradient: the parameter is left as it is
    np.testing.assert_array_equal(param.data, np.arange(12.0).reshape(3, 4))


def test_a_right_gradient_is_kept_as_the_same_array():
    param, grad = nn.Parameter(np.zeros((3, 4))), np.ones((3, 4))
    param.grad = grad
    assert param.grad is grad
    param.grad = None
    assert param.grad is None
