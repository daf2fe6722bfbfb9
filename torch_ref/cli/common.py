"""What the ``parity`` subcommands share: one-line usage errors, the exit statuses, the checks of numeric
options and of ``--plot FILE`` made before any work, and strict JSON output."""

from __future__ import annotations

import argparse
import math
import os
import sys
from typing import Any, NoReturn

from ..report import strict_json

#: exit statuses of the ``parity`` command (141, a closed pipe, is in ``torch_ref.cli``)
OK, FAILED, USAGE = 0, 1, 2
#: ``parity train``: a loss, parameter or buffer went NaN or infinite, in either engine
NON_FINITE = 3

#: the --json help text and where it is written: strict JSON, without NaN or Infinity
JSON_HELP = "print the results as strict JSON (a NaN or infinite number is written as null)"

__all__ = ["FAILED", "JSON_HELP", "NON_FINITE", "OK", "USAGE", "UsageError", "check_count", "check_lr",
           "check_plot_path", "one_line_errors", "print_json"]


class UsageError(Exception):
    """A one-line error for the user: printed to stderr, exit status 2."""


def one_line_errors(parser: argparse.ArgumentParser, prefix: str) -> None:
    """Make ``parser`` report any bad option as one line ``"<prefix>: message"`` on stderr with exit
    status 2, instead of argparse's usage block. Unknown options are caught here too, since a
    subcommand's parser otherwise hands them up to the top-level parser."""

    def error(message: str) -> NoReturn:
        print(f"{prefix}: {message}", file=sys.stderr)
        raise SystemExit(USAGE)

    def parse_known_args(args: Any = None, namespace: Any = None) -> tuple[argparse.Namespace, list[str]]:
        parsed, extras = argparse.ArgumentParser.parse_known_args(parser, args, namespace)
        if extras:
            error(f"unrecognized arguments: {' '.join(extras)}")
        return parsed, extras

    # the instance's own methods replaced, on purpose (a function of the parser's signature, not a bound method)
    parser.error = error  # type: ignore[method-assign]
    parser.parse_known_args = parse_known_args  # type: ignore[method-assign,assignment]


def check_count(option: str, value: int | None, least: int = 1, most: int | None = None, why: str = "") -> None:
    """UsageError unless ``value`` (None: not given) is in [least, most], ``least`` 0 or 1; ``why`` gives
    the reason for ``most``."""
    if value is not None and value < least:
        raise UsageError(f"{option} must be a {'positive' if least else 'non-negative'} integer, got {value}")
    if value is not None and most is not None and value > most:
        raise UsageError(f"{option} must be at most {most}{why}, got {value}")


def check_lr(value: float | None, dtype_max: float, dtype_name: str) -> None:
    """UsageError unless the learning rate is finite, positive and representable in the parameters' dtype:
    torch converts it to that dtype in the update (``param.add_(grad, alpha=-lr)``) and fails on one that
    overflows, so ``--lr 1e308`` cannot train a float32 model in torch at all."""
    if value is None:
        return
    if not (math.isfinite(value) and value > 0):
        raise UsageError(f"--lr must be a finite positive number, got {value}")
    if value > dtype_max:
        raise UsageError(f"--lr {value} overflows {dtype_name} (largest {dtype_max:.4g}), the parameters' dtype, "
                         "which torch converts it to in each update")


def check_plot_path(path: str) -> str:
    """The image format of ``--plot path``, from its extension, once every check that can fail before any work
    has passed: not a directory, in a writable directory, an extension matplotlib writes. Needs matplotlib."""
    from matplotlib.backend_bases import FigureCanvasBase

    if os.path.isdir(path):
        raise UsageError(f"--plot: cannot write {path}: it is a directory; name a file in it, e.g. "
                         f"{os.path.join(path, 'plot.png')}")
    folder = os.path.dirname(os.path.abspath(path))
    if not (os.path.isdir(folder) and os.access(folder, os.W_OK)):
        raise UsageError(f"--plot: cannot write {path}: {folder} is not a writable directory")
    if os.path.exists(path) and not os.access(path, os.W_OK):
        raise UsageError(f"--plot: cannot write {path}: the file is not writable")
    formats = sorted(FigureCanvasBase.get_supported_filetypes())
    extension = os.path.splitext(path)[1].lower().removeprefix(".")
    if extension not in formats:
        got = f"extension '.{extension}'" if extension else "no extension"
        raise UsageError(f"--plot: cannot write {path}: {got}; matplotlib writes "
                         f"{', '.join('.' + f for f in formats)}")
    return extension


def print_json(value: Any) -> None:
    """Print ``value`` as strict JSON (RFC 8259: no NaN or Infinity), each non-finite float written as null."""
    print(strict_json(value, indent=2))
