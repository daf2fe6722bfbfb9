"""``parity explain EXAMPLE``."""

from __future__ import annotations

from typing import Any


def add_parser(commands: Any) -> None:
    """Register the ``explain`` subcommand on argparse's subparsers."""

