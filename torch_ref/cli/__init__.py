"""The ``parity`` command line (also ``python -m torch_ref``): one file per subcommand."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from . import bench, check, explain, train


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="parity", description="Check the scratch engine against PyTorch.")
    commands = parser.add_subparsers(dest="command", required=True)
    for subcommand in (check, train, explain, bench):
        subcommand.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
