"""Large blocks out of glibc's per-thread heaps, so that peak memory follows the data.

glibc's malloc serves a block of 128 KiB or more with a mapping of its own, given back to
the system when it is freed. But each time such a block is freed, glibc raises that
threshold to the block's size (up to 32 MiB: the "dynamic mmap threshold"), so later
blocks of that size come from its heaps, one per thread that allocates (an arena), and a
heap gives memory back only from its top (glibc manual, "Malloc Tunable Parameters";
dask/dask#3530). sqlgh's read threads receive response bodies (a page of 20 releases of 30
assets is 0.9 MB) and decode them, and the statement's thread frees them later: each read
thread's heap grows to a high-water mark of its own. Pinning the threshold at glibc's
default turns that adjustment off (as sigp/lighthouse#2937 and pop-os/cosmic-bg#73 do):
peak RSS growth of the ``repositories JOIN release_assets`` inventory over 120,000 assets
went from 65.5 to 32.3 MiB (docs/performance.md), with no request more and the same
concurrency.

The setting holds for the whole process. It is left alone where the process tunes malloc
itself (a ``MALLOC_*_`` variable or ``GLIBC_TUNABLES`` in the environment) and where the C
library is not glibc (musl, macOS, Windows).
"""

from __future__ import annotations

import os
import threading

M_MMAP_THRESHOLD = -3  # glibc's malloc.h
MMAP_THRESHOLD = 128 * 1024  # glibc's default, before any dynamic adjustment
_TUNING = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_")
_TUNING += ("MALLOC_MMAP_MAX_", "GLIBC_TUNABLES")

_pinned = False
_lock = threading.Lock()


def pin_mmap_threshold() -> bool:
    """Pin glibc's mmap threshold at 128 KiB, once per process (see the module); False
    when it is left alone."""
    global _pinned
    with _lock:
        if _pinned:
            return True
        if not _glibc() or any(name in os.environ for name in _TUNING):
            return False
        import ctypes  # here, not at import: about 2 ms that most imports do not need

        try:
            mallopt = ctypes.CDLL(None).mallopt
        except (OSError, AttributeError):
            return False
        _pinned = mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1
        return _pinned


def _glibc() -> bool:
    try:
        return (os.confstr("CS_GNU_LIBC_VERSION") or "").startswith("glibc")
    except (AttributeError, ValueError, OSError):  # not a glibc system
        return False
