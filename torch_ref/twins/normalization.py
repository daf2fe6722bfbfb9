"""Twins of Normalization: BatchNorm1d, BatchNorm2d, LayerNorm, GroupNorm.

The twins are built in the scratch module's dtype (that of its parameters or, with affine=False,
of its running statistics), so a float64 BatchNorm without parameters gets float64 buffers too.
"""

from __future__ import annotations

import numpy as np
import torch

from scratch import nn

from .types import TwinRow

T = torch.nn


def torch_dtype(module: nn.Module) -> torch.dtype | None:
    """The torch dtype of the first float parameter or buffer of ``module`` (None: torch's default)."""
    arrays = [p.data for p in module.parameters()] + [b for b in module.buffers() if b.dtype.kind == "f"]
    return torch.from_numpy(np.empty(0, dtype=arrays[0].dtype)).dtype if arrays else None


def numpy_dtype(module: torch.nn.Module) -> np.dtype | None:
    """The reverse: the NumPy dtype of a torch module's first float parameter or buffer."""
    tensors = [t for t in [*module.parameters(), *module.buffers()] if t.is_floating_point()]
    return tensors[0].detach().numpy().dtype if tensors else None


def batch_norm(torch_cls: type, scratch_cls: type) -> TwinRow:
    return (scratch_cls, torch_cls,
            lambda m: torch_cls(m.num_features, m.eps, m.momentum, m.affine, m.track_running_stats,
                                dtype=torch_dtype(m), bias=m.bias is not None),
            lambda t: scratch_cls(t.num_features, t.eps, t.momentum, t.affine, t.track_running_stats,
                                  dtype=numpy_dtype(t), bias=t.bias is not None))


PAIRS: list[TwinRow] = [
    batch_norm(T.BatchNorm1d, nn.BatchNorm1d),
    batch_norm(T.BatchNorm2d, nn.BatchNorm2d),
    (nn.LayerNorm, T.LayerNorm,
     lambda m: T.LayerNorm(m.normalized_shape, m.eps, m.elementwise_affine, bias=m.bias is not None,
                           dtype=torch_dtype(m)),
     lambda t: nn.LayerNorm(t.normalized_shape, t.eps, t.elementwise_affine, bias=t.bias is not None,
                            dtype=numpy_dtype(t))),
    (nn.GroupNorm, T.GroupNorm,
     lambda m: T.GroupNorm(m.num_groups, m.num_channels, m.eps, m.affine, dtype=torch_dtype(m),
                           bias=m.bias is not None),
     lambda t: nn.GroupNorm(t.num_groups, t.num_channels, t.eps, t.affine, dtype=numpy_dtype(t),
                            bias=t.bias is not None)),
]
