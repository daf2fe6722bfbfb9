r"""Local response normalization across channels (LocalResponseNorm, CrossMapLRN2d): pure pairs.

Each value is divided by a power of the mean square of its neighbours along the channel axis 1:

    y_c = x_c / D_c^beta,   D_c = k + alpha * S_c,   S_c = (1/size) sum_{j in W(c)} x_j^2.

LocalResponseNorm (torch's ``F.local_response_norm``): W(c) = [c - size//2, c + (size-1)//2], zeros
outside the channels (an average pool over a zero-padded window, divided by size). Its gradient:

    dL/dx_j = dy_j D_j^-beta - (2 alpha beta / size) x_j sum_{c: j in W(c)} dy_c x_c D_c^(-beta-1).

CrossMapLRN2d (torch's legacy ``_functions.CrossMapLRN2d``) has quirks of its running-sum loops, matched:
its window is W(c) = [c - p + 1, c + p - 1] with p = int((size - 1) / 2 + 1), plus channel 0 for
every c (the loop never subtracts channel 0's square), and its hand-written backward is not the
gradient of that forward but

    dL/dx_c = dy_c D_c^-beta - (2 alpha beta / size) x_c sum_{j in B(c)} dy_j y_j / D_j,
    B(c) = [c - q, c - q + size - 1],   q = int(size - (size - 1) / 2),

which is what torch's autograd returns, so what scratch returns. LocalResponseNorm's window sums are
sums over a sliding window of the zero-padded channel axis; CrossMapLRN2d's are torch's running sums
(add the entering square, subtract the leaving one) as one sequential ``np.cumsum``, so rounding, and
an inf leaving the window as NaN, follow torch's. No loop over channels or positions.
"""

from __future__ import annotations

from typing import NamedTuple, cast

import numpy as np

__all__ = ["cross_map_lrn2d_backward", "cross_map_lrn2d_forward", "local_response_norm_backward",
           "local_response_norm_forward"]


class LRNCache(NamedTuple):
    """What the backward of either normalization needs from its forward."""

    x: np.ndarray  #: the input (y is recomputed from it, the same arithmetic: an in-place op may overwrite y)
    denom: np.ndarray  #: D = k + alpha S, like the input
    window: tuple[int, int] | None  #: LRN: the gradient's window [c + low, c + high] (None: the identity);
    #: CrossMapLRN2d: (size, q)
    coefficient: float  #: 2 alpha beta / size
    beta: float


def _window_sum(values: np.ndarray, low: int, high: int) -> np.ndarray:
    """sum_{j = c + low}^{c + high} values[:, j, ...] for each channel c, the channels outside taken as 0:
    a sum over a sliding window of the zero-padded channel axis (no products, so an inf stays in its window)."""
    front, back = max(0, -low), max(0, high)
    pad = [(0, 0)] * values.ndim
    pad[1] = (front, back)
    windows = np.lib.stride_tricks.sliding_window_view(np.pad(values, pad), high - low + 1, axis=1)
    start = low + front
    return cast("np.ndarray", windows[:, start:start + values.shape[1]].sum(axis=-1))


def local_response_norm_forward(input: np.ndarray, size: int, alpha: float = 1e-4, beta: float = 0.75,
                                k: float = 1.0) -> tuple[np.ndarray, LRNCache]:
    r"""y_c = x_c / (k + alpha / size * sum_{j=c-size//2}^{c+(size-1)//2} x_j^2)^beta (zero-padded channels).

    An empty input is returned as it is (the same array), as torch does.

    Shape: input (N, C, *) with at least 3 dimensions; output the same.
    """
    if input.ndim < 3:
        raise ValueError(f"LocalResponseNorm: Expected 3D or higher dimensionality input (got {input.ndim} "
                         f"dimensions, shape {input.shape})")
    if input.size == 0:
        return input, LRNCache(input, input, None, 0.0, beta)
    dtype = input.dtype.type
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):  # inf and NaN pass through, as in torch
        mean_square = _window_sum(input * input, -(size // 2), (size - 1) // 2) / dtype(size)
        denom = mean_square * dtype(alpha) + dtype(k)
        out = input / denom ** dtype(beta)
    # the gradient's window is the transpose: the channels c whose window holds j
    return out, LRNCache(input, denom, (-((size - 1) // 2), size // 2), 2.0 * alpha * beta / size, beta)


def local_response_norm_backward(dout: np.ndarray, cache: LRNCache) -> np.ndarray:
    r"""dL/dx_j = dy_j D_j^-beta - (2 alpha beta / size) x_j sum_{c: j in W(c)} dy_c y_c / D_c.

    Shape: dout like the input -> dx like the input.
    """
    if cache.window is None:
        return dout
    return _lrn_backward(dout, cache)


def _lrn_backward(dout: np.ndarray, cache: LRNCache) -> np.ndarray:
    """The shared gradient dy D^-beta - coefficient x window_sum(dy y / D) (y / D = x D^(-beta-1))."""
    x, denom, dtype = cache.x, cache.denom, dout.dtype.type
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        ratio = dout * (x / denom ** dtype(cache.beta)) / denom
        return cast("np.ndarray", dout * denom ** dtype(-cache.beta)
                    - dtype(cache.coefficient) * x * _window_sum(ratio, *cast("tuple[int, int]", cache.window)))


def _running_sum(start: np.ndarray, plus: np.ndarray, minus: np.ndarray) -> np.ndarray:
    """torch's running-sum loop along the channel axis, its order and rounding kept: the cumulative sums of
    start_0, start_1, ..., then plus_0, -minus_0, plus_1, -minus_1, ... (one ``np.cumsum``, sequential as the
    loop; an inf that leaves the sum leaves a NaN behind, as in torch)."""
    steps = np.stack([plus, -minus], axis=2).reshape(plus.shape[0], 2 * plus.shape[1], *plus.shape[2:])
    return np.cumsum(np.concatenate([start, steps], axis=1), axis=1)


def cross_map_lrn2d_forward(input: np.ndarray, size: int, alpha: float = 1e-4, beta: float = 0.75,
                            k: float = 1.0) -> tuple[np.ndarray, LRNCache]:
    r"""y_c = x_c (k + alpha / size * S_c)^-beta with S_c torch's legacy running sum (see the module docstring):
    S_0 = sum_{j < p} x_j^2, S_c = S_{c-1} + x_{c+p-1}^2 (for c + p - 1 < C) - x_{c-p}^2 (for c > p).

    Shape: input (N, C, H, W); output the same.
    """
    if input.ndim != 4:
        raise ValueError(f"CrossMapLRN2d: Expected input to be 4D, got {input.ndim}D instead (shape {input.shape})")
    dtype, channels = input.dtype.type, input.shape[1]
    pre_pad = int((size - 1) / 2 + 1)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        square = input * input
        plus, minus = np.zeros_like(square[:, 1:]), np.zeros_like(square[:, 1:])  # the steps c = 1 .. C-1
        plus[:, :channels - pre_pad] = square[:, pre_pad:]
        minus[:, pre_pad:] = square[:, 1:channels - pre_pad]
        start = square[:, :min(pre_pad, channels)]
        total = _running_sum(start, plus, minus)[:, start.shape[1] - 1::2]
        denom = total * dtype(alpha / size) + dtype(k)
        out = denom ** dtype(-beta) * input
    return out, LRNCache(input, denom, (size, int(size - (size - 1) / 2)), 2.0 * alpha * beta / size, beta)


def cross_map_lrn2d_backward(dout: np.ndarray, cache: LRNCache) -> np.ndarray:
    r"""torch's hand-written gradient, with B(c) = [c - q, c - q + size - 1] (see the module docstring):

        dL/dx_c = dy_c D_c^-beta - (2 alpha beta / size) x_c sum_{j in B(c)} dy_j y_j / D_j,

    the window sums taken as torch's running sum over the zero-padded ratios r = dy y / D (``_running_sum``).
    torch's backward fails for size = 1 (its padded buffer is one channel short): scratch's raises a ValueError.

    Shape: dout (N, C, H, W) -> dx (N, C, H, W).
    """
    size, shift = cast("tuple[int, int]", cache.window)  # CrossMapLRN2d's cache always has one
    if size == 1:
        raise ValueError("CrossMapLRN2d.backward: torch's backward fails for size=1 (start (1) + length (C) "
                         "exceeds dimension size (C)); scratch refuses it likewise")
    x, denom, dtype, channels = cache.x, cache.denom, dout.dtype.type, dout.shape[1]
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        scale = denom ** dtype(-cache.beta)
        ratio = dout * (scale * x) / denom  # y = D^-beta x, as in the forward
        padded = np.pad(ratio, [(0, 0), (shift, size - 1 - shift), (0, 0), (0, 0)])
        start = padded[:, :size - 1]
        accum = _running_sum(start, padded[:, size - 1:], padded[:, :channels])[:, size - 1::2]
        return cast("np.ndarray", dout * scale - dtype(cache.coefficient) * x * accum)
