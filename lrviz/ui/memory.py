"""The server process's memory allocator: few malloc arenas, so memory comes back after a burst.

Streamlit runs every session's script in a thread of its own. glibc gives concurrent threads
separate malloc arenas (up to 8 per core), and memory freed in an arena mostly stays with the
process: after 30 learners changed the lab at once, the server kept 5-9 % more resident memory
than before, growing with each burst (benchmarks/bench_load.py). Two arenas, as
``MALLOC_ARENA_MAX=2`` in the environment would give, kept it at 3-5 % with the same speed.
"""

from __future__ import annotations

import ctypes
import functools
import os
import sys

M_ARENA_MAX = -8  # mallopt's parameter number for the arena limit (glibc's malloc.h)
ARENAS = 2


@functools.cache
def cap_malloc_arenas(arenas: int = ARENAS) -> bool:
    """Limit glibc's malloc to ``arenas`` arenas for this process; whether the limit took.

    Applies to arenas created from now on, so it is called early (when the first page imports
    `lrviz.ui.lab.runs`, before many sessions run at once). Nothing changes off Linux/glibc or when
    the operator already chose ``MALLOC_ARENA_MAX`` in the environment.
    """
    if not sys.platform.startswith("linux") or "MALLOC_ARENA_MAX" in os.environ:
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt  # the C library this process already runs on
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return mallopt(M_ARENA_MAX, int(arenas)) == 1
