"""Twins of the loss family beyond the foundation's."""

from __future__ import annotations

import torch

from .types import TwinRow

T = torch.nn

PAIRS: list[TwinRow] = []
