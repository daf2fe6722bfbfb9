"""``parity bench``: the table and JSON on tiny cases (the rounds, the ratio's spread, the bandwidth
columns), the plot, the memory measurement, ``--profile``'s per-module table, and one-line usage errors
that come before any timing. No speed is asserted."""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import statistics
import sys
import time
from functools import partial

import pytest
from matplotlib.backend_bases import FigureCanvasBase

from torch_ref import cli, examples
from torch_ref.bench import memory, runner
from torch_ref.bench.cases import LARGE_STEP, Case, all_cases
from torch_ref.cli import bench as cli_bench

TINY = "train step MLP 2-16-1@4, Adam"
CORES = os.cpu_count() or 1
IMAGE_FORMATS = ", ".join(f".{extension}" for extension in sorted(FigureCanvasBase.get_supported_filetypes()))
ROW_KEYS = {"case", "family", "scratch_s", "torch_s", "torch_foreach_s", "torch_fused_s", "best_torch", "ratio",
            "flops", "scratch_gflops", "peak_pct", "sweep", "ratio_q1", "ratio_q3", "ratio_spread", "trusted",
            "ratio_rounds", "bytes", "bytes_note", "scratch_bw_pct", "torch_bw_pct"}
HEADER = ["case", "scratch", "torch", "foreach", "fused", "ratio", "spread", "vs", "GFLOP/s", "%", "peak", "scr", "%bw",
          "tch", "%bw"]


def _positive(value: float) -> bool:
    return math.isfinite(value) and value > 0


@pytest.fixture(scope="module")
def tiny_run() -> dict:
    """One real ``parity bench --quick --only 2-16-1 --json --threads 1``, shared by the tests below."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert cli.main(["bench", "--quick", "--only", "2-16-1", "--json", "--threads", "1"]) == 0
    return json.loads(out.getvalue(), parse_constant=_not_strict)  # strict JSON: no NaN or Infinity


def _not_strict(constant: str):
    raise ValueError(f"parity bench --json wrote {constant}, which strict JSON has not")


def test_json_rows_of_a_tiny_step(tiny_run):
    assert tiny_run["threads"] == 1 and tiny_run["quick"] is True and tiny_run["memory"] is None
    assert all(_positive(tiny_run["gemm_peak_gflops"][engine]) for engine in ("numpy", "torch"))
    [row] = tiny_run["rows"]
    assert set(row) == ROW_KEYS and row["case"] == TINY
    times = {key: row[key] for key in ("scratch_s", "torch_s", "torch_foreach_s", "torch_fused_s")}
    assert all(_positive(t) for t in times.values())  # an optimizer case times every torch path
    best = cli_bench.TORCH_PATHS[row["best_torch"]]
    assert times[best] == min(times[key] for key in cli_bench.TORCH_PATHS.values())
    assert len(row["ratio_rounds"]) == runner.QUICK.rounds  # one ratio per round, the median reported
    assert row["ratio"] == statistics.median(row["ratio_rounds"]) and row["ratio_q1"] <= row["ratio"] <= row["ratio_q3"]
    assert row["ratio_spread"] == pytest.approx((row["ratio_q3"] - row["ratio_q1"]) / row["ratio"])
    assert row["trusted"] == (row["ratio_spread"] <= runner.SPREAD_LIMIT)
    assert row["bytes"] is row["scratch_bw_pct"] is row["torch_bw_pct"] is tiny_run["bandwidth"] is None
    assert tiny_run["load_average"] >= 0 and tiny_run["load_average_after"] >= 0
    assert row["scratch_gflops"] == pytest.approx(row["flops"] / row["scratch_s"] / 1e9)
    assert row["peak_pct"] == pytest.approx(100 * row["scratch_gflops"] / tiny_run["gemm_peak_gflops"]["numpy"])
    assert row["flops"] == 2 * 4 * (2 * 16 + 16 * 1) * 3 - 2 * 4 * 2 * 16  # no dL/dx for the first layer


def test_table_of_the_same_run(tiny_run):
    lines = cli_bench.format_report(tiny_run).splitlines()
    assert lines[0].split() == HEADER
    cells = lines[2].removeprefix(TINY).split()
    row = tiny_run["rows"][0]
    assert cells[-7] == f"{row['ratio']:.2f}" and cells[-5] == row["best_torch"].removeprefix("torch-").replace(
        "torch", "default")
    assert cells[-6] == f"{100 * row['ratio_spread']:.0f}%" + ("" if row["trusted"] else "!")
    assert cells[-2:] == ["-", "-"]  # no bytes: no bandwidth floor
    assert lines[4].startswith("GEMM peak (float32 2048x2048, 1 threads, this run): NumPy ")
    assert lines[5].startswith(f"Load average (1 min) {tiny_run['load_average']:.2f} at the start, ")
    assert lines[6].startswith("The engines take turns round by round; ratio = the median of the per-round ratios")
    assert ("NOT TO BE TRUSTED" in "\n".join(lines)) == (not row["trusted"])
    assert "Memory: not measured with --quick." in lines


def test_a_spread_too_wide_is_flagged(tiny_run):
    row = {**tiny_run["rows"][0], "ratio_spread": 0.5, "trusted": False}
    lines = cli_bench.format_report({**tiny_run, "rows": [row]}).splitlines()
    assert lines[2].removeprefix(TINY).split()[-6] == "50%!"
    assert f"NOT TO BE TRUSTED (1 of 1, spread over 20%): {TINY}. Run them again (--only) on a quieter machine." in (
        " ".join(lines))


@pytest.mark.parametrize(("ratios", "quartiles", "trusted"), [
    ([2.0, 1.0, 3.0], (1.5, 2.0, 2.5), False),  # the inclusive quartiles of 3 values: midpoints
    ([1.0, 1.02, 1.04, 1.06, 1.08], (1.02, 1.04, 1.06), True),
    ([1.5], (1.5, 1.5, 1.5), True),
])
def test_ratio_spread_of_known_rounds(ratios, quartiles, trusted):
    spread = runner.ratio_spread(ratios, [1.0] * len(ratios))
    assert spread.ratios == ratios and (spread.q1, spread.median, spread.q3) == pytest.approx(quartiles)
    assert spread.relative == pytest.approx((quartiles[2] - quartiles[0]) / quartiles[1]) and spread.trusted == trusted


def test_the_engines_take_turns_round_by_round():
    log: list[str] = []
    work = {"scratch": partial(log.append, "scratch"), "torch": partial(log.append, "torch")}
    timing = runner.Timing(rounds=3, min_round_s=0.0, warmup_s=0.0, warmup_calls=1, settle_s=0.0)
    seconds = runner.time_rounds(work, timing)
    assert log == ["scratch", "torch"] * 4  # one warm-up call each, then 3 rounds of one call each
    assert all(len(times) == 3 and all(t >= 0 for t in times) for times in seconds.values())


def _copies(size: int, engines) -> dict:
    """A tiny memory-bound case: copy ``size`` float32 (NumPy for scratch, torch for torch)."""
    import numpy as np
    import torch

    source, target = np.ones(size, np.float32), np.empty(size, np.float32)
    tsource, ttarget = torch.ones(size), torch.empty(size)
    return {"scratch": partial(np.copyto, target, source), "torch": partial(ttarget.copy_, tsource)}


@pytest.fixture(scope="module")
def bandwidth_run() -> dict:
    """``run`` on a case that moves bytes (a copy) and one that does not."""
    copy = Case("copy 1M float32", "optimizer", partial(_copies, 2**20), lambda result: None,
                bytes_moved=2 * 4.0 * 2**20, bytes_note="reads a, writes b")
    tiny = next(case for case in all_cases() if case.name == TINY)
    return cli_bench.run([copy, tiny], 1, quick=True)


def test_bandwidth_columns(bandwidth_run):
    rate = bandwidth_run["bandwidth"]
    assert _positive(rate["copy_gbs"]) and _positive(rate["triad_gbs"])
    assert rate["floor_gbs"] == max(rate["copy_gbs"], rate["triad_gbs"]) and rate["array_mib"] >= 64
    copy, tiny = bandwidth_run["rows"]
    floor_s = copy["bytes"] / (rate["floor_gbs"] * 1e9)
    assert copy["scratch_bw_pct"] == pytest.approx(100 * floor_s / copy["scratch_s"])
    assert copy["torch_bw_pct"] == pytest.approx(100 * floor_s / copy["torch_s"])
    assert tiny["bytes"] is tiny["scratch_bw_pct"] is tiny["torch_bw_pct"] is None
    lines = cli_bench.format_report(bandwidth_run).splitlines()
    assert lines[2].split()[-2:] == [f"{copy['scratch_bw_pct']:.0f}%", f"{copy['torch_bw_pct']:.0f}%"]
    assert lines[3].split()[-2:] == ["-", "-"]
    assert "  copy 1M float32: 8 MB, reads a, writes b" in lines
    assert any(line.startswith("Bandwidth (NumPy, one thread, float32 arrays of ") for line in lines)


def test_every_memory_bound_case_says_how_its_bytes_are_counted():
    counted = {case.name: case for case in all_cases() if case.bytes_moved is not None}
    assert {"SGD(momentum=0.9) step, 10M params", "Adam step, 10M params"} <= set(counted)
    assert all(case.bytes_note and case.bytes_moved > 0 for case in counted.values())
    sgd = counted["SGD(momentum=0.9) step, 10M params"]
    assert sgd.bytes_moved == 5 * 4 * 10_000_000 and "reads param, grad, momentum_buffer" in sgd.bytes_note


def test_plot_writes_a_png_and_a_layer_case_has_no_optimizer_paths(tmp_path, capsys):
    path = tmp_path / "bench.png"
    assert cli.main(["bench", "--quick", "--only", "Linear 64x1024*", "--plot", str(path), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["plot"] == str(path) and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    [row] = data["rows"]
    assert row["torch_foreach_s"] is None and row["torch_fused_s"] is None and row["best_torch"] == "torch"
    assert row["sweep"] == {"batch": 64, "width": 1024} and row["flops"] == 6 * 64 * 1024 * 1024


@pytest.mark.parametrize(("args", "message"), [
    (["--threads", "0"], "parity bench: --threads must be a positive integer, got 0"),
    (["--threads", "two"], "parity bench: argument --threads: invalid int value: 'two'"),
    (["--threads", str(CORES + 1)], f"parity bench: --threads must be at most {CORES} (this machine's cores: more "
                                    f"would time the threads' contention, not the engines), got {CORES + 1}"),
    (["--plot", "/"], "parity bench: --plot: cannot write /: it is a directory; name a file in it, e.g. /plot.png"),
    (["--only", "no-such-case"], "parity bench: no case matches 'no-such-case'"),
    (["--quick", "--only", "4096"], "parity bench: no case matches '4096' among the --quick cases"),
    (["--fast"], "parity bench: unrecognized arguments: --fast"),
    (["--plot", "/no/such/folder/bench.png"], "parity bench: --plot: cannot write /no/such/folder/bench.png: "
                                               "/no/such/folder is not a writable directory"),
    (["--plot", "bench.png", "--only", "LSTM"], "parity bench: --plot draws the Linear cases, and none is selected"),
    (["--plot", "bench.xyz"], f"parity bench: --plot: cannot write bench.xyz: extension '.xyz'; matplotlib writes "
                              f"{IMAGE_FORMATS}"),
    (["--profile", "nope"], f"parity bench: unknown example 'nope'; known: {', '.join(sorted(examples.EXAMPLES))}"),
    (["--profile", "digits", "--only", "Linear"], "parity bench: --only applies to the cases, which --profile does not "
                                                  "run"),
    (["--profile", "digits", "--quick"], "parity bench: --quick applies to the cases, which --profile does not run"),
    (["--profile", "digits", "--steps", "0"], "parity bench: --steps must be a positive integer, got 0"),
    (["--steps", "3"], "parity bench: --steps counts the steps of --profile EXAMPLE, which is not given"),
])
def test_bad_usage_is_one_line_and_exit_2_before_any_timing(monkeypatch, capsys, args, message):
    def no_timing(*args, **kwargs):
        raise AssertionError("timed before checking the options")

    monkeypatch.setattr(cli_bench, "run", no_timing)
    monkeypatch.setattr(cli_bench, "profile", no_timing)
    with pytest.raises(SystemExit) as exit_info:  # argparse's errors exit; ours return 2
        sys.exit(cli.main(["bench", *args]))
    assert exit_info.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.strip() == message


def test_plot_without_matplotlib_is_a_usage_error(monkeypatch, capsys, tmp_path):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib now raises ImportError
    assert cli.main(["bench", "--plot", str(tmp_path / "b.png")]) == 2
    message = "parity bench: --plot needs matplotlib: pip install 'scratch-parity[plot]'"
    assert capsys.readouterr().err.strip() == message


@pytest.mark.parametrize("engine", ["scratch", "torch"])
def test_memory_of_a_tiny_step(engine):
    """scratch's through the fresh subprocess that ``parity bench`` uses, torch's in this process."""
    result = memory.measure([engine], 1, TINY)[engine] if engine == "scratch" else memory.measure_here(engine, 1, TINY)
    assert result["engine"] == engine and result["method"] == "VmHWM"  # the peak is reset on Linux
    assert result["peak_bytes"] >= result["transient_bytes"] >= 0
    assert ("growth_bytes_per_step" in result) == (engine == "scratch")


def test_memory_line_of_the_report():
    megabyte = 2**20
    mem = {"scratch": {"peak_bytes": 300 * megabyte, "transient_bytes": 20 * megabyte, "growth_bytes_per_step": 0.0},
           "torch": {"peak_bytes": 400 * megabyte, "transient_bytes": 90 * megabyte}}
    report = cli_bench.format_report({"rows": [], "threads": 2, "quick": False, "seconds": 1.0, "memory": mem,
                                      "load_average": 0.5, "load_average_after": 0.5, "cores": 2, "bandwidth": None,
                                      "gemm_peak_gflops": {"numpy": 100.0, "torch": 90.0}, "epoch_speedup": None})
    assert (f"Memory, {LARGE_STEP}, peak RSS above the imports, fresh process each: scratch 300 MiB (step "
            "temporaries 20 MiB), torch 400 MiB (step temporaries 90 MiB); scratch's allocation growth between "
            "steps (tracemalloc): 0 bytes/step.") in report


def test_every_case_has_scratch_and_torch_and_a_unique_name():
    cases = all_cases()
    assert len({case.name for case in cases}) == len(cases)
    assert all(case.engines[:2] == ("scratch", "torch") for case in cases)
    assert any(case.name == LARGE_STEP for case in cases)


# ---------------------------------------------------------------- --profile EXAMPLE
PROFILE_COLUMNS = ["fwd", "scratch", "fwd", "torch", "bwd", "scratch", "bwd", "torch", "scratch", "torch", "ratio", "%",
                   "scratch", "%", "torch"]


def _profile(capsys, name: str, *options: str) -> str:
    assert cli.main(["bench", "--profile", name, "--steps", "2", "--threads", "1", *options]) == 0
    return capsys.readouterr().out


@pytest.fixture(scope="module")
def digits_profile() -> dict:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert cli.main(["bench", "--profile", "digits", "--steps", "2", "--threads", "1", "--json"]) == 0
    return json.loads(out.getvalue(), parse_constant=_not_strict)


def test_profile_json_has_a_row_per_module_and_shares_summing_to_100(digits_profile):
    rows = digits_profile["rows"]
    assert [r["module"] for r in rows] == ["(model) Sequential", "0 Linear", "1 ReLU", "2 Linear",
                                           "(loss) CrossEntropyLoss", "(optimizer) Adam: zero_grad + step",
                                           "(outside any module)"]
    assert digits_profile["exclusive"] is True and digits_profile["steps"] == 2
    for engine in ("scratch", "torch"):
        assert sum(r[engine]["share_pct"] for r in rows) == pytest.approx(100.0)
        for r in rows[:5]:  # every module ran forward and backward in both engines
            times = r[engine]
            assert times["forward"] >= 0 and times["backward"] >= 0 and times["step"] is None
            assert times["total"] == pytest.approx(times["forward"] + times["backward"])
        optimizer = rows[5][engine]
        assert optimizer["forward"] is optimizer["backward"] is None and optimizer["step"] > 0
    assert all(r["ratio"] == pytest.approx(r["scratch"]["total"] / r["torch"]["total"]) for r in rows)


def test_profile_table_of_digits(digits_profile):
    from torch_ref.bench.profile import format_profile

    lines = format_profile(digits_profile).splitlines()
    assert lines[0].split() == ["module", *PROFILE_COLUMNS]
    body = lines[2:2 + len(digits_profile["rows"])]
    for line, row in zip(body, digits_profile["rows"]):
        assert line.startswith(row["module"]) and len(line.removeprefix(row["module"]).split()) == 9
    for column in (-2, -1):
        assert sum(float(line.split()[column].rstrip("%")) for line in body) == pytest.approx(100, abs=0.5)
    assert lines[2 + len(body)] == "" and lines[3 + len(body)].startswith("parity bench --profile digits: ms per")


@pytest.mark.parametrize("name", ["digits-cnn", "char-gpt"])
def test_profile_table_of_the_other_examples(capsys, name):
    """The printed table: a row per module; a module never called (char-gpt's ModuleList) shows '-'."""
    from torch_ref.examples import EXAMPLES

    lines = _profile(capsys, name).splitlines()
    model = EXAMPLES[name].build_model(__import__("numpy").dtype("float32"), None)
    labels = [f"{n or '(model)'} {type(m).__name__}" for n, m in model.named_modules()]
    body = lines[2:2 + len(labels) + 3]
    assert [line[:len(label)] for line, label in zip(body, labels)] == labels
    for column in (-2, -1):
        assert sum(float(cell.rstrip("%")) for line in body if (cell := line.split()[column]) != "-") == (
            pytest.approx(100, abs=0.5))
    if name == "char-gpt":
        [blocks] = [line for line in body if line.startswith("blocks ModuleList")]
        assert blocks.split()[2:] == ["-"] * 9
    assert lines[-1].startswith("Load average (1 min) ")


def test_profile_without_the_examples_extra_is_a_usage_error(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)  # import sklearn.datasets now raises ImportError
    assert cli.main(["bench", "--profile", "digits"]) == 2
    assert capsys.readouterr().err.strip() == ("parity bench: example 'digits': the digits examples need "
                                               "scikit-learn, an optional extra: pip install 'scratch-parity[digits]'")


def test_clock_counts_exclusive_time_and_closes_inner_frames():
    from torch_ref.bench.profile import Clock

    clock = Clock()
    started = time.perf_counter()
    clock.enter(("outer", "forward"))
    clock.enter(("inner", "forward"))
    time.sleep(0.002)
    clock.exit(("inner", "forward"))
    clock.enter(("open", "backward"))  # never exited itself: closed with its parent
    time.sleep(0.002)
    clock.exit(("outer", "forward"))
    clock.exit(("unknown", "forward"))  # an exit without an enter changes nothing
    elapsed = time.perf_counter() - started
    assert set(clock.seconds) == {("outer", "forward"), ("inner", "forward"), ("open", "backward")}
    assert clock.seconds[("inner", "forward")] >= 0.002 and clock.seconds[("open", "backward")] >= 0.002
    assert 0 <= sum(clock.seconds.values()) <= elapsed and clock.stack == []


def test_profile_wrappers_and_hooks_are_removed_afterwards():
    import numpy as np

    from scratch import nn
    from torch_ref.bench.profile import Clock, scratch_timed, torch_timed
    from torch_ref.convert import to_torch

    rng = np.random.default_rng(0)
    model = nn.Sequential(nn.Linear(3, 2, rng=rng), nn.ReLU())
    twin, clock = to_torch(model), Clock()
    with scratch_timed(dict(model.named_modules()), clock), torch_timed(dict(twin.named_modules()), clock):
        model(rng.standard_normal((4, 3), dtype=np.float32))
        model.backward(rng.standard_normal((4, 2), dtype=np.float32))
    assert {("", "forward"), ("0", "forward"), ("1", "backward")} <= set(clock.seconds)
    assert not any({"forward", "backward"} & set(m.__dict__) for m in model.modules())
    assert not any(m._forward_hooks or m._forward_pre_hooks or m._backward_hooks or m._backward_pre_hooks
                   for m in twin.modules())
