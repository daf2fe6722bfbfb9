"""scratch.allocator: with freed memory kept, temporaries of sizes made before cost no page faults; with
malloc's defaults (``SCRATCH_KEEP_FREED_MEMORY=0``) four 2 MiB arrays alive at once, as in one of scratch's
formulas, leave more free heap than glibc keeps (twice its adapted mmap threshold), and every page faults
again. Page faults are counted by the kernel (``getrusage``): the check does not depend on timing or load."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from scratch import allocator

PAGES = 4 * 2 * 1024 * 1024 // 4096  # pages of four 2 MiB arrays
ROUNDS = 20

# a child process: import scratch, ROUNDS times make four 2 MiB arrays and free them, print the page faults taken
CHILD = f"""
import resource, numpy as np, scratch
def four():
    return [np.ones(2 * 1024 * 1024 // 8) for _ in range(4)]
four()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range({ROUNDS}):
    four()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""

pytestmark = pytest.mark.skipif(allocator._glibc() is None, reason="mallopt is glibc's; elsewhere nothing is set")


def _page_faults(keep: str | None) -> int:
    """The page faults of CHILD with SCRATCH_KEEP_FREED_MEMORY set to ``keep`` (None: unset)."""
    env = {k: v for k, v in os.environ.items() if k != allocator.ENV_VARIABLE}
    if keep is not None:
        env[allocator.ENV_VARIABLE] = keep
    run = subprocess.run([sys.executable, "-c", CHILD], env=env, capture_output=True, text=True, check=True)
    return int(run.stdout)


def test_import_keeps_freed_memory_so_a_repeated_temporary_does_not_fault():
    faults = _page_faults(None)
    assert faults < ROUNDS * PAGES // 20, f"{faults} page faults for {ROUNDS} arrays of {PAGES} pages"


def test_opting_out_leaves_mallocs_defaults_which_fault_every_page():
    faults = _page_faults("0")
    assert faults >= ROUNDS * PAGES * 9 // 10, f"only {faults} page faults for {ROUNDS} arrays of {PAGES} pages"


def test_keep_freed_memory_reports_that_glibc_took_the_settings():
    try:
        assert allocator.keep_freed_memory(False) is True
    finally:
        assert allocator.keep_freed_memory(True) is True
