"""LinearCrossEntropyLoss: a Linear projection to class logits fused with the cross-entropy, and the options of
torch's chunked path (``LinearCrossEntropyOptions``), which scratch keeps but does not need: it computes the
same values at once."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

from ... import functional as F
from .._checks import check_device
from ..linear import Linear
from ._base import _WeightedLoss

__all__ = ["LinearCrossEntropyLoss", "LinearCrossEntropyOptions"]


@dataclasses.dataclass(slots=True, frozen=True)
class LinearCrossEntropyOptions:
    """torch's options of the chunked ``linear_cross_entropy`` (chunk sizes, accumulation policy and dtype),
    field for field. They change how torch splits the work, not the values, so scratch only keeps them."""

    allow_retain_graph: bool = False
    batch_chunk_size: int | None = None
    chunking_method: str | None = "auto"
    acc_policy: str = "auto"
    acc_dtype: Any = None


class LinearCrossEntropyLoss(_WeightedLoss):
    r"""Cross-entropy of the logits :math:`z = x W^T + b` of a Linear layer: see ``CrossEntropyLoss`` for the loss
    (class weights, ``ignore_index``, label smoothing, class-index or probability targets). The Linear, child
    ``linear``, stores the weight flat, (C d_1 ... d_K, H_in), and its bias (C d_1 ... d_K,), as torch;
    ``forward`` views them as (C, d_1, ..., d_K, H_in) and (C, d_1, ..., d_K). ``ignore_index=None`` means -100
    for class-index targets.

    Gradients: the cross-entropy's :math:`g = \partial L / \partial z` through the projection:
    :math:`\partial L / \partial x = g W`, :math:`\partial L / \partial W = g^T x` and
    :math:`\partial L / \partial b = \sum_n g_n`, accumulated into ``linear.weight`` and ``linear.bias``;
    ``backward`` returns dL/dinput.

    Shape: input (H_in) or (N, H_in); target (), (N) or (N, d_1, ..., d_K) class indices, or (C) or
    (N, C, d_1, ..., d_K) probabilities; output () or, with reduction='none', the target's batch shape.
    """

    def __init__(self, in_features: int, num_classes: int, *, out_features: tuple[int, ...] = (),
                 bias: bool = False, device: Any = None, dtype: Any = None, reduction: str = "mean",
                 weight: np.ndarray | None = None, ignore_index: int | None = None, label_smoothing: float = 0.0,
                 options: LinearCrossEntropyOptions | None = None, rng: np.random.Generator | None = None) -> None:
        name = type(self).__name__
        if weight is not None and np.shape(weight) != (num_classes,):
            raise ValueError(f"{name}: expected weight shape to be {(num_classes,)}, got {np.shape(weight)}")
        if not 0.0 <= label_smoothing <= 1.0:
            raise ValueError(f"{name}: expected label_smoothing to be in range [0, 1], got {label_smoothing}")
        super().__init__(weight, None, None, reduction)
        self.num_classes = num_classes
        self.out_features = tuple(out_features)
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing
        check_device(name, device)
        self.linear = Linear(in_features, math.prod(self.out_features, start=num_classes), bias=bias, dtype=dtype,
                             rng=rng)
        self.options = options

    def _views(self) -> tuple[np.ndarray, np.ndarray | None]:
        """The Linear's weight and bias as (C, *out_features, H_in) and (C, *out_features)."""
        shape = (self.num_classes, *self.out_features)
        bias = self.linear.bias
        return (self.linear.weight.data.reshape(*shape, self.linear.in_features),
                None if bias is None else bias.data.reshape(shape))

    def forward(self, input: np.ndarray, target: np.ndarray) -> np.ndarray:
        linear_weight, linear_bias = self._views()
        if input.dtype != linear_weight.dtype:  # the parameters sit in the child: Module's own check skips them
            raise TypeError(f"{type(self).__name__}: expected input of dtype {linear_weight.dtype} (the dtype of "
                            f"its parameters), got {input.dtype}; convert the input or call .to() on the module")
        loss, cache = F.linear_cross_entropy_forward(input, linear_weight, target, linear_bias, self.weight,
                                                     self.reduction, self.ignore_index, self.label_smoothing)
        self._save(cache)
        return loss

    def backward(self, grad: Any = None) -> np.ndarray:
        dinput, dweight, dbias = F.linear_cross_entropy_backward(*self._upstream(grad))
        self.linear.weight.accumulate_grad(dweight.reshape(self.linear.weight.shape))
        if dbias is not None:
            self.linear.bias.accumulate_grad(dbias.reshape(self.linear.bias.shape))
        return dinput

    def extra_repr(self) -> str:
        return (f"in_features={self.linear.in_features}, num_classes={self.num_classes}, "
                f"out_features={self.out_features}, bias={self.linear.bias is not None}, reduction={self.reduction}, "
                f"ignore_index={self.ignore_index}, label_smoothing={self.label_smoothing}, options={self.options}")
