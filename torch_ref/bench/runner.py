"""Timing: thread control, the GEMM peak, and the median time of each engine's work on a case.

Both engines get the same thread count: NumPy's BLAS through threadpoolctl, torch through
``torch.set_num_threads``. Each engine is timed in its own block: a warm-up of at least ``warmup_s``,
then ``rounds`` rounds, each a loop of calls lasting at least ``min_round_s``; the result is the
median over the rounds of the time per call. Blocks, not rounds interleaved engine by engine: after
a call, each library's worker threads keep spinning for a while (OpenBLAS's, OpenMP's), and on a
2-core machine that slowed whichever engine ran next by up to half (measured: torch's Linear
256x1024 forward+backward 64 ms alone, 96 ms interleaved with scratch's); the warm-up absorbs it.
The garbage collector is off while timing, as in ``timeit``.
"""

from __future__ import annotations

import contextlib
import gc
import os
import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from threadpoolctl import threadpool_limits

GEMM_SIZE = 2048


def default_threads() -> int:
    """2, the count the issue's numbers were taken with, or fewer on a smaller machine."""
    return min(2, os.cpu_count() or 1)


@contextlib.contextmanager
def same_threads(threads: int) -> Iterator[None]:
    """Limit NumPy's BLAS and torch to ``threads`` threads each, restoring torch's count afterwards."""
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        with threadpool_limits(limits=threads, user_api="blas"):
            yield
    finally:
        torch.set_num_threads(previous)


@dataclass(frozen=True)
class Timing:
    """How many rounds, the least time one round of calls should take (short work is looped), and the
    warm-up: at least ``warmup_calls`` calls (the first call allocates optimizer state) and ``warmup_s``."""

    rounds: int
    min_round_s: float
    warmup_s: float
    warmup_calls: int = 2


FULL = Timing(rounds=9, min_round_s=0.05, warmup_s=0.25)
QUICK = Timing(rounds=3, min_round_s=0.01, warmup_s=0.15)


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    gc.collect()
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _loop(fn: Callable[[], Any], calls: int) -> float:
    started = time.perf_counter()
    for _ in range(calls):
        fn()
    return time.perf_counter() - started


def _calls_per_round(fn: Callable[[], Any], timing: Timing) -> int:
    """Warm up, then size a round to ``min_round_s``."""
    calls, spent = 0, 0.0
    while calls < timing.warmup_calls or spent < timing.warmup_s:
        spent += _loop(fn, 1)
        calls += 1
    per_call = spent / calls
    return max(1, int(timing.min_round_s / per_call) if per_call > 0 else 1)


def time_engines(work: dict[str, Callable[[], Any]], timing: Timing,
                 statistic: Callable[[list[float]], float] = statistics.median) -> dict[str, float]:
    """The median (or ``statistic``) seconds per call of each engine's work, one engine after the other."""
    seconds = {}
    with _gc_paused():
        for engine, fn in work.items():
            calls = _calls_per_round(fn, timing)
            seconds[engine] = statistic([_loop(fn, calls) / calls for _ in range(timing.rounds)])
    return seconds


def gemm_peak(rounds: int) -> dict[str, float]:
    """GFLOP/s of one float32 2048 x 2048 matrix product, NumPy (``np.matmul``) and torch (``torch.mm``),
    under the thread limits in force: the fastest of ``rounds`` calls after one warm-up call, since a peak
    is a ceiling (a slower call only saw other work on the machine)."""
    rng = np.random.default_rng(0)
    a, b = (rng.standard_normal((GEMM_SIZE, GEMM_SIZE), dtype=np.float32) for _ in range(2))
    out = np.empty_like(a)
    ta, tb, tout = torch.from_numpy(a), torch.from_numpy(b), torch.empty(GEMM_SIZE, GEMM_SIZE)
    work = {"numpy": lambda: np.matmul(a, b, out=out), "torch": lambda: torch.mm(ta, tb, out=tout)}
    seconds = time_engines(work, Timing(rounds=rounds, min_round_s=0.0, warmup_s=0.25, warmup_calls=1), min)
    flops = 2.0 * GEMM_SIZE**3
    return {engine: flops / s / 1e9 for engine, s in seconds.items()}
