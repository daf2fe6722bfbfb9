"""The optimizers beyond the foundation's: RMSprop, Adagrad, Adadelta, NAdam, RAdam."""

from __future__ import annotations

from .kit import Check

CHECKS: list[Check] = []
