"""What scratch cannot take yet: the module_db cases that fail for a missing feature, named.

The oracle's tests mark each such case ``xfail(strict=True)`` with the reason given here, so the suite stays
green while the gap is open, and turns red the day scratch gains the feature (the case then passes: an
unexpected pass of a strict xfail fails) until the entry is removed. A gap is never a skip, and never a
loosened tolerance.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from .module_cases import ModuleCase


class Gap(NamedTuple):
    """A class, which of its cases the gap covers, and the missing feature."""

    name: str
    applies: Callable[[ModuleCase], bool]
    reason: str


def _constructor_option(option: str) -> Callable[[ModuleCase], bool]:
    """Cases whose constructor sets ``option`` (a keyword argument) to something truthy."""
    return lambda case: bool(case.module_input().constructor_input.kwargs.get(option))


MODULE_GAPS = (
    Gap("LSTM", _constructor_option("proj_size"),
        "scratch's LSTM lacks proj_size (LSTM with projections): its constructor raises NotImplementedError"),
)


def module_gap(case: ModuleCase) -> str | None:
    """The missing feature that makes ``case`` fail, or None."""
    return next((gap.reason for gap in MODULE_GAPS if gap.name == case.name and gap.applies(case)), None)
