"""Fuzz recipes of the pooling layers (max, avg and LP pooling in 1-3 dims, adaptive, fractional, unpooling):
kernel, stride, padding and dilation up to and past their limits, modes, odd shapes, dtypes and special values."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from hypothesis import strategies as st

from .fuzz_engine import Case, arrays, dtypes, shapes

Draw = Callable[[Any], Any]


def pool(name: str) -> Callable[[Draw], Case]:
    """MaxPool1d/2d/3d, AvgPool1d/2d/3d: kernel, stride, padding (up to half the kernel, and beyond), modes."""
    dims = int(name[-2])

    def recipe(draw: Draw) -> Case:
        kernel = draw(st.sampled_from([1, 2, 3, 0]))
        options = {"kernel_size": kernel, "stride": draw(st.sampled_from([None, 1, 2, 0])),
                   "padding": draw(st.sampled_from([0, 1, 2])), "ceil_mode": draw(st.booleans())}
        if name.startswith("Avg"):
            options["count_include_pad"] = draw(st.booleans())
            if dims > 1:
                options["divisor_override"] = draw(st.sampled_from([None, None, 1, 3, 0]))
        else:
            options |= {"dilation": draw(st.sampled_from([1, 2, 0])), "return_indices": draw(st.booleans())}
        shape = shapes(draw, (draw(st.integers(1, 2)), *(draw(st.integers(1, 5)) for _ in range(dims))))
        if name.startswith("Max") and len(shape) > dims and _padding_only_window(shape[-dims:], options):
            options["dilation"] = 1  # torch 2.13's backward writes out of bounds there (test_pooling.py)
        return Case(name, options, (draw(arrays(shape, draw(dtypes()))),))
    return recipe


def lp_pool(name: str) -> Callable[[Draw], Case]:
    """LPPool1d/2d/3d: norms (fractional, odd, infinite), kernel, stride, ceil_mode; positive inputs mostly
    (a fractional power of a negative number is NaN in both engines)."""
    dims = int(name[-2])

    def recipe(draw: Draw) -> Case:
        options = {"norm_type": draw(st.sampled_from([2.0, 1.0, 1.5, 3.0, np.inf, -np.inf])),
                   "kernel_size": draw(st.sampled_from([1, 2, 3, 0])), "stride": draw(st.sampled_from([None, 1, 2, 0])),
                   "ceil_mode": draw(st.booleans())}
        shape = shapes(draw, (draw(st.integers(1, 2)), *(draw(st.integers(1, 5)) for _ in range(dims))))
        low = draw(st.sampled_from([0.5, 0.5, None]))
        return Case(name, options, (draw(arrays(shape, draw(dtypes()), low, None if low is None else 2.0)),))
    return recipe


def _padding_only_window(sizes: tuple, options: dict) -> bool:
    """Whether a max-pooling window would hold padding only (its dilated cells all miss the input)."""
    k, p, d = options["kernel_size"], options["padding"], options["dilation"]
    s = options["stride"] or k
    if min(k, s, d) <= 0:
        return False  # an invalid option: both engines refuse it before any window is read
    for n in sizes:
        span = d * (k - 1) + 1
        out = (n + 2 * p - span + (s - 1 if options["ceil_mode"] else 0)) // s + 1
        if options["ceil_mode"] and (out - 1) * s >= n + p:
            out -= 1
        for i in range(max(out, 0)):
            if not any(0 <= i * s - p + a * d < n for a in range(k)):
                return True
    return False


def adaptive_pool(name: str) -> Callable[[Draw], Case]:
    """AdaptiveAvgPool1d/2d/3d, AdaptiveMaxPool1d/2d/3d: sizes that divide, do not, exceed; None entries; 0."""
    dims = int(name[-2])

    def recipe(draw: Draw) -> Case:
        entry = st.sampled_from([1, 2, 3, None] if dims > 1 else [1, 2, 3])
        size = draw(st.one_of(st.sampled_from([1, 2, 3, 0]), st.tuples(*[entry] * dims)))
        options = {"output_size": size}
        if "Max" in name:
            options["return_indices"] = draw(st.booleans())
        spatial = tuple(draw(st.integers(0 if i == 0 and "Avg" in name else 1, 5)) for i in range(dims))
        shape = shapes(draw, (2, *spatial))
        return Case(name, options, (draw(arrays(shape, draw(dtypes()))),))
    return recipe


def fractional_max_pool(name: str) -> Callable[[Draw], Case]:
    """FractionalMaxPool2d/3d: kernel, output_size or output_ratio (in and out of range); samples from a seed."""
    dims = int(name[-2])

    def recipe(draw: Draw) -> Case:
        options: dict[str, Any] = {"kernel_size": draw(st.sampled_from([1, 2, 3, 0])),
                                   "return_indices": draw(st.booleans())}
        if draw(st.booleans()):
            options["output_size"] = draw(st.sampled_from([1, 2, 3, (2,) * dims, (1,) * (dims - 1) + (3,)]))
        else:
            options["output_ratio"] = draw(st.sampled_from([0.5, 0.7, 1.5, 0.0]))
        shape = shapes(draw, (draw(st.integers(1, 2)), *(draw(st.integers(1, 6)) for _ in range(dims))))
        return Case(name, options, (draw(arrays(shape, draw(dtypes()))),), seed=draw(st.integers(0, 9)))
    return recipe


def max_unpool(name: str) -> Callable[[Draw], Case]:
    """MaxUnpool1d/2d/3d: kernel, stride, padding; indices in range (repeats too), sometimes one out of range."""
    dims = int(name[-2])

    def recipe(draw: Draw) -> Case:
        options = {"kernel_size": draw(st.sampled_from([1, 2, 3])), "stride": draw(st.sampled_from([None, 1, 2])),
                   "padding": draw(st.sampled_from([0, 1]))}
        shape = shapes(draw, (draw(st.integers(1, 2)), *(draw(st.integers(1, 4)) for _ in range(dims))))
        k, s, p = options["kernel_size"], options["stride"] or options["kernel_size"], options["padding"]
        area = int(np.prod([max((n - 1) * s + k - 2 * p, 0) for n in shape[-dims:]])) if len(shape) > dims else 1
        rng = np.random.default_rng(draw(st.integers(0, 2**16)))
        cells = int(np.prod(shape[-dims:]))
        if area >= cells:  # distinct within each plane, as max pooling's are (up to equal values)
            flat = rng.permuted(np.broadcast_to(np.arange(area), (max(int(np.prod(shape)) // max(cells, 1), 1), area)),
                                axis=-1)[:, :cells]
            indices = flat.reshape(-1)[: int(np.prod(shape))].reshape(shape)
        else:
            indices = rng.integers(0, max(area, 1), size=shape)
        if indices.size and draw(st.integers(0, 4)) == 0:
            indices.flat[0] = draw(st.sampled_from([area, -1]))  # out of range
        return Case(name, options, (draw(arrays(shape, draw(dtypes()))), indices.astype(np.int64)))
    return recipe


POOLING_RECIPES: dict[str, Callable[[Draw], Case]] = {
    **{name: pool(name) for name in ("MaxPool1d", "MaxPool2d", "MaxPool3d", "AvgPool1d", "AvgPool2d", "AvgPool3d")},
    **{name: lp_pool(name) for name in ("LPPool1d", "LPPool2d", "LPPool3d")},
    **{name: adaptive_pool(name) for name in ("AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveAvgPool3d",
                                              "AdaptiveMaxPool1d", "AdaptiveMaxPool2d", "AdaptiveMaxPool3d")},
    **{name: fractional_max_pool(name) for name in ("FractionalMaxPool2d", "FractionalMaxPool3d")},
    **{name: max_unpool(name) for name in ("MaxUnpool1d", "MaxUnpool2d", "MaxUnpool3d")},
}
