"""Twins of Pooling (MaxPool1d, MaxPool2d, AvgPool2d, AdaptiveAvgPool2d) and Unflatten."""

from __future__ import annotations

import torch

from scratch import nn

from .types import TwinRow

T = torch.nn


def _max_options(m: nn.Module) -> dict:
    return {"kernel_size": m.kernel_size, "stride": m.stride, "padding": m.padding, "dilation": m.dilation,
            "return_indices": m.return_indices, "ceil_mode": m.ceil_mode}


def _avg_options(m: nn.Module) -> dict:
    return {"kernel_size": m.kernel_size, "stride": m.stride, "padding": m.padding, "ceil_mode": m.ceil_mode,
            "count_include_pad": m.count_include_pad, "divisor_override": m.divisor_override}


PAIRS: list[TwinRow] = [
    (nn.MaxPool1d, T.MaxPool1d, lambda m: T.MaxPool1d(**_max_options(m)), lambda t: nn.MaxPool1d(**_max_options(t))),
    (nn.MaxPool2d, T.MaxPool2d, lambda m: T.MaxPool2d(**_max_options(m)), lambda t: nn.MaxPool2d(**_max_options(t))),
    (nn.AvgPool2d, T.AvgPool2d, lambda m: T.AvgPool2d(**_avg_options(m)), lambda t: nn.AvgPool2d(**_avg_options(t))),
    (nn.AdaptiveAvgPool2d, T.AdaptiveAvgPool2d, lambda m: T.AdaptiveAvgPool2d(m.output_size),
     lambda t: nn.AdaptiveAvgPool2d(t.output_size)),
    (nn.Unflatten, T.Unflatten, lambda m: T.Unflatten(m.dim, m.unflattened_size),
     lambda t: nn.Unflatten(t.dim, t.unflattened_size)),
]
