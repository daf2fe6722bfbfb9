"""``parity check``: every catalog entry run side by side with torch, one row per entry and dtype."""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

import numpy as np

from ..catalog import DTYPE_NAMES, run_case, select
from ..report import Comparison, ParityResult
from .common import JSON_HELP, print_json

COLUMNS = ("output", "grad_input", "grad_params")
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


def command_check(args: argparse.Namespace) -> int:
    cases = select(args.only)
    if not cases:
        print(f"parity check: no component matches {args.only!r}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    rows = [summarize(case.name, dtype, run_case(case, dtype)) for case in cases
            for dtype in DTYPE_NAMES[args.dtype]]
    failed = sum(not row["ok"] for row in rows)
    if args.json:
        print_json({"ok": failed == 0, "rows": rows})
    else:
        print(format_table(rows))
        print(f"\n{LEGEND}\n\n{len(rows) - failed} passed, {failed} failed "
              f"({len(cases)} components, {time.perf_counter() - started:.1f} s)")
    return 1 if failed else 0


def add_parser(commands: Any) -> None:
    """Register the ``check`` subcommand on argparse's subparsers."""
    check = commands.add_parser("check", help="run every component side by side with torch and print a table")
    check.add_argument("--dtype", choices=sorted(DTYPE_NAMES), default="both")
    check.add_argument("--only", metavar="PATTERN", help="components whose name matches (glob or substring)")
    check.add_argument("--json", action="store_true", help=JSON_HELP)
    check.set_defaults(handler=command_check)
