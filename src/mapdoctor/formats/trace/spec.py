"""The wire-format event table of generation-based Go execution traces (Go 1.22+).

One row per event type, transcribed from the Go sources that define the format
(``internal/trace/tracev2/events.go`` since Go 1.25, ``internal/trace/event/go122``
before). Every layer of the reader is driven by this table: how many varint
arguments an event has, which of them name stacks or strings, whether it carries a
timestamp delta, and which ``Begin`` event an ``End`` event closes. Event numbering
never changed across versions; newer versions only append rows, so a version's table
is a prefix of the full one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

#: ``go 1.N trace`` header values of the generation-based format, mapped to the last
#: event type that version may contain (``internal/trace/version/version.go``).
#: Go 1.24 writes ``go 1.23 trace`` and Go 1.27 still writes ``go 1.26 trace``.
SUPPORTED_VERSIONS = (22, 23, 25, 26)
#: Versions of the older, non-generational format (readable only by Go's own tools).
OLD_FORMAT_VERSIONS = (11, 19, 21)

# Structural events.
EV_NONE: Final = 0
EV_EVENT_BATCH: Final = 1
EV_STACKS: Final = 2
EV_STACK: Final = 3
EV_STRINGS: Final = 4
EV_STRING: Final = 5
EV_CPU_SAMPLES: Final = 6
EV_CPU_SAMPLE: Final = 7
EV_FREQUENCY: Final = 8
# Procs.
EV_PROCS_CHANGE: Final = 9
EV_PROC_START: Final = 10
EV_PROC_STOP: Final = 11
EV_PROC_STEAL: Final = 12
EV_PROC_STATUS: Final = 13
# Goroutines.
EV_GO_CREATE: Final = 14
EV_GO_CREATE_SYSCALL: Final = 15
EV_GO_START: Final = 16
EV_GO_DESTROY: Final = 17
EV_GO_DESTROY_SYSCALL: Final = 18
EV_GO_STOP: Final = 19
EV_GO_BLOCK: Final = 20
EV_GO_UNBLOCK: Final = 21
EV_GO_SYSCALL_BEGIN: Final = 22
EV_GO_SYSCALL_END: Final = 23
EV_GO_SYSCALL_END_BLOCKED: Final = 24
EV_GO_STATUS: Final = 25
# Stop-the-world.
EV_STW_BEGIN: Final = 26
EV_STW_END: Final = 27
# GC.
EV_GC_ACTIVE: Final = 28
EV_GC_BEGIN: Final = 29
EV_GC_END: Final = 30
EV_GC_SWEEP_ACTIVE: Final = 31
EV_GC_SWEEP_BEGIN: Final = 32
EV_GC_SWEEP_END: Final = 33
EV_GC_MARK_ASSIST_ACTIVE: Final = 34
EV_GC_MARK_ASSIST_BEGIN: Final = 35
EV_GC_MARK_ASSIST_END: Final = 36
EV_HEAP_ALLOC: Final = 37
EV_HEAP_GOAL: Final = 38
# Annotations.
EV_GO_LABEL: Final = 39
EV_USER_TASK_BEGIN: Final = 40
EV_USER_TASK_END: Final = 41
EV_USER_REGION_BEGIN: Final = 42
EV_USER_REGION_END: Final = 43
EV_USER_LOG: Final = 44
# Coroutines (Go 1.23).
EV_GO_SWITCH: Final = 45
EV_GO_SWITCH_DESTROY: Final = 46
EV_GO_CREATE_BLOCKED: Final = 47
# Goroutine status with a stack (Go 1.23).
EV_GO_STATUS_STACK: Final = 48
# Experimental batch (Go 1.23).
EV_EXPERIMENTAL_BATCH: Final = 49
# Sync batch and clock snapshot (Go 1.25).
EV_SYNC: Final = 50
EV_CLOCK_SNAPSHOT: Final = 51
# In-band end of generation (Go 1.26).
EV_END_OF_GENERATION: Final = 52

#: First experimental event type (``MaxEvent + 1``).
EV_FIRST_EXPERIMENTAL: Final = 128

#: Limits the runtime never exceeds (``tracev2/events.go``); larger values mean corruption.
MAX_BATCH_SIZE: Final = 64 << 10
MAX_FRAMES_PER_STACK: Final = 128
MAX_STRING_SIZE: Final = 1 << 10

# Goroutine statuses on the wire (tracev2.GoStatus).
GO_BAD: Final = 0
GO_RUNNABLE: Final = 1
GO_RUNNING: Final = 2
GO_SYSCALL: Final = 3
GO_WAITING: Final = 4
# P statuses on the wire (tracev2.ProcStatus); SyscallAbandoned appears from Go 1.27.
PROC_BAD: Final = 0
PROC_RUNNING: Final = 1
PROC_IDLE: Final = 2
PROC_SYSCALL: Final = 3
PROC_SYSCALL_ABANDONED: Final = 4

ALLOC_FREE_EXPERIMENT: Final = 1
EXPERIMENT_NAMES = {0: "None", ALLOC_FREE_EXPERIMENT: "AllocFree"}


@dataclass(frozen=True, slots=True)
class EventSpec:
    """How one wire event type is laid out (mirrors ``tracev2.EventSpec``)."""

    code: int
    name: str
    #: Argument names in wire order; for timed events the first is the timestamp delta.
    args: tuple[str, ...] = ()
    #: Indices into ``args`` of stack IDs; the first is the stack of the event itself.
    stack_ids: tuple[int, ...] = ()
    #: Indices into ``args`` of string IDs.
    string_ids: tuple[int, ...] = ()
    #: For an ``End`` event, the code of its ``Begin`` event (0 if none).
    start_ev: int = 0
    #: Appears in the per-M event streams with a timestamp delta.
    timed: bool = False
    #: Followed by a varint length and that many raw bytes.
    has_data: bool = False
    #: Followed by a varint frame count and four varints per frame.
    is_stack: bool = False
    #: Non-zero for events of an experiment (e.g. AllocFree).
    experiment: int = 0


def _timed(code: int, name: str, *args: str, stacks: tuple[int, ...] = (), strings: tuple[int, ...] = (),
           start: int = 0, experiment: int = 0) -> EventSpec:
    return EventSpec(code, name, ("dt", *args), stacks, strings, start, timed=True, experiment=experiment)


_ALL: tuple[EventSpec, ...] = (
    EventSpec(EV_EVENT_BATCH, "EventBatch", ("gen", "m", "time", "size")),
    EventSpec(EV_STACKS, "Stacks"),
    EventSpec(EV_STACK, "Stack", ("id", "nframes"), is_stack=True),
    EventSpec(EV_STRINGS, "Strings"),
    EventSpec(EV_STRING, "String", ("id",), has_data=True),
    EventSpec(EV_CPU_SAMPLES, "CPUSamples"),
    EventSpec(EV_CPU_SAMPLE, "CPUSample", ("time", "m", "p", "g", "stack"), stack_ids=(4,)),
    EventSpec(EV_FREQUENCY, "Frequency", ("freq",)),
    _timed(EV_PROCS_CHANGE, "ProcsChange", "procs_value", "stack", stacks=(2,)),
    _timed(EV_PROC_START, "ProcStart", "p", "p_seq"),
    _timed(EV_PROC_STOP, "ProcStop"),
    _timed(EV_PROC_STEAL, "ProcSteal", "p", "p_seq", "m"),
    _timed(EV_PROC_STATUS, "ProcStatus", "p", "pstatus"),
    _timed(EV_GO_CREATE, "GoCreate", "new_g", "new_stack", "stack", stacks=(3, 2)),
    _timed(EV_GO_CREATE_SYSCALL, "GoCreateSyscall", "new_g"),
    _timed(EV_GO_START, "GoStart", "g", "g_seq"),
    _timed(EV_GO_DESTROY, "GoDestroy"),
    _timed(EV_GO_DESTROY_SYSCALL, "GoDestroySyscall"),
    _timed(EV_GO_STOP, "GoStop", "reason_string", "stack", stacks=(2,), strings=(1,)),
    _timed(EV_GO_BLOCK, "GoBlock", "reason_string", "stack", stacks=(2,), strings=(1,)),
    _timed(EV_GO_UNBLOCK, "GoUnblock", "g", "g_seq", "stack", stacks=(3,)),
    _timed(EV_GO_SYSCALL_BEGIN, "GoSyscallBegin", "p_seq", "stack", stacks=(2,)),
    _timed(EV_GO_SYSCALL_END, "GoSyscallEnd", start=EV_GO_SYSCALL_BEGIN),
    _timed(EV_GO_SYSCALL_END_BLOCKED, "GoSyscallEndBlocked", start=EV_GO_SYSCALL_BEGIN),
    _timed(EV_GO_STATUS, "GoStatus", "g", "m", "gstatus"),
    _timed(EV_STW_BEGIN, "STWBegin", "kind_string", "stack", stacks=(2,), strings=(1,)),
    _timed(EV_STW_END, "STWEnd", start=EV_STW_BEGIN),
    _timed(EV_GC_ACTIVE, "GCActive", "gc_seq", start=EV_GC_BEGIN),
    _timed(EV_GC_BEGIN, "GCBegin", "gc_seq", "stack", stacks=(2,)),
    _timed(EV_GC_END, "GCEnd", "gc_seq", start=EV_GC_BEGIN),
    _timed(EV_GC_SWEEP_ACTIVE, "GCSweepActive", "p", start=EV_GC_SWEEP_BEGIN),
    _timed(EV_GC_SWEEP_BEGIN, "GCSweepBegin", "stack", stacks=(1,)),
    _timed(EV_GC_SWEEP_END, "GCSweepEnd", "swept_value", "reclaimed_value", start=EV_GC_SWEEP_BEGIN),
    _timed(EV_GC_MARK_ASSIST_ACTIVE, "GCMarkAssistActive", "g", start=EV_GC_MARK_ASSIST_BEGIN),
    _timed(EV_GC_MARK_ASSIST_BEGIN, "GCMarkAssistBegin", "stack", stacks=(1,)),
    _timed(EV_GC_MARK_ASSIST_END, "GCMarkAssistEnd", start=EV_GC_MARK_ASSIST_BEGIN),
    _timed(EV_HEAP_ALLOC, "HeapAlloc", "heapalloc_value"),
    _timed(EV_HEAP_GOAL, "HeapGoal", "heapgoal_value"),
    _timed(EV_GO_LABEL, "GoLabel", "label_string", strings=(1,)),
    _timed(EV_USER_TASK_BEGIN, "UserTaskBegin", "task", "parent_task", "name_string", "stack",
           stacks=(4,), strings=(3,)),
    _timed(EV_USER_TASK_END, "UserTaskEnd", "task", "stack", stacks=(2,)),
    _timed(EV_USER_REGION_BEGIN, "UserRegionBegin", "task", "name_string", "stack", stacks=(3,), strings=(2,)),
    _timed(EV_USER_REGION_END, "UserRegionEnd", "task", "name_string", "stack", stacks=(3,), strings=(2,),
           start=EV_USER_REGION_BEGIN),
    _timed(EV_USER_LOG, "UserLog", "task", "key_string", "value_string", "stack", stacks=(4,), strings=(2, 3)),
    _timed(EV_GO_SWITCH, "GoSwitch", "g", "g_seq"),
    _timed(EV_GO_SWITCH_DESTROY, "GoSwitchDestroy", "g", "g_seq"),
    _timed(EV_GO_CREATE_BLOCKED, "GoCreateBlocked", "new_g", "new_stack", "stack", stacks=(3, 2)),
    _timed(EV_GO_STATUS_STACK, "GoStatusStack", "g", "m", "gstatus", "stack", stacks=(4,)),
    EventSpec(EV_EXPERIMENTAL_BATCH, "ExperimentalBatch", ("exp", "gen", "m", "time"), has_data=True),
    EventSpec(EV_SYNC, "Sync"),
    _timed(EV_CLOCK_SNAPSHOT, "ClockSnapshot", "mono", "sec", "nsec"),
    EventSpec(EV_END_OF_GENERATION, "EndOfGeneration"),
    # AllocFree experiment (GODEBUG=traceallocfree=1), Go 1.23+.
    _timed(128, "Span", "id", "npages_value", "kindclass", experiment=ALLOC_FREE_EXPERIMENT),
    _timed(129, "SpanAlloc", "id", "npages_value", "kindclass", experiment=ALLOC_FREE_EXPERIMENT),
    _timed(130, "SpanFree", "id", experiment=ALLOC_FREE_EXPERIMENT),
    _timed(131, "HeapObject", "id", "type", experiment=ALLOC_FREE_EXPERIMENT),
    _timed(132, "HeapObjectAlloc", "id", "type", experiment=ALLOC_FREE_EXPERIMENT),
    _timed(133, "HeapObjectFree", "id", experiment=ALLOC_FREE_EXPERIMENT),
    _timed(134, "GoroutineStack", "id", "order", experiment=ALLOC_FREE_EXPERIMENT),
    _timed(135, "GoroutineStackAlloc", "id", "order", experiment=ALLOC_FREE_EXPERIMENT),
    _timed(136, "GoroutineStackFree", "id", experiment=ALLOC_FREE_EXPERIMENT),
)

#: The last regular event type each version may contain.
_LAST_EVENT = {22: EV_USER_LOG, 23: EV_EXPERIMENTAL_BATCH, 25: EV_CLOCK_SNAPSHOT, 26: EV_END_OF_GENERATION}
#: Experimental events exist from Go 1.23 on.
_HAS_EXPERIMENTS = {22: False, 23: True, 25: True, 26: True}


@dataclass(frozen=True, slots=True)
class VersionTable:
    """The event table of one trace version, indexed by event code (``None``: invalid)."""

    version: int
    specs: tuple[EventSpec | None, ...]
    #: For each code, how many values a timed event occupies in a decoded batch (its
    #: type, timestamp delta and arguments), or -1 if the code is no timed event here.
    timed_width: tuple[int, ...]
    #: Event names by code ("" for invalid codes).
    names: tuple[str, ...]

    def name(self, code: int) -> str:
        spec = self.specs[code] if 0 <= code < len(self.specs) else None
        return spec.name if spec is not None else f"Invalid({code})"


def _build(version: int) -> VersionTable:
    specs: list[EventSpec | None] = [None] * 256
    for spec in _ALL:
        if spec.code <= _LAST_EVENT[version] or (spec.experiment and _HAS_EXPERIMENTS[version]):
            specs[spec.code] = spec
    width = tuple(1 + len(s.args) if s is not None and s.timed else -1 for s in specs)
    names = tuple(s.name if s is not None else "" for s in specs)
    return VersionTable(version, tuple(specs), width, names)


_TABLES = {v: _build(v) for v in SUPPORTED_VERSIONS}


def table_for(version: int) -> VersionTable:
    """The event table of a supported trace version (``KeyError`` for others)."""
    return _TABLES[version]


def spec_of(code: int) -> EventSpec | None:
    """The spec of an event code in the newest version."""
    return _TABLES[SUPPORTED_VERSIONS[-1]].specs[code] if 0 <= code < 256 else None
