r"""Instance normalization (InstanceNorm1d/2d/3d): a pure forward/backward pair.

Each (sample, channel) plane is normalized over its own spatial positions A (n values):

    mu = (1/n) sum_A x,   sigma^2 = (1/n) sum_A (x - mu)^2   (biased),
    y = (x - mu) / sqrt(sigma^2 + eps) * gamma_c + beta_c,

as torch's ``instance_norm`` computes it: batch normalization of the input viewed as (1, N*C, *), the
weight, bias and running statistics repeated N times, the repeated running statistics averaged back
over N afterwards. The gradient is batch normalization's on that view (see ``normalization``), with
dL/dgamma_c and dL/dbeta_c summed over the N repeats.

Speed: the planes are processed in pieces of whole planes (``PIECE`` elements) on scratch's intra-op
threads, each piece from its statistics to its output in one go while it is in cache: one float64 copy
centred in place for the two-pass statistics (accumulated in float64, as torch's kernel), then xhat
and y in the input's dtype; the backward's two float64 sums per plane and dL/dx likewise.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import NamedTuple, cast

import numpy as np

from ...parallel import parallel_for
from .normalization import _update_running

__all__ = ["instance_norm_backward", "instance_norm_forward"]


class InstanceNormCache(NamedTuple):
    """What ``instance_norm_backward`` needs from ``instance_norm_forward``; per-plane arrays over P = N*C planes."""

    xhat: np.ndarray  #: (x - mu) * invstd, (P, S) with S the product of the spatial sizes
    scale: np.ndarray  #: gamma_c * invstd (invstd without a weight), (P, 1)
    has_weight: bool
    has_bias: bool
    training: bool  #: whether mu and sigma were the planes' own (and so depend on x)
    input_shape: tuple[int, ...]


def _verify_spatial_size(size: Sequence[int], owner: str) -> None:
    """torch's check: more than one spatial element per plane when the input's statistics are used."""
    if int(np.prod(size[2:])) == 1:
        raise ValueError(f"{owner}: Expected more than 1 spatial element when training, got input size {list(size)}")


def _check_args(input: np.ndarray, channels: int, others: dict[str, np.ndarray | None], owner: str,
                updating: bool) -> None:
    """aten's checks: each given per-channel array has C entries and the input's dtype (torch's RuntimeError
    for the size, naming the repeated size N*C it sees, is a ValueError here, as scratch's shape errors).
    ``updating``: the running statistics are updated from the input, which needs C entries (or C = 1, which
    torch's update broadcasts) even for N = 0."""
    n_batch = input.shape[0]
    running = others["running_mean"]
    if updating and n_batch == 0 and running is not None and channels not in (running.size, 1):
        raise ValueError(f"{owner}: running_mean has {running.size} elements, the input's {channels} channels "
                         f"(input of shape {input.shape}) cannot update it")
    for name, array in others.items():
        if array is None:
            continue
        if n_batch * array.size != n_batch * channels:  # torch's check, on the repeated sizes (any for N = 0)
            raise ValueError(f"{owner}: {name} should contain {input.shape[0] * input.shape[1]} elements not "
                               f"{n_batch * array.size} (expected shape ({channels},) for an input of shape "
                               f"{input.shape}, got {array.shape})")
        if array.dtype != input.dtype:
            raise TypeError(f"{owner}: expected input of dtype {array.dtype} (the dtype of its parameters and "
                            f"running statistics), got {input.dtype}")


def _plane_moments(planes: np.ndarray, use_input_stats: bool, running_mean: np.ndarray | None,
                   running_var: np.ndarray | None, n_batch: int, rows: slice) -> tuple[np.ndarray, np.ndarray]:
    """The mean and biased variance of each plane, (P, 1) each, in float64 and two-pass (see
    ``normalization._moments``: float64 keeps |x| up to 1e154 finite where float32's squares overflow at 1e19):
    one float64 copy, centred in place, its squares summed as one dot product per plane. Without input
    statistics: the running ones, repeated over N (the planes ``rows`` of them). Empty planes: mean 0,
    variance 1 (as torch)."""
    if not use_input_stats:
        return (cast("np.ndarray", _repeat(running_mean, n_batch))[rows].astype(np.float64)[:, None],
                cast("np.ndarray", _repeat(running_var, n_batch))[rows].astype(np.float64)[:, None])
    if planes.size == 0:
        return np.zeros((planes.shape[0], 1)), np.ones((planes.shape[0], 1))
    x64 = planes.astype(np.float64)
    mean64 = x64.mean(axis=1, keepdims=True)
    x64 -= mean64
    return mean64, np.matmul(x64[:, None, :], x64[:, :, None])[:, 0] / planes.shape[1]


#: the elements of the planes one thread takes at a time: the float64 copy of a piece (512 KiB) stays in cache
PIECE = 1 << 16


def _by_planes(work: Callable[[int, int], None], shape: tuple[int, int]) -> None:
    """``work(r0, r1)`` on every piece of whole planes (rows of ``shape``), on scratch's intra-op threads."""
    rows, size = shape
    if size == 0:
        work(0, rows)
        return
    grain = max(PIECE // size, 1) * size
    parallel_for(lambda start, stop: work(start // size, stop // size), rows * size, grain)


def _update_running_stats(running_mean: np.ndarray | None, running_var: np.ndarray | None, mean64: np.ndarray,
                          var64: np.ndarray, n: int, n_batch: int, channels: int, momentum: float) -> None:
    """torch's update: the running buffers repeated N times, each copy updated with its plane's statistics
    (the variance unbiased), then averaged back over N (the mean of nothing, NaN, for N = 0)."""
    for running, batch in ((running_mean, mean64), (running_var, var64 * n / max(n - 1, 1))):
        if running is None:
            continue
        repeated = cast("np.ndarray", _repeat(running, n_batch))
        if mean64.size and n:  # an empty input leaves the repeated buffers unchanged
            _update_running(repeated, batch.reshape(-1), momentum)
        running[...] = repeated.reshape(n_batch, channels).mean(axis=0) if n_batch else np.nan


def _repeat(array: np.ndarray | None, times: int) -> np.ndarray | None:
    return None if array is None else np.tile(array, times)


def instance_norm_forward(input: np.ndarray, running_mean: np.ndarray | None = None,
                          running_var: np.ndarray | None = None, weight: np.ndarray | None = None,
                          bias: np.ndarray | None = None, use_input_stats: bool = True, momentum: float = 0.1,
                          eps: float = 1e-5, *, owner: str = "instance_norm") -> tuple[np.ndarray, InstanceNormCache]:
    r"""Instance normalization of a batched input (N, C, *) over the spatial axes of each plane.

    use_input_stats: mu, sigma^2 are each plane's (more than one spatial element needed); the running
        buffers, when given, are updated in place with the planes' statistics averaged over N:
        running_mean <- (1 - m) running_mean + m mean_N(mu),
        running_var  <- (1 - m) running_var + m mean_N(sigma^2 n / (n - 1))   (unbiased).
    otherwise: mu, sigma^2 are running_mean, running_var (both required).
    y = gamma_c xhat + beta_c, xhat = (x - mu) invstd in the input's dtype (torch's fma(x, alpha, beta) to a
    few ulps).

    Shape: input (N, C, *); running_mean, running_var, weight, bias (C,); output (N, C, *).
    """
    if input.ndim < 2:
        raise ValueError(f"{owner}: expected input of shape (N, C, *), got {input.shape}")
    if use_input_stats:
        _verify_spatial_size(input.shape, owner)
    elif running_mean is None or running_var is None:
        raise ValueError(f"{owner}: Expected running_mean and running_var to be defined when use_input_stats "
                           "is false")
    n_batch, channels = input.shape[:2]
    _check_args(input, channels, {"weight": weight, "bias": bias, "running_mean": running_mean,
                                  "running_var": running_var}, owner, use_input_stats)
    planes = input.reshape(n_batch * channels, int(np.prod(input.shape[2:])))
    dtype, rows = input.dtype, planes.shape[0]
    weight_rep = None if weight is None else cast("np.ndarray", _repeat(weight, n_batch))[:, None]
    bias_rep = None if bias is None else cast("np.ndarray", _repeat(bias, n_batch))[:, None]
    mean64, var64 = np.empty((rows, 1)), np.empty((rows, 1))
    alpha, xhat, out = np.empty((rows, 1), dtype), np.empty_like(planes), np.empty_like(planes)

    def normalize(r0: int, r1: int) -> None:  # planes r0:r1, from their statistics to their output
        part = slice(r0, r1)
        mean64[part], var64[part] = _plane_moments(planes[part], use_input_stats, running_mean, running_var,
                                                   n_batch, part)
        invstd = (1.0 / np.sqrt(var64[part] + eps)).astype(dtype)
        alpha[part] = invstd if weight_rep is None else invstd * weight_rep[part]
        np.subtract(planes[part], mean64[part].astype(dtype), out=xhat[part])  # (x - mu) invstd in the dtype
        xhat[part] *= invstd
        # y = gamma xhat + b: torch's fma(x, alpha, beta) up to a few ulps of y (the tolerance allows hundreds)
        if weight_rep is None:
            out[part] = xhat[part]
        else:
            np.multiply(xhat[part], weight_rep[part], out=out[part])
        if bias_rep is not None:
            out[part] += bias_rep[part]

    _by_planes(normalize, planes.shape)
    if use_input_stats:
        _update_running_stats(running_mean, running_var, mean64, var64, planes.shape[1], n_batch, channels, momentum)
    return out.reshape(input.shape), InstanceNormCache(xhat, alpha, weight is not None, bias is not None,
                                                       use_input_stats, input.shape)


def instance_norm_backward(dout: np.ndarray,
                           cache: InstanceNormCache) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    r"""Gradients of instance normalization, per (sample, channel) plane of n spatial values, s = gamma_c invstd:

        input stats:   dL/dx = (s / n) (n dy - sum_A dy - xhat sum_A(dy xhat))
        running stats: dL/dx = s dy
        dL/dgamma_c = sum_{N, A} dy xhat,   dL/dbeta_c = sum_{N, A} dy   (C,)

    Shape: dout (N, C, *) -> dx (N, C, *), dweight and dbias (C,) or None.
    """
    shape = cache.input_shape
    n_batch, channels = shape[:2]
    xhat, scale = cache.xhat, cache.scale
    dy = dout.reshape(xhat.shape)
    sum_dy, sum_dyx = np.empty((xhat.shape[0], 1), dout.dtype), np.empty((xhat.shape[0], 1), dout.dtype)
    dx = np.empty_like(xhat)

    def grad(r0: int, r1: int) -> None:  # planes r0:r1: their float64 sums, then their dL/dx
        part = slice(r0, r1)
        dy64 = dy[part].astype(np.float64)
        sum_dy[part] = dy64.sum(axis=1, keepdims=True)
        sum_dyx[part] = np.matmul(dy64[:, None, :], xhat[part].astype(np.float64)[:, :, None])[:, 0]
        if not cache.training:
            np.multiply(dy[part], scale[part], out=dx[part])
            return
        # (s / n) (n dy - sum dy - xhat sum(dy xhat)) = s dy - (s / n) sum dy - xhat (s / n) sum(dy xhat)
        k = scale[part] / max(xhat.shape[1], 1)
        np.multiply(xhat[part], k * sum_dyx[part], out=dx[part])
        dx[part] += k * sum_dy[part]
        np.subtract(dy[part] * scale[part], dx[part], out=dx[part])

    _by_planes(grad, xhat.shape)

    def fold(grad: np.ndarray) -> np.ndarray:
        return cast("np.ndarray", grad.reshape(n_batch, channels).sum(axis=0, dtype=np.float64).astype(dout.dtype))

    return (dx.reshape(shape), fold(sum_dyx) if cache.has_weight else None,
            fold(sum_dy) if cache.has_bias else None)
