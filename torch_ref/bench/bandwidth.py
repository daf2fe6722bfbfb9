"""The memory-bandwidth floor of a step: the bytes it must read and write over a STREAM-like rate.

A case that is limited by memory traffic rather than arithmetic (an optimizer step over 10M parameters,
an elementwise layer over large activations) states in ``Case.bytes_moved`` how many bytes one call must
read and write at the least: each array the work must read counted once per read, each it must write
once per write, as if every pass were fused into one (see each case's ``bytes_note``). At ``rate``
bytes per second that traffic takes ``bytes / rate``: the floor, and ``100 x floor / time`` is the
percentage of the floor an engine reaches (100%: as fast as memory allows).

The rate is measured here, in the same run, in NumPy, STREAM's way (McCalpin's STREAM benchmark):
arrays of float32 at least ``CACHE_MULTIPLE`` times the last-level cache, so the traffic goes to memory,
the best of several calls (a ceiling, like the GEMM peak). Two kernels:

- copy, ``a[:] = b``: reads b, writes a: 2 arrays' bytes per call.
- triad, ``a = b + s c``: NumPy has no fused triad, so it runs as two passes (``a = s c``, then
  ``a += b``) and is counted as the 5 arrays' bytes those passes move (read c, write a; read a and b,
  write a), not STREAM's 3.

The floor uses the better of the two rates. Writes are counted once, as STREAM counts them (the CPU
may also read a line before writing it, in both the rate and the step alike). NumPy's elementwise
kernels run on one thread, so the rate is one thread's; torch's elementwise kernels use the
``--threads`` threads on large tensors and can pass 100%, as can work whose arrays partly stay in cache.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .runner import Timing, time_engines

MIB = 2**20
#: STREAM's rule: each array at least 4 times the largest cache, so no kernel is served from cache
CACHE_MULTIPLE = 4
#: the array size when the cache size is unknown, and a ceiling on it (3 arrays are allocated)
MIN_ARRAY_BYTES, MAX_ARRAY_BYTES = 64 * MIB, 512 * MIB
SCALAR = np.float32(3.0)


def _largest_cache() -> int:
    """The largest CPU cache in bytes, from Linux's sysfs (``.../cache/index*/size``, e.g. "32768K"); 0 if
    unknown (``os.sysconf("SC_LEVEL3_CACHE_SIZE")`` is not defined in every Python build)."""
    largest = 0
    for path in Path("/sys/devices/system/cpu/cpu0/cache").glob("index*/size"):
        try:
            text = path.read_text().strip()
        except OSError:
            continue
        scale = {"K": 2**10, "M": 2**20, "G": 2**30}.get(text[-1:], 1)
        digits = text.rstrip("KMG")
        if digits.isdigit():
            largest = max(largest, int(digits) * scale)
    return largest


def array_bytes() -> int:
    """The size of each array: ``CACHE_MULTIPLE`` x the largest cache, within [64 MiB, 512 MiB]."""
    return min(MAX_ARRAY_BYTES, max(MIN_ARRAY_BYTES, CACHE_MULTIPLE * _largest_cache()))


def stream_rates(rounds: int, size: int | None = None) -> dict[str, float]:
    """Bytes per second of NumPy's copy and two-pass triad on float32 arrays of ``size`` bytes each (default
    ``array_bytes()``): the best of ``rounds`` calls after a warm-up call."""
    n = (size or array_bytes()) // 4
    a, b, c = (np.full(n, value, dtype=np.float32) for value in (0.0, 1.0, 2.0))  # written: the pages exist

    def copy() -> None:
        np.copyto(a, b)

    def triad() -> None:
        np.multiply(c, SCALAR, out=a)
        np.add(a, b, out=a)

    timing = Timing(rounds=rounds, min_round_s=0.0, warmup_s=0.0, warmup_calls=1, settle_s=0.0)
    seconds = time_engines({"copy": copy, "triad": triad}, timing, min)
    return {"copy": 2 * 4 * n / seconds["copy"], "triad": 5 * 4 * n / seconds["triad"],
            "array_bytes": 4.0 * n}


def floor_pct(bytes_moved: float | None, seconds: float | None, rate: float) -> float | None:
    """The percentage of the bandwidth floor that ``seconds`` per call reaches (None without bytes)."""
    if bytes_moved is None or seconds is None:
        return None
    return 100.0 * bytes_moved / rate / seconds
