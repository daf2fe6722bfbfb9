"""Timing: thread control, the GEMM peak, and each engine's time per call on a case, round by round.

Both engines get the same thread count: NumPy's BLAS through threadpoolctl, scratch's own intra-op
pool (its blocked optimizer updates) through ``scratch.set_num_threads``, torch through
``torch.set_num_threads``. Each engine is warmed up (at least ``warmup_s``), then the engines take turns
in ``rounds`` rounds (scratch, torch, scratch, torch, ...), so that a change in the machine's load
during the run (another process starting) falls on both engines alike instead of on whichever one was
timed in that stretch. Each turn is an untimed pause of ``SETTLE_S`` (a sleep), then a timed loop of
calls lasting at least ``min_round_s``. The pause is there because after a call each
library's worker threads keep spinning for a while: OpenBLAS's for THREAD_TIMEOUT, 2^28 cycles (about
0.1 s at 2-3 GHz), then they sleep; on a 2-core machine they slowed torch's Linear 256x1024
forward+backward from 64 ms to 96 ms when its turn came straight after scratch's. The result of a case
is per round: each engine's time per call, and the ratio scratch / torch of the same round (see
``ratio_spread``). The garbage collector is off while timing, as in ``timeit``.
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

import scratch

GEMM_SIZE = 2048


def default_threads() -> int:
    """2, the count the issue's numbers were taken with, or fewer on a smaller machine."""
    return min(2, os.cpu_count() or 1)


@contextlib.contextmanager
def same_threads(threads: int) -> Iterator[None]:
    """Limit NumPy's BLAS, scratch's intra-op pool and torch to ``threads`` threads each, restoring scratch's
    and torch's counts afterwards."""
    previous, previous_scratch = torch.get_num_threads(), scratch.get_num_threads()
    torch.set_num_threads(threads)
    scratch.set_num_threads(threads)
    try:
        with threadpool_limits(limits=threads, user_api="blas"):
            yield
    finally:
        torch.set_num_threads(previous)
        scratch.set_num_threads(previous_scratch)


#: the untimed pause before each engine's turn in a round: OpenBLAS's idle worker threads spin for
#: THREAD_TIMEOUT (2^28 cycles, ~0.1 s) after a call before they sleep (see the module docstring); a sleep,
#: not calls, so that a slow case (a 1 s step) does not pay a second call per turn
SETTLE_S = 0.1
#: a ratio is flagged as not to be trusted when the interquartile range of its per-round ratios is wider
#: than this fraction of their median: the middle half of the rounds then disagree by more than the
#: smallest change the speed work reports (1.2x), so a 1.2x gain or loss could be the machine's load alone
SPREAD_LIMIT = 0.2


@dataclass(frozen=True)
class Timing:
    """How many rounds, the least time one engine's turn of calls should take (short work is looped), the
    warm-up: at least ``warmup_calls`` calls (the first call allocates optimizer state) and ``warmup_s``,
    and the settle before each turn."""

    rounds: int
    min_round_s: float
    warmup_s: float
    warmup_calls: int = 2
    settle_s: float = SETTLE_S


FULL = Timing(rounds=9, min_round_s=0.05, warmup_s=0.25)
QUICK = Timing(rounds=3, min_round_s=0.01, warmup_s=0.15)


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
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


def time_rounds(work: dict[str, Callable[[], Any]], timing: Timing) -> dict[str, list[float]]:
    """Seconds per call of each engine's work in each round, the engines taking turns within a round."""
    with gc_paused():
        calls = {engine: _calls_per_round(fn, timing) for engine, fn in work.items()}
        seconds: dict[str, list[float]] = {engine: [] for engine in work}
        for _ in range(timing.rounds):
            for engine, fn in work.items():
                time.sleep(timing.settle_s)
                seconds[engine].append(_loop(fn, calls[engine]) / calls[engine])
    return seconds


def time_engines(work: dict[str, Callable[[], Any]], timing: Timing,
                 statistic: Callable[[list[float]], float] = statistics.median) -> dict[str, float]:
    """The median (or ``statistic``) over the rounds of each engine's seconds per call."""
    return {engine: statistic(rounds) for engine, rounds in time_rounds(work, timing).items()}


@dataclass(frozen=True)
class Spread:
    """The per-round ratios scratch / torch, their median and quartiles; ``relative`` is the interquartile
    range over the median, and ``trusted`` says it is within ``SPREAD_LIMIT``."""

    ratios: list[float]
    median: float
    q1: float
    q3: float

    @property
    def relative(self) -> float:
        return (self.q3 - self.q1) / self.median

    @property
    def trusted(self) -> bool:
        return self.relative <= SPREAD_LIMIT


def ratio_spread(scratch: list[float], torch_rounds: list[float]) -> Spread:
    """The ratio of the two engines' times round by round (each round's pair ran back to back, under the
    same load), with its median and quartiles (``statistics.quantiles``, inclusive: the quartiles of 3
    rounds are the midpoints between the sorted values)."""
    ratios = [s / t for s, t in zip(scratch, torch_rounds)]
    if len(ratios) == 1:
        return Spread(ratios, ratios[0], ratios[0], ratios[0])
    q1, median, q3 = statistics.quantiles(ratios, n=4, method="inclusive")
    return Spread(ratios, median, q1, q3)


def gemm_peak(rounds: int) -> dict[str, float]:
    """GFLOP/s of one float32 2048 x 2048 matrix product, NumPy (``np.matmul``) and torch (``torch.mm``),
    under the thread limits in force: the fastest of ``rounds`` calls after one warm-up call, since a peak
    is a ceiling (a slower call only saw other work on the machine)."""
    rng = np.random.default_rng(0)
    a, b = (rng.standard_normal((GEMM_SIZE, GEMM_SIZE), dtype=np.float32) for _ in range(2))
    out = np.empty_like(a)
    ta, tb, tout = torch.from_numpy(a), torch.from_numpy(b), torch.empty(GEMM_SIZE, GEMM_SIZE)
    work = {"numpy": lambda: np.matmul(a, b, out=out), "torch": lambda: torch.mm(ta, tb, out=tout)}
    seconds = time_engines(work, Timing(rounds=rounds, min_round_s=0.0, warmup_s=0.25, warmup_calls=1, settle_s=0.0),
                           min)
    flops = 2.0 * GEMM_SIZE**3
    return {engine: flops / s / 1e9 for engine, s in seconds.items()}
