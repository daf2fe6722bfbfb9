"""Fuzz recipes of the resampling layers (Upsample and its 2-D forms, PixelShuffle, PixelUnshuffle,
ChannelShuffle, Fold, Unfold): options in and out of range, odd shapes, dtypes and special values."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hypothesis import strategies as st

from .fuzz_engine import Case, arrays, dtypes, shapes

Draw = Callable[[Any], Any]


def upsample(name: str) -> Callable[[Draw], Case]:
    """Upsample and its two 2-D forms: every mode, size or scale_factor (down, up, the copy case, 0),
    align_corners where it is meaningful and where it is not, recompute_scale_factor."""
    def recipe(draw: Draw) -> Case:
        mode = {"Upsample": None, "UpsamplingNearest2d": "nearest", "UpsamplingBilinear2d": "bilinear"}[name]
        mode = mode or draw(st.sampled_from(["nearest", "nearest-exact", "linear", "bilinear", "bicubic", "trilinear"]))
        dims = {"linear": 1, "trilinear": 3, "bilinear": 2, "bicubic": 2}.get(mode, draw(st.integers(1, 3)))
        spatial = tuple(draw(st.integers(1, 4)) for _ in range(dims))
        if draw(st.booleans()):
            options = {"size": draw(st.sampled_from([3, 1, spatial, tuple(n + 2 for n in spatial), 0]))}
        else:
            options = {"scale_factor": draw(st.sampled_from([2, 0.5, 1.7, 3.0, 1.0, (2.0, 1.5, 0.7)[:dims]]))}
        if name == "Upsample":
            options["mode"] = mode
            options["align_corners"] = draw(st.sampled_from([None, False, True]))
            options["recompute_scale_factor"] = draw(st.sampled_from([None, True, False]))
        shape = shapes(draw, (draw(st.integers(1, 2)), *spatial), unbatched=False)
        return Case(name, options, (draw(arrays(shape, draw(dtypes()))),))
    return recipe


def pixel_shuffle(name: str) -> Callable[[Draw], Case]:
    """PixelShuffle and PixelUnshuffle: factors 1-3 (0 and -1 refused), channels and sides that divide or not."""
    def recipe(draw: Draw) -> Case:
        r = draw(st.sampled_from([1, 2, 2, 3, 0, -1]))
        shuffle = name == "PixelShuffle"
        rr = max(r, 1)
        channels = draw(st.sampled_from([rr * rr, 2 * rr * rr, 3])) if shuffle else draw(st.integers(1, 2))
        side = draw(st.sampled_from([1, 2])) if shuffle else draw(st.sampled_from([rr, 2 * rr, 3]))
        lead = draw(st.sampled_from([(), (0,), (2,), (2, 1)]))
        x = draw(arrays((*lead, channels, side, draw(st.sampled_from([side, rr]))), draw(dtypes())))
        key = "upscale_factor" if shuffle else "downscale_factor"
        return Case(name, {key: r}, (x,))
    return recipe


def channel_shuffle(draw: Draw) -> Case:
    groups = draw(st.sampled_from([1, 2, 3, 0]))
    shape = shapes(draw, (draw(st.sampled_from([6, 4, 2])), *[draw(st.integers(1, 3))] * draw(st.integers(1, 2))))
    return Case("ChannelShuffle", {"groups": groups}, (draw(arrays(shape, draw(dtypes()))),))


def _fold_options(draw: Draw) -> dict:
    return {"kernel_size": draw(st.sampled_from([1, 2, 3, (2, 1), 0])), "dilation": draw(st.sampled_from([1, 2, 0])),
            "padding": draw(st.sampled_from([0, 1, -1])), "stride": draw(st.sampled_from([1, 2, (1, 2), 0]))}


def unfold(draw: Draw) -> Case:
    options = _fold_options(draw)
    shape = shapes(draw, (draw(st.integers(1, 2)), draw(st.integers(1, 5)), draw(st.integers(1, 5))))
    return Case("Unfold", options, (draw(arrays(shape, draw(dtypes()))),))


def fold(draw: Draw) -> Case:
    options = {"output_size": draw(st.sampled_from([3, (4, 5), 1])), **_fold_options(draw)}
    size = options["output_size"]
    h, w = (size, size) if isinstance(size, int) else size
    k = options["kernel_size"] if isinstance(options["kernel_size"], tuple) else (options["kernel_size"],) * 2
    s = options["stride"] if isinstance(options["stride"], tuple) else (options["stride"],) * 2
    d, p = options["dilation"], options["padding"]
    blocks = [(n + 2 * p - d * (kk - 1) - 1) // ss + 1 if ss > 0 else 1 for n, kk, ss in zip((h, w), k, s)]
    length = draw(st.sampled_from([max(blocks[0] * blocks[1], 1), 2]))
    channels = draw(st.integers(1, 2)) * max(k[0] * k[1], 1) + draw(st.sampled_from([0, 0, 0, 1]))
    shape = shapes(draw, (channels, length))
    return Case("Fold", options, (draw(arrays(shape, draw(dtypes()))),))



RESAMPLING_RECIPES: dict[str, Callable[[Draw], Case]] = {
    **{name: upsample(name) for name in ("Upsample", "UpsamplingNearest2d", "UpsamplingBilinear2d")},
    **{name: pixel_shuffle(name) for name in ("PixelShuffle", "PixelUnshuffle")},
    "ChannelShuffle": channel_shuffle, "Fold": fold, "Unfold": unfold,
}
