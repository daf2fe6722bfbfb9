"""``parity bench``: the table and JSON on tiny cases, the plot, the memory measurement, and one-line
usage errors that come before any timing. No speed is asserted."""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import sys

import pytest
from matplotlib.backend_bases import FigureCanvasBase

from torch_ref import cli
from torch_ref.bench import memory
from torch_ref.bench.cases import LARGE_STEP, all_cases
from torch_ref.cli import bench as cli_bench

TINY = "train step MLP 2-16-1@4, Adam"
CORES = os.cpu_count() or 1
IMAGE_FORMATS = ", ".join(f".{extension}" for extension in sorted(FigureCanvasBase.get_supported_filetypes()))
ROW_KEYS = {"case", "family", "scratch_s", "torch_s", "torch_foreach_s", "torch_fused_s", "best_torch", "ratio",
            "flops", "scratch_gflops", "peak_pct", "sweep"}


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
    assert row["ratio"] == pytest.approx(row["scratch_s"] / times[best])
    assert row["scratch_gflops"] == pytest.approx(row["flops"] / row["scratch_s"] / 1e9)
    assert row["peak_pct"] == pytest.approx(100 * row["scratch_gflops"] / tiny_run["gemm_peak_gflops"]["numpy"])
    assert row["flops"] == 2 * 4 * (2 * 16 + 16 * 1) * 3 - 2 * 4 * 2 * 16  # no dL/dx for the first layer


def test_table_of_the_same_run(tiny_run):
    lines = cli_bench.format_report(tiny_run).splitlines()
    assert lines[0].split() == ["case", "scratch", "torch", "foreach", "fused", "ratio", "vs", "GFLOP/s", "%", "peak"]
    cells = lines[2].removeprefix(TINY).split()
    row = tiny_run["rows"][0]
    assert cells[-4] == f"{row['ratio']:.2f}" and cells[-3] == row["best_torch"].removeprefix("torch-").replace(
        "torch", "default")
    assert lines[4].startswith("GEMM peak (float32 2048x2048, 1 threads, this run): NumPy ")
    assert "Memory: not measured with --quick." in lines


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
])
def test_bad_usage_is_one_line_and_exit_2_before_any_timing(monkeypatch, capsys, args, message):
    def no_timing(*args, **kwargs):
        raise AssertionError("timed before checking the options")

    monkeypatch.setattr(cli_bench, "run", no_timing)
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
                                      "load_average": 0.5, "cores": 2,
                                      "gemm_peak_gflops": {"numpy": 100.0, "torch": 90.0}, "epoch_speedup": None})
    assert (f"Memory, {LARGE_STEP}, peak RSS above the imports, fresh process each: scratch 300 MiB (step "
            "temporaries 20 MiB), torch 400 MiB (step temporaries 90 MiB); scratch's allocation growth between "
            "steps (tracemalloc): 0 bytes/step.") in report


def test_every_case_has_scratch_and_torch_and_a_unique_name():
    cases = all_cases()
    assert len({case.name for case in cases}) == len(cases)
    assert all(case.engines[:2] == ("scratch", "torch") for case in cases)
    assert any(case.name == LARGE_STEP for case in cases)
