"""Fewer glibc heaps for sqlgh's read threads, so that peak memory follows the data.

glibc's malloc gives each thread that allocates a heap of its own (an arena), up to 8 per
core, and a heap gives memory back to the system only from its top (glibc manual, "Malloc
Tunable Parameters"). sqlgh's read threads receive response bodies (a page of 20 releases
of 30 assets is 0.9 MB, 1.9 MB decoded) that the statement's thread frees later; and once
glibc has freed a block of that size it serves the next ones from the heaps too (its
"dynamic mmap threshold", dask/dask#3530). So each of the ``max_concurrency`` read threads
kept a high-water mark of its own: at 120,000 assets the join inventory's Python objects
peaked 5 MB apart between one and seven fetches ahead (tracemalloc), its RSS 20 MB apart.
Two heaps in all (``mallopt(M_ARENA_MAX, 2)``, as ``MALLOC_ARENA_MAX=2`` would) took the
join spelling's peak RSS growth from 63.5-64.8 to 37.2-39.7 MiB (three alternating runs
each at 50 ms a request; client CPU 2.79-2.89 s against 2.83-2.91 s), with the same
requests and fetches ahead. Pinning the mmap threshold instead (``MALLOC_MMAP_THRESHOLD_``)
did as well for memory but cost about 6% more CPU: a page fault per 4 KiB of every large
block, each time.

The limit holds for the whole process, for heaps made from now on. It is left alone where
the process tunes malloc itself (a ``MALLOC_*_`` variable or ``GLIBC_TUNABLES`` in the
environment) and where the C library is not glibc (musl, macOS, Windows).
"""

from __future__ import annotations

import os
import threading

M_ARENA_MAX = -8  # glibc's malloc.h
ARENAS = 2
_TUNING = ("MALLOC_ARENA_MAX", "MALLOC_ARENA_TEST", "MALLOC_MMAP_THRESHOLD_")
_TUNING += ("MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_", "MALLOC_MMAP_MAX_", "GLIBC_TUNABLES")

_limited = False
_lock = threading.Lock()


def limit_arenas() -> bool:
    """Limit glibc to ``ARENAS`` heaps, once per process (see the module); False when it
    is left alone."""
    global _limited
    with _lock:
        if _limited:
            return True
        if not _glibc() or any(name in os.environ for name in _TUNING):
            return False
        import ctypes  # here, not at import: about 2 ms that most imports do not need

        try:
            mallopt = ctypes.CDLL(None).mallopt
        except (OSError, AttributeError):
            return False
        _limited = mallopt(M_ARENA_MAX, ARENAS) == 1
        return _limited


def _glibc() -> bool:
    try:
        return (os.confstr("CS_GNU_LIBC_VERSION") or "").startswith("glibc")
    except (AttributeError, ValueError, OSError):  # not a glibc system
        return False
