"""The activations beyond the foundation's: LeakyReLU, ELU, ..., PReLU."""

from __future__ import annotations

from .kit import Check

CHECKS: list[Check] = []
