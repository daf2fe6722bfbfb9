"""Piecewise activation modules: Threshold, Hardshrink, Hardsigmoid, Hardswish and RReLU, thin wrappers
around the pairs in ``scratch.nn.functional.activation_piecewise``. Parameter-free: any float dtype in, the
same dtype out."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import functional as F
from .activation import _Elementwise, _inplace

__all__ = ["Hardshrink", "Hardsigmoid", "Hardswish", "RReLU", "Threshold"]


class Threshold(_Elementwise):
    r"""y = x if x > threshold else value;  dL/dx = dL/dy where x > threshold, else 0 (0 at x = threshold).

    A NaN x passes through with its gradient, as torch (whose test is x <= threshold).

    Shape: Input (*), Output (*), the same. ``inplace=True`` overwrites the input with y.
    """

    _backward = staticmethod(F.threshold_backward)

    def __init__(self, threshold: float, value: float, inplace: bool = False) -> None:
        super().__init__()
        self.threshold = threshold
        self.value = value
        self.inplace = inplace

    def _forward(self, input: np.ndarray) -> tuple[np.ndarray, Any]:
        return F.threshold_forward(input, self.threshold, self.value, self.inplace)

    def extra_repr(self) -> str:
        return f"threshold={self.threshold}, value={self.value}" + _inplace(self.inplace, after_options=True)


class Hardshrink(_Elementwise):
    r"""y = x where |x| > lambd, else 0;  dL/dx = dL/dy where |x| > lambd, else 0 (0 at both kinks).

    Shape: Input (*), Output (*), the same.
    """

    _backward = staticmethod(F.hardshrink_backward)

    def __init__(self, lambd: float = 0.5) -> None:
        super().__init__()
        self.lambd = lambd

    def _forward(self, input: np.ndarray) -> tuple[np.ndarray, Any]:
        return F.hardshrink_forward(input, self.lambd)

    def extra_repr(self) -> str:
        return f"{self.lambd}"


class Hardsigmoid(_Elementwise):
    r"""y = min(max(x + 3, 0), 6) / 6;  dL/dx = dL/dy / 6 where -3 < x < 3, else 0 (0 at both kinks).

    Shape: Input (*), Output (*), the same. ``inplace=True`` overwrites the input with y (torch's repr
    does not show it; neither does this one).
    """

    _backward = staticmethod(F.hardsigmoid_backward)

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def _forward(self, input: np.ndarray) -> tuple[np.ndarray, Any]:
        return F.hardsigmoid_forward(input, self.inplace)


class Hardswish(_Elementwise):
    r"""y = x min(max(x + 3, 0), 6) / 6;  dL/dx = dL/dy * (0 if x <= -3, 1 if x >= 3, x / 3 + 1/2 between)
    (torch's one-sided values at the kinks: 0 at -3, 1 at 3).

    Shape: Input (*), Output (*), the same. ``inplace=True`` overwrites the input with y (torch's repr
    does not show it; neither does this one).
    """

    _backward = staticmethod(F.hardswish_backward)

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def _forward(self, input: np.ndarray) -> tuple[np.ndarray, Any]:
        return F.hardswish_forward(input, self.inplace)


class RReLU(_Elementwise):
    r"""Randomized leaky ReLU. Training: y = x if x > 0 else r x, r ~ U(lower, upper) drawn per element;
    dL/dx = dL/dy * (1 if x > 0 else r). Eval: the mean slope a = (lower + upper) / 2 for every element,
    y = x if x > 0 else a x, dL/dx = dL/dy * (1 if x > 0 else a).

    Args:
        lower, upper: the bounds of the uniform slope. Default: 1/8 and 1/3.
        inplace: overwrite the input with the result. Default: False.
        rng: ``np.random.Generator`` for the slopes (keyword-only; default: scratch's global one).

    The slopes of the last training forward are kept as ``self.noise`` (the input's shape, 1 where x > 0),
    so a torch twin can replay them.

    Shape: Input (*), Output (*), the same.
    """

    _backward = staticmethod(F.rrelu_backward)

    def __init__(self, lower: float = 1.0 / 8, upper: float = 1.0 / 3, inplace: bool = False, *,
                 rng: np.random.Generator | None = None) -> None:
        super().__init__()
        self.lower = lower
        self.upper = upper
        self.inplace = inplace
        self.rng = rng
        #: the per-element slopes of the last training forward (None after an eval forward)
        self.noise: np.ndarray | None = None

    def _forward(self, input: np.ndarray) -> tuple[np.ndarray, Any]:
        out, cache = F.rrelu_forward(input, self.lower, self.upper, self.training, self.inplace, rng=self.rng)
        self.noise = cache.noise
        return out, cache

    def extra_repr(self) -> str:
        return f"lower={self.lower}, upper={self.upper}" + _inplace(self.inplace, after_options=True)
