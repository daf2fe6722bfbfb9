r"""Normalization: BatchNorm1d/2d/3d, LayerNorm, GroupNorm, RMSNorm: pure forward/backward pairs.

All of them normalize x over a set of axes A holding n values each:

    mu = (1/n) sum_A x,   sigma^2 = (1/n) sum_A (x - mu)^2   (biased),
    invstd = 1 / sqrt(sigma^2 + eps),   xhat = (x - mu) * invstd,

then apply a per-feature affine y = gamma * xhat + beta. They share one backward: with
g = dL/dxhat (= dL/dy * gamma),

    dL/dx = (invstd / n) * (n g - sum_A g - xhat * sum_A(g xhat)),

and dL/dgamma = sum(dL/dy * xhat), dL/dbeta = sum(dL/dy) over every axis gamma is broadcast along.

The statistics are accumulated in float64 and rounded to the input's dtype, as torch's CPU
kernels accumulate float32 batch statistics in double; every output keeps the input's dtype.

RMSNorm is the exception: y = x * rsqrt(mean_A(x^2) + eps) * gamma, no mean subtracted, computed in
the input's own precision (float16 in float32), as torch's ``_fused_rms_norm``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple, cast

import numpy as np

__all__ = [
    "batch_norm_backward",
    "batch_norm_forward",
    "group_norm_backward",
    "group_norm_forward",
    "layer_norm_backward",
    "layer_norm_forward",
    "rms_norm_backward",
    "rms_norm_forward",
]


def _moments(x: np.ndarray, axes: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Mean and biased variance over ``axes`` (kept, size 1), two-pass, in float64.

    A deliberate difference from torch at the edge of float32's range: torch's float32 statistics overflow
    for |x| beyond about 1e19 (x^2 passes float32's 3.4e38), and its output becomes 0 with NaN gradients;
    in float64 the statistics stay finite, so scratch's output and gradients are the true ones. Only a
    running_var that float32 cannot hold becomes inf, in both engines (``_update_running``). Everywhere
    else the two agree to float32's round-off, which is why the statistics are computed this way."""
    x64 = x.astype(np.float64)
    mean = x64.mean(axis=axes, keepdims=True)
    var = np.square(x64 - mean).mean(axis=axes, keepdims=True)
    return mean, var


def _sum(x: np.ndarray, axes: tuple[int, ...], dtype: np.dtype, keepdims: bool = False) -> np.ndarray:
    """``x`` summed over ``axes`` in float64, rounded to ``dtype``."""
    return cast("np.ndarray", x.sum(axis=axes, dtype=np.float64, keepdims=keepdims).astype(dtype))


def _normalize_backward(g: np.ndarray, xhat: np.ndarray, scale: np.ndarray, axes: tuple[int, ...]) -> np.ndarray:
    r"""dL/dx = (scale / n) (n g - sum_A g - xhat sum_A(g xhat)), n = values per normalized group.

    ``scale`` is invstd (times gamma when gamma is constant over A, as in batch norm).
    """
    n = max(int(np.prod([g.shape[a] for a in axes])), 1)  # an empty batch: any n, the arrays are empty
    sum_g = _sum(g, axes, g.dtype, keepdims=True)
    sum_gx = _sum(g * xhat, axes, g.dtype, keepdims=True)
    return cast("np.ndarray", (scale / n) * (n * g - sum_g - xhat * sum_gx))


def _verify_batch_size(size: Sequence[int], owner: str) -> None:
    """torch's check: more than one value per channel (the batch times the spatial sizes)."""
    size_prods = int(np.prod([size[0], *size[2:]]))
    if size_prods == 1:
        raise ValueError(f"{owner}: Expected more than 1 value per channel when training, got input size "
                         f"{list(size)}")


def _check_batch_norm_args(input: np.ndarray, others: tuple[Any, ...], training: bool, eps: float, owner: str) -> None:
    """torch's checks in torch's order: the batch size and eps (F.batch_norm), then the dtypes (its kernel):
    the running statistics, weight and bias that are given must have the input's dtype."""
    if training:
        _verify_batch_size(input.shape, owner)
        if eps <= 0.0:
            raise ValueError(f"{owner}: batch_norm eps must be positive during training, but got {eps}")
    elif eps < 0.0:
        raise ValueError(f"{owner}: batch_norm eps must be non-negative, but got {eps}")
    dtype = next((array.dtype for array in others if array is not None), input.dtype)
    if input.dtype != dtype:
        hint = f" or call .to(np.{input.dtype}) on the module" if input.dtype.kind == "f" else ""
        raise TypeError(f"{owner}: expected input of dtype {dtype} (the dtype of its parameters and running "
                        f"statistics), got {input.dtype}; convert the input{hint}")


def _fused_multiply_add(x: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """x * a + b rounded once, as torch's CPU kernels compute it (an FMA); exact for float32 and
    float16 through float64, a plain multiply-add in float64."""
    if x.dtype.itemsize >= 8:
        return cast("np.ndarray", x * a + b)
    return cast("np.ndarray", (x.astype(np.float64) * a + b).astype(x.dtype))


def _channel_shape(input: np.ndarray) -> tuple[int, ...]:
    return (1, input.shape[1]) + (1,) * (input.ndim - 2)


def _update_running(running: np.ndarray, batch: np.ndarray, momentum: float) -> None:
    """running <- momentum * batch + (1 - momentum) * running, in place (computed in float64); a value
    beyond the buffer's range becomes inf, as torch's does, silently as in torch. torch holds the batch's
    statistic in the buffer's dtype first: one beyond that range is inf there, so momentum 0 gives NaN (0 inf)."""
    with np.errstate(over="ignore", invalid="ignore"):
        held = batch.astype(running.dtype)
        batch = np.where(np.isinf(held), held, batch)
        running[...] = momentum * batch + (1 - momentum) * running.astype(np.float64)


class BatchNormCache(NamedTuple):
    """What ``batch_norm_backward`` needs from ``batch_norm_forward``."""

    xhat: np.ndarray  #: (x - mu) * invstd, like the input
    scale: np.ndarray  #: gamma * invstd (invstd without a weight), shaped (1, C, 1, ...)
    has_weight: bool
    has_bias: bool
    training: bool  #: whether mu and sigma were the batch's (and so depend on x)
    axes: tuple[int, ...]  #: the axes A normalized over: the batch and spatial axes


def batch_norm_forward(input: np.ndarray, running_mean: np.ndarray | None, running_var: np.ndarray | None,
                       weight: np.ndarray | None = None, bias: np.ndarray | None = None, training: bool = False,
                       momentum: float = 0.1, eps: float = 1e-5, *,
                       owner: str = "batch_norm") -> tuple[np.ndarray, BatchNormCache]:
    r"""Batch normalization over every axis but the channel axis 1 (A = N and the spatial axes).

    training: mu, sigma^2 are the batch's (biased); when given, the running buffers are updated in place,
        running_mean <- (1 - m) running_mean + m mu,
        running_var  <- (1 - m) running_var + m sigma^2 n / (n - 1)   (the unbiased variance).
    eval: mu, sigma^2 are running_mean, running_var.
    y = fma(x, alpha, beta) with alpha = gamma * invstd, beta = fma(-mu, alpha, b) (torch's order).

    ``owner`` names the caller in error messages.

    Shape: input (N, C, *); running_mean, running_var, weight, bias (C,); output (N, C, *).
    """
    _check_batch_norm_args(input, (running_mean, running_var, weight, bias), training, eps, owner)
    return batch_norm_unchecked(input, running_mean, running_var, weight, bias, training, momentum, eps)


def batch_norm_unchecked(input: np.ndarray, running_mean: np.ndarray | None, running_var: np.ndarray | None,
                         weight: np.ndarray | None, bias: np.ndarray | None, training: bool, momentum: float,
                         eps: float) -> tuple[np.ndarray, BatchNormCache]:
    """``batch_norm_forward`` without its checks (batch size, eps, dtypes): aten's kernel."""
    dtype, shape = input.dtype, _channel_shape(input)
    axes = (0, *range(2, input.ndim))
    if training and input.size == 0:  # as torch: an empty batch gives an empty output, the running stats unchanged
        mean64, var64 = np.zeros(shape), np.ones(shape)
    elif training:
        mean64, var64 = _moments(input, axes)
        if running_mean is not None and running_var is not None:
            n = input.size // input.shape[1]
            _update_running(running_mean, mean64.reshape(-1), momentum)
            _update_running(running_var, var64.reshape(-1) * n / (n - 1), momentum)
    else:
        # eval: the caller passes the running statistics (batch_norm checks it)
        mean64 = cast("np.ndarray", running_mean).astype(np.float64).reshape(shape)
        var64 = cast("np.ndarray", running_var).astype(np.float64).reshape(shape)
    mean, invstd = mean64.astype(dtype), (1.0 / np.sqrt(var64 + eps)).astype(dtype)
    alpha = invstd if weight is None else invstd * weight.reshape(shape)
    beta = _fused_multiply_add(-mean, alpha, np.zeros_like(alpha) if bias is None else bias.reshape(shape))
    out = _fused_multiply_add(input, alpha, beta)
    xhat = (input - mean) * invstd
    return out, BatchNormCache(xhat, alpha, weight is not None, bias is not None, training, axes)


def batch_norm_backward(dout: np.ndarray,
                        cache: BatchNormCache) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    r"""Gradients of batch normalization, with s = gamma * invstd (per channel):

        training: dL/dx = (s / n) (n dy - sum_A dy - xhat sum_A(dy xhat))   (mu, sigma depend on x)
        eval:     dL/dx = s dy                                               (the running stats do not)
        dL/dgamma = sum_A dy xhat,   dL/dbeta = sum_A dy                     (C,)

    Shape: dout (N, C, *) -> dx (N, C, *), dweight and dbias (C,) or None.
    """
    xhat, scale, axes = cache.xhat, cache.scale, cache.axes
    dx = _normalize_backward(dout, xhat, scale, axes) if cache.training else dout * scale
    dweight = _sum(dout * xhat, axes, dout.dtype) if cache.has_weight else None
    dbias = _sum(dout, axes, dout.dtype) if cache.has_bias else None
    return dx, dweight, dbias


class LayerNormCache(NamedTuple):
    """What ``layer_norm_backward`` needs from ``layer_norm_forward``."""

    xhat: np.ndarray  #: (x - mu) * invstd, like the input
    invstd: np.ndarray  #: 1 / sqrt(sigma^2 + eps) per sample, size 1 along the axes A
    weight: np.ndarray | None  #: gamma, normalized_shape
    has_bias: bool
    axes: tuple[int, ...]  #: the axes A normalized over: the last len(normalized_shape)


def layer_norm_forward(input: np.ndarray, normalized_shape: Sequence[int], weight: np.ndarray | None = None,
                       bias: np.ndarray | None = None, eps: float = 1e-5) -> tuple[np.ndarray, LayerNormCache]:
    r"""Layer normalization over the last len(normalized_shape) axes A of each sample:

        xhat = x * invstd - invstd * mu   (torch's order),   y = xhat * gamma + beta.

    Shape: input (*, *normalized_shape); weight, bias normalized_shape; output like input.
    """
    k = len(normalized_shape)
    if input.ndim < k or tuple(input.shape[input.ndim - k:]) != tuple(normalized_shape):
        raise ValueError(f"LayerNorm: expected input of shape (*, {', '.join(map(str, normalized_shape))}) "
                         f"(normalized_shape={tuple(normalized_shape)}), got {input.shape}")
    axes = tuple(range(input.ndim - k, input.ndim))
    mean64, var64 = _moments(input, axes)
    mean, invstd = mean64.astype(input.dtype), (1.0 / np.sqrt(var64 + eps)).astype(input.dtype)
    xhat = input * invstd + (-invstd * mean)
    out = xhat if weight is None else xhat * weight
    if bias is not None:
        out = out + bias
    return out, LayerNormCache(xhat, invstd, weight, bias is not None, axes)


def layer_norm_backward(dout: np.ndarray,
                        cache: LayerNormCache) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    r"""Gradients of layer normalization, with g = dy * gamma (elementwise over A):

        dL/dx = (invstd / n) (n g - sum_A g - xhat sum_A(g xhat))
        dL/dgamma = sum_lead dy xhat,   dL/dbeta = sum_lead dy   (summed over the leading axes)

    Shape: dout like the input -> dx like the input, dweight and dbias normalized_shape or None.
    """
    xhat, weight, axes = cache.xhat, cache.weight, cache.axes
    g = dout if weight is None else dout * weight
    dx = _normalize_backward(g, xhat, cache.invstd, axes)
    lead = tuple(range(dout.ndim - len(axes)))
    dweight = None if weight is None else _sum(dout * xhat, lead, dout.dtype)
    dbias = _sum(dout, lead, dout.dtype) if cache.has_bias else None
    return dx, dweight, dbias


class GroupNormCache(NamedTuple):
    """What ``group_norm_backward`` needs from ``group_norm_forward``; arrays in the grouped layout (N, G, C/G, S)."""

    xhat: np.ndarray  #: (x - mu) * invstd, (N, G, C/G, S) with S the product of the spatial sizes
    invstd: np.ndarray  #: 1 / sqrt(sigma^2 + eps) per (sample, group), (N, G, 1, 1)
    gamma: np.ndarray | None  #: the weight as (1, G, C/G, 1), or None
    has_bias: bool
    input_shape: tuple[int, ...]


def group_norm_forward(input: np.ndarray, num_groups: int, weight: np.ndarray | None = None,
                       bias: np.ndarray | None = None, eps: float = 1e-5) -> tuple[np.ndarray, GroupNormCache]:
    r"""Group normalization: the C channels of each sample split into num_groups groups of C/G, and
    each group normalized over its channels and spatial positions (A). With s = invstd * gamma_c:

        y = fma(x, s, fma(-mu, s, beta_c))   (torch's order),   which is gamma_c * xhat + beta_c;
        y = (x - mu) * invstd without weight and bias.

    Shape: input (N, C, *); weight, bias (C,); output (N, C, *).
    """
    if input.ndim < 2:
        raise ValueError(f"GroupNorm: expected input of shape (N, C, *) with at least 2 dimensions, "
                         f"got {input.ndim}-D input of shape {input.shape}")
    n_batch, channels = input.shape[:2]
    if channels % num_groups:
        raise ValueError(f"GroupNorm: expected a channel count divisible by num_groups={num_groups}, "
                         f"got input of shape {input.shape}")
    # torch's quirk: it counts values as N * C / G times the spatial sizes, not per group
    _verify_batch_size([n_batch * channels // num_groups, num_groups, *input.shape[2:]], "GroupNorm")
    x = input.reshape(n_batch, num_groups, channels // num_groups, int(np.prod(input.shape[2:])))  # N = 0 too
    mean64, var64 = _moments(x, (2, 3))
    mean, invstd = mean64.astype(input.dtype), (1.0 / np.sqrt(var64 + eps)).astype(input.dtype)
    gamma = None if weight is None else weight.reshape(1, num_groups, -1, 1)
    xhat = (x - mean) * invstd
    if gamma is None and bias is None:
        return xhat.reshape(input.shape), GroupNormCache(xhat, invstd, gamma, False, input.shape)
    scale = invstd if gamma is None else invstd * gamma
    beta = np.zeros_like(scale) if bias is None else bias.reshape(1, num_groups, -1, 1)
    out = _fused_multiply_add(x, scale, _fused_multiply_add(-mean, scale, beta)).reshape(input.shape)
    return out, GroupNormCache(xhat, invstd, gamma, bias is not None, input.shape)


def group_norm_backward(dout: np.ndarray,
                        cache: GroupNormCache) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    r"""Gradients of group normalization, with g = dy * gamma_c, n = (C/G) * spatial size:

        dL/dx = (invstd / n) (n g - sum_A g - xhat sum_A(g xhat))      per (sample, group)
        dL/dgamma_c = sum_{N, spatial} dy xhat,   dL/dbeta_c = sum_{N, spatial} dy

    Shape: dout (N, C, *) -> dx (N, C, *), dweight and dbias (C,) or None.
    """
    xhat, gamma = cache.xhat, cache.gamma
    dy = dout.reshape(xhat.shape)
    g = dy if gamma is None else dy * gamma
    dx = _normalize_backward(g, xhat, cache.invstd, (2, 3)).reshape(cache.input_shape)
    dweight = None if gamma is None else _sum(dy * xhat, (0, 3), dout.dtype).reshape(-1)
    dbias = _sum(dy, (0, 3), dout.dtype).reshape(-1) if cache.has_bias else None
    return dx, dweight, dbias


def _rms_eps(eps: float | None, dtype: np.dtype) -> float:
    """torch's default eps: the machine epsilon of the computation type (float32 for float16 and float32)."""
    if eps is not None:
        return eps
    return float(np.finfo(np.float64 if dtype == np.float64 else np.float32).eps)


class RMSNormCache(NamedTuple):
    """What ``rms_norm_backward`` needs from ``rms_norm_forward``."""

    x: np.ndarray  #: the input in the computation type (float16 upcast to float32)
    rstd: np.ndarray  #: 1 / sqrt(mean_A(x^2) + eps) per sample, size 1 along the axes A
    weight: np.ndarray | None  #: gamma, normalized_shape
    axes: tuple[int, ...]  #: the axes A normalized over: the last len(normalized_shape)
    dtype: np.dtype  #: the input's, which the gradient is rounded back to


def rms_norm_forward(input: np.ndarray, normalized_shape: Sequence[int], weight: np.ndarray | None = None,
                     eps: float | None = None) -> tuple[np.ndarray, RMSNormCache]:
    r"""Root mean square normalization over the last len(normalized_shape) axes A (n values):

        rstd = 1 / sqrt(mean_A(x^2) + eps),   xhat = x * rstd,   y = xhat * gamma.

    ``eps=None`` is torch's default, the machine epsilon of the computation type: float32's (1.19e-7)
    for float16 and float32 inputs, float64's (2.2e-16) for float64. Computed as torch's
    ``_fused_rms_norm``: in the input's precision (float16 upcast to float32), rounded back at the end.

    Shape: input (*, *normalized_shape); weight normalized_shape or None; output like input.
    """
    k = len(normalized_shape)
    if input.ndim < k or tuple(input.shape[input.ndim - k:]) != tuple(normalized_shape):
        raise ValueError(f"RMSNorm: expected input of shape (*, {', '.join(map(str, normalized_shape))}) "
                         f"(normalized_shape={tuple(normalized_shape)}), got {input.shape}")
    axes = tuple(range(input.ndim - k, input.ndim))
    x = input.astype(np.float32) if input.dtype.itemsize < 4 else input
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):  # x^2 = inf, 1/0 and inf * 0: as torch
        rstd = 1.0 / np.sqrt(np.square(x).mean(axis=axes, keepdims=True) + x.dtype.type(_rms_eps(eps, x.dtype)))
        out = x * rstd
    if weight is not None:
        out = out * weight
    return out.astype(input.dtype, copy=False), RMSNormCache(x, rstd, weight, axes, input.dtype)


def rms_norm_backward(dout: np.ndarray, cache: RMSNormCache) -> tuple[np.ndarray, np.ndarray | None]:
    r"""Gradients of RMS normalization, with g = dy * gamma, r = rstd, m = mean_A(x^2):

        dL/dx = g r + (2x / n) * dL/dm,   dL/dm = -r^3 / 2 * sum_A(g x)
              = (g - xhat * mean_A(g * xhat)) * r                 (xhat = x r)
        dL/dgamma = sum_lead dy * xhat   (summed over the leading axes)

    computed in the first form, the order torch's autograd takes through its composite (pow, mean,
    rsqrt, mul), so inf and NaN land where torch's do (x^2 underflowing to 0 with eps = 0: r = inf).

    Shape: dout like the input -> dx like the input, dweight normalized_shape or None.
    """
    x, rstd, weight, axes = cache.x, cache.rstd, cache.weight, cache.axes
    dy = dout.astype(x.dtype, copy=False)
    n = x.dtype.type(max(int(np.prod([x.shape[a] for a in axes])), 1))
    lead = tuple(range(x.ndim - len(axes)))
    with np.errstate(over="ignore", invalid="ignore"):  # inf and NaN pass through, as in torch
        g = dy if weight is None else dy * weight
        d_mean = (g * x).sum(axis=axes, keepdims=True) * x.dtype.type(-0.5) * rstd ** 3
        dx = g * rstd + d_mean / n * (x.dtype.type(2) * x)
        dweight = None if weight is None else (dy * (x * rstd)).sum(axis=lead).astype(weight.dtype, copy=False)
    return dx.astype(cache.dtype, copy=False), dweight
