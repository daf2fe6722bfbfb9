r"""Padding, as torch.nn.functional.pad: 'constant', 'reflect', 'replicate' and 'circular', a negative
width cropping instead, as a pure pair.

``pad`` is torch's flat list, last axis first: ``(left_last, right_last, left_second_last, ...)``. Per
padded axis of size S with widths (lo, hi), positive parts (pl, pr) = (max(lo, 0), max(hi, 0)) and crops
(cl, cr) = (max(-lo, 0), max(-hi, 0)), the output has S + lo + hi elements, each a copy of one input
element or the constant:

- constant:  crop, then pad: y = [v]*pl ++ x[cl : S - cr] ++ [v]*pr
- reflect:   pad, then crop: z[j] = x[r(j - pl)] with r(i) = |i| reflected at both ends (no edge repeat,
  r(-1) = 1, r(S) = S - 2); y = z[cl : S + pl + pr - cr]
- replicate: pad, then crop, with r(i) = clip(i, 0, S - 1)
- circular:  crop, then wrap: with u = x[cl : S - cr] of size M, y[j] = u[(j - pl) mod M]

(the orders are torch's: its constant and circular kernels crop first, its reflect and replicate kernels
index the padded input). The gradient sums each output gradient into the element it copies:
dL/dx[i] = sum_{j: src(j) = i} dL/dy[j], computed per axis as the central slice plus the folded-back
border slices (a reversed slice for reflect, a sum for replicate, a shifted slice for circular).
"""

from __future__ import annotations

from typing import Literal, NamedTuple, cast

import numpy as np

__all__ = ["pad_backward", "pad_forward"]

Pairs = tuple[tuple[int, int], ...]

MODES = ("constant", "reflect", "replicate", "circular")
#: the ``np.pad`` modes that compute torch's values for the positive widths
NP_MODES: dict[str, Literal["constant", "reflect", "edge", "wrap"]] = {
    "constant": "constant", "zeros": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}


class PadCache(NamedTuple):
    """What ``pad_backward`` needs: the input's shape, the widths as (lo, hi) per padded axis, the mode."""

    shape: tuple[int, ...]
    pairs: Pairs
    mode: str


def pad_pairs(pad: tuple[int, ...] | list[int]) -> Pairs:
    """torch's flat ``pad`` (last axis first) as (lo, hi) pairs in axis order (first padded axis first)."""
    pairs = [(int(pad[i]), int(pad[i + 1])) for i in range(0, len(pad), 2)]
    return tuple(reversed(pairs))


def check_pad(owner: str, shape: tuple[int, ...], pad: tuple[int, ...] | list[int], mode: str,
              value: float | None = None) -> None:
    """torch's checks of F.pad's arguments against an input of ``shape``: ValueError (torch's RuntimeError or,
    for a non-constant mode on a rank it has no kernel for, its NotImplementedError) naming ``owner``."""
    if mode not in MODES:
        raise ValueError(f"{owner}: Unrecognised padding mode {mode!r}, expected one of {MODES}")
    if len(pad) % 2:
        raise ValueError(f"{owner}: Padding length must be divisible by 2, got pad={tuple(pad)}")
    if len(pad) // 2 > len(shape):
        raise ValueError(f"{owner}: Padding length should be less than or equal to two times the input dimension "
                         f"but got padding length {len(pad)} and input of dimension {len(shape)}")
    if mode != "constant":
        if value not in (None, 0):
            raise ValueError(f'{owner}: Padding mode "{mode}" doesn\'t take in value argument, got value={value}')
        k = len(pad) // 2
        if not 1 <= k <= 3 or len(shape) not in (k + 1, k + 2):
            raise ValueError(f"{owner}: Padding size {len(pad)} is not supported for {len(shape)}D input tensor "
                             f"in mode '{mode}': padding size 2 takes a 2D or 3D input, 4 a 3D or 4D input, 6 a "
                             f"4D or 5D input")
        batch = len(shape) == k + 2  # torch: 'possibly 0 batch size and other non-zero dimensions'
        if mode in ("reflect", "replicate") and 0 in shape[int(batch):]:
            raise ValueError(f"{owner}: mode '{mode}' expects a {k + 1}D or {k + 2}D (batch mode) input with "
                             f"possibly 0 batch size and other non-zero dimensions, got {shape}")
    first = len(shape) - len(pad) // 2
    for axis, (lo, hi) in zip(range(first, len(shape)), pad_pairs(pad)):
        _check_axis(owner, shape, axis, lo, hi, mode)
    outs = [s + lo + hi for s, (lo, hi) in zip(shape[first:], pad_pairs(pad))]
    if mode in ("reflect", "replicate") and outs and max(outs) < 1:  # torch's kernels: an error only if EVERY
        raise ValueError(f"{owner}: input {shape} is too small for padding {tuple(pad)} in mode '{mode}': "
                         f"calculated output sizes {outs}")  # padded axis comes out empty


def _check_axis(owner: str, shape: tuple[int, ...], axis: int, lo: int, hi: int, mode: str) -> None:
    size, out = shape[axis], shape[axis] + lo + hi
    what = f"padding ({lo}, {hi}) at dimension {axis} of input {shape}"
    if mode in ("reflect", "replicate"):
        if mode == "reflect" and max(lo, hi) >= size:
            raise ValueError(f"{owner}: Padding size should be less than the corresponding input dimension, "
                             f"but got: {what}")
        if out < 0:
            raise ValueError(f"{owner}: input (size {size}) is too small for {what}: calculated output size {out}")
    elif mode == "circular":
        if max(lo, hi) > size:
            raise ValueError(f"{owner}: Padding value causes wrapping around more than once: {what}")
        if out < 0:
            raise ValueError(f"{owner}: Negative padding value is resulting in an empty dimension: {what}")
        kept = size - max(-lo, 0) - max(-hi, 0)
        if max(lo, hi) > kept:  # torch reads memory it never wrote here; scratch refuses
            raise ValueError(f"{owner}: Padding value causes wrapping around more than once: {what} wraps the "
                             f"{kept} elements left after cropping")
    elif size - max(-lo, 0) - max(-hi, 0) < 0:
        raise ValueError(f"{owner}: negative padding crops more than the input holds: {what}")


def pad_forward(input: np.ndarray, pad: tuple[int, ...] | list[int], mode: str = "constant",
                value: float | None = None) -> tuple[np.ndarray, PadCache]:
    r"""torch.nn.functional.pad: widths ``pad`` (last axis first, negative ones crop) in ``mode``, the
    constant being ``value`` (default 0); see the module docstring for each mode's index map.

    Shape: input (*, S_1, ..., S_k) -> (*, S_1 + lo_1 + hi_1, ..., S_k + lo_k + hi_k), k = len(pad) / 2
    (at most 3 and the input 1 or 2 dims more for a non-constant mode).
    """
    check_pad("pad", input.shape, pad, mode, value)
    pairs = pad_pairs(pad)
    out = pad_array(input, pairs, mode, 0.0 if value is None else value)
    return out, PadCache(input.shape, pairs, mode)


def pad_backward(dout: np.ndarray, cache: PadCache) -> np.ndarray:
    r"""dL/dx of ``pad_forward``: dL/dx[i] = sum_{j: src(j) = i} dL/dy[j] (no gradient reaches the constant,
    nor a cropped element).

    Shape: dout like the output -> the input's shape.
    """
    return np.ascontiguousarray(unpad_array(dout, cache.pairs, cache.mode, cache.shape))


def _crops(pairs: Pairs) -> tuple[Pairs, Pairs]:
    """The positive widths and the crops of ``pairs``."""
    return (tuple((max(lo, 0), max(hi, 0)) for lo, hi in pairs),
            tuple((max(-lo, 0), max(-hi, 0)) for lo, hi in pairs))


def _slices(lead: int, shape: tuple[int, ...], crops: Pairs) -> tuple[slice, ...]:
    return (*(slice(None),) * lead, *(slice(cl, s - cr) for s, (cl, cr) in zip(shape[lead:], crops)))


def pad_array(x: np.ndarray, pairs: Pairs, mode: str, value: float = 0.0) -> np.ndarray:
    """Pad (or crop) the trailing ``len(pairs)`` axes of x; the values of ``pad_forward``, unchecked.
    ``mode`` 'zeros' is 'constant' with value 0 (a convolution's padding_mode)."""
    lead = x.ndim - len(pairs)
    positive, crops = _crops(pairs)
    if not any(lo or hi for lo, hi in pairs):
        return x
    widths = [(0, 0)] * lead + list(positive)
    if mode in ("constant", "zeros", "circular"):  # crop, then pad
        x = x[_slices(lead, x.shape, crops)]
        kwargs = {"constant_values": x.dtype.type(value)} if mode == "constant" else {}
        return np.pad(x, widths, mode=NP_MODES[mode], **kwargs)
    out = np.pad(x, widths, mode=NP_MODES[mode])  # reflect, replicate: pad, then crop
    return out[_slices(lead, out.shape, crops)]


def unpad_array(dy: np.ndarray, pairs: Pairs, mode: str, shape: tuple[int, ...] | None = None) -> np.ndarray:
    """dL/dx (of ``shape``; by default that of an input no width crops) from dL/dy of ``pad_array``: a view
    of dy for zero padding without a crop, else a new array; the axes are folded back first to last."""
    lead = dy.ndim - len(pairs)
    if shape is None:
        shape = (*dy.shape[:lead], *(s - lo - hi for s, (lo, hi) in zip(dy.shape[lead:], pairs)))
    positive, crops = _crops(pairs)
    if mode in ("constant", "zeros") and not any(crops_ for pair in crops for crops_ in pair):
        return dy[_slices(lead, dy.shape, positive)]
    grad = dy
    for i, ((pl, pr), (cl, cr)) in enumerate(zip(positive, crops)):
        axis, size = lead + i, shape[lead + i]
        if mode in ("reflect", "replicate"):  # y = crop(pad(x)): uncrop, then fold the borders back
            grad = _fold(_uncrop(grad, axis, cl, cr, size + pl + pr), axis, pl, pr, mode)
        else:  # y = pad(crop(x)): fold the borders back onto the kept part, then uncrop
            kept = _take(grad, axis, pl, grad.shape[axis] - pr)
            if mode == "circular":
                kept = _wrap_back(grad, kept, axis, pl, pr)
            grad = _uncrop(kept, axis, cl, cr, size)
    return grad


def _take(a: np.ndarray, axis: int, start: int, stop: int | None, step: int = 1) -> np.ndarray:
    return a[(slice(None),) * axis + (slice(start, stop, step),)]


def _uncrop(g: np.ndarray, axis: int, cl: int, cr: int, size: int) -> np.ndarray:
    """g placed at [cl, size - cr) of a zero array of ``size`` along ``axis`` (g itself without a crop)."""
    if not cl and not cr:
        return g
    shape = list(g.shape)
    shape[axis] = size
    out = np.zeros(shape, dtype=g.dtype)
    out[(slice(None),) * axis + (slice(cl, size - cr),)] = g
    return out


def _fold(gz: np.ndarray, axis: int, pl: int, pr: int, mode: str) -> np.ndarray:
    """The gradient of x from that of z = np.pad(x, (pl, pr)) in 'reflect' or 'edge' along ``axis``."""
    size = gz.shape[axis] - pl - pr
    if not pl and not pr:
        return gz
    if mode == "replicate":  # each edge element also gets every copy of it: one sum per edge
        if size == 1:
            return cast("np.ndarray", gz.sum(axis=axis, keepdims=True))
        parts = (_take(gz, axis, 0, pl + 1).sum(axis=axis, keepdims=True), _take(gz, axis, pl + 1, pl + size - 1),
                 _take(gz, axis, pl + size - 1, pl + size + pr).sum(axis=axis, keepdims=True))
        return np.concatenate(parts, axis=axis)
    dx = _take(gz, axis, pl, pl + size).copy()  # reflect: z[pl - i] = x[i], z[pl + S - 1 + i] = x[S - 1 - i]
    if pl:
        _take(dx, axis, 1, pl + 1)[...] += _take(gz, axis, pl - 1, None, -1)
    if pr:
        _take(dx, axis, size - 1 - pr, size - 1)[...] += _take(gz, axis, pl + size + pr - 1, pl + size - 1, -1)
    return dx


def _wrap_back(gy: np.ndarray, kept: np.ndarray, axis: int, pl: int, pr: int) -> np.ndarray:
    """Circular: y[j] = u[(j - pl) mod M]; the gradient of u is the central slice plus the wrapped borders."""
    m = kept.shape[axis]
    du = kept.copy()
    if pl:
        _take(du, axis, m - pl, m)[...] += _take(gy, axis, 0, pl)
    if pr:
        _take(du, axis, 0, pr)[...] += _take(gy, axis, pl + m, pl + m + pr)
    return du
