"""Convolutions: Conv1d, Conv2d, Conv3d and ConvTranspose1d/2d/3d with strides, padding modes, dilation,
groups and unbatched inputs."""

from __future__ import annotations

from typing import Any

import numpy as np

from scratch import nn

from .case import Case, Make, module_case
from .data import normal


def _layer(cls: type, args: tuple, kwargs: dict, shape: tuple[int, ...]) -> Make:
    """``make`` for ``cls(*args, **kwargs)`` applied to a normal input of ``shape``."""
    def make(dtype: np.dtype, rng: np.random.Generator) -> tuple[nn.Module, list]:
        return cls(*args, **kwargs, dtype=dtype, rng=rng), [normal(rng, dtype, *shape)]
    return make


def _case(cls: type, label: str, args: tuple, shape: tuple[int, ...], tags: tuple[str, ...] = (),
          **kwargs: Any) -> Case:
    return module_case(f"{cls.__name__}({label})", _layer(cls, args, kwargs, shape), tags)


def _lazy(cls: type, label: str, args: tuple, shape: tuple[int, ...], **kwargs: Any) -> Case:
    """A lazy convolution (no in_channels): its first call, on the case's input, materializes it from scratch's
    ``rng`` (it becomes the plain class), and the case compares that module."""
    layer = _layer(cls, args, kwargs, shape)

    def make(dtype: np.dtype, rng: np.random.Generator) -> tuple[nn.Module, list]:
        module, inputs = layer(dtype, rng)
        module(*inputs)
        return module, inputs
    return module_case(f"{cls.__name__}({label})", make)


def _cases() -> list[Case]:
    return [*_conv1d_cases(), *_conv2d_cases(), *_transposed_cases(), *_conv3d_cases(), *_transposed_1d_3d_cases(),
            *_lazy_cases()]


def _lazy_cases() -> list[Case]:
    return [
        _lazy(nn.LazyConv1d, "5,3", (5, 3), (4, 3, 16)),
        _lazy(nn.LazyConv1d, "groups=2,padding='same',unbatched", (6, 3), (4, 10), groups=2, padding="same"),
        _lazy(nn.LazyConv2d, "8,3", (8, 3), (4, 3, 10, 9)),
        _lazy(nn.LazyConv2d, "stride=2,reflect,bias=False", (4, (3, 2)), (2, 3, 8, 7), stride=2, padding=1,
              padding_mode="reflect", bias=False),
        _lazy(nn.LazyConv3d, "4,3,unbatched", (4, 3), (3, 5, 6, 4), padding=1),
        _lazy(nn.LazyConvTranspose1d, "3,3,groups=2", (4, 3), (2, 4, 7), groups=2, stride=2, output_padding=1),
        _lazy(nn.LazyConvTranspose2d, "3,3", (3, 3), (2, 4, 6, 5), stride=2, padding=1, output_padding=1),
        _lazy(nn.LazyConvTranspose2d, "unbatched,dilation=2,bias=False", (5, 2), (4, 5, 6), dilation=2, bias=False),
        _lazy(nn.LazyConvTranspose3d, "4,3", (4, 3), (2, 4, 3, 4, 3), padding=(1, 0, 1)),
    ]


def _conv1d_cases() -> list[Case]:
    c1 = nn.Conv1d
    return [
        _case(c1, "3,5,3", (3, 5, 3), (4, 3, 16)),
        _case(c1, "stride=2,padding=2", (3, 5, 4), (4, 3, 17), stride=2, padding=2),
        _case(c1, "stride=3,dilation=2", (2, 4, 3), (3, 2, 20), stride=3, dilation=2),
        _case(c1, "padding='same',even kernel", (3, 4, 4), (2, 3, 11), padding="same"),
        _case(c1, "padding='same',even kernel,dilation=2", (3, 4, 4), (2, 3, 11), padding="same", dilation=2),
        _case(c1, "padding='same',dilation=3", (3, 4, 3), (2, 3, 11), padding="same", dilation=3),
        _case(c1, "padding='valid',bias=False", (3, 4, 3), (2, 3, 9), padding="valid", bias=False),
        _case(c1, "groups=2", (4, 6, 3), (2, 4, 10), groups=2, padding=1),
        _case(c1, "groups=2,reflect", (4, 6, 3), (2, 4, 10), groups=2, padding=2, padding_mode="reflect"),
        _case(c1, "depthwise", (4, 8, 5), (2, 4, 10), groups=4, padding=2),
        _case(c1, "depthwise,circular", (4, 8, 3), (2, 4, 10), groups=4, padding=1, padding_mode="circular"),
        _case(c1, "unbatched", (3, 5, 3), (3, 12), padding=1),
        _case(c1, "unbatched,replicate", (3, 5, 3), (3, 12), padding=2, padding_mode="replicate"),
        _case(c1, "reflect", (3, 4, 3), (2, 3, 9), padding=2, padding_mode="reflect"),
        _case(c1, "padding='same',replicate", (3, 4, 4), (2, 3, 9), padding="same", padding_mode="replicate"),
        _case(c1, "circular,stride=2", (3, 4, 3), (2, 3, 9), padding=3, padding_mode="circular", stride=2),
    ]


def _conv2d_cases() -> list[Case]:
    c2 = nn.Conv2d
    return [
        _case(c2, "3,8,3", (3, 8, 3), (4, 3, 10, 9)),
        _case(c2, "stride=2,padding=1", (3, 8, 3), (4, 3, 11, 10), stride=2, padding=1),
        _case(c2, "tuples", (3, 6, (3, 2)), (2, 3, 12, 9), stride=(2, 1), padding=(1, 2), dilation=(1, 3)),
        _case(c2, "padding='same'", (3, 4, 3), (2, 3, 8, 7), padding="same"),
        _case(c2, "padding='same',even kernel", (3, 4, (4, 2)), (2, 3, 8, 7), padding="same", dilation=(1, 2)),
        _case(c2, "padding='same',even kernel,no dilation", (3, 4, (4, 2)), (2, 3, 8, 7), padding="same"),
        _case(c2, "padding='same',dilation=(3,2)", (3, 4, (2, 3)), (2, 3, 9, 8), padding="same", dilation=(3, 2)),
        _case(c2, "padding='valid'", (3, 4, 3), (2, 3, 8, 7), padding="valid"),
        _case(c2, "padding='valid',bias=False", (3, 4, 3), (2, 3, 8, 7), padding="valid", bias=False),
        _case(c2, "bias=False", (3, 4, 3), (2, 3, 8, 7), bias=False, padding=1),
        _case(c2, "groups=2", (4, 6, 3), (2, 4, 9, 8), groups=2, padding=1),
        _case(c2, "groups=3,stride=2", (6, 9, (3, 2)), (2, 6, 9, 8), groups=3, stride=2, padding=(1, 0)),
        _case(c2, "depthwise,multiplier 1", (4, 4, 3), (2, 4, 9, 8), groups=4, padding=1),
        _case(c2, "depthwise", (4, 8, 3), (2, 4, 9, 8), groups=4, stride=2, padding=1),
        _case(c2, "unbatched", (3, 5, 3), (3, 8, 7), padding=1),
        _case(c2, "unbatched,stride=2", (3, 5, 3), (3, 8, 7), padding=1, stride=2),
        _case(c2, "1x1", (6, 4, 1), (3, 6, 5, 5)),
        _case(c2, "kernel equals input", (2, 3, (5, 4)), (3, 2, 5, 4)),
        _case(c2, "reflect", (3, 4, 3), (2, 3, 8, 7), padding=(2, 1), padding_mode="reflect"),
        _case(c2, "replicate", (3, 4, 3), (2, 3, 8, 7), padding="same", padding_mode="replicate"),
        _case(c2, "replicate,even kernel", (3, 4, (4, 3)), (2, 3, 8, 7), padding="same", padding_mode="replicate"),
        _case(c2, "circular,stride=2", (3, 4, 3), (2, 3, 8, 7), stride=2, padding=(1, 3), padding_mode="circular"),
        _case(c2, "16,32,3,wide", (16, 32, 3), (8, 16, 16, 16), tags=("large",), padding=1),
    ]


def _transposed_cases() -> list[Case]:
    ct = nn.ConvTranspose2d
    return [
        _case(ct, "4,3,3", (4, 3, 3), (2, 4, 6, 5)),
        _case(ct, "stride=2,padding=1,output_padding=1", (4, 3, 3), (2, 4, 6, 5), stride=2, padding=1,
              output_padding=1),
        _case(ct, "tuples", (3, 5, (2, 3)), (2, 3, 4, 5), stride=(3, 2), padding=(1, 0), output_padding=(2, 1)),
        _case(ct, "groups=2,dilation=2,bias=False", (4, 6, (3, 2)), (2, 4, 5, 6), groups=2, dilation=2, bias=False),
        _case(ct, "output_padding<dilation", (4, 3, 3), (2, 4, 5, 6), stride=(1, 2), dilation=2,
              output_padding=(1, 1)),
        _case(ct, "depthwise,unbatched", (4, 4, 4), (4, 5, 6), groups=4, stride=2, padding=(1, 2)),
        _case(ct, "16,8,4,wide", (16, 8, 4), (8, 16, 8, 8), tags=("large",), stride=2, padding=1),
    ]


def _conv3d_cases() -> list[Case]:
    c3 = nn.Conv3d
    return [
        _case(c3, "3,4,3", (3, 4, 3), (2, 3, 5, 6, 4)),
        _case(c3, "stride,padding,dilation tuples", (2, 4, (3, 2, 2)), (2, 2, 7, 6, 8), stride=(2, 1, 3),
              padding=(1, 0, 2), dilation=(1, 2, 1)),
        _case(c3, "padding='same',even kernel", (2, 3, (2, 3, 4)), (2, 2, 5, 4, 6), padding="same"),
        _case(c3, "padding='valid',bias=False", (2, 3, 2), (2, 2, 4, 3, 5), padding="valid", bias=False),
        _case(c3, "groups=2", (4, 6, 3), (2, 4, 4, 5, 4), groups=2, padding=1),
        _case(c3, "depthwise,unbatched", (3, 3, 3), (3, 5, 4, 6), groups=3, padding=(1, 0, 1)),
        _case(c3, "reflect", (2, 3, 3), (2, 2, 4, 5, 4), padding=(1, 2, 3), padding_mode="reflect"),
        _case(c3, "replicate,stride=2", (2, 3, 3), (2, 2, 5, 4, 6), padding=2, stride=2, padding_mode="replicate"),
        _case(c3, "circular,same", (2, 3, (3, 2, 3)), (2, 2, 4, 5, 3), padding="same", padding_mode="circular"),
        _case(c3, "8,16,3,wide", (8, 16, 3), (4, 8, 8, 8, 8), tags=("large",), padding=1),
    ]


def _transposed_1d_3d_cases() -> list[Case]:
    t1, t3 = nn.ConvTranspose1d, nn.ConvTranspose3d
    return [
        _case(t1, "4,3,3", (4, 3, 3), (2, 4, 7)),
        _case(t1, "stride=3,padding=1,output_padding=2", (4, 3, 4), (2, 4, 6), stride=3, padding=1,
              output_padding=2),
        _case(t1, "groups=2,dilation=2,bias=False", (4, 6, 3), (2, 4, 5), groups=2, dilation=2, bias=False),
        _case(t1, "output_padding<dilation,unbatched", (3, 4, 3), (3, 6), dilation=3, output_padding=2),
        _case(t1, "depthwise", (4, 4, 4), (3, 4, 5), groups=4, stride=2, padding=2),
        _case(t3, "4,3,3", (4, 3, 3), (2, 4, 3, 4, 3)),
        _case(t3, "stride,padding,output_padding tuples", (3, 4, (3, 2, 2)), (2, 3, 3, 4, 2), stride=(2, 1, 3),
              padding=(1, 0, 1), output_padding=(1, 0, 2)),
        _case(t3, "groups=2,dilation,bias=False", (4, 2, 2), (2, 4, 3, 2, 3), groups=2, dilation=(2, 1, 3),
              bias=False),
        _case(t3, "unbatched", (3, 2, 3), (3, 2, 3, 4), stride=2, padding=1, output_padding=1),
        _case(t3, "8,4,4,wide", (8, 4, 4), (4, 8, 4, 4, 4), tags=("large",), stride=2, padding=1),
    ]


CASES = _cases()
