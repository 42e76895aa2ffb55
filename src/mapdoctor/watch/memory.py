"""Keep the agent's resident memory flat: fewer glibc malloc arenas.

The agent's Python objects stay bounded (measured with tracemalloc over a soak: traced
memory flat at 11-14 MB), yet its RSS crept up: glibc gives each thread that allocates
its own malloc arena (up to 8 per core), and the 64 sampling threads each decode profiles
and HTTP bodies in theirs. Freed chunks stay in every arena, so the free-but-resident part
grew with the number of arenas touched (arena total 66 -> 176 MB in 8 minutes, RSS +19 %).
Two arenas are plenty for threads that mostly wait on sockets: with them the same run
stayed at 53-56 MB. Best effort: a no-op where the C library is not glibc.
"""

from __future__ import annotations

import ctypes
import ctypes.util

#: glibc's M_ARENA_MAX (malloc.h).
M_ARENA_MAX = -8
ARENA_MAX = 2


def limit_malloc_arenas(n: int = ARENA_MAX) -> bool:
    """Cap glibc's malloc arenas (call before threads start); True when applied."""
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return bool(mallopt(M_ARENA_MAX, n))
