"""Twins of Convolution: Conv1d, Conv2d, ConvTranspose2d."""

from __future__ import annotations

import torch

from scratch import nn

from .types import TwinRow

T = torch.nn


def _conv_options(m: nn.Module | torch.nn.Module) -> dict:
    """The constructor options Conv1d and Conv2d share, read off either engine's module."""
    return {"stride": m.stride, "padding": m.padding, "dilation": m.dilation, "groups": m.groups,
            "bias": m.bias is not None, "padding_mode": m.padding_mode}


def _transpose_options(m: nn.Module | torch.nn.Module) -> dict:
    return {"stride": m.stride, "padding": m.padding, "output_padding": m.output_padding, "groups": m.groups,
            "bias": m.bias is not None, "dilation": m.dilation}


PAIRS: list[TwinRow] = [
    (nn.Conv1d, T.Conv1d, lambda m: T.Conv1d(m.in_channels, m.out_channels, m.kernel_size, **_conv_options(m)),
     lambda t: nn.Conv1d(t.in_channels, t.out_channels, t.kernel_size, **_conv_options(t))),
    (nn.Conv2d, T.Conv2d, lambda m: T.Conv2d(m.in_channels, m.out_channels, m.kernel_size, **_conv_options(m)),
     lambda t: nn.Conv2d(t.in_channels, t.out_channels, t.kernel_size, **_conv_options(t))),
    (nn.ConvTranspose2d, T.ConvTranspose2d,
     lambda m: T.ConvTranspose2d(m.in_channels, m.out_channels, m.kernel_size, **_transpose_options(m)),
     lambda t: nn.ConvTranspose2d(t.in_channels, t.out_channels, t.kernel_size, **_transpose_options(t))),
]
