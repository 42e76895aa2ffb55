"""Shared vocabulary of the ordering layer: event records, scheduler states, errors."""

from __future__ import annotations

from mapdoctor.formats.trace import spec

Record = tuple[int, int, int, int, int, list[int], int]
#: Pseudo event code of sync points (one at each generation start and one at the end).
SYNC = 256
#: Task ID meaning "no task" (``trace.NoTask``, all bits set).
NO_TASK = (1 << 64) - 1
#: Thread ID of events written on behalf of no thread (Go's ``NoThread``).
NO_THREAD = -1
# Goroutine states as the reader reports them (``trace.GoState``).
GS_UNDETERMINED, GS_NOT_EXIST, GS_RUNNABLE, GS_RUNNING, GS_WAITING, GS_SYSCALL = range(6)
# P states (``trace.ProcState``).
PS_UNDETERMINED, PS_NOT_EXIST, PS_RUNNING, PS_IDLE = range(4)
GO_STATUS_TO_STATE = (GS_UNDETERMINED, GS_RUNNABLE, GS_RUNNING, GS_SYSCALL, GS_WAITING)
PROC_STATUS_TO_STATE = (PS_UNDETERMINED, PS_RUNNING, PS_IDLE, PS_RUNNING, PS_IDLE)

# GC state of the ordering: unknown until the first GC event, then running or not.
GC_UNDETERMINED, GC_NOT_RUNNING, GC_RUNNING = range(3)

# Wire statuses (short names for the hot paths).
G_RUNNABLE = spec.GO_RUNNABLE
G_RUNNING = spec.GO_RUNNING
G_SYSCALL = spec.GO_SYSCALL
G_WAITING = spec.GO_WAITING
P_RUNNING = spec.PROC_RUNNING
P_IDLE = spec.PROC_IDLE
P_SYSCALL = spec.PROC_SYSCALL
P_ABANDONED = spec.PROC_SYSCALL_ABANDONED


class OrderingError(Exception):
    """The event stream contradicts itself (Go's ``broken trace`` errors)."""
