"""Upsample (every mode, size or scale_factor, align_corners, recompute_scale_factor, down- and upsampling,
the copy case L_out = L_in), UpsamplingNearest2d and UpsamplingBilinear2d."""

from __future__ import annotations

from typing import Any

from scratch import nn

from .case import Case, Make, fresh, module_case
from .data import normal


def on(module: nn.Module, *shape: int) -> Make:
    """``make`` applying ``module`` to a normal input of ``shape``."""
    return lambda dtype, rng: (fresh(module), [normal(rng, dtype, *shape)])


def up(*shape: int, **options: Any) -> Make:
    return on(nn.Upsample(**options), *shape)


CASES: list[Case] = [
    module_case("Upsample", up(2, 3, 4, 5, scale_factor=2)),
    module_case("Upsample(nearest,1-D,scale 1.7)", up(2, 3, 7, scale_factor=1.7)),
    module_case("Upsample(nearest,size,downsampling)", up(2, 3, 9, 7, size=(4, 5))),
    module_case("Upsample(nearest,3-D,tuple scale)", up(2, 2, 3, 4, 5, scale_factor=(2, 1.5, 0.5))),
    module_case("Upsample(nearest-exact,scale 2.5)", up(2, 3, 4, 5, scale_factor=2.5, mode="nearest-exact")),
    module_case("Upsample(nearest-exact,1-D,size)", up(2, 3, 7, size=4, mode="nearest-exact")),
    module_case("Upsample(nearest-exact,3-D)", up(1, 2, 3, 4, 2, size=(5, 3, 4), mode="nearest-exact")),
    module_case("Upsample(linear)", up(2, 3, 6, scale_factor=2, mode="linear")),
    module_case("Upsample(linear,align_corners,size 1)", up(2, 3, 6, size=1, mode="linear", align_corners=True)),
    module_case("Upsample(linear,downsampling)", up(2, 3, 9, size=4, mode="linear")),
    module_case("Upsample(bilinear)", up(2, 3, 4, 5, scale_factor=2, mode="bilinear")),
    module_case("Upsample(bilinear,align_corners)", up(2, 3, 4, 5, size=(7, 9), mode="bilinear", align_corners=True)),
    module_case("Upsample(bilinear,scale 1.3,recompute_scale_factor)",
                up(2, 3, 5, 6, scale_factor=1.3, mode="bilinear", recompute_scale_factor=True)),
    module_case("Upsample(bilinear,copy axis,downsampling)", up(2, 3, 6, 8, size=(6, 3), mode="bilinear")),
    module_case("Upsample(bicubic)", up(2, 3, 4, 5, scale_factor=2, mode="bicubic")),
    module_case("Upsample(bicubic,align_corners)", up(2, 3, 4, 5, size=(7, 3), mode="bicubic", align_corners=True)),
    module_case("Upsample(bicubic,scale 0.6)", up(2, 3, 8, 9, scale_factor=0.6, mode="bicubic")),
    module_case("Upsample(trilinear)", up(2, 2, 3, 4, 2, scale_factor=2, mode="trilinear")),
    module_case("Upsample(trilinear,align_corners,size)",
                up(1, 2, 3, 4, 5, size=(5, 4, 2), mode="trilinear", align_corners=True)),
    module_case("UpsamplingNearest2d", on(nn.UpsamplingNearest2d(scale_factor=2), 2, 3, 4, 5)),
    module_case("UpsamplingNearest2d(size)", on(nn.UpsamplingNearest2d(size=(7, 3)), 2, 3, 4, 5)),
    module_case("UpsamplingBilinear2d", on(nn.UpsamplingBilinear2d(scale_factor=2), 2, 3, 4, 5)),
    module_case("UpsamplingBilinear2d(size)", on(nn.UpsamplingBilinear2d(size=(3, 8)), 2, 3, 4, 5)),
    module_case("Upsample(bilinear,64x64 to 128x128)", up(4, 8, 64, 64, scale_factor=2, mode="bilinear"), ("large",)),
]
