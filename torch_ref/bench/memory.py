"""Peak memory of the large training step in each engine, and scratch's allocation growth between steps.

Method. Each engine's step runs in a fresh subprocess (``python -m torch_ref.bench.memory ENGINE
THREADS [CASE]``), so neither engine inherits the other's, or an earlier case's, allocator caches and
freed-but-kept arenas. The number reported is the process's resident set size (RSS): it is the one
measure that sees both engines alike -- NumPy's buffers (malloc/mmap), torch's CPU allocator and
each BLAS's workspaces -- where tracemalloc sees only NumPy and torch's profiler only torch.
The child measures its RSS after the imports (the baseline), builds the model, data and optimizer,
takes one warm-up step (which creates the gradients and Adam's state), resets the kernel's RSS
high-water mark (``/proc/self/clear_refs``, Linux 4.0+; elsewhere the lifetime peak
``resource.getrusage`` is used, which then includes the build), takes two more steps and reads the
high-water mark: ``peak`` is that minus the baseline, the memory a steady-state step needs
(weights, gradients, optimizer state, data and the step's temporaries); ``transient`` is the peak
above the RSS just before the measured steps (the temporaries alone).
The scratch child also traces its allocations with tracemalloc over further steps (NumPy reports
its array buffers to tracemalloc): the bytes still allocated after the steps that were not before
them, per step, is the growth -- 0 when each step frees what it allocates.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tracemalloc
from pathlib import Path
from typing import Any

from .cases import LARGE_STEP, SCRATCH, all_cases
from .runner import same_threads

GROWTH_STEPS = 4


def _rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
        return True
    except OSError:
        return False


def _peak_bytes(reset: bool) -> int:
    if reset:
        with open("/proc/self/status") as status:
            line = next(line for line in status if line.startswith("VmHWM:"))
        return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # kilobytes on Linux


def _growth_per_step(step: Any) -> float:
    """Bytes still allocated per step, between the second and third of three snapshots GROWTH_STEPS steps
    apart: the first snapshot leaves a one-time ~137 KB behind (the same total after 4 or 12 steps, so
    not per-step growth), which the second already holds."""
    own = [tracemalloc.Filter(False, tracemalloc.__file__)]
    tracemalloc.start()
    totals = []
    for _ in range(3):
        for _ in range(GROWTH_STEPS):
            step()
        totals.append(sum(stat.size for stat in tracemalloc.take_snapshot().filter_traces(own).statistics("filename")))
    tracemalloc.stop()
    return (totals[2] - totals[1]) / GROWTH_STEPS


def measure_here(engine: str, threads: int, case_name: str = LARGE_STEP) -> dict[str, Any]:
    """In this process: the RSS measurements of a case's step (and scratch's growth), as a dict."""
    case = next(case for case in all_cases() if case.name == case_name)
    with same_threads(threads):
        baseline = _rss_bytes()
        step = case.build([engine])[engine]
        step()
        ready = _rss_bytes()
        reset = _reset_peak()
        step()
        step()
        result = {"engine": engine, "peak_bytes": _peak_bytes(reset) - baseline,
                  "transient_bytes": _peak_bytes(reset) - ready, "method": "VmHWM" if reset else "ru_maxrss"}
        if engine == SCRATCH:
            result["growth_bytes_per_step"] = _growth_per_step(step)
    return result


def measure(engines: list[str], threads: int, case_name: str = LARGE_STEP) -> dict[str, dict[str, Any]]:
    """Each engine's measurements, each in a fresh subprocess."""
    root = str(Path(__file__).resolve().parents[2])  # the child imports this package from where it is loaded
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))}
    results = {}
    for engine in engines:
        done = subprocess.run([sys.executable, "-m", "torch_ref.bench.memory", engine, str(threads), case_name],
                              capture_output=True, text=True, check=False, env=env)
        if done.returncode != 0:
            raise RuntimeError(f"the memory measurement of {engine} failed: {done.stderr.strip().splitlines()[-1:]}")
        results[engine] = json.loads(done.stdout)
    return results


if __name__ == "__main__":
    print(json.dumps(measure_here(sys.argv[1], int(sys.argv[2]), *sys.argv[3:4])))
