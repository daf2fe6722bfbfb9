"""Index-based pooling: FractionalMaxPool2d/3d (the twin replays scratch's random samples, see
``torch_ref.twins.pooling_fractional``; or both use given ``_random_samples``) and MaxUnpool1d/2d/3d on
the indices of a max pool (overlapping windows repeat an index)."""

from __future__ import annotations

from typing import Any

import numpy as np

from scratch import nn

from .case import Case, Make, fresh, module_case
from .data import normal
from .pooling import on


def _fractional(cls: type, shape: tuple[int, ...], **options: Any) -> Make:
    """A fresh module whose samples come from the case's ``rng``, on a normal input."""
    return lambda d, r: (cls(**options, rng=r), [normal(r, d, *shape)])


def _given_samples(cls: type, shape: tuple[int, ...], **options: Any) -> Make:
    """A module built with ``_random_samples`` (a float64 buffer, cast to the case's dtype, as module_db's)."""
    def make(dtype: np.dtype, rng: np.random.Generator) -> tuple[nn.Module, list]:
        dims = 2 if cls is nn.FractionalMaxPool2d else 3
        samples = rng.random((shape[0] if len(shape) == dims + 2 else 1, shape[-dims - 1], dims))
        return cls(**options, _random_samples=samples).to(dtype), [normal(rng, dtype, *shape)]
    return make


def _unpool(unpool: nn.Module, pool: nn.Module, *shape: int) -> Make:
    """``unpool`` on the output and indices of ``pool`` (built with return_indices) on a normal input."""
    def make(dtype: np.dtype, rng: np.random.Generator) -> tuple[nn.Module, list]:
        out, indices = fresh(pool)(normal(rng, dtype, *shape))
        return fresh(unpool), [out, indices]
    return make


def _cases() -> list[Case]:
    f2, f3 = nn.FractionalMaxPool2d, nn.FractionalMaxPool3d
    u1, u2, u3 = nn.MaxUnpool1d, nn.MaxUnpool2d, nn.MaxUnpool3d
    return [
        module_case("FractionalMaxPool2d(output_ratio)", _fractional(f2, (2, 3, 9, 11), kernel_size=2,
                                                                     output_ratio=0.5)),
        module_case("FractionalMaxPool2d(output_size,return_indices)",
                    _fractional(f2, (2, 3, 10, 9), kernel_size=(3, 2), output_size=(4, 6), return_indices=True)),
        module_case("FractionalMaxPool2d(unbatched,ratio pair)", _fractional(f2, (3, 12, 8), kernel_size=3,
                                                                             output_ratio=(0.6, 0.4))),
        module_case("FractionalMaxPool2d(_random_samples)", _given_samples(f2, (2, 3, 8, 9), kernel_size=2,
                                                                           output_size=5)),
        module_case("FractionalMaxPool2d(global generator)", on(f2(2, output_ratio=0.7), 2, 3, 9, 7)),
        module_case("FractionalMaxPool3d(output_ratio)", _fractional(f3, (2, 2, 7, 6, 8), kernel_size=2,
                                                                     output_ratio=0.5)),
        module_case("FractionalMaxPool3d(output_size,return_indices,unbatched)",
                    _fractional(f3, (3, 9, 7, 6), kernel_size=(3, 2, 2), output_size=(5, 4, 3), return_indices=True)),
        module_case("FractionalMaxPool3d(_random_samples)", _given_samples(f3, (2, 2, 6, 7, 5), kernel_size=2,
                                                                           output_size=(3, 4, 3))),
        module_case("MaxUnpool1d", _unpool(u1(2), nn.MaxPool1d(2, return_indices=True), 2, 3, 9)),
        module_case("MaxUnpool1d(stride,padding,overlapping,unbatched)",
                    _unpool(u1(3, 2, 1), nn.MaxPool1d(3, 2, 1, return_indices=True), 3, 11)),
        module_case("MaxUnpool2d", _unpool(u2(2), nn.MaxPool2d(2, return_indices=True), 2, 3, 6, 8)),
        module_case("MaxUnpool2d(stride,padding,overlapping)",
                    _unpool(u2((3, 2), (2, 1), (1, 0)), nn.MaxPool2d((3, 2), (2, 1), (1, 0), return_indices=True),
                            2, 3, 7, 6)),
        module_case("MaxUnpool2d(unbatched)", _unpool(u2(2), nn.MaxPool2d(2, return_indices=True), 3, 6, 4)),
        module_case("MaxUnpool3d", _unpool(u3(2), nn.MaxPool3d(2, return_indices=True), 2, 2, 4, 6, 4)),
        module_case("MaxUnpool3d(stride,padding,unbatched)",
                    _unpool(u3(3, 2, 1), nn.MaxPool3d(3, 2, 1, return_indices=True), 2, 5, 7, 7)),
    ]


CASES: list[Case] = _cases()
