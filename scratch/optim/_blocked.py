"""The blocked, threaded update of large parameters (``run_blocked``), and the batch that lets one
optimizer step hand the blocks of all its parameters to the intra-op threads at once (``Batch``).

Why a batch: handing work to the pool and waiting for it costs a wake-up of the workers and a join
(``parallel.py``), and a worker woken after an idle spell starts late; a step over ten 1M-element
parameters paid that ten times, each time for only four blocks, with the threads waiting for each other
at the end of every parameter. Inside ``Optimizer.step`` the large updates are collected instead (the
whole-array work a parameter needs before its kernel, maximize and weight decay, done as it comes) and
their blocks run in one ``parallel_pieces`` at the end of the step, taken in order by whichever thread is
free. The kernels are elementwise and every block still goes through the same operations, so the
results are the same, bit for bit, as updating the parameters one by one, whatever the thread count.
Measured on the 2-core VM (load 2-4, 2 threads, ten 1000x1000 float32 parameters, each turn of 4 steps
after a 0.1 s pause as in ``parity bench``): voluntary context switches per step 12-16 -> ~4; Adam
16.3 -> 12.8 ms (first step after the pause 19.7 -> 13.0), SGD with momentum 8.3 -> 7.7 ms.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple, cast

import numpy as np

from ..parallel import PARALLEL_MIN, get_num_threads, parallel_pieces

#: elements per block of ``run_blocked``: the few arrays of an update's block (1 MiB each in float32) stay
#: in the last-level cache between its passes. Measured on the 2-core EPYC (1 MiB L2, 32 MiB L3), one thread,
#: 10M float32: Adam 21.6 ms with 32k-element blocks (the arrays in L2), 18.4 ms with 256k, 29.7 ms unblocked;
#: SGD with momentum 9.2, 6.8, 8.5 ms: fewer NumPy calls (~1 µs each) outweigh L2's speed over L3's
BLOCK = 1 << 18
#: a block of an array of a few blocks is cut smaller, to a multiple of this many elements (16 KiB of
#: float32: whole cache lines and SIMD vectors), so that every thread gets a share
GRAIN = 1 << 12


class _Update(NamedTuple):
    """One deferred ``run_blocked``: the kernel, its arrays flattened (views), its scratch count and scalars."""

    kernel: Callable[..., None]
    flat: list[np.ndarray | None]
    scratch: int
    scalars: tuple[Any, ...]
    size: int
    dtype: np.dtype


class Batch:
    """The large updates of one optimizer step, run together by ``run``: their blocks in one hand-off to
    the intra-op threads. An update that shares memory with one already collected (the same parameter
    twice in a group, views of one buffer) runs the collected ones first, so each parameter's updates
    still happen in the step's order."""

    __slots__ = ("roots", "updates")

    def __init__(self) -> None:
        self.updates: list[_Update] = []
        self.roots: set[int] = set()  # the arrays (their bases) the collected updates read or write

    def touch(self, arrays: Sequence[np.ndarray | None]) -> None:
        """About to read or write ``arrays`` outside the batch: run the collected updates first if any of them
        uses the same memory."""
        if self.updates and not self.roots.isdisjoint(_root(a) for a in arrays if a is not None):
            self.run()

    def add(self, update: _Update, arrays: Sequence[np.ndarray | None]) -> None:
        self.touch(arrays)
        self.updates.append(update)
        self.roots.update(_root(a) for a in arrays if a is not None)

    def run(self) -> None:
        """Every collected update, block by block, in one ``parallel_pieces``; the batch is then empty."""
        updates, self.updates = self.updates, []
        self.roots = set()
        if not updates:
            return
        total = sum(u.size for u in updates)
        block = min(BLOCK, -(-total // (get_num_threads() * GRAIN)) * GRAIN)  # at least one block per thread
        pieces = [(u, begin, min(begin + block, u.size)) for u in updates for begin in range(0, u.size, block)]

        def run_piece(index: int) -> None:
            update, begin, end = pieces[index]
            rows = _block_scratch(update.dtype, update.scratch)
            update.kernel(*(None if f is None else f[begin:end] for f in update.flat),
                          *(row[:end - begin] for row in rows), scalars=update.scalars)

        parallel_pieces(run_piece, len(pieces))


def _root(array: np.ndarray) -> int:
    """The identity of what owns ``array``'s memory: the array at the end of its chain of views, or the
    buffer under it (``np.frombuffer``'s)."""
    while isinstance(array.base, np.ndarray):
        array = array.base
    return id(array if array.base is None else array.base)


_current = threading.local()  # .batch: the Batch of the step running in this thread, if any


def open_batch() -> Batch | None:
    """A new ``Batch`` that ``run_blocked`` fills until ``close_batch``; None (nothing collected, each update
    run at once) with one thread, where one hand-off per step has nothing to save, or inside a batch."""
    if get_num_threads() == 1 or getattr(_current, "batch", None) is not None:
        return None
    batch = _current.batch = Batch()
    return batch


def close_batch(batch: Batch | None) -> None:
    """Run what ``batch`` (from ``open_batch``) collected, and stop collecting."""
    if batch is not None:
        _current.batch = None
        if batch.updates:
            batch.run()


def run_blocked(kernel: Callable[..., None], arrays: Sequence[np.ndarray | None], scratch: Sequence[np.ndarray],
                scalars: tuple[Any, ...]) -> None:
    """``kernel(*array_blocks, *scratch_blocks, scalars=scalars)`` over matching blocks of same-shaped
    ``arrays`` (the first one an array, others possibly None, which pass through as None), ``scratch``
    being arrays like them for the kernel's temporaries.

    The fast path of an update over a large parameter: the kernel's passes run block by block (``BLOCK``
    elements, fewer when the blocks would not give every thread one), so each pass finds the block in
    cache and the update reads and writes each array from memory once; the temporaries go to block-sized
    scratch rows of the thread's own, reused from block to block, so they never reach memory; and the
    blocks are shared out among the intra-op threads (``scratch.set_num_threads``: each thread takes the
    next block), the GIL, released inside each ufunc's loop, letting the threads' passes run at once on
    the machine's cores. Inside ``Optimizer.step`` (an open ``Batch``) the update is collected and runs
    with the step's other large updates at the end of the step, in one hand-off; elsewhere it runs here.
    The kernel must be elementwise, so the result is the same, bit for bit, whatever the thread count,
    block size or batch. Below ``parallel.PARALLEL_MIN`` elements (or one block with one thread), or with
    arrays not all C-contiguous, it runs at once in the calling thread as one kernel call with ``scratch``."""
    size = arrays[0].size  # type: ignore[union-attr]  # an array, as said (typing.cast: a call on every step)
    batch: Batch | None = getattr(_current, "batch", None)
    small = size < PARALLEL_MIN or (size <= BLOCK and get_num_threads() == 1)  # the common case, first
    if small or not all(a.flags.c_contiguous for a in arrays if a is not None):
        if batch is not None and batch.updates:
            batch.touch(arrays)
        kernel(*arrays, *scratch, scalars=scalars)
        return
    update = _Update(kernel, [None if a is None else a.reshape(-1) for a in arrays], len(scratch), scalars, size,
                     cast(np.ndarray, arrays[0]).dtype)
    if batch is not None:
        batch.add(update, arrays)
        return
    single = Batch()
    single.add(update, arrays)
    single.run()


_thread_scratch = threading.local()  # .rows: {dtype: (count, BLOCK) array}, each thread's block scratch


def _block_scratch(dtype: np.dtype, count: int) -> np.ndarray:
    """``count`` scratch rows of ``BLOCK`` elements, the calling thread's own, kept for its next call."""
    rows: dict[np.dtype, np.ndarray] = getattr(_thread_scratch, "rows", None) or {}
    _thread_scratch.rows = rows
    row = rows.get(dtype)
    if row is None or row.shape[0] < count or row.shape[1] < BLOCK:
        row = rows[dtype] = np.empty((count, BLOCK), dtype)
    return row[:count, :BLOCK]
