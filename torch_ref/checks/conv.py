"""Rows for Convolution: Conv1d, Conv2d, ConvTranspose2d."""

from __future__ import annotations

from typing import Any

import numpy as np

from scratch import nn

from .kit import Check, Make, module_check, normal


def _layer(cls: type, args: tuple, kwargs: dict, shape: tuple[int, ...]) -> Make:
    """``make`` for ``cls(*args, **kwargs)`` applied to a normal input of ``shape``."""
    def make(dtype: np.dtype, rng: np.random.Generator) -> tuple[nn.Module, list]:
        return cls(*args, **kwargs, dtype=dtype, rng=rng), [normal(rng, dtype, *shape)]
    return make


def _row(cls: type, label: str, args: tuple, shape: tuple[int, ...], **kwargs: Any) -> Check:
    return module_check(f"{cls.__name__}({label})", _layer(cls, args, kwargs, shape))


def _checks() -> list[Check]:
    c1, c2, ct = nn.Conv1d, nn.Conv2d, nn.ConvTranspose2d
    return [
        _row(c1, "3,5,3", (3, 5, 3), (4, 3, 16)),
        _row(c1, "stride=2,padding=2", (3, 5, 4), (4, 3, 17), stride=2, padding=2),
        _row(c1, "padding='same',even kernel,dilation=2", (3, 4, 4), (2, 3, 11), padding="same", dilation=2),
        _row(c1, "padding='valid',bias=False", (3, 4, 3), (2, 3, 9), padding="valid", bias=False),
        _row(c1, "groups=2,reflect", (4, 6, 3), (2, 4, 10), groups=2, padding=2, padding_mode="reflect"),
        _row(c1, "depthwise,circular", (4, 8, 3), (2, 4, 10), groups=4, padding=1, padding_mode="circular"),
        _row(c1, "unbatched,replicate", (3, 5, 3), (3, 12), padding=2, padding_mode="replicate"),
        _row(c2, "3,8,3", (3, 8, 3), (4, 3, 10, 9)),
        _row(c2, "stride=2,padding=1", (3, 8, 3), (4, 3, 11, 10), stride=2, padding=1),
        _row(c2, "tuples", (3, 6, (3, 2)), (2, 3, 12, 9), stride=(2, 1), padding=(1, 2), dilation=(1, 3)),
        _row(c2, "padding='same',even kernel", (3, 4, (4, 2)), (2, 3, 8, 7), padding="same", dilation=(1, 2)),
        _row(c2, "padding='valid',bias=False", (3, 4, 3), (2, 3, 8, 7), padding="valid", bias=False),
        _row(c2, "groups=2", (4, 6, 3), (2, 4, 9, 8), groups=2, padding=1),
        _row(c2, "depthwise", (4, 8, 3), (2, 4, 9, 8), groups=4, stride=2, padding=1),
        _row(c2, "unbatched", (3, 5, 3), (3, 8, 7), padding=1),
        _row(c2, "1x1", (6, 4, 1), (3, 6, 5, 5)),
        _row(c2, "reflect", (3, 4, 3), (2, 3, 8, 7), padding=(2, 1), padding_mode="reflect"),
        _row(c2, "replicate", (3, 4, 3), (2, 3, 8, 7), padding="same", padding_mode="replicate"),
        _row(c2, "circular,stride=2", (3, 4, 3), (2, 3, 8, 7), stride=2, padding=(1, 3), padding_mode="circular"),
        _row(ct, "4,3,3", (4, 3, 3), (2, 4, 6, 5)),
        _row(ct, "stride=2,padding=1,output_padding=1", (4, 3, 3), (2, 4, 6, 5), stride=2, padding=1,
             output_padding=1),
        _row(ct, "groups=2,dilation=2,bias=False", (4, 6, (3, 2)), (2, 4, 5, 6), groups=2, dilation=2, bias=False),
        _row(ct, "output_padding<dilation", (4, 3, 3), (2, 4, 5, 6), stride=(1, 2), dilation=2,
             output_padding=(1, 1)),
        _row(ct, "depthwise,unbatched", (4, 4, 4), (4, 5, 6), groups=4, stride=2, padding=(1, 2)),
    ]


CHECKS = _checks()
