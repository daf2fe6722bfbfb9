"""Gradient clipping, mirroring ``torch.nn.utils.clip_grad``: by the total norm, or elementwise by value."""

from __future__ import annotations

import math
import types
import warnings
from collections.abc import Iterable

import numpy as np

from ..parameter import Parameter

__all__ = ["clip_grad_norm_", "clip_grad_value_"]

Parameters = Parameter | Iterable[Parameter]


def _as_list(parameters: Parameters) -> list[Parameter]:
    return [parameters] if isinstance(parameters, Parameter) else list(parameters)


def _vector_norm(x: np.ndarray, norm_type: float) -> np.ndarray:
    r"""torch.linalg.vector_norm(x, norm_type) as a 0-d array of x's dtype:
    max|x_i| (inf), min|x_i| (-inf), the count of non-zeros (0), (\sum |x_i|^p)^{1/p} otherwise."""
    a = np.abs(x.ravel())
    if math.isinf(norm_type):
        if a.size == 0:  # torch's two messages: _foreach_norm's for inf, vector_norm's for -inf
            what = "_foreach_norm cannot compute the infinity" if norm_type > 0 else \
                "linalg.vector_norm cannot compute the -inf"
            raise RuntimeError(f"{what} norm on an empty tensor because the operation does not have an identity")
        return np.asarray(a.max() if norm_type > 0 else a.min())
    if norm_type == 0:
        return np.asarray(np.count_nonzero(a), dtype=x.dtype)
    if norm_type == 1:
        return np.asarray(a.sum(dtype=x.dtype))
    if norm_type == 2:
        return np.asarray(np.sqrt(np.dot(a, a)))
    with np.errstate(divide="ignore", over="ignore"):  # 0 ** -1 = inf and inf ** -1 = 0, as torch
        return np.asarray(np.sum(a**norm_type) ** (1.0 / norm_type))


def _get_total_norm(grads: list[np.ndarray], norm_type: float, error_if_nonfinite: bool) -> np.ndarray:
    """The norm of the per-gradient norms, as if all gradients were one vector (torch's _get_total_norm)."""
    if not grads:
        return np.asarray(0.0, dtype=np.float32)  # torch.tensor(0.0): the default dtype
    norms = np.stack([_vector_norm(g, norm_type) for g in grads])  # mixed dtypes promote, as torch.stack
    total_norm = np.asarray(_vector_norm(norms, norm_type))
    if error_if_nonfinite and not np.isfinite(total_norm):
        raise RuntimeError(f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, so it "
                           "cannot be clipped. To disable this error and scale the gradients by the non-finite norm "
                           "anyway, set `error_if_nonfinite=False`")
    return total_norm


def clip_grad_norm_(parameters: Parameters, max_norm: float, norm_type: float = 2.0, error_if_nonfinite: bool = False,
                    foreach: bool | None = None) -> np.ndarray:
    r"""Scale every gradient in place so that their total norm is at most ``max_norm``.

    .. math:: N = \lVert (\lVert g_1 \rVert_p, \ldots, \lVert g_k \rVert_p) \rVert_p, \qquad
              c = \min\left(\frac{\text{max\_norm}}{N + 10^{-6}}, 1\right), \qquad g_i \leftarrow c\, g_i

    As torch, c is always multiplied in, also when it is 1, and is computed in N's dtype;
    parameters whose grad is None are skipped; ``norm_type`` may be any float, inf included.

    Args:
        parameters: a Parameter or an iterable (a generator included) of Parameters.
        max_norm: the largest total norm allowed.
        norm_type: p of the p-norm. Default: 2.0.
        error_if_nonfinite: raise RuntimeError when N is nan or ±inf. Default: False.
        foreach: accepted for torch's signature; scratch has one implementation.

    Returns:
        N, the total norm before clipping, as a 0-d array (float32 when no parameter has a grad).

    Shape: any; each gradient keeps its shape and dtype.
    """
    is_generator = isinstance(parameters, types.GeneratorType)
    parameters = _as_list(parameters)
    if is_generator and not parameters:
        warnings.warn("`parameters` is an empty generator, no gradient clipping will occur.", stacklevel=2)
    grads = [p.grad for p in parameters if p.grad is not None]
    total_norm = _get_total_norm(grads, float(norm_type), error_if_nonfinite)
    clip_coef = float(max_norm) / (total_norm + 1e-6)
    clip_coef_clamped = np.minimum(clip_coef, 1.0)
    with np.errstate(invalid="ignore"):  # an inf gradient times a coefficient of 0 is NaN, silently as in torch
        for grad in grads:
            # torch multiplies by a 0-d tensor, which takes the gradient's dtype first
            np.multiply(grad, clip_coef_clamped.astype(grad.dtype), out=grad)
    return total_norm


def clip_grad_value_(parameters: Parameters, clip_value: float, foreach: bool | None = None) -> None:
    r"""Clamp every gradient in place to [-clip_value, clip_value]: g <- min(max(g, -clip_value), clip_value),
    in that order, as torch's clamp_min_ then clamp_max_ (so a negative clip_value sets every entry to it);
    NaN stays NaN. Parameters whose grad is None are skipped.

    Shape: any; each gradient keeps its shape and dtype.
    """
    clip_value = float(clip_value)
    for param in _as_list(parameters):
        if param.grad is not None:
            np.maximum(param.grad, -clip_value, out=param.grad)
            np.minimum(param.grad, clip_value, out=param.grad)
