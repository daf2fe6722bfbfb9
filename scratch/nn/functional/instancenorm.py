r"""Instance normalization (InstanceNorm1d/2d/3d): a pure forward/backward pair.

Each (sample, channel) plane is normalized over its own spatial positions A (n values):

    mu = (1/n) sum_A x,   sigma^2 = (1/n) sum_A (x - mu)^2   (biased),
    y = (x - mu) / sqrt(sigma^2 + eps) * gamma_c + beta_c,

computed as torch's ``instance_norm`` does: the input viewed as (1, N*C, *) and batch-normalized, the
weight, bias and running statistics repeated N times, the repeated running statistics averaged back
over N afterwards. The gradient is batch normalization's on that view (see ``normalization``), with
dL/dgamma_c and dL/dbeta_c summed over the N repeats.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple, cast

import numpy as np

from .normalization import BatchNormCache, batch_norm_backward, batch_norm_unchecked

__all__ = ["instance_norm_backward", "instance_norm_forward"]


class InstanceNormCache(NamedTuple):
    """What ``instance_norm_backward`` needs from ``instance_norm_forward``."""

    batch_norm: BatchNormCache  #: the cache of batch normalization on the (1, N*C, *) view
    input_shape: tuple[int, ...]


def _verify_spatial_size(size: Sequence[int], owner: str) -> None:
    """torch's check: more than one spatial element per plane when the input's statistics are used."""
    if int(np.prod(size[2:])) == 1:
        raise ValueError(f"{owner}: Expected more than 1 spatial element when training, got input size {list(size)}")


def _check_args(input: np.ndarray, channels: int, others: dict[str, np.ndarray | None], owner: str) -> None:
    """aten's checks: each given per-channel array has C entries and the input's dtype (torch's RuntimeError
    for the size, naming the repeated size N*C it sees, is a ValueError here, as scratch's shape errors)."""
    n_batch = input.shape[0]
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
    y = gamma_c (x - mu) invstd + beta_c, in torch's order (an FMA, see ``batch_norm_forward``).

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
                                  "running_var": running_var}, owner)
    view = input.reshape(1, n_batch * channels, *input.shape[2:])
    mean_rep, var_rep = _repeat(running_mean, n_batch), _repeat(running_var, n_batch)
    out, cache = batch_norm_unchecked(view, mean_rep, var_rep, _repeat(weight, n_batch), _repeat(bias, n_batch),
                                      use_input_stats, momentum, eps)
    for running, repeated in ((running_mean, mean_rep), (running_var, var_rep)):
        if running is not None and use_input_stats:  # unchanged otherwise (torch's copy of the same values)
            # N = 0: the mean of nothing, NaN, as in torch
            running[...] = cast("np.ndarray", repeated).reshape(n_batch, channels).mean(axis=0) if n_batch else np.nan
    return out.reshape(input.shape), InstanceNormCache(cache, input.shape)


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
    view = dout.reshape(1, n_batch * channels, *shape[2:])
    dx, dweight, dbias = batch_norm_backward(view, cache.batch_norm)

    def fold(grad: np.ndarray | None) -> np.ndarray | None:
        if grad is None:
            return None
        return cast("np.ndarray", grad.reshape(n_batch, channels).sum(axis=0, dtype=np.float64).astype(dout.dtype))

    return dx.reshape(shape), fold(dweight), fold(dbias)
