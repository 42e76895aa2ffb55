"""Decoding with Python's cyclic garbage collector paused.

Decoders build hundreds of thousands of tuples, lists and dataclasses that cannot form
reference cycles; each few hundred allocations would otherwise start a collection pass
over the young objects, and now and then over every object alive (an execution trace's
per-goroutine state, the stacks). Freed objects still go at once: reference counting is
not paused. A decoder that raises leaves the collector as it found it.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def gc_paused() -> Iterator[None]:
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
