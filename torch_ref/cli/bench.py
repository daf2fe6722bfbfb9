"""``parity bench``: time scratch and torch on the same work, side by side, in one run.

Prints one row per case: the median time per call of scratch, of torch's default path and, for a
case with an optimizer, of torch's ``foreach`` and ``fused`` paths; the ratio scratch / the fastest
torch path (and which it was); scratch's achieved GFLOP/s and its share of the GEMM peak measured by
the same command, in the same run, under the same thread limit (before and after the cases, the
better of the two). Then the vectorized epoch's speed-up
over per-sample updates and, for the large training step, each engine's peak memory (see
``torch_ref/bench/memory.py``). Exit status 0, or 2 with one line on stderr for bad usage.
"""

from __future__ import annotations

import argparse
import fnmatch
import os
import sys
import time
from typing import Any, cast

from ..bench import memory, plot
from ..bench.cases import LARGE_STEP, SCRATCH, Case, all_cases
from ..bench.runner import FULL, QUICK, default_threads, gemm_peak, same_threads, time_engines
from .common import JSON_HELP, UsageError, check_count, check_plot_path, one_line_errors, print_json

TORCH_PATHS = {"torch": "torch_s", "torch-foreach": "torch_foreach_s", "torch-fused": "torch_fused_s"}
MEMORY_ENGINES = [SCRATCH, "torch", "torch-fused"]


def add_parser(commands: Any) -> None:
    """Register the ``bench`` subcommand on argparse's subparsers."""
    bench = commands.add_parser("bench", help="time scratch against torch on the same work (speed, memory)")
    bench.add_argument("--quick", action="store_true", help="fewer cases and rounds, no memory line (under a minute)")
    bench.add_argument("--json", action="store_true", help=JSON_HELP)
    bench.add_argument("--plot", metavar="FILE.png", help="write time against batch size and width to an image, its "
                       "format from the extension (.png, .svg, .pdf, ...: what matplotlib writes)")
    bench.add_argument("--only", metavar="PATTERN", help="cases whose name matches (glob or substring)")
    bench.add_argument("--threads", type=int, metavar="N", default=default_threads(),
                       help=f"threads for each engine's BLAS and torch, 1 to the {os.cpu_count()} cores "
                            f"(default {default_threads()})")
    bench.set_defaults(handler=command_bench)
    one_line_errors(bench, "parity bench")


def command_bench(args: argparse.Namespace) -> int:
    try:
        cases, plot_format = _selected(args)
    except UsageError as error:
        print(f"parity bench: {error}", file=sys.stderr)
        return 2
    result = run(cases, args.threads, args.quick, progress=not args.json)
    if args.plot is not None:  # then _selected gave its format
        plot.plot(args.plot, cast(str, plot_format), result["rows"], args.threads, result["gemm_peak_gflops"]["numpy"])
        result["plot"] = args.plot
    if args.json:
        print_json(result)
    else:
        print(format_report(result))
    return 0


def _selected(args: argparse.Namespace) -> tuple[list[Case], str | None]:
    """The cases to run and the image format of ``--plot``, after every check of the options (so a bad option
    fails before any timing)."""
    check_count("--threads", args.threads, 1, os.cpu_count() or 1, " (this machine's cores: more would time "
                "the threads' contention, not the engines)")
    cases = [case for case in all_cases() if case.quick or not args.quick]
    if args.only:
        glob = args.only if any(ch in args.only for ch in "*?[") else f"*{args.only}*"
        cases = [case for case in cases if fnmatch.fnmatch(case.name.lower(), glob.lower())]
    if not cases:
        raise UsageError(f"no case matches {args.only!r}" + (" among the --quick cases" if args.quick else ""))
    if args.plot is not None:
        try:
            plot.require_matplotlib()
        except ImportError as error:
            raise UsageError(str(error)) from None
        plot_format = check_plot_path(args.plot)
        if not any(case.sweep for case in cases):
            raise UsageError("--plot draws the Linear cases, and none is selected")
        return cases, plot_format
    return cases, None


def run(cases: list[Case], threads: int, quick: bool, progress: bool = False) -> dict[str, Any]:
    """Time every case (and the GEMM peak, and the memory of the large step) under ``threads`` threads."""
    timing = QUICK if quick else FULL
    started, load = time.perf_counter(), os.getloadavg()[0]
    with same_threads(threads):
        first = gemm_peak(timing.rounds)
        rows = []
        for case in cases:
            if progress:
                print(f"  timing {case.name} ...", file=sys.stderr, flush=True)
            rows.append(_row(case, time_engines(case.build(case.engines), timing)))
        last = gemm_peak(timing.rounds)  # measured before and after the cases: the peak is the better of the two
    peak = {engine: max(first[engine], last[engine]) for engine in first}
    for row in rows:
        row["peak_pct"] = None if row["scratch_gflops"] is None else 100 * row["scratch_gflops"] / peak["numpy"]
    measure_memory = not quick and any(case.name == LARGE_STEP for case in cases)
    return {"threads": threads, "quick": quick, "cores": os.cpu_count(), "load_average": load,
            "gemm_peak_gflops": peak, "rows": rows, "epoch_speedup": _epoch_speedup(rows),
            "memory": memory.measure(MEMORY_ENGINES, threads) if measure_memory else None,
            "seconds": time.perf_counter() - started}


def _row(case: Case, seconds: dict[str, float]) -> dict[str, Any]:
    torch_times = {engine: s for engine, s in seconds.items() if engine != SCRATCH}
    best = min(torch_times, key=torch_times.__getitem__)
    gflops = case.flops / seconds[SCRATCH] / 1e9 if case.flops else None
    return {"case": case.name, "family": case.family, "scratch_s": seconds[SCRATCH],
            **{key: torch_times.get(engine) for engine, key in TORCH_PATHS.items()},
            "best_torch": best, "ratio": seconds[SCRATCH] / torch_times[best], "flops": case.flops,
            "scratch_gflops": gflops, "peak_pct": None, "sweep": case.sweep}  # peak_pct: set once the peak is known


def _epoch_speedup(rows: list[dict[str, Any]]) -> dict[str, float] | None:
    """Per-sample epoch time over minibatch epoch time, per engine (both epoch cases needed)."""
    epochs = [r for r in rows if r["family"] == "epoch"]
    per_sample = next((r for r in epochs if "per-sample" in r["case"]), None)
    batched = next((r for r in epochs if "per-sample" not in r["case"]), None)
    if per_sample is None or batched is None:
        return None
    return {"scratch": per_sample["scratch_s"] / batched["scratch_s"],
            "torch": per_sample["torch_s"] / batched["torch_s"], "batched_case": batched["case"]}


def _time(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    for unit, scale in (("s", 1.0), ("ms", 1e-3)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds * 1e6:.3g} us"


def format_table(rows: list[dict[str, Any]]) -> str:
    width = max([len("case"), *(len(r["case"]) for r in rows)])
    header = (f"{'case':<{width}}  {'scratch':>9}  {'torch':>9}  {'foreach':>9}  {'fused':>9}  {'ratio':>6}  "
              f"{'vs':<7}  {'GFLOP/s':>7}  {'% peak':>6}")
    lines = [header, "-" * len(header)]
    for r in rows:
        gflops = "-" if r["scratch_gflops"] is None else f"{r['scratch_gflops']:.3g}"
        pct = "-" if r["peak_pct"] is None else f"{r['peak_pct']:.0f}%"
        times = "  ".join(f"{_time(r[key]):>9}" for key in ("scratch_s", *TORCH_PATHS.values()))
        best = r["best_torch"].removeprefix("torch-").replace("torch", "default")
        lines.append(f"{r['case']:<{width}}  {times}  {r['ratio']:>6.2f}  {best:<7}  {gflops:>7}  {pct:>6}")
    return "\n".join(lines)


def _mib(size: float) -> str:
    return f"{size / 2**20:.0f} MiB"


def format_report(result: dict[str, Any]) -> str:
    peak = result["gemm_peak_gflops"]
    lines = [format_table(result["rows"]), "",
             f"GEMM peak (float32 2048x2048, {result['threads']} threads, this run): NumPy {peak['numpy']:.0f} "
             f"GFLOP/s, torch {peak['torch']:.0f} GFLOP/s; '% peak' is of NumPy's. Load average at the start "
             f"{result['load_average']:.1f} on {result['cores']} cores (other work skews the times).",
             "Times are medians per call; ratio = scratch / the fastest torch path, named in 'vs' (default: torch's "
             "for-loop optimizer on the CPU); below 1, scratch is faster."]
    speedup = result["epoch_speedup"]
    if speedup:
        lines.append(f"Vectorized epoch ({speedup['batched_case']}) against per-sample updates: scratch "
                     f"{speedup['scratch']:.1f}x faster, torch {speedup['torch']:.1f}x.")
    mem = result["memory"]
    if mem:
        parts = ", ".join(f"{engine} {_mib(m['peak_bytes'])} (step temporaries {_mib(m['transient_bytes'])})"
                          for engine, m in mem.items())
        lines.append(f"Memory, {LARGE_STEP}, peak RSS above the imports, fresh process each: {parts}; scratch's "
                     f"allocation growth between steps (tracemalloc): {mem[SCRATCH]['growth_bytes_per_step']:.0f} "
                     "bytes/step.")
    elif result["quick"]:
        lines.append("Memory: not measured with --quick.")
    lines.append(f"({len(result['rows'])} cases, {result['seconds']:.0f} s)")
    return "\n".join(lines)
