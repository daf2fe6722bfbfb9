"""Intra-op threads, as torch's: ``set_num_threads(n)`` / ``get_num_threads()``, and ``parallel_for``, which
runs an elementwise kernel over the pieces of a range on a small, reused thread pool.

Why threads help in a NumPy engine: a ufunc releases the GIL for its inner loop (when no object dtype is
involved), so while one thread is inside ``np.multiply(..., out=...)`` on its piece another thread runs its
own ufuncs on another piece, on another core. An update made of many elementwise passes (an optimizer's
step over a large parameter) then runs on every core, as torch's kernels do with its intra-op threads.
Elementwise work gives the same result, bit for bit, whatever the thread count.

How the work is shared: the range is cut into pieces of ``grain`` elements (an optimizer's cache-sized
block), and each thread takes the next piece not yet taken (a shared counter) until none is left, rather
than one fixed chunk per thread as torch's ``at::parallel_for``: on a machine shared with other processes
a thread can lose its core for a scheduler slice (milliseconds), and a fixed split would wait for it while
here the other threads take its pieces. (On the shared 2-core machine at load ~2.6 the two splits measured
the same, Adam on 10M float32 20.3 ms each; there two threads gained nothing over one, 20.0 ms, since the
other processes held the second core; at load ~2.0 two threads took Adam from 18.2 to 11.1 ms and SGD with
momentum from 6.6 to 4.4 ms.)

The pool's cost: handing work to a worker thread and waiting for it costs ~20-60 µs (a lock, a wake-up,
the GIL handed over a few times; 55-63 µs measured for an empty ``parallel_for`` on 2 threads at load 3),
so a range shorter than ``PARALLEL_MIN`` elements runs serially, in the calling thread, as does every
range when the thread count is 1. A worker that has been idle a while wakes slower: on the 2-core VM
(cpuidle ``haltpoll``, guest polling off, so an idle core halts and its wake-up goes through the host) it
started its piece ~110 µs after the hand-off when the hand-off followed a 0.1 s pause (the benchmark's),
~30 µs when it followed another 1 ms before; so work of many parts is handed off once, as one
``parallel_pieces`` over all its pieces (an optimizer step over many parameters: ``optim._blocked``),
rather than once per part. The calling thread takes pieces too, so the pool holds
``get_num_threads() - 1`` workers; it is made at the first parallel call and reused.
"""

from __future__ import annotations

import contextvars
import itertools
import os
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

#: ranges shorter than this run serially: one optimizer block (``optim.optimizer.BLOCK``), an Adam step of
#: ~0.5 ms on one core, a momentum SGD step of ~0.2 ms, so that the pool's ~20-60 µs is a small part of
#: the work it shares out
PARALLEL_MIN = 1 << 18


def _usable_cores() -> int:
    """torch's intra-op default: the cores this process may run on (its affinity), else all of them."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


_threads = _usable_cores()
_pool: ThreadPoolExecutor | None = None
_lock = threading.Lock()
_worker = threading.local()  # .busy: this thread is running a chunk (nested calls then run serially)


def set_num_threads(num: int) -> None:
    """The number of threads ``parallel_for`` uses (the calling thread included), as torch.set_num_threads;
    1 runs everything serially. torch's errors: a RuntimeError for anything but a positive int."""
    global _threads, _pool
    if not isinstance(num, int) or isinstance(num, bool):
        raise RuntimeError(f"set_num_threads expects an int, but got {type(num).__name__}")
    if num <= 0:
        raise RuntimeError("set_num_threads expects a positive integer")
    with _lock:
        if num != _threads and _pool is not None:
            _pool.shutdown(wait=False)  # its workers finish what they hold, then exit
            _pool = None
        _threads = num


def get_num_threads() -> int:
    """The number of threads ``parallel_for`` uses (default: the usable cores, as torch's)."""
    return _threads


def _get_pool(workers: int) -> ThreadPoolExecutor:
    global _pool
    with _lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="scratch-intra-op")
        return _pool


def parallel_for(work: Callable[[int, int], None], size: int, grain: int) -> None:
    """Call ``work(start, stop)`` on every piece [k grain, (k + 1) grain) of [0, size) (the last one shorter),
    each once, the pieces taken in order by whichever thread (the caller or a worker) is free. Serially,
    as one ``work(0, size)``, when ``size < PARALLEL_MIN``, with one thread, or from inside a piece (a
    nested call). ``work`` must be elementwise over disjoint pieces (it is called concurrently); an
    exception in a piece is raised here once every piece is done. Each thread runs in a copy of the
    caller's context, so NumPy's ``errstate`` holds in the workers too."""
    pieces = -(-size // grain)
    if size < PARALLEL_MIN or min(_threads, pieces) <= 1 or getattr(_worker, "busy", False):
        work(0, size)
        return
    parallel_pieces(lambda index: work(index * grain, min((index + 1) * grain, size)), pieces)


def parallel_pieces(run: Callable[[int], None], pieces: int) -> None:
    """Call ``run(k)`` for every k in [0, pieces), each once, in order of k, by whichever thread (the caller
    or a worker) is free: ``parallel_for``'s hand-off without its threshold, for a caller that has cut its
    work into pieces itself (an optimizer step's blocks of every parameter, ``optim._blocked``). Serially,
    in the calling thread, with one piece, one thread, or from inside a piece."""
    threads = min(_threads, pieces)
    if threads <= 1 or getattr(_worker, "busy", False):
        for index in range(pieces):
            run(index)
        return
    counter = itertools.count()  # next() on it is atomic (one C call under the GIL): each piece goes once

    def drain() -> None:
        _worker.busy = True
        try:
            while (index := next(counter)) < pieces:
                run(index)
        finally:
            _worker.busy = False

    pool = _get_pool(_threads - 1)
    futures: list[Future[None]] = [pool.submit(contextvars.copy_context().run, drain) for _ in range(threads - 1)]
    try:
        drain()
    finally:
        for future in futures:
            # a worker not yet started (no core free: the machine is loaded) is called off, not waited for:
            # the pieces are all taken, so it would find none; a started one is waited for before raising,
            # so none still writes afterwards
            if not future.cancel():
                future.exception()
    for future in futures:
        if not future.cancelled():
            future.result()


def parallel_rows(work: Callable[[int, int], None], rows: int, per_row: int) -> None:
    """``work(a, b)`` over contiguous ranges [a, b) of ``rows`` rows (samples: an array's first axis), two
    ranges per thread, with ``parallel_for``'s rule for the threshold: the rows hold ``per_row`` values each,
    and fewer than ``PARALLEL_MIN`` values in all run as one ``work(0, rows)`` in the calling thread. For
    memory-bound copies and row-wise passes whose arithmetic on a row does not depend on the other rows,
    so the result is the same bit for bit whatever the split."""
    per_row = max(per_row, 1)
    grain = -(-rows // (2 * _threads)) * per_row
    parallel_for(lambda start, stop: work(start // per_row, stop // per_row), rows * per_row, max(grain, 1))
