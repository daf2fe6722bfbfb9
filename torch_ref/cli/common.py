"""What the ``parity`` subcommands share: one-line usage errors."""

from __future__ import annotations

import argparse
import sys
from typing import Any, NoReturn


def one_line_errors(parser: argparse.ArgumentParser, prefix: str) -> None:
    """Make ``parser`` report any bad option as one line ``"<prefix>: message"`` on stderr with exit
    status 2, instead of argparse's usage block. Unknown options are caught here too, since a
    subcommand's parser otherwise hands them up to the top-level parser."""

    def error(message: str) -> NoReturn:
        print(f"{prefix}: {message}", file=sys.stderr)
        raise SystemExit(2)

    def parse_known_args(args: Any = None, namespace: Any = None) -> tuple[argparse.Namespace, list[str]]:
        parsed, extras = argparse.ArgumentParser.parse_known_args(parser, args, namespace)
        if extras:
            error(f"unrecognized arguments: {' '.join(extras)}")
        return parsed, extras

    parser.error = error  # type: ignore[method-assign]
    parser.parse_known_args = parse_known_args  # type: ignore[method-assign]
