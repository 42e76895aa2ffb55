"""Shared vocabulary of the ordering layer: event records, scheduler states, errors."""

from __future__ import annotations

from typing import Final

from mapdoctor.formats.trace import spec

Record = tuple[int, int, int, int, int, list[int], int]
#: Pseudo event code of sync points (one at each generation start and one at the end).
SYNC: Final = 256
#: Task ID meaning "no task" (``trace.NoTask``, all bits set).
NO_TASK: Final = (1 << 64) - 1
#: Thread ID of events written on behalf of no thread (Go's ``NoThread``).
NO_THREAD: Final = -1
# Goroutine states as the reader reports them (``trace.GoState``).
GS_UNDETERMINED: Final = 0
GS_NOT_EXIST: Final = 1
GS_RUNNABLE: Final = 2
GS_RUNNING: Final = 3
GS_WAITING: Final = 4
GS_SYSCALL: Final = 5
# P states (``trace.ProcState``).
PS_UNDETERMINED: Final = 0
PS_NOT_EXIST: Final = 1
PS_RUNNING: Final = 2
PS_IDLE: Final = 3
GO_STATUS_TO_STATE = (GS_UNDETERMINED, GS_RUNNABLE, GS_RUNNING, GS_SYSCALL, GS_WAITING)
PROC_STATUS_TO_STATE = (PS_UNDETERMINED, PS_RUNNING, PS_IDLE, PS_RUNNING, PS_IDLE)

# GC state of the ordering: unknown until the first GC event, then running or not.
GC_UNDETERMINED: Final = 0
GC_NOT_RUNNING: Final = 1
GC_RUNNING: Final = 2

# Wire statuses (short names for the hot paths).
G_RUNNABLE: Final = spec.GO_RUNNABLE
G_RUNNING: Final = spec.GO_RUNNING
G_SYSCALL: Final = spec.GO_SYSCALL
G_WAITING: Final = spec.GO_WAITING
P_RUNNING: Final = spec.PROC_RUNNING
P_IDLE: Final = spec.PROC_IDLE
P_SYSCALL: Final = spec.PROC_SYSCALL
P_ABANDONED: Final = spec.PROC_SYSCALL_ABANDONED


class OrderingError(Exception):
    """The event stream contradicts itself (Go's ``broken trace`` errors)."""
