"""Both engines get the same number of threads, so the ratio compares code, not parallelism."""

import pytest
import torch
from threadpoolctl import threadpool_limits

THREADS = 2


@pytest.fixture(autouse=True)
def same_thread_count():
    previous = torch.get_num_threads()
    torch.set_num_threads(THREADS)
    with threadpool_limits(limits=THREADS, user_api="blas"):
        yield
    torch.set_num_threads(previous)
