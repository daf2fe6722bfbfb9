r"""The cross-entropy of a linear projection (torch's ``linear_cross_entropy``) as a pure pair: the logits
:math:`z = x W^T + b` (``linear``), then softmax cross-entropy (``cross_entropy``) on them.

The weight has shape (C, d_1, ..., d_K, H_in): C classes and K extra output dims (a K-dimensional loss, for a
batched input only), so the logits of an (N, H_in) input have shape (N, C, d_1, ..., d_K). ``ignore_index=None``
means -100 for class-index targets and may not be set for probability targets (those of the logits' shape).

Gradients: with :math:`g = \partial L / \partial z` from the cross-entropy, flattened to (N, C d_1 ... d_K),
:math:`\partial L / \partial x = g W`, :math:`\partial L / \partial W = g^T x`, :math:`\partial L / \partial b =
\sum_n g_n`, reshaped to the weight's and bias's shapes. (torch's chunked path, ``options``, computes the same
values in pieces to save memory; scratch computes them at once.)

Shapes: input (H_in) or (N, H_in); linear_weight (C, *d, H_in); linear_bias (C, *d) or None; target (), (N) or
(N, *d) class indices, or the logits' shape (C) or (N, C, *d) for probabilities. Loss: the target's batch shape
for 'none', else ().
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np

from ..linear import linear_backward, linear_forward
from .classification import CrossEntropyCache, cross_entropy_backward, cross_entropy_forward

__all__ = ["linear_cross_entropy_backward", "linear_cross_entropy_forward"]

NAME = "LinearCrossEntropyLoss"


class LinearCrossEntropyCache(NamedTuple):
    """What ``linear_cross_entropy_backward`` needs."""

    linear: tuple[Any, ...]  #: linear_forward's cache (input, flat weight, has bias)
    cross_entropy: CrossEntropyCache
    weight_shape: tuple[int, ...]  #: (C, *d, H_in)
    batch_shape: tuple[int, ...]  #: () or (N,)


def _check(input: np.ndarray, linear_weight: np.ndarray, linear_bias: np.ndarray | None) -> tuple[int, ...]:
    """torch's checks of the shapes; the logits' shape."""
    if input.ndim not in (1, 2):
        raise ValueError(f"{NAME}: expected input with dimensionality 1 or 2, got {input.ndim}")
    if linear_weight.ndim < 2:
        raise ValueError(f"{NAME}: expected linear_weight with dimensionality at least 2, got {linear_weight.ndim}")
    if input.shape[-1] != linear_weight.shape[-1]:
        raise ValueError(f"{NAME}: expected equal input and linear_weight last dimensions (in_features), got "
                         f"{input.shape[-1]} and {linear_weight.shape[-1]}, respectively")
    classes = linear_weight.shape[:-1]
    if linear_bias is not None and linear_bias.shape != classes:
        raise ValueError(f"{NAME}: expected linear_bias shape {classes}, got {linear_bias.shape}")
    if len(classes) > 1 and input.ndim == 1:
        raise ValueError(f"{NAME}: K-dimensional loss defined by linear_weight shape {linear_weight.shape} requires "
                         f"batched input, (N, {input.shape[-1]}), got unbatched input with shape {input.shape}")
    return (*input.shape[:-1], *classes)


def linear_cross_entropy_forward(input: np.ndarray, linear_weight: np.ndarray, target: np.ndarray,
                                 linear_bias: np.ndarray | None = None, weight: np.ndarray | None = None,
                                 reduction: str = "mean", ignore_index: int | None = None,
                                 label_smoothing: float = 0.0) -> tuple[np.ndarray, LinearCrossEntropyCache]:
    """cross_entropy(linear(input, linear_weight, linear_bias), target, ...) (see the module docstring)."""
    logits_shape = _check(input, linear_weight, linear_bias)
    target = np.asarray(target)
    if target.shape == logits_shape:  # torch's test for probabilities: the target has the logits' shape
        if target.dtype.kind != "f":
            raise TypeError(f"{NAME}: Expected floating point type for target with class probabilities, got "
                            f"{target.dtype}")
        if ignore_index is not None:
            raise ValueError(f"{NAME}: ignore_index cannot be specified when target contains probabilities")
    rows = math.prod(linear_weight.shape[:-1])
    flat_weight = linear_weight.reshape(rows, linear_weight.shape[-1])
    flat_bias = None if linear_bias is None else linear_bias.reshape(rows)
    try:
        with np.errstate(all="ignore"):  # inf or huge inputs: torch's infs and nans, silently
            logits, linear_cache = linear_forward(input, flat_weight, flat_bias)
            loss, ce_cache = cross_entropy_forward(logits.reshape(logits_shape), target, weight,
                                                   -100 if ignore_index is None else ignore_index, reduction,
                                                   label_smoothing)
    except (ValueError, TypeError, IndexError) as error:  # the cross-entropy's checks, naming this loss
        raise type(error)(str(error).replace("CrossEntropyLoss", NAME, 1)) from error
    return loss, LinearCrossEntropyCache(linear_cache, ce_cache, linear_weight.shape, input.shape[:-1])


def linear_cross_entropy_backward(grad: Any, cache: LinearCrossEntropyCache
                                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """(dL/dinput, dL/dlinear_weight, dL/dlinear_bias or None): the cross-entropy's dL/dlogits through the linear."""
    rows = math.prod(cache.weight_shape[:-1])
    with np.errstate(all="ignore"):  # as in the forward
        dlogits = cross_entropy_backward(grad, cache.cross_entropy)
        dinput, dweight, dbias = linear_backward(dlogits.reshape(*cache.batch_shape, rows), cache.linear)
    return (dinput, dweight.reshape(cache.weight_shape),
            None if dbias is None else dbias.reshape(cache.weight_shape[:-1]))
