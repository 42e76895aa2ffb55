"""``--freeze``: stop every thread of a process for a bounded time, then let it go.

Uses ``PTRACE_SEIZE`` + ``PTRACE_INTERRUPT`` (Linux >= 3.4) rather than SIGSTOP: the stop is
invisible to the process's parent and supervisor, and if mapdoctor dies while the target is
stopped the kernel detaches and the threads run on (a SIGSTOP would leave it stopped). Nothing
is written to the target; a signal that arrived while it was stopped is handed back on detach.
ptrace must be issued from the thread that attached, so the bound is kept by the caller's
reads checking ``deadline``; the time actually stopped is measured from the first interrupt to
the last detach.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import gc
import os
import signal
import time
from pathlib import Path
from types import TracebackType

from mapdoctor.errors import InputError

PTRACE_DETACH = 17
PTRACE_SEIZE = 0x4206
PTRACE_INTERRUPT = 0x4207
WALL = 0x40000000
PTRACE_EVENT_STOP = 128
#: Kept free at the end of the budget for the detach, the reads still in flight, and the
#: target's own way back to running (its threads are rescheduled after the detach: the stop
#: it sees is a few milliseconds longer than the one measured here).
DETACH_MARGIN_S = 0.025

_libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
_libc.ptrace.restype = ctypes.c_long
_libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]


def _ptrace(request: int, tid: int, data: int = 0) -> int:
    res: int = _libc.ptrace(request, tid, None, ctypes.c_void_p(data))
    if res == -1:
        return ctypes.get_errno() or errno.EPERM
    return 0


def _tids(pid: int) -> set[int]:
    try:
        return {int(t) for t in os.listdir(f"/proc/{pid}/task")}
    except OSError:
        return set()


class Freeze:
    """``with Freeze(pid, budget_ms) as f:`` stops the process; ``f.deadline`` is when to stop reading."""

    def __init__(self, pid: int, budget_ms: float) -> None:
        self.pid = pid
        self.budget_ms = budget_ms
        self.attached: set[int] = set()
        self.pending: dict[int, int] = {}  # tid -> signal to re-inject on detach
        self.started = 0.0
        self.stopped_ms = 0.0
        self.deadline = 0.0
        self.thread_count = 0
        self._gc_was_enabled = True

    def __enter__(self) -> Freeze:
        label = f"pid {self.pid}"
        if not Path(f"/proc/{self.pid}").is_dir():
            raise InputError(label, "freeze", "no such process")
        for _ in range(5):  # threads may be created while we attach
            new = _tids(self.pid) - self.attached
            if not new:
                break
            for tid in sorted(new):
                err = _ptrace(PTRACE_SEIZE, tid)
                if err == errno.ESRCH:
                    continue
                if err:
                    self._detach_all()
                    why = ("permission denied (another tracer such as a debugger is attached, or ptrace is "
                           "restricted: kernel.yama.ptrace_scope, CAP_SYS_PTRACE)" if err == errno.EPERM
                           else os.strerror(err))
                    raise InputError(label, "freeze", why)
                self.attached.add(tid)
        self.thread_count = len(self.attached)
        # No collection of our own heap while the target is stopped: after a census of
        # 100,000 maps a full collection takes longer than the rest of the budget.
        self._gc_was_enabled = gc.isenabled()
        gc.disable()
        self.started = time.monotonic()
        for tid in sorted(self.attached):
            _ptrace(PTRACE_INTERRUPT, tid)
        for tid in sorted(self.attached):
            self._wait_stopped(tid)
        # Stopping took some of the budget and detaching will take about as long again (one
        # ptrace call per thread): the reads must end early enough for both, plus a margin.
        stopping = time.monotonic() - self.started
        self.deadline = self.started + self.budget_ms / 1000.0 - 2 * stopping - DETACH_MARGIN_S
        return self

    def _wait_stopped(self, tid: int) -> None:
        try:
            _, status = os.waitpid(tid, WALL)
        except ChildProcessError:
            return  # exited
        if os.WIFSTOPPED(status):
            sig = os.WSTOPSIG(status)
            event = status >> 16
            if not (sig == signal.SIGTRAP and event == PTRACE_EVENT_STOP):
                # A signal-delivery stop came first: the thread is stopped; give the signal back later.
                self.pending[tid] = sig

    def _detach_all(self) -> None:
        for tid in sorted(self.attached):
            _ptrace(PTRACE_DETACH, tid, self.pending.get(tid, 0))
        self.attached.clear()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._detach_all()
        if self.started:
            self.stopped_ms = (time.monotonic() - self.started) * 1000.0
            if self._gc_was_enabled:
                gc.enable()

