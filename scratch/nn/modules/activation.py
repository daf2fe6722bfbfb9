"""Activation modules: thin wrappers around the pairs in ``scratch.nn.functional``.

The parameter-free ones accept any float dtype and keep it; PReLU takes its weight's dtype only, like
Linear. ``inplace=True`` overwrites the input array with the result and returns it, like torch's.
"""

from __future__ import annotations

import warnings
from typing import Any, ClassVar

import numpy as np

from .. import functional as F
from ..init import constant_
from ..parameter import Parameter
from .module import Module, resolve_dtype

__all__ = ["CELU", "ELU", "GELU", "Hardtanh", "LeakyReLU", "Mish", "PReLU", "ReLU", "ReLU6", "SELU",
           "SiLU", "Sigmoid", "Softplus", "Softshrink", "Softsign", "Tanh"]


class _Elementwise(Module):
    """An activation computed by one functional pair (elementwise but for Softmax and LogSoftmax):
    ``_forward(input) -> (out, cache)`` with the module's options, then ``_backward(grad_output, cache)``."""

    _backward: ClassVar[staticmethod[[np.ndarray, Any], np.ndarray]]
    _input_kind = "float"  # see ``_checks``

    def _forward(self, input: np.ndarray) -> tuple[np.ndarray, Any]:
        raise NotImplementedError

    def forward(self, input: np.ndarray) -> np.ndarray:
        out, cache = self._forward(input)
        self._save(cache)
        return out

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        return self._backward(grad_output, self._saved(grad_output))


def _inplace(inplace: bool, after_options: bool = False) -> str:
    """torch's extra_repr part: ", inplace=True" after other options, "inplace=True" alone, else ""."""
    if not inplace:
        return ""
    return ", inplace=True" if after_options else "inplace=True"


class ReLU(_Elementwise):
    r"""y = max(0, x);  dL/dx = dL/dy * [x > 0] (0 at x = 0, as torch).

    Shape: Input (*), Output (*), the same. ``inplace=True`` overwrites the input with y.
    """

    _backward = staticmethod(F.relu_backward)

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def _forward(self, input: np.ndarray) -> tuple[np.ndarray, Any]:
        return F.relu_forward(input, self.inplace)

    def extra_repr(self) -> str:
        return _inplace(self.inplace)


class Sigmoid(_Elementwise):
    r"""y = 1 / (1 + e^{-x});  dL/dx = dL/dy * y (1 - y).

    Shape: Input (*), Output (*), the same.
    """

    _backward = staticmethod(F.sigmoid_backward)

    def _forward(self, input: np.ndarray) -> tuple[np.ndarray, Any]:
        return F.sigmoid_forward(input)


class Tanh(_Elementwise):
    r"""y = tanh(x);  dL/dx = dL/dy * (1 - y^2).

    Shape: Input (*), Output (*), the same.
    """

    _backward = staticmethod(F.tanh_backward)

    def _forward(self, input: np.ndarray) -> tuple[np.ndarray, Any]:
        return F.tanh_forward(input)


class LeakyReLU(_Elementwise):
    r"""y = x if x > 0 else negative_slope * x;  dL/dx = dL/dy * (1 if x > 0 else negative_slope).

    At x = 0 the gradient is negative_slope * dL/dy, as in torch. In place, backward reads the sign of
    y, so torch (and this module) refuse a negative slope with ``inplace=True`` there.

    Shape: Input (*), Output (*), the same.
    """

    _backward = staticmethod(F.leaky_relu_backward)

    def __init__(self, negative_slope: float = 1e-2, inplace: bool = False) -> None:
        super().__init__()
        self.negative_slope = negative_slope
        self.inplace = inplace

    def _forward(self, input: np.ndarray) -> tuple[np.ndarray, Any]:
        return F.leaky_relu_forward(input, self.negative_slope, self.inplace)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}" + _inplace(self.inplace, after_options=True)


class ELU(_Elementwise):
    r"""y = x if x > 0 else alpha (e^x - 1);  dL/dx = dL/dy * (1 if x > 0 else alpha e^x).

    At x = 0 the gradient is alpha * dL/dy (torch's x <= 0 branch). In place, backward uses
    alpha e^x = y + alpha, and a negative alpha is refused there, as in torch.

    Shape: Input (*), Output (*), the same.
    """

    _backward = staticmethod(F.elu_backward)

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        self.alpha = alpha
        self.inplace = inplace

    def _forward(self, input: np.ndarray) -> tuple[np.ndarray, Any]:
        return F.elu_forward(input, self.alpha, self.inplace)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}" + _inplace(self.inplace, after_options=True)


class SELU(_Elementwise):
    r"""y = scale * (x if x > 0 else alpha (e^x - 1)), alpha = 1.6732632423543772848170429916717,
    scale = 1.0507009873554804934193349852946;  dL/dx = dL/dy * scale * (1 if x > 0 else alpha e^x).

    Shape: Input (*), Output (*), the same.
    """

    _backward = staticmethod(F.selu_backward)

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def _forward(self, input: np.ndarray) -> tuple[np.ndarray, Any]:
        return F.selu_forward(input, self.inplace)

    def extra_repr(self) -> str:
        return _inplace(self.inplace)


class CELU(_Elementwise):
    r"""y = max(0, x) + min(0, alpha (e^{x/alpha} - 1));  dL/dx = dL/dy * (1 if x > 0 else e^{x/alpha}).

    alpha = 0 is an error at forward, as in torch. Quirk matched: torch's backward uses
    1/alpha with alpha rounded to float32, even for float64 inputs.

    Shape: Input (*), Output (*), the same.
    """

    _backward = staticmethod(F.celu_backward)

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        self.alpha = alpha
        self.inplace = inplace

    def _forward(self, input: np.ndarray) -> tuple[np.ndarray, Any]:
        return F.celu_forward(input, self.alpha, self.inplace)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}" + _inplace(self.inplace, after_options=True)


class GELU(_Elementwise):
    r"""y = x Phi(x) = x/2 (1 + erf(x / sqrt 2));  dL/dx = dL/dy * (Phi(x) + x phi(x)).

    With ``approximate='tanh'``: y = x/2 (1 + tanh(u)), u = sqrt(2/pi) (x + 0.044715 x^3), and
    dL/dx = dL/dy * ((1 + t)/2 + x/2 (1 - t^2) du/dx), t = tanh(u). Any other value of
    ``approximate`` is an error at forward, as in torch.

    Shape: Input (*), Output (*), the same.
    """

    _backward = staticmethod(F.gelu_backward)

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        self.approximate = approximate

    def _forward(self, input: np.ndarray) -> tuple[np.ndarray, Any]:
        return F.gelu_forward(input, self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class SiLU(_Elementwise):
    r"""y = x sigma(x);  dL/dx = dL/dy * sigma(x) (1 + x (1 - sigma(x))).

    Shape: Input (*), Output (*), the same.
    """

    _backward = staticmethod(F.silu_backward)

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def _forward(self, input: np.ndarray) -> tuple[np.ndarray, Any]:
        return F.silu_forward(input, self.inplace)

    def extra_repr(self) -> str:
        return _inplace(self.inplace)


class Mish(_Elementwise):
    r"""y = x tanh(softplus(x));  dL/dx = dL/dy * (t + x sigma(x) (1 - t^2)), t = tanh(softplus(x)).

    Shape: Input (*), Output (*), the same.
    """

    _backward = staticmethod(F.mish_backward)

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def _forward(self, input: np.ndarray) -> tuple[np.ndarray, Any]:
        return F.mish_forward(input, self.inplace)

    def extra_repr(self) -> str:
        return _inplace(self.inplace)


class Softplus(_Elementwise):
    r"""y = log(1 + e^{beta x}) / beta, and y = x where beta x > threshold;
    dL/dx = dL/dy * sigma(beta x), and dL/dy where beta x > threshold.

    Shape: Input (*), Output (*), the same.
    """

    _backward = staticmethod(F.softplus_backward)

    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        super().__init__()
        self.beta = beta
        self.threshold = threshold

    def _forward(self, input: np.ndarray) -> tuple[np.ndarray, Any]:
        return F.softplus_forward(input, self.beta, self.threshold)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"


class Softsign(_Elementwise):
    r"""y = x / (1 + |x|);  dL/dx = dL/dy / (1 + |x|)^2.

    Shape: Input (*), Output (*), the same.
    """

    _backward = staticmethod(F.softsign_backward)

    def _forward(self, input: np.ndarray) -> tuple[np.ndarray, Any]:
        return F.softsign_forward(input)


class Softshrink(_Elementwise):
    r"""y = x - lambd if x > lambd, x + lambd if x < -lambd, else 0;  dL/dx = dL/dy where |x| > lambd, else 0.

    Shape: Input (*), Output (*), the same.
    """

    _backward = staticmethod(F.softshrink_backward)

    def __init__(self, lambd: float = 0.5) -> None:
        super().__init__()
        self.lambd = lambd

    def _forward(self, input: np.ndarray) -> tuple[np.ndarray, Any]:
        return F.softshrink_forward(input, self.lambd)

    def extra_repr(self) -> str:
        return str(self.lambd)


class Hardtanh(_Elementwise):
    r"""y = min(max(x, min_val), max_val);  dL/dx = dL/dy where min_val < x < max_val, else 0
    (0 at both kinks, as torch). max_val must exceed min_val.

    ``min_value``/``max_value`` are torch's deprecated spellings of ``min_val``/``max_val``.

    Shape: Input (*), Output (*), the same.
    """

    _backward = staticmethod(F.hardtanh_backward)

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False,
                 min_value: float | None = None, max_value: float | None = None) -> None:
        super().__init__()
        if min_value is not None:
            warnings.warn("keyword argument `min_value` is deprecated and renamed to `min_val`", FutureWarning,
                          stacklevel=2)
            min_val = min_value
        if max_value is not None:
            warnings.warn("keyword argument `max_value` is deprecated and renamed to `max_val`", FutureWarning,
                          stacklevel=2)
            max_val = max_value
        if max_val <= min_val:  # torch raises AssertionError here; a bad value is a ValueError in scratch
            raise ValueError(f"{type(self).__name__}: max_val ({max_val}) must be greater than min_val ({min_val})")
        self.min_val = min_val
        self.max_val = max_val
        self.inplace = inplace

    def _forward(self, input: np.ndarray) -> tuple[np.ndarray, Any]:
        return F.hardtanh_forward(input, self.min_val, self.max_val, self.inplace)

    def extra_repr(self) -> str:
        return f"min_val={self.min_val}, max_val={self.max_val}" + _inplace(self.inplace, after_options=True)


class ReLU6(Hardtanh):
    r"""y = min(max(0, x), 6): Hardtanh(0, 6);  dL/dx = dL/dy where 0 < x < 6, else 0 (0 at both kinks).

    Shape: Input (*), Output (*), the same.
    """

    def __init__(self, inplace: bool = False) -> None:
        super().__init__(0.0, 6.0, inplace)

    def extra_repr(self) -> str:
        return _inplace(self.inplace)


class PReLU(Module):
    r"""y = x if x > 0 else a x, with learnable slopes a: one shared, or one per channel (dim 1).

    dL/dx = dL/dy * (1 if x > 0 else a);  dL/da_c = sum of x dL/dy over channel c's elements with
    x <= 0 (over all elements for a single a). At x = 0 the input gradient is a dL/dy, as torch.

    Args: ``num_parameters``, the number of slopes: 1 or the channels C (default 1); ``init``, every
    slope's initial value (default 0.25); ``dtype`` of the ``weight`` (the slopes, shape (num_parameters,)).

    Shape: Input (*), or (N, C, *) when num_parameters = C > 1 (a 1-D input has no channel dim and
    counts as one channel, as in torch); Output (*), the same.
    """

    _input_kind = "float"  # see ``_checks``

    def __init__(self, num_parameters: int = 1, init: float = 0.25, dtype: Any = None) -> None:
        super().__init__()
        self.num_parameters = num_parameters
        self.init = init
        self.weight = Parameter(np.empty(num_parameters, dtype=resolve_dtype(dtype)))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        constant_(self.weight, self.init)

    def forward(self, input: np.ndarray) -> np.ndarray:
        if self.weight.size != 1:
            if input.ndim == 0:
                raise ValueError(f"PReLU: a 0-d input needs num_parameters=1, got num_parameters={self.weight.size}")
            channels = input.shape[1] if input.ndim > 1 else 1
            if channels != self.weight.size:
                raise ValueError(f"PReLU: expected {self.weight.size} channels in dim 1 of the input (num_parameters),"
                                 f" got input of shape {input.shape} ({channels} channel(s))")
        out, cache = F.prelu_forward(input, self.weight.data)
        self._save(cache)
        return out

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        grad_input, grad_weight = F.prelu_backward(grad_output, self._saved(grad_output))
        self.weight.accumulate_grad(grad_weight)
        return grad_input

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"
