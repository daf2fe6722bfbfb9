r"""Fast path: scratch asks the C allocator to keep freed memory, so a temporary array costs no page faults.

Every NumPy operation returns a new array, and an engine written in NumPy makes many temporaries of the same
sizes at every step. glibc's malloc serves a block above its mmap threshold (128 KiB to start with) by a
fresh ``mmap`` and unmaps it when the array is freed; heap memory above its trim threshold goes back to the
system too. Each new page of such an array is then a page fault that zeroes 4 KiB, before any arithmetic:
``scratch.special.erf`` on 131k float32 values (GELU in the char-gpt example) takes 4.3 ms with the defaults
and 1.6 ms without the faults, and a char-gpt training step 1.9x torch's time instead of 1.35x. torch
avoids most temporaries by fusing its kernels; scratch keeps its one-array-per-operation style and instead
sets, at import, two of malloc's parameters (``mallopt``):

    M_MMAP_THRESHOLD = 32 MiB   blocks up to glibc's largest threshold come from the heap, not from mmap
    M_TRIM_THRESHOLD = 256 MiB  up to that much free memory at the top of the heap stays mapped for reuse

Arrays above 32 MiB are still mapped afresh (NumPy asks for huge pages there, which fault 512 times less
often). The price is memory: a process keeps up to 256 MiB of freed heap, as torch's own caching allocators
keep freed blocks. Results are unchanged; only where memory comes from changes. The settings hold for the
whole process, torch's allocations included, so ``parity bench`` compares both engines under the same
allocator. Set the environment variable ``SCRATCH_KEEP_FREED_MEMORY=0`` before importing scratch to leave
malloc's defaults alone. On a C library other than glibc nothing is changed.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys

__all__ = ["keep_freed_memory"]

# mallopt's parameter numbers and the values set (glibc's malloc.h)
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_MMAP_THRESHOLD = 32 * 1024 * 1024  # glibc's maximum on 64-bit systems: a larger value is refused
_TRIM_THRESHOLD = 256 * 1024 * 1024
_DEFAULT_THRESHOLD = 128 * 1024  # glibc's initial value of both
ENV_VARIABLE = "SCRATCH_KEEP_FREED_MEMORY"


def _glibc() -> ctypes.CDLL | None:
    """The running glibc, or None on another platform or C library."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None
    return libc if hasattr(libc, "mallopt") and hasattr(libc, "gnu_get_libc_version") else None


def keep_freed_memory(enabled: bool = True) -> bool:
    """Keep freed memory for reuse (``enabled``), or go back to malloc's initial thresholds; True if the C
    library took the settings (glibc), False where nothing was changed. ``import scratch`` calls it with
    True unless ``SCRATCH_KEEP_FREED_MEMORY=0``. Setting either threshold ends glibc's own adjustment of
    them, so going back gives the initial values, fixed."""
    libc = _glibc()
    if libc is None:
        return False
    mmap_threshold, trim_threshold = (_MMAP_THRESHOLD, _TRIM_THRESHOLD) if enabled else (_DEFAULT_THRESHOLD,) * 2
    took_mmap = libc.mallopt(_M_MMAP_THRESHOLD, ctypes.c_int(mmap_threshold))
    took_trim = libc.mallopt(_M_TRIM_THRESHOLD, ctypes.c_int(trim_threshold))
    return bool(took_mmap and took_trim)


def _apply_at_import() -> bool:
    """What ``import scratch`` does: keep freed memory unless the environment says 0."""
    return os.environ.get(ENV_VARIABLE, "1").strip() != "0" and keep_freed_memory(True)
