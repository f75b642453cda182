"""Memory handed back to the system: the service and the build both free large amounts at once
(decoded vocabularies, word lists, finished computations), which glibc otherwise keeps."""

from __future__ import annotations

from typing import Any


def _libc() -> Any:
    import ctypes
    import ctypes.util

    return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")


def trim_heap() -> None:
    """Return the C heap's free pages to the system (glibc's malloc_trim; a no-op elsewhere)."""
    try:
        _libc().malloc_trim(0)
    except (OSError, AttributeError):
        pass


def limit_arenas(count: int) -> None:
    """At most `count` glibc malloc arenas: each thread that allocates otherwise gets an arena of its
    own, and the freed memory of a few large computations stays spread over them (a serving process
    grew from 1.0 to 2.3 GB idle). Call before worker threads start; a no-op without glibc."""
    try:
        _libc().mallopt(-8, count)  # M_ARENA_MAX
    except (OSError, AttributeError):
        pass


def return_freed_memory() -> None:
    """Give the C heap's free pages back to the system. Python frees millions of small objects at
    once after labelling (wordfreq's lists) or loading (decoded vocabularies), and glibc otherwise
    keeps the ~0.1-1 GB in the process. A no-op where the C library has no malloc_trim."""
    import gc

    gc.collect()
    trim_heap()
