"""``parity check``: every catalog entry run side by side with torch, one row per entry and dtype."""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

import numpy as np

from ..catalog import DTYPE_NAMES, run_case, select
from ..report import Comparison, ParityResult
from . import check_user
from .common import JSON_HELP, UsageError, one_line_errors, print_json

COLUMNS = ("output", "grad_input", "grad_params")
USER_OPTIONS = ("twin", "input_shape", "input", "target_shape", "target")  # the options that go with --module
LEGEND = ("output: a module's output, an optimizer's parameters after each step, a scheduler's lr (and momentum) "
          "sequence, or an initializer's samples; grad_params: every parameter gradient, or every optimizer state "
          "buffer.\nEach cell is max abs err / max rel err, rel err = |a-b| / (|b| + max|b|) (see "
          "torch_ref/tolerance.py); an initializer's row holds the Kolmogorov-Smirnov D of its samples against "
          "torch's instead (see torch_ref/catalog/init.py).\nok means every comparison is within its own tolerance; "
          "the tol column shows the largest.")


def _column(comparison: Comparison) -> str:
    if comparison.quantity.startswith("output"):  # output[i] for a module of several outputs
        return "output"
    if comparison.quantity.startswith("grad_input"):  # grad_input[i] for a loss of several inputs
        return "grad_input"
    if comparison.quantity.endswith(".grad") or comparison.quantity.startswith("state."):
        return "grad_params"
    return "output"  # an optimizer's parameters


def summarize(name: str, dtype: np.dtype, result: ParityResult) -> dict:
    """One table row: the worst comparison per column, the tolerance and the verdict."""
    row: dict = {"component": name, "dtype": str(dtype), "ok": result.ok, "tol": None, "problems": []}
    for column in COLUMNS:
        cells = [c for c in result.comparisons if _column(c) == column]
        row[column] = None if not cells else {
            "max_abs_err": max(c.max_abs_err for c in cells), "max_rel_err": max(c.max_rel_err for c in cells)}
    row["tol"] = max((c.tol for c in result.comparisons), default=None)
    row["problems"] = [f"{c.quantity}: {c.problem or 'rel err above tol'}" for c in result.comparisons if not c.ok]
    return row


def _cell(cell: dict | None) -> str:
    return "-" if cell is None else f"{cell['max_abs_err']:.1e} / {cell['max_rel_err']:.1e}"


def format_table(rows: list[dict]) -> str:
    width = max([len("component"), *(len(r["component"]) for r in rows)])
    header = f"{'component':<{width}}  {'dtype':<7}  " + "  ".join(f"{c:<17}" for c in COLUMNS) + "  tol      ok"
    lines = [header, "-" * len(header)]
    for row in rows:
        cells = "  ".join(f"{_cell(row[c]):<17}" for c in COLUMNS)
        tol = "-" if row["tol"] is None else f"{row['tol']:.1e}"
        verdict = "ok" if row["ok"] else "FAIL"
        lines.append(f"{row['component']:<{width}}  {row['dtype']:<7}  {cells}  {tol:<7}  {verdict}")
        lines += [f"{'':<{width}}    -> {problem}" for problem in row["problems"]]
    return "\n".join(lines)


def print_rows(rows: list[dict], components: int, started: float, as_json: bool) -> int:
    """The rows as the table (with the legend and the count) or as JSON; exit status 1 when one fails."""
    failed = sum(not row["ok"] for row in rows)
    if as_json:
        print_json({"ok": failed == 0, "rows": rows})
    else:
        print(format_table(rows))
        print(f"\n{LEGEND}\n\n{len(rows) - failed} passed, {failed} failed "
              f"({components} component{'s' if components != 1 else ''}, {time.perf_counter() - started:.1f} s)")
    return 1 if failed else 0


def command_check(args: argparse.Namespace) -> int:
    if args.module is not None:
        return command_check_user(args)
    if any(getattr(args, option) is not None for option in USER_OPTIONS) or args.loss or args.args != "{}":
        print("parity check: --args, --twin, --input(-shape), --loss and --target(-shape) go with --module",
              file=sys.stderr)
        return 2
    cases = select(args.only)
    if not cases:
        print(f"parity check: no component matches {args.only!r}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    rows = [summarize(case.name, dtype, run_case(case, dtype)) for case in cases
            for dtype in DTYPE_NAMES[args.dtype]]
    return print_rows(rows, len(cases), started, args.json)


def command_check_user(args: argparse.Namespace) -> int:
    """``parity check --module pkg.mod:Class``: the user's component, one row per dtype."""
    if args.only is not None:
        print("parity check: --only selects catalog components; it does not go with --module", file=sys.stderr)
        return 2
    started = time.perf_counter()
    try:
        case = check_user.user_case(args)
        check_user.preflight(case, DTYPE_NAMES[args.dtype][0])
    except UsageError as error:
        print(f"parity check: {error}", file=sys.stderr)
        return 2
    rows = [summarize(case.name, dtype, run_case(case, dtype)) for dtype in DTYPE_NAMES[args.dtype]]
    return print_rows(rows, 1, started, args.json)


def add_parser(commands: Any) -> None:
    """Register the ``check`` subcommand on argparse's subparsers."""
    check = commands.add_parser("check", help="run every component (or one of your own, --module) side by side "
                                "with torch and print a table")
    check.add_argument("--dtype", choices=sorted(DTYPE_NAMES), default="both")
    check.add_argument("--only", metavar="PATTERN", help="components whose name matches (glob or substring)")
    check.add_argument("--json", action="store_true", help=JSON_HELP)
    check_user.add_arguments(check)
    one_line_errors(check, "parity check")
    check.set_defaults(handler=command_check)
