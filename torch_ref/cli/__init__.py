"""The ``parity`` command line (also ``python -m torch_ref``): one file per subcommand."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Sequence

from . import bench, check, explain, train


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="parity", description="Check the scratch engine against PyTorch.")
    commands = parser.add_subparsers(dest="command", required=True)
    for subcommand in (check, train, explain, bench):
        subcommand.add_parser(commands)
    return parser


#: exit status when the reader of the output went away (``parity train letters | head -1``): 128 + SIGPIPE,
#: what a shell reports for a Unix tool that the closed pipe ended
BROKEN_PIPE = 141


def main(argv: Sequence[str] | None = None) -> int:
    """Run one subcommand. Its output ends as Unix tools' does: quietly when the pipe it writes to closes,
    with one line on stderr when it cannot be written (``parity check > /dev/full``)."""
    args = build_parser().parse_args(argv)
    try:
        status = args.handler(args)
        sys.stdout.flush()
    except BrokenPipeError:
        _discard_stdout()
        return BROKEN_PIPE
    except OSError as error:
        if error.filename is not None:  # a named file (a plot's): the subcommand's own error
            raise
        _discard_stdout()
        print(f"parity {args.command}: cannot write the output: {error.strerror or error}", file=sys.stderr)
        return 1
    return status


def _discard_stdout() -> None:
    """Point stdout at the null device, so that the interpreter's last flush has nothing left to fail on."""
    with contextlib.suppress(OSError, ValueError):  # ValueError: no file descriptor (a test's captured stdout)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


if __name__ == "__main__":
    sys.exit(main())
