r"""Padding layers, as torch/nn/modules/padding.py: ZeroPad, ConstantPad, ReflectionPad, ReplicationPad and
CircularPad in 1-D, 2-D and 3-D (parameter-free, any float dtype). Each is ``pad_forward`` / ``pad_backward``
with its mode; ``padding`` is an int (every side) or torch's flat tuple (left, right[, top, bottom[, front,
back]]), a negative width cropping instead.

Shape (k = 1, 2, 3 padded dims):
    - Input: (*, S_1, ..., S_k) (CircularPad, ReflectionPad, ReplicationPad: 1 or 2 dims more than k).
    - Output: (*, S_1 + front + back, ..., S_k + left + right).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import functional as F
from ..functional.padding import check_pad
from .module import Module

__all__ = [
    "CircularPad1d", "CircularPad2d", "CircularPad3d", "ConstantPad1d", "ConstantPad2d", "ConstantPad3d",
    "ReflectionPad1d", "ReflectionPad2d", "ReflectionPad3d", "ReplicationPad1d", "ReplicationPad2d",
    "ReplicationPad3d", "ZeroPad1d", "ZeroPad2d", "ZeroPad3d",
]


def _widths(owner: str, padding: Any, n: int) -> tuple[int, ...]:
    """torch's _pair / _quadruple / _ntuple(6): an int for every side, or a sequence of n ints."""
    values = tuple(padding) if isinstance(padding, (tuple, list)) else (padding,) * n
    if len(values) != n or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in values):
        raise ValueError(f"{owner}: padding must be an int or a tuple of {n} ints, got {padding!r}")
    return tuple(int(v) for v in values)


class _PadNd(Module):
    """What every padding layer shares: ``padding`` (2 k ints), the mode, the pair, torch's repr."""

    _input_kind = "float"  # see ``_checks``
    _dims = 1
    _mode = "constant"

    def __init__(self, padding: Any) -> None:
        super().__init__()
        self.padding = _widths(type(self).__name__, padding, 2 * self._dims)

    def _value(self) -> float | None:
        return None

    def _check_input_dim(self, input: np.ndarray) -> None:
        """F.pad's checks (CircularPad adds its own rank check first, as torch)."""

    def forward(self, input: np.ndarray) -> np.ndarray:
        self._check_input_dim(input)
        check_pad(type(self).__name__, input.shape, self.padding, self._mode, self._value())
        out, cache = F.pad_forward(input, self.padding, self._mode, self._value())
        self._save(cache)
        return out

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        return F.pad_backward(grad_output, self._saved(grad_output))

    def extra_repr(self) -> str:
        return f"{self.padding}"


class _CircularPadNd(_PadNd):
    r"""Circular padding: the last elements pad the start and the first pad the end (crop first, then
    y[j] = u[(j - left) mod M], u the cropped input of size M); each width at most the input's size."""

    _mode = "circular"

    def _check_input_dim(self, input: np.ndarray) -> None:
        if input.ndim not in (self._dims + 1, self._dims + 2):
            raise ValueError(f"{type(self).__name__}: expected {self._dims + 1}D or {self._dims + 2}D input "
                             f"(got {input.ndim}D input)")


class _ConstantPadNd(_PadNd):
    """Constant padding with ``value`` (crop first, then pad); any rank with at least k dims."""

    def __init__(self, padding: Any, value: float) -> None:
        super().__init__(padding)
        self.value = value

    def _value(self) -> float | None:
        return self.value

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


class _ReflectionPadNd(_PadNd):
    """Reflection about the edge, the edge not repeated (x[1] before x[0]); each width below the input's size."""

    _mode = "reflect"


class _ReplicationPadNd(_PadNd):
    """The edge element repeated."""

    _mode = "replicate"


class _ZeroPadMixin:
    """ZeroPad: ConstantPad with value 0.0 and the shorter repr, as torch."""

    def __init__(self, padding: Any) -> None:
        super().__init__(padding, 0.0)  # type: ignore[call-arg]

    def extra_repr(self) -> str:
        return f"{self.padding}"  # type: ignore[attr-defined]


class CircularPad1d(_CircularPadNd):
    """Circular padding of the last dim: (C, W) or (N, C, W); padding (left, right)."""

    _dims = 1


class CircularPad2d(_CircularPadNd):
    """Circular padding of the last 2 dims: (C, H, W) or (N, C, H, W); padding (left, right, top, bottom)."""

    _dims = 2


class CircularPad3d(_CircularPadNd):
    """Circular padding of the last 3 dims: (C, D, H, W) or (N, C, D, H, W); padding (left, right, top,
    bottom, front, back)."""

    _dims = 3


class ConstantPad1d(_ConstantPadNd):
    """Constant padding of the last dim of any input; padding (left, right)."""

    _dims = 1


class ConstantPad2d(_ConstantPadNd):
    """Constant padding of the last 2 dims; padding (left, right, top, bottom)."""

    _dims = 2


class ConstantPad3d(_ConstantPadNd):
    """Constant padding of the last 3 dims; padding (left, right, top, bottom, front, back)."""

    _dims = 3


class ReflectionPad1d(_ReflectionPadNd):
    """Reflection padding of the last dim: (C, W) or (N, C, W); padding (left, right)."""

    _dims = 1


class ReflectionPad2d(_ReflectionPadNd):
    """Reflection padding of the last 2 dims: (C, H, W) or (N, C, H, W); padding (left, right, top, bottom)."""

    _dims = 2


class ReflectionPad3d(_ReflectionPadNd):
    """Reflection padding of the last 3 dims: (C, D, H, W) or (N, C, D, H, W); 6 widths."""

    _dims = 3


class ReplicationPad1d(_ReplicationPadNd):
    """Replication padding of the last dim: (C, W) or (N, C, W); padding (left, right)."""

    _dims = 1


class ReplicationPad2d(_ReplicationPadNd):
    """Replication padding of the last 2 dims: (C, H, W) or (N, C, H, W); padding (left, right, top, bottom)."""

    _dims = 2


class ReplicationPad3d(_ReplicationPadNd):
    """Replication padding of the last 3 dims: (C, D, H, W) or (N, C, D, H, W); 6 widths."""

    _dims = 3


class ZeroPad1d(_ZeroPadMixin, ConstantPad1d):
    """Zero padding of the last dim of any input; padding (left, right)."""


class ZeroPad2d(_ZeroPadMixin, ConstantPad2d):
    """Zero padding of the last 2 dims; padding (left, right, top, bottom)."""


class ZeroPad3d(_ZeroPadMixin, ConstantPad3d):
    """Zero padding of the last 3 dims; padding (left, right, top, bottom, front, back)."""
