"""Hypothesis profiles for the property and fuzz tests (``parity_tests/test_fuzz.py``, ``test_properties.py``), and
the ``one_torch_thread`` fixture of the side-by-side training tests.

- ``ci`` (the default): derandomized and without an example database, so every CI run tries the same
  examples and a red run is reproducible from the log alone; the per-test example counts stay as written.
- ``long``: a fresh random search, 50 times the examples, with the example database on, so a failure
  found once is replayed first next time. Select it with ``HYPOTHESIS_PROFILE=long python -m pytest ...``.
"""

import os

import pytest
from hypothesis import HealthCheck, settings

LONG_FACTOR = 50  # how many times the ci examples the long profile runs

settings.register_profile("ci", derandomize=True, database=None, deadline=None, print_blob=True)
settings.register_profile("long", derandomize=False, deadline=None, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
settings.load_profile(PROFILE)


def examples(ci_count: int) -> int:
    """A test's example budget under the active profile: ``ci_count``, or LONG_FACTOR times it under ``long``."""
    return ci_count * (LONG_FACTOR if PROFILE == "long" else 1)


@pytest.fixture
def one_torch_thread():
    """torch on one thread for the test (training runs side by side: torch's small kernels slow down many-fold
    when its threads compete with other processes), restored after it."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
