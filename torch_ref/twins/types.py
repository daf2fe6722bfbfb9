"""The shape of one row of a twin table."""

from __future__ import annotations

from collections.abc import Callable

import torch

from scratch import nn

ToTorch = Callable[[nn.Module], torch.nn.Module]
FromTorch = Callable[[torch.nn.Module], nn.Module]
TwinRow = tuple[type, type, ToTorch, FromTorch]
