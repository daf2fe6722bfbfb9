"""The fuzz judge's deliberate differences: where scratch rejects an input torch accepts, accepts one torch
rejects, or differs from torch on purpose, each with its reason (``fuzz_findings.judge`` consults them)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .fuzz_engine import Case


@dataclass(frozen=True)
class Deliberate:
    """On purpose: scratch rejects an input torch accepts ("stricter"), accepts one it rejects ("laxer"), or
    differs where torch is wrong ("mismatch")."""

    name: str
    kind: str
    reason: str
    matches: Callable[[Case], bool]


ELEMENTWISE_LOSSES = ("MSELoss", "L1Loss", "HuberLoss", "SmoothL1Loss", "SoftMarginLoss", "HingeEmbeddingLoss",
                      "BCELoss", "BCEWithLogitsLoss", "KLDivLoss")


def _other_target(case: Case) -> bool:
    input, target = (np.asarray(x) for x in case.inputs[-2:])
    return input.shape != target.shape or input.dtype != target.dtype


def _other_channels(case: Case) -> bool:
    """Channels other than num_features (num_channels), with no weight or running statistic to catch it in torch."""
    x, o = np.asarray(case.inputs[0]), case.options
    expected = o.get("num_features", o.get("num_channels"))
    no_state = not o.get("affine", True) and not o.get("track_running_stats", False)
    return (no_state or x.size == 0) and x.ndim >= 2 and x.shape[1] != expected


def _negative_or_zero(case: Case) -> bool:
    padding = case.options.get("padding", 0)
    return (isinstance(padding, int) and padding < 0) or case.options.get("dilation", 1) == 0


def _padded_axes(case: Case) -> list[tuple[int, int, int]]:
    """(size, lo, hi) per padded axis of a padding layer's case, its widths torch's flat (last axis first)."""
    k, x = int(case.name[-2]), np.asarray(case.inputs[0])
    widths = case.options["padding"]
    widths = tuple(widths) if isinstance(widths, tuple) else (widths,) * (2 * k)
    return [(x.shape[x.ndim - 1 - i], widths[2 * i], widths[2 * i + 1]) for i in range(min(k, x.ndim))]


def _wraps_past_the_crop(case: Case) -> bool:
    return any(max(lo, hi) > size - max(-lo, 0) - max(-hi, 0) for size, lo, hi in _padded_axes(case))


def _some_padded_axis_empty(case: Case) -> bool:
    return any(size + lo + hi == 0 for size, lo, hi in _padded_axes(case))


def _bad_ctc_labels(case: Case) -> bool:
    x, targets = np.asarray(case.inputs[0]), np.asarray(case.inputs[1])
    return targets.dtype.kind != "i" or bool(np.any((targets < 0) | (targets >= (x.shape[-1] if x.ndim else 1))))


def _int32_target(case: Case) -> bool:
    return np.asarray(case.inputs[-1]).dtype == np.int32


def _repeated_indices(case: Case) -> bool:
    """MaxUnpool's indices repeat within a plane (where the values may differ)."""
    indices, dims = np.asarray(case.inputs[1]), int(case.name[-2])
    if indices.ndim < dims or indices.size == 0:
        return False
    rows = np.sort(indices.reshape(-1, int(np.prod(indices.shape[-dims:]))), axis=1)
    return bool((np.diff(rows, axis=1) == 0).any())


def _half(case: Case) -> bool:
    return np.asarray(case.inputs[0]).dtype == np.float16


DELIBERATE: list[Deliberate] = [
    *(Deliberate(name, "stricter", "the target must have the input's shape and dtype: scratch neither broadcasts "
                 "(torch does, with a UserWarning: almost always a bug) nor promotes dtypes", _other_target)
      for name in ELEMENTWISE_LOSSES),
    Deliberate("CosineEmbeddingLoss", "stricter", "input1 and input2 must have the same shape: scratch does not "
               "broadcast them", lambda case: np.shape(case.inputs[0]) != np.shape(case.inputs[1])),
    *(Deliberate(name, "stricter", "the channel count is checked against num_features (num_channels) even when "
                 "there is no weight or running statistic for torch to trip over", _other_channels)
      for name in ("BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "GroupNorm")),
    *(Deliberate(name, "stricter", "padding >= 0, dilation >= 1 and output_padding < stride or dilation are checked "
                 "always; torch skips some checks for an empty batch or a padding_mode, and computes a crop there",
                 lambda case: np.size(case.inputs[0]) == 0 or _negative_or_zero(case))
      for name in ("Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d")),
    *(Deliberate(f"CircularPad{k}d", "stricter", "a width wider than what is left of its axis after the crops is "
                 "refused: torch wraps it with values read from memory it never wrote", _wraps_past_the_crop)
      for k in (1, 2, 3)),
    *(Deliberate(f"{kind}Pad{k}d", "mismatch", "an output with one padded axis empty and another not: torch's "
                 "backward leaves the input gradient unwritten (uninitialised memory); scratch gives zeros",
                 _some_padded_axis_empty) for kind in ("Reflection", "Replication") for k in (2, 3)),
    *(Deliberate(name, "laxer", "an empty batch with affine=True gives an empty output; torch's kernel fails on "
                 "the weight repeated 0 times (IndexError from select())",
                 lambda case: np.size(case.inputs[0]) == 0 and case.options.get("affine", False))
      for name in ("InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d")),
    *(Deliberate(name, "laxer", "float16 works; torch's CPU kernel has none",
                 lambda case: np.asarray(case.inputs[0]).dtype == np.float16)
      for name in ("MultiMarginLoss", "MultiLabelMarginLoss", "CTCLoss")),
    Deliberate("CTCLoss", "stricter", "targets must hold integer labels (torch casts floats to int64) within "
               "[0, C) (torch reads out of bounds for others)", lambda case: _bad_ctc_labels(case)),
    Deliberate("AdaptiveAvgPool2d", "stricter", "the input must be 3-D or 4-D, as torch documents; torch's kernel "
               "pools the last two dims of any input", lambda case: np.ndim(case.inputs[0]) not in (3, 4)),
    *(Deliberate(name, "mismatch", "repeated indices: torch's CPU kernel writes them in parallel, so which value "
                 "stays is unspecified (torch's docs); scratch keeps the last", _repeated_indices)
      for name in ("MaxUnpool1d", "MaxUnpool2d", "MaxUnpool3d")),
    Deliberate("FractionalMaxPool2d", "stricter", "kernel_size <= 0 is refused at construction, as torch's "
               "FractionalMaxPool3d does; torch's 2-D pool then gives -inf from windows of no cell",
               lambda case: min(np.atleast_1d(case.options["kernel_size"])) <= 0),
    *(Deliberate(name, "laxer", "float16 works; torch's CPU avg_pool3d kernel has none", _half)
      for name in ("AvgPool3d", "LPPool3d")),
    Deliberate("MultiMarginLoss", "mismatch", "torch returns uninitialised memory for reduction='sum' over an "
               "empty batch; scratch returns 0", lambda case: np.size(case.inputs[0]) == 0),
    Deliberate("MultiLabelMarginLoss", "mismatch", "torch returns uninitialised memory for an empty batch; scratch "
               "returns nan for 'mean' and 0 for 'sum'", lambda case: np.size(case.inputs[0]) == 0),
    *(Deliberate(name, "stricter", "the float inputs must have one shape: scratch does not broadcast them",
                 lambda case: len({np.shape(x) for x in case.inputs[:-1]}) > 1)
      for name in ("MarginRankingLoss", "TripletMarginLoss", "TripletMarginWithDistanceLoss")),
    Deliberate("CrossEntropyLoss", "stricter", "label_smoothing < 0 is refused, as torch documents ([0.0, 1.0]); "
               "torch checks only the upper bound", lambda case: case.options.get("label_smoothing", 0) < 0),
    *(Deliberate(name, "stricter", "class indices must be integers even in an empty batch (torch checks the "
                 "dtype only when it reads an index)", lambda case: np.asarray(case.inputs[-1]).dtype.kind == "f")
      for name in ("NLLLoss", "MultiMarginLoss")),
    *(Deliberate(name, "laxer", "class indices may be of any integer dtype; torch's kernel wants int64 only",
                 _int32_target) for name in ("CrossEntropyLoss", "NLLLoss", "MultiMarginLoss")),
    *(Deliberate(name, "laxer", "an empty input works forward and backward; torch's autograd rejects the empty "
                 "gradient its own backward returns (its shape differs from the input's)",
                 lambda case: np.size(case.inputs[0]) == 0) for name in ("PixelShuffle", "PixelUnshuffle")),
]
