"""The one conversion every part of scratch shares: anything array-like to an ndarray."""

from __future__ import annotations

from typing import Any

import numpy as np


def as_numpy(value: Any) -> np.ndarray:
    """An ndarray view of ``value``: arrays, Parameters, lists, or torch CPU tensors."""
    if hasattr(value, "detach") and hasattr(value, "cpu"):  # a torch tensor, without importing torch
        value = value.detach().cpu()
        if str(value.dtype) == "torch.bfloat16":  # NumPy has no bfloat16; float32 holds every value exactly
            value = value.float()
    return np.asarray(value)
