"""Both engines get the same number of threads (NumPy's BLAS and torch), so a ratio compares code, not
parallelism: ``parity bench``'s default (``torch_ref.bench.runner.default_threads``), or
``BENCH_THREADS=N``."""

import os

import pytest

from torch_ref.bench.runner import default_threads, same_threads

THREADS = int(os.environ.get("BENCH_THREADS", default_threads()))


@pytest.fixture(autouse=True)
def same_thread_count():
    with same_threads(THREADS):
        yield
