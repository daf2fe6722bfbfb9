"""Identity, Linear, NonDynamicallyQuantizableLinear and Bilinear."""

from __future__ import annotations

import math
from typing import Any, cast

import numpy as np

from .. import functional as F
from .. import init
from ..parameter import Parameter
from ._checks import check_float, check_size
from .module import Module, resolve_dtype

__all__ = ["Bilinear", "Identity", "Linear", "NonDynamicallyQuantizableLinear"]


class Identity(Module):
    r"""y = x. Accepts and ignores any constructor arguments, like torch's.

    Shape: input (*), output (*), the same.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()

    def forward(self, input: np.ndarray) -> np.ndarray:
        self._save(True)
        return input

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        r"""dL/dx = dL/dy."""
        self._saved(grad_output)
        return grad_output


class Linear(Module):
    r"""Applies an affine transformation: :math:`y = x W^T + b`.

    Backward (the delta rule), with the upstream gradient :math:`\delta = \partial L / \partial y`:
    :math:`\partial L/\partial x = \delta W`, :math:`\partial L/\partial W = \delta^T x` and
    :math:`\partial L/\partial b = \sum_n \delta_n`, summed over all leading dimensions.

    Args:
        in_features: size of each input sample.
        out_features: size of each output sample.
        bias: if False, the layer learns no additive bias. Default: True.
        dtype: floating NumPy dtype of the parameters. Default: float32.
        rng: ``np.random.Generator`` for the initial weights (default: scratch's global one).

    Shape:
        - Input: :math:`(*, H_{in})`, :math:`H_{in}` = in_features.
        - Output: :math:`(*, H_{out})`, :math:`H_{out}` = out_features.

    Attributes:
        weight: :math:`(H_{out}, H_{in})`, initialized from :math:`U(-\sqrt{k}, \sqrt{k})`,
            :math:`k = 1 / H_{in}` (torch's kaiming_uniform_ with a = sqrt(5)).
        bias: :math:`(H_{out})`, also from :math:`U(-\sqrt{k}, \sqrt{k})`.
    """

    _input_kind = "float"  # see ``_checks``

    def __init__(self, in_features: int, out_features: int, bias: bool = True, dtype: Any = None, *,
                 rng: np.random.Generator | None = None) -> None:
        super().__init__()
        dtype = resolve_dtype(dtype)
        self.in_features = check_size("Linear", "in_features", in_features)
        self.out_features = check_size("Linear", "out_features", out_features)
        self.weight = Parameter(np.empty((out_features, in_features), dtype=dtype))
        if bias:
            self.bias = Parameter(np.empty(out_features, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters(rng=rng)

    def reset_parameters(self, *, rng: np.random.Generator | None = None) -> None:
        init.kaiming_uniform_(self.weight, a=math.sqrt(5), rng=rng)
        if self.bias is not None:
            fan_in = self.in_features
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound, rng=rng)

    def forward(self, input: np.ndarray) -> np.ndarray:
        if input.ndim == 0 or input.shape[-1] != self.in_features:
            raise ValueError(f"Linear: expected input of shape (*, {self.in_features}) (in_features="
                             f"{self.in_features}), got {input.shape}")
        params = self._parameters  # read the registry directly: Module.__getattr__ is slow on the hot path
        weight, bias = params["weight"], params["bias"]
        assert weight is not None  # for the type checker (typing.cast would be a call on the hot path)
        out, cache = F.linear_forward(input, weight.data, None if bias is None else bias.data)
        self._save(cache)
        return out

    def backward(self, grad_output: np.ndarray) -> np.ndarray | None:
        """dL/dinput, or None after ``requires_input_grad_(False)`` (the dX product is skipped)."""
        grad_input: np.ndarray | None  # the flag read from __dict__ is Any: mypy cannot pick an overload
        grad_input, grad_weight, grad_bias = F.linear_backward(grad_output, self._saved(grad_output),
                                                               input_grad=self.__dict__.get("_requires_input_grad",
                                                                                            True))
        params = self._parameters  # read the registry directly: Module.__getattr__ is slow on the hot path
        weight, bias = params["weight"], params["bias"]
        assert weight is not None  # for the type checker (typing.cast would be a call on the hot path)
        weight.accumulate_grad(grad_weight, fresh=True)  # fresh: kept, not copied, when grad is None
        if bias is not None:  # then it has a gradient
            bias.accumulate_grad(grad_bias, fresh=True)
        return grad_input

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class NonDynamicallyQuantizableLinear(Linear):
    r"""``Linear`` under the name torch gives MultiheadAttention's ``out_proj`` (a marker class for torch's
    quantization tools; the same layer otherwise), so that the module trees and reprs match."""


class Bilinear(Module):
    r"""Applies a bilinear transformation: :math:`y = x_1^T A x_2 + b`, one matrix :math:`A_o` per output.

    Backward, with :math:`\delta = \partial L / \partial y`: :math:`\partial L/\partial x_1 = \sum_o \delta_o A_o x_2`,
    :math:`\partial L/\partial x_2 = \sum_o \delta_o A_o^T x_1`, :math:`\partial L/\partial A_o = \sum_n
    \delta_{no} x_{1n} x_{2n}^T` and :math:`\partial L/\partial b = \sum_n \delta_n`, over all leading dimensions.

    Args:
        in1_features: size of each first input sample (> 0).
        in2_features: size of each second input sample.
        out_features: size of each output sample.
        bias: if False, the layer learns no additive bias. Default: True.
        dtype: floating NumPy dtype of the parameters. Default: float32.
        rng: ``np.random.Generator`` for the initial weights (default: scratch's global one).

    Shape:
        - Input1: :math:`(*, H_{in1})`; Input2: :math:`(*, H_{in2})`, the same leading dimensions.
        - Output: :math:`(*, H_{out})`.

    Attributes:
        weight: :math:`(H_{out}, H_{in1}, H_{in2})`, from :math:`U(-\sqrt{k}, \sqrt{k})`, :math:`k = 1 / H_{in1}`.
        bias: :math:`(H_{out})`, from the same distribution.
    """

    _input_kind = "float"  # see ``_checks``

    def __init__(self, in1_features: int, in2_features: int, out_features: int, bias: bool = True,
                 dtype: Any = None, *, rng: np.random.Generator | None = None) -> None:
        super().__init__()
        dtype = resolve_dtype(dtype)
        self.in1_features = check_size("Bilinear", "in1_features", in1_features)
        self.in2_features = check_size("Bilinear", "in2_features", in2_features)
        self.out_features = check_size("Bilinear", "out_features", out_features)
        self.weight = Parameter(np.empty((out_features, in1_features, in2_features), dtype=dtype))
        if bias:
            self.bias = Parameter(np.empty(out_features, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters(rng=rng)

    def reset_parameters(self, *, rng: np.random.Generator | None = None) -> None:
        if self.in1_features <= 0:  # torch's check and message
            raise ValueError(f"Bilinear: in1_features must be > 0, but got (in1_features={self.in1_features})")
        bound = 1 / math.sqrt(self.in1_features)
        init.uniform_(self.weight, -bound, bound, rng=rng)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound, rng=rng)

    def forward(self, input1: np.ndarray, input2: np.ndarray) -> np.ndarray:
        check_float("Bilinear", "input2", input2)
        if input1.ndim == 0 or input1.ndim != input2.ndim or input1.shape[:-1] != input2.shape[:-1] \
                or input1.shape[-1] != self.in1_features or input2.shape[-1] != self.in2_features:
            raise ValueError(f"Bilinear: expected inputs of shapes (*, {self.in1_features}) and (*, "
                             f"{self.in2_features}) with the same leading dimensions (in1_features="
                             f"{self.in1_features}, in2_features={self.in2_features}), got {input1.shape} and "
                             f"{input2.shape}")
        out, cache = F.bilinear_forward(input1, input2, self.weight.data, None if self.bias is None else self.bias.data)
        self._save(cache)
        return out

    def backward(self, grad_output: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        grad1, grad2, grad_weight, grad_bias = F.bilinear_backward(grad_output, self._saved(grad_output))
        self.weight.accumulate_grad(grad_weight)
        if self.bias is not None:  # then it has a gradient
            self.bias.accumulate_grad(cast("np.ndarray", grad_bias))
        return grad1, grad2

    def extra_repr(self) -> str:
        return (f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
                f"out_features={self.out_features}, bias={self.bias is not None}")
