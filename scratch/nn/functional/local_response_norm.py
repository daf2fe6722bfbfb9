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

which is what torch's autograd returns, so what scratch returns. The window sums are sums over a
sliding window of the zero-padded channel axis; no loop over channels or positions.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

__all__ = ["cross_map_lrn2d_backward", "cross_map_lrn2d_forward", "local_response_norm_backward",
           "local_response_norm_forward"]


class LRNCache(NamedTuple):
    """What the backward of either normalization needs from its forward."""

    x: np.ndarray  #: the input
    out: np.ndarray  #: y = x D^-beta
    denom: np.ndarray  #: D = k + alpha S, like the input
    window: tuple[int, int] | None  #: the gradient's window [c + low, c + high] (None for the identity)
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
    return windows[:, start:start + values.shape[1]].sum(axis=-1)


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
        return input, LRNCache(input, input, input, None, 0.0, beta)
    dtype = input.dtype.type
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):  # inf and NaN pass through, as in torch
        mean_square = _window_sum(input * input, -(size // 2), (size - 1) // 2) / dtype(size)
        denom = mean_square * dtype(alpha) + dtype(k)
        out = input / denom ** dtype(beta)
    # the gradient's window is the transpose: the channels c whose window holds j
    return out, LRNCache(input, out, denom, (-((size - 1) // 2), size // 2), 2.0 * alpha * beta / size, beta)


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
        ratio = dout * cache.out / denom
        return dout * denom ** dtype(-cache.beta) - dtype(cache.coefficient) * x * _window_sum(ratio, *cache.window)


def cross_map_lrn2d_forward(input: np.ndarray, size: int, alpha: float = 1e-4, beta: float = 0.75,
                            k: float = 1.0) -> tuple[np.ndarray, LRNCache]:
    r"""y_c = x_c (k + alpha / size * sum_{j in W(c)} x_j^2)^-beta with torch's legacy window W(c)
    (see the module docstring: [c - p + 1, c + p - 1] and channel 0).

    Shape: input (N, C, H, W); output the same.
    """
    if input.ndim != 4:
        raise ValueError(f"CrossMapLRN2d: Expected input to be 4D, got {input.ndim}D instead (shape {input.shape})")
    dtype = input.dtype.type
    pre_pad = int((size - 1) / 2 + 1)
    inverse_pre_pad = int(size - (size - 1) / 2)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        square = input * input
        total = _window_sum(square, 1 - pre_pad, pre_pad - 1)
        # torch's loop never removes channel 0 from its running sum: it stays in every later window
        total[:, pre_pad:] += square[:, :1]
        denom = total * dtype(alpha / size) + dtype(k)
        out = denom ** dtype(-beta) * input
    backward_window = (-inverse_pre_pad, size - 1 - inverse_pre_pad)
    return out, LRNCache(input, out, denom, backward_window, 2.0 * alpha * beta / size, beta)


def cross_map_lrn2d_backward(dout: np.ndarray, cache: LRNCache) -> np.ndarray:
    r"""torch's hand-written gradient, with B(c) = [c - q, c - q + size - 1] (see the module docstring):

        dL/dx_c = dy_c D_c^-beta - (2 alpha beta / size) x_c sum_{j in B(c)} dy_j y_j / D_j.

    torch's backward fails for size = 1 (its padded buffer is one channel short), so scratch's raises too.

    Shape: dout (N, C, H, W) -> dx (N, C, H, W).
    """
    if cache.window[1] < 0:  # B(c) = [c - 1, c - 1]: size = 1
        raise RuntimeError("CrossMapLRN2d.backward: torch's backward fails for size=1 (start (1) + length (C) "
                           "exceeds dimension size (C)); scratch refuses it likewise")
    return _lrn_backward(dout, cache)
