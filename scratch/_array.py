"""The one conversion every part of scratch shares: anything array-like to an ndarray."""

from __future__ import annotations

from typing import Any

import numpy as np


def as_numpy(value: Any) -> np.ndarray:
    """An ndarray view of ``value``: arrays, Parameters, lists, or torch CPU tensors."""
    if hasattr(value, "detach") and hasattr(value, "cpu"):  # a torch tensor, without importing torch
        value = value.detach().cpu()
    return np.asarray(value)
