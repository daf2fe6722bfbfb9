r"""Fold and Unfold (col2im and im2col): pure forward/backward pairs.

With kernel (k_H, k_W), dilation d, padding p and stride s, block (a, b) of the zero-padded image
starts at (a s_H, b s_W), and the number of blocks along each axis is
L_H = floor((H + 2 p_H - d_H (k_H - 1) - 1) / s_H) + 1 (likewise L_W), L = L_H L_W.

    unfold: cols[n, (c k_H + i) k_W + j, a L_W + b] = x_pad[n, c, a s_H + i d_H, b s_W + j d_W]
    fold:   y_pad[n, c, h, w] = sum over (i, j, a, b) with a s_H + i d_H = h, b s_W + j d_W = w of
            cols[n, (c k_H + i) k_W + j, a L_W + b], then the padding is cropped.

fold is unfold's transpose, so each one's gradient is the other applied to the upstream gradient.
unfold is one strided view (no loop); fold adds one strided slice per kernel offset (i, j), a loop
over the k_H k_W offsets only, in torch's col2im order (so overlapping blocks round the same way).
"""

from __future__ import annotations

from typing import Any, NamedTuple, cast

import numpy as np
from numpy.lib.stride_tricks import as_strided

__all__ = ["fold_backward", "fold_forward", "unfold_backward", "unfold_forward"]


class Geometry(NamedTuple):
    """One fold/unfold: kernel, dilation, padding, stride (pairs), image size (H, W) and blocks (L_H, L_W)."""

    kernel: tuple[int, int]
    dilation: tuple[int, int]
    padding: tuple[int, int]
    stride: tuple[int, int]
    image: tuple[int, int]
    blocks: tuple[int, int]


def _pair(owner: str, name: str, value: Any) -> tuple[int, int]:
    items = tuple(value) if isinstance(value, (tuple, list)) else (value, value)
    if len(items) == 1:
        items = items * 2
    if len(items) != 2 or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in items):
        raise ValueError(f"{owner}: {name} must be an int or a tuple of 2 ints, got {value!r}")
    return int(items[0]), int(items[1])


def geometry(owner: str, image: Any, kernel_size: Any, dilation: Any, padding: Any, stride: Any) -> Geometry:
    """The checked arguments and the number of blocks, with torch's messages."""
    k, d = _pair(owner, "kernel_size", kernel_size), _pair(owner, "dilation", dilation)
    p, s = _pair(owner, "padding", padding), _pair(owner, "stride", stride)
    size = _pair(owner, "output_size", image)
    for name, pair, low in (("kernel size", k, 1), ("dilation", d, 1), ("stride", s, 1), ("padding", p, 0)):
        if min(pair) < low:
            raise ValueError(f"{owner}: {name} should be greater than {'zero' if low else 'or equal to zero'}, "
                             f"but got {pair}")
    blocks = tuple((n + 2 * pp - dd * (kk - 1) - 1) // ss + 1 for n, kk, dd, pp, ss in zip(size, k, d, p, s))
    if min(blocks) < 1:
        raise ValueError(f"{owner}: Given spatial size {size}, kernel_size={k}, dilation={d}, padding={p}, "
                         f"calculated shape of the array of sliding blocks as {blocks}, but its components must be "
                         "at least one.")
    return Geometry(k, d, p, s, size, cast("tuple[int, int]", blocks))


def _im2col(x: np.ndarray, g: Geometry) -> np.ndarray:
    """(B, C, H, W) -> (B, C k_H k_W, L), one strided view of the padded image, copied once."""
    (ph, pw), (kh, kw), (lh, lw) = g.padding, g.kernel, g.blocks
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    sb, sc, sh, sw = xp.strides
    view = as_strided(xp, (xp.shape[0], xp.shape[1], kh, kw, lh, lw),
                      (sb, sc, g.dilation[0] * sh, g.dilation[1] * sw, g.stride[0] * sh, g.stride[1] * sw),
                      writeable=False)
    return view.reshape(xp.shape[0], xp.shape[1] * kh * kw, lh * lw)


def _col2im(cols: np.ndarray, g: Geometry) -> np.ndarray:
    """(B, C k_H k_W, L) -> (B, C, H, W): each kernel offset's block values added to its strided slice."""
    (ph, pw), (kh, kw), (lh, lw), (h, w) = g.padding, g.kernel, g.blocks, g.image
    (dh, dw), (sh, sw) = g.dilation, g.stride
    b = cols.shape[0]
    blocks = cols.reshape(b, cols.shape[1] // (kh * kw), kh, kw, lh, lw)
    out = np.zeros((b, blocks.shape[1], h + 2 * ph, w + 2 * pw), dtype=cols.dtype)
    for i in range(kh):  # a loop over the kernel offsets only
        for j in range(kw):
            rows, columns = slice(i * dh, i * dh + sh * (lh - 1) + 1, sh), slice(j * dw, j * dw + sw * (lw - 1) + 1, sw)
            out[:, :, rows, columns] += blocks[:, :, i, j]
    return out[:, :, ph: ph + h, pw: pw + w]


def unfold_forward(x: np.ndarray, kernel_size: Any, dilation: Any = 1, padding: Any = 0, stride: Any = 1,
                   owner: str = "Unfold") -> tuple[np.ndarray, tuple[Any, ...]]:
    r"""cols[n, (c k_H + i) k_W + j, a L_W + b] = x_pad[n, c, a s_H + i d_H, b s_W + j d_W] (im2col).

    Shape: x (N, C, H, W) or (C, H, W) -> (N, C k_H k_W, L) or (C k_H k_W, L).
    """
    if x.ndim not in (3, 4) or 0 in x.shape[-3:]:
        raise ValueError(f"{owner}: expected a 3-D or 4-D (batch mode) input with possibly 0 batch size and other "
                         f"non-zero dimensions, got shape {x.shape}")
    g = geometry(owner, x.shape[-2:], kernel_size, dilation, padding, stride)
    batched = x.reshape(x.shape[0] if x.ndim == 4 else 1, *x.shape[-3:])
    cols = _im2col(batched, g)
    return (cols if x.ndim == 4 else cols[0]), (g, x.shape)


def unfold_backward(dout: np.ndarray, cache: tuple[Any, ...]) -> np.ndarray:
    r"""dL/dx = fold(dL/dcols): each column value goes back to the pixel it was read from, summed over
    the blocks that overlap there. Shape: (N, C k_H k_W, L) -> (N, C, H, W)."""
    g, shape = cache
    return _col2im(dout.reshape(shape[0] if len(shape) == 4 else 1, *dout.shape[-2:]), g).reshape(shape)


def fold_forward(x: np.ndarray, output_size: Any, kernel_size: Any, dilation: Any = 1, padding: Any = 0,
                 stride: Any = 1, owner: str = "Fold") -> tuple[np.ndarray, tuple[Any, ...]]:
    r"""y[n, c, h, w] = sum of the block values cols[n, (c k_H + i) k_W + j, a L_W + b] that land on (h, w) (col2im).

    Shape: x (N, C k_H k_W, L) or (C k_H k_W, L) -> (N, C, H, W) or (C, H, W), (H, W) = ``output_size``.
    """
    if x.ndim not in (2, 3) or 0 in x.shape[-2:]:
        raise ValueError(f"{owner}: expected a 2-D or 3-D (batch mode) input with possibly 0 batch size and other "
                         f"non-zero dimensions, got shape {x.shape}")
    g = geometry(owner, output_size, kernel_size, dilation, padding, stride)
    per_channel = g.kernel[0] * g.kernel[1]
    if x.shape[-2] % per_channel:
        raise ValueError(f"{owner}: Expected size of input's dimension 1 to be divisible by the product of "
                         f"kernel_size, but got input.size(1)={x.shape[-2]} and kernel_size={g.kernel}.")
    if x.shape[-1] != g.blocks[0] * g.blocks[1]:
        raise ValueError(f"{owner}: Given output_size={g.image}, kernel_size={g.kernel}, dilation={g.dilation}, "
                         f"padding={g.padding}, stride={g.stride}, expected size of input's dimension 2 to match the "
                         f"calculated number of sliding blocks {g.blocks[0]} * {g.blocks[1]} = "
                         f"{g.blocks[0] * g.blocks[1]}, but got input.size(2)={x.shape[-1]}.")
    out = _col2im(x.reshape(x.shape[0] if x.ndim == 3 else 1, *x.shape[-2:]), g)
    return (out if x.ndim == 3 else out[0]), (g, x.shape)


def fold_backward(dout: np.ndarray, cache: tuple[Any, ...]) -> np.ndarray:
    r"""dL/dcols = unfold(dL/dy): each block value's gradient is the upstream gradient at the pixel it
    was added to. Shape: (N, C, H, W) -> (N, C k_H k_W, L)."""
    g, shape = cache
    return _im2col(dout.reshape(shape[0] if len(shape) == 3 else 1, *dout.shape[-3:]), g).reshape(shape)
