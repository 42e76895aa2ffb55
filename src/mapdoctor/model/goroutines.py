"""Goroutines as a text dump or a crash shows them."""

from __future__ import annotations

from dataclasses import dataclass, field

from mapdoctor.model.stack import Frame, Stack


@dataclass(frozen=True, slots=True)
class Goroutine:
    id: int
    state: str  # e.g. "running", "runnable", "sync.Mutex.Lock", "chan receive"
    wait_minutes: int
    stack: Stack  # leaf first
    created_by: Frame | None = None
    created_in: int | None = None  # id of the creating goroutine (Go >= 1.21)
    locked_to_thread: bool = False  # runtime.LockOSThread
    elided_frames: int = 0  # frames the traceback (or our per-goroutine cap) left out; -1: not counted
    labels: tuple[tuple[str, str], ...] = ()  # pprof labels shown in the header (``{k: v}``, Go 1.27)


@dataclass(slots=True)
class GoroutineDump:
    """A ``goroutine?debug=2`` dump, or the goroutines of a crash (``fatal error: ...``)."""

    goroutines: list[Goroutine]
    fatal_error: str | None = None  # e.g. "concurrent map writes"
    panic_message: str | None = None
    faulting_goroutine: int | None = None  # the goroutine printed first in a crash
    truncated: bool = False  # output ended mid-goroutine
    notes: list[str] = field(default_factory=list)
