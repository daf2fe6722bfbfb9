"""Pure forward/backward pairs, one per op: ``op_forward(...) -> (out, cache)`` and
``op_backward(dout, cache) -> grads``. Modules are thin stateful wrappers around them."""

from .activation import (
    log_softmax_backward,
    log_softmax_forward,
    relu_backward,
    relu_forward,
    sigmoid_backward,
    sigmoid_forward,
    softmax_backward,
    softmax_forward,
    tanh_backward,
    tanh_forward,
)
from .linear import flatten_backward, flatten_forward, linear_backward, linear_forward
from .loss import (
    binary_cross_entropy_backward,
    binary_cross_entropy_forward,
    check_reduction,
    cross_entropy_backward,
    cross_entropy_forward,
    mse_loss_backward,
    mse_loss_forward,
)

__all__ = [
    "binary_cross_entropy_backward", "binary_cross_entropy_forward", "check_reduction", "cross_entropy_backward",
    "cross_entropy_forward", "flatten_backward", "flatten_forward", "linear_backward", "linear_forward",
    "log_softmax_backward", "log_softmax_forward", "mse_loss_backward", "mse_loss_forward", "relu_backward",
    "relu_forward", "sigmoid_backward", "sigmoid_forward", "softmax_backward", "softmax_forward",
    "tanh_backward", "tanh_forward",
]
