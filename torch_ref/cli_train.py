"""``parity train EXAMPLE``."""

from __future__ import annotations

from typing import Any


def add_parser(commands: Any) -> None:
    """Register the ``train`` subcommand on argparse's subparsers."""

