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
import statistics
import sys
import textwrap
import time
from typing import Any, cast

from .. import examples
from ..bench import bandwidth, memory, plot
from ..bench.cases import LARGE_STEP, SCRATCH, Case, all_cases
from ..bench.profile import format_profile, profile
from ..bench.runner import (
    FULL,
    QUICK,
    SPREAD_LIMIT,
    default_threads,
    gemm_peak,
    ratio_spread,
    same_threads,
    time_rounds,
)
from .common import JSON_HELP, USAGE, UsageError, check_count, check_plot_path, one_line_errors, print_json
from .train import _missing as missing_extra

TORCH_PATHS = {"torch": "torch_s", "torch-foreach": "torch_foreach_s", "torch-fused": "torch_fused_s"}
MEMORY_ENGINES = [SCRATCH, "torch", "torch-fused"]
PROFILE_STEPS = 20
WRAP = 120  # the width of the notes under the table


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
    bench.add_argument("--profile", metavar="EXAMPLE", help="instead of the cases: one row per module of a `parity "
                       "train` example's model (digits, digits-cnn, char-gpt, ...): forward and backward time in each "
                       "engine, their ratio and share of the training step")
    bench.add_argument("--steps", type=int, metavar="N", help=f"--profile's timed steps per engine (default "
                                                              f"{PROFILE_STEPS})")
    bench.set_defaults(handler=command_bench)
    one_line_errors(bench, "parity bench")


def command_bench(args: argparse.Namespace) -> int:
    try:
        if args.profile is not None:
            return _command_profile(args)
        if args.steps is not None:
            raise UsageError("--steps counts the steps of --profile EXAMPLE, which is not given")
        cases, plot_format = _selected(args)
    except UsageError as error:
        print(f"parity bench: {error}", file=sys.stderr)
        return USAGE
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


def _command_profile(args: argparse.Namespace) -> int:
    """``--profile EXAMPLE``: every option checked, then the per-module table (or JSON)."""
    for option, given in (("--only", args.only), ("--plot", args.plot), ("--quick", args.quick or None)):
        if given is not None:
            raise UsageError(f"{option} applies to the cases, which --profile does not run")
    check_count("--threads", args.threads, 1, os.cpu_count() or 1)
    check_count("--steps", args.steps)
    try:
        examples.get(args.profile)
    except KeyError as error:
        raise UsageError(error.args[0]) from None
    load = os.getloadavg()[0]
    try:
        result = profile(args.profile, args.steps or PROFILE_STEPS, args.threads)
    except ImportError as error:  # the example's data needs an optional extra
        raise UsageError(missing_extra(args.profile, error)) from None
    result.update(load_average=load, load_average_after=os.getloadavg()[0], cores=os.cpu_count())
    if args.json:
        print_json(result)
    else:
        print(format_profile(result))
        print(_load_line(result))
    return 0


def _bandwidth(rounds: int) -> dict[str, float]:
    rates = bandwidth.stream_rates(rounds)
    return {"copy_gbs": rates["copy"] / 1e9, "triad_gbs": rates["triad"] / 1e9,
            "array_mib": rates["array_bytes"] / 2**20}


def _better(first: dict[str, float] | None, last: dict[str, float] | None) -> dict[str, float] | None:
    """Each ceiling measured before and after the cases: the better of the two."""
    if first is None or last is None:
        return None
    return {key: max(first[key], last[key]) for key in first}


def run(cases: list[Case], threads: int, quick: bool, progress: bool = False) -> dict[str, Any]:
    """Time every case (and the GEMM peak, the bandwidth, and the memory of the large step) under ``threads``
    threads."""
    timing = QUICK if quick else FULL
    started, load = time.perf_counter(), os.getloadavg()[0]
    with_bytes = any(case.bytes_moved for case in cases)
    with same_threads(threads):
        first = gemm_peak(timing.rounds), _bandwidth(timing.rounds) if with_bytes else None
        rows = []
        for case in cases:
            if progress:
                print(f"  timing {case.name} ...", file=sys.stderr, flush=True)
            rows.append(_row(case, time_rounds(case.build(case.engines), timing)))
        last = gemm_peak(timing.rounds), _bandwidth(timing.rounds) if with_bytes else None
    peak, rate = _better(first[0], last[0]), _better(first[1], last[1])
    if rate is not None:
        rate["floor_gbs"] = max(rate["copy_gbs"], rate["triad_gbs"])
    _ceilings(rows, peak, rate)
    measure_memory = not quick and any(case.name == LARGE_STEP for case in cases)
    return {"threads": threads, "quick": quick, "cores": os.cpu_count(), "load_average": load,
            "load_average_after": os.getloadavg()[0], "gemm_peak_gflops": peak, "bandwidth": rate, "rows": rows,
            "epoch_speedup": _epoch_speedup(rows),
            "memory": memory.measure(MEMORY_ENGINES, threads) if measure_memory else None,
            "seconds": time.perf_counter() - started}


def _ceilings(rows: list[dict[str, Any]], peak: Any, rate: dict[str, float] | None) -> None:
    """Each row's share of the GEMM peak and of the bandwidth floor, once both are measured."""
    for row in rows:
        row["peak_pct"] = None if row["scratch_gflops"] is None else 100 * row["scratch_gflops"] / peak["numpy"]
        if rate is not None:
            best = TORCH_PATHS[row["best_torch"]]
            for engine, key in (("scratch", "scratch_s"), ("torch", best)):
                row[f"{engine}_bw_pct"] = bandwidth.floor_pct(row["bytes"], row[key], rate["floor_gbs"] * 1e9)


def _row(case: Case, rounds: dict[str, list[float]]) -> dict[str, Any]:
    """The medians of each engine; the ratio to the fastest torch path, its median and spread over the rounds."""
    seconds = {engine: statistics.median(times) for engine, times in rounds.items()}
    torch_times = {engine: s for engine, s in seconds.items() if engine != SCRATCH}
    best = min(torch_times, key=torch_times.__getitem__)
    spread = ratio_spread(rounds[SCRATCH], rounds[best])
    gflops = case.flops / seconds[SCRATCH] / 1e9 if case.flops else None
    return {"case": case.name, "family": case.family, "scratch_s": seconds[SCRATCH],
            **{key: torch_times.get(engine) for engine, key in TORCH_PATHS.items()},
            "best_torch": best, "ratio": spread.median, "ratio_q1": spread.q1, "ratio_q3": spread.q3,
            "ratio_spread": spread.relative, "trusted": spread.trusted, "ratio_rounds": spread.ratios,
            "flops": case.flops, "scratch_gflops": gflops, "peak_pct": None, "sweep": case.sweep,
            "bytes": case.bytes_moved, "bytes_note": case.bytes_note or None,
            "scratch_bw_pct": None, "torch_bw_pct": None}  # peak_pct, *_bw_pct: set once the ceilings are known


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


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}%"


def _spread(row: dict[str, Any]) -> str:
    return f"{100 * row['ratio_spread']:.0f}%" + ("" if row["trusted"] else "!")


def format_table(rows: list[dict[str, Any]]) -> str:
    width = max([len("case"), *(len(r["case"]) for r in rows)])
    header = (f"{'case':<{width}}  {'scratch':>9}  {'torch':>9}  {'foreach':>9}  {'fused':>9}  {'ratio':>6}  "
              f"{'spread':>6}  {'vs':<7}  {'GFLOP/s':>7}  {'% peak':>6}  {'scr %bw':>7}  {'tch %bw':>7}")
    lines = [header, "-" * len(header)]
    for r in rows:
        gflops = "-" if r["scratch_gflops"] is None else f"{r['scratch_gflops']:.3g}"
        times = "  ".join(f"{_time(r[key]):>9}" for key in ("scratch_s", *TORCH_PATHS.values()))
        best = r["best_torch"].removeprefix("torch-").replace("torch", "default")
        lines.append(f"{r['case']:<{width}}  {times}  {r['ratio']:>6.2f}  {_spread(r):>6}  {best:<7}  {gflops:>7}  "
                     f"{_pct(r['peak_pct']):>6}  {_pct(r['scratch_bw_pct']):>7}  {_pct(r['torch_bw_pct']):>7}")
    return "\n".join(lines)


def _load_line(result: dict[str, Any]) -> str:
    return (f"Load average (1 min) {result['load_average']:.2f} at the start, {result['load_average_after']:.2f} "
            f"at the end, on {result['cores']} cores: other work on the machine skews the times.")


def _spread_lines(rows: list[dict[str, Any]]) -> list[str]:
    wide = [r["case"] for r in rows if not r["trusted"]]
    lines = [f"The engines take turns round by round; ratio = the median of the per-round ratios scratch / the fastest "
             f"torch path (named in 'vs'; default: torch's for-loop optimizer on the CPU), below 1 scratch is faster; "
             f"spread = their interquartile range over the median, '!' beyond {100 * SPREAD_LIMIT:.0f}%: too wide to "
             "trust (the machine's load changed during the case); times are medians per call."]
    if wide:
        lines.append(f"NOT TO BE TRUSTED ({len(wide)} of {len(rows)}, spread over {100 * SPREAD_LIMIT:.0f}%): "
                     f"{'; '.join(wide)}. Run them again (--only) on a quieter machine.")
    return [wrapped for line in lines for wrapped in textwrap.wrap(line, WRAP)]


def _bandwidth_lines(result: dict[str, Any]) -> list[str]:
    rate = result.get("bandwidth")
    if rate is None:
        return []
    lines = [f"Bandwidth (NumPy, one thread, float32 arrays of {rate['array_mib']:.0f} MiB, this run): copy "
             f"{rate['copy_gbs']:.1f} GB/s, triad {rate['triad_gbs']:.1f} GB/s; '%bw' = the floor (the bytes a call "
             f"must move at {rate['floor_gbs']:.1f} GB/s) over the time, for scratch and the fastest torch path; "
             "'-': bytes not meaningful (compute-bound or in cache). Bytes per call:"]
    lines = textwrap.wrap(lines[0], WRAP)
    for r in result["rows"]:
        if r["bytes"]:
            lines += textwrap.wrap(f"  {r['case']}: {r['bytes'] / 1e6:.0f} MB, {r['bytes_note']}", WRAP,
                                   subsequent_indent="    ")
    return lines


def _mib(size: float) -> str:
    return f"{size / 2**20:.0f} MiB"


def format_report(result: dict[str, Any]) -> str:
    peak = result["gemm_peak_gflops"]
    lines = [format_table(result["rows"]), "",
             f"GEMM peak (float32 2048x2048, {result['threads']} threads, this run): NumPy {peak['numpy']:.0f} "
             f"GFLOP/s, torch {peak['torch']:.0f} GFLOP/s; '% peak' is of NumPy's.", _load_line(result),
             *_spread_lines(result["rows"]), *_bandwidth_lines(result)]
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
