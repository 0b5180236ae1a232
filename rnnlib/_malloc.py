"""Keep freed memory in the process: glibc's malloc tuned once, for numpy's large temporaries.

A training step allocates the same arrays (states, deltas, scores) afresh every step.
With glibc's default settings, ``free`` hands large blocks back to the kernel (``munmap``,
or trimming the top of the heap), and the next step pays a page fault for every 4 KiB page
it touches again: about a thousand per step at (B, T, V, H) = (32, 64, 65, 128) in a process
of its own (the performance appendix measures the faults and what the tuning buys).
``keep_freed_memory()`` sets ``M_MMAP_THRESHOLD`` to 32 MiB (blocks below it
come from the heap) and ``M_TRIM_THRESHOLD`` to 256 MiB (freed heap memory is kept up to
that much), as the environment variables ``MALLOC_MMAP_THRESHOLD_`` and
``MALLOC_TRIM_THRESHOLD_`` would. It does nothing when either variable is set (the user
chose), when ``RNNLIB_KEEP_FREED_MEMORY=0``, or where the C library has no ``mallopt``
(not glibc). Results do not change, only where numpy's memory comes from.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # glibc's <malloc.h>
MMAP_THRESHOLD = 32 * 2**20  # glibc's largest allowed value on 64-bit machines
TRIM_THRESHOLD = 256 * 2**20
_done = []


def keep_freed_memory() -> bool:
    """Tune malloc once per process; True if this call or an earlier one did it."""
    if not _done:
        _done.append(_tune())
    return _done[0]


def _tune() -> bool:
    if os.environ.get("RNNLIB_KEEP_FREED_MEMORY") == "0" or any(
            name in os.environ for name in ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_")):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) and mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))
