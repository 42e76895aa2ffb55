"""Layer 4: high-level events, like the ``Event`` API of Go's ``internal/trace``.

The ordering layer emits compact records; :class:`Event` is a read-only view of one
record with the accessors of Go's reader (kind, time, execution context, range,
state transition, metric, task, region, log, label, stack, sync). Views are made on
demand only: the model builder reads records directly, which is much cheaper.
"""

from __future__ import annotations

import datetime
from array import array
from dataclasses import dataclass
from enum import IntEnum

from mapdoctor.formats.trace import spec
from mapdoctor.formats.trace.generations import Generation
from mapdoctor.formats.trace.states import (
    GO_STATUS_TO_STATE,
    GS_NOT_EXIST,
    GS_RUNNABLE,
    GS_RUNNING,
    GS_SYSCALL,
    GS_WAITING,
    PROC_STATUS_TO_STATE,
    PS_IDLE,
    PS_RUNNING,
    SYNC,
    Record,
)
from mapdoctor.model.stack import Frame, Stack


class Kind(IntEnum):
    """``trace.EventKind``; the names are Go's, as ``go tool trace -d=parsed`` prints them."""

    Bad = 0
    Sync = 1
    Metric = 2
    Label = 3
    StackSample = 4
    RangeBegin = 5
    RangeActive = 6
    RangeEnd = 7
    TaskBegin = 8
    TaskEnd = 9
    RegionBegin = 10
    RegionEnd = 11
    Log = 12
    StateTransition = 13
    Experimental = 14


def _kind_table() -> tuple[Kind, ...]:
    k = [Kind.Bad] * (SYNC + 1)
    k[SYNC] = Kind.Sync
    k[spec.EV_CPU_SAMPLE] = Kind.StackSample
    for code in (spec.EV_PROCS_CHANGE, spec.EV_HEAP_ALLOC, spec.EV_HEAP_GOAL):
        k[code] = Kind.Metric
    for code in (spec.EV_PROC_START, spec.EV_PROC_STOP, spec.EV_PROC_STEAL, spec.EV_PROC_STATUS,
                 spec.EV_GO_CREATE, spec.EV_GO_CREATE_SYSCALL, spec.EV_GO_START, spec.EV_GO_DESTROY,
                 spec.EV_GO_DESTROY_SYSCALL, spec.EV_GO_STOP, spec.EV_GO_BLOCK, spec.EV_GO_UNBLOCK,
                 spec.EV_GO_SYSCALL_BEGIN, spec.EV_GO_SYSCALL_END, spec.EV_GO_SYSCALL_END_BLOCKED,
                 spec.EV_GO_STATUS, spec.EV_GO_SWITCH, spec.EV_GO_SWITCH_DESTROY, spec.EV_GO_CREATE_BLOCKED,
                 spec.EV_GO_STATUS_STACK):
        k[code] = Kind.StateTransition
    for code in (spec.EV_STW_BEGIN, spec.EV_GC_BEGIN, spec.EV_GC_SWEEP_BEGIN, spec.EV_GC_MARK_ASSIST_BEGIN):
        k[code] = Kind.RangeBegin
    for code in (spec.EV_GC_ACTIVE, spec.EV_GC_SWEEP_ACTIVE, spec.EV_GC_MARK_ASSIST_ACTIVE):
        k[code] = Kind.RangeActive
    for code in (spec.EV_STW_END, spec.EV_GC_END, spec.EV_GC_SWEEP_END, spec.EV_GC_MARK_ASSIST_END):
        k[code] = Kind.RangeEnd
    k[spec.EV_GO_LABEL] = Kind.Label
    k[spec.EV_USER_TASK_BEGIN] = Kind.TaskBegin
    k[spec.EV_USER_TASK_END] = Kind.TaskEnd
    k[spec.EV_USER_REGION_BEGIN] = Kind.RegionBegin
    k[spec.EV_USER_REGION_END] = Kind.RegionEnd
    k[spec.EV_USER_LOG] = Kind.Log
    for code in range(spec.EV_FIRST_EXPERIMENTAL, 256):
        if spec.spec_of(code) is not None:
            k[code] = Kind.Experimental
    return tuple(k)


#: Event kind of each record code.
KIND_OF_CODE = _kind_table()

GO_STATE_NAMES = ("Undetermined", "NotExist", "Runnable", "Running", "Waiting", "Syscall")
PROC_STATE_NAMES = ("Undetermined", "NotExist", "Running", "Idle")

_METRIC_NAMES = {
    spec.EV_PROCS_CHANGE: "/sched/gomaxprocs:threads",
    spec.EV_HEAP_ALLOC: "/memory/classes/heap/objects:bytes",
    spec.EV_HEAP_GOAL: "/gc/heap/goal:bytes",
}
_RANGE_NAMES = {
    spec.EV_GC_BEGIN: "GC concurrent mark phase",
    spec.EV_GC_ACTIVE: "GC concurrent mark phase",
    spec.EV_GC_END: "GC concurrent mark phase",
    spec.EV_GC_SWEEP_BEGIN: "GC incremental sweep",
    spec.EV_GC_SWEEP_ACTIVE: "GC incremental sweep",
    spec.EV_GC_SWEEP_END: "GC incremental sweep",
    spec.EV_GC_MARK_ASSIST_BEGIN: "GC mark assist",
    spec.EV_GC_MARK_ASSIST_ACTIVE: "GC mark assist",
    spec.EV_GC_MARK_ASSIST_END: "GC mark assist",
}


@dataclass(frozen=True, slots=True)
class Transition:
    """``trace.StateTransition``: ``resource`` is "Goroutine" or "Proc"."""

    resource: str
    id: int
    from_state: str
    to_state: str
    reason: str = ""
    stack_id: int = 0


@dataclass(frozen=True, slots=True)
class Range:
    """``trace.Range``: scope is "None", "Goroutine" or "Proc" (with ``scope_id``)."""

    name: str
    scope: str
    scope_id: int = -1


class StackResolver:
    """Turns a generation's stack IDs into model stacks, kept once each in :attr:`table`.

    Equal frames and equal stacks are shared across the whole trace: CPU samples with deep,
    varied call chains have tens of thousands of distinct stacks made of a few hundred
    distinct frames, and a new frame object per stack entry would cost more than the trace.
    Stacks are interned by their frames' indices, which hash without calling into Python."""

    def __init__(self) -> None:
        self._gen: Generation | None = None
        self._by_id: dict[int, int] = {}  # this generation's stack ID -> index in table
        self._frame_of_pc: dict[int, int] = {}  # this generation's PC -> index in _frames
        self._frame_index: dict[tuple[str, str, int], int] = {}
        self._frames: list[Frame] = []
        #: Interned stacks by their frame indices packed as 32-bit values: a bytes key hashes
        #: in C and takes half the memory of a tuple (tens of thousands, held to the end).
        self._stack_index: dict[bytes, int] = {b"": 0}
        #: The distinct stacks resolved so far; entry 0 is the empty stack.
        self.table: list[Stack] = [()]

    def index(self, gen: Generation, stack_id: int) -> int:
        """Index in :attr:`table` of the stack ``stack_id`` of ``gen``."""
        if gen is not self._gen:
            self._gen = gen
            self._by_id = {}
            self._frame_of_pc = {}
        got = self._by_id.get(stack_id)
        if got is None:
            got = self._by_id[stack_id] = self._intern(gen, stack_id)
        return got

    def resolve(self, gen: Generation, stack_id: int) -> Stack:
        return self.table[self.index(gen, stack_id)]

    def _intern(self, gen: Generation, stack_id: int) -> int:
        of_pc = self._frame_of_pc
        key = []
        for pc in gen.stacks.get(stack_id, ()):
            f = of_pc.get(pc)
            if f is None:
                func_id, file_id, line = gen.frames[pc]
                what = (gen.strings.get(func_id, ""), gen.strings.get(file_id, ""), line)
                f = self._frame_index.get(what)
                if f is None:
                    f = self._frame_index[what] = len(self._frames)
                    self._frames.append(Frame(*what))
                of_pc[pc] = f
            key.append(f)
        fkey = array("I", key).tobytes()
        got = self._stack_index.get(fkey)
        if got is None:
            got = self._stack_index[fkey] = len(self.table)
            frames = self._frames
            self.table.append(tuple([frames[f] for f in key]))
        return got


class Event:
    """A read-only view of one emitted event record."""

    __slots__ = ("_args", "_base", "code", "gen", "goroutine", "proc", "thread", "time")

    def __init__(self, rec: Record, gen: Generation) -> None:
        self.code, self.time, self.goroutine, self.proc, self.thread, self._args, self._base = rec
        self.gen = gen

    @property
    def kind(self) -> Kind:
        return KIND_OF_CODE[self.code]

    @property
    def name(self) -> str:
        """Wire event name (``GoBlock``...), ``Sync`` for sync points."""
        if self.code == SYNC:
            return "Sync"
        s = spec.spec_of(self.code)
        return s.name if s is not None else f"Invalid({self.code})"

    def arg(self, k: int) -> int:
        """The k-th argument after the timestamp."""
        return self._args[self._base + 2 + k]

    def _string(self, sid: int) -> str:
        return self.gen.strings.get(sid, "")

    def stack_id(self) -> int:
        """The stack of the event itself (0 for none), as ``Event.Stack`` picks it."""
        if self.code == SYNC:
            return 0
        if self.code == spec.EV_CPU_SAMPLE:
            return self.arg(0)
        s = spec.spec_of(self.code)
        if s is None or not s.stack_ids:
            return 0
        return self.arg(s.stack_ids[0] - 1)

    def metric(self) -> tuple[str, int]:
        return _METRIC_NAMES[self.code], self.arg(0)

    def label(self) -> str:
        return self._string(self.arg(0))

    def range(self) -> Range:
        code = self.code
        if code in (spec.EV_STW_BEGIN, spec.EV_STW_END):
            return Range(f"stop-the-world ({self._string(self.arg(0))})", "Goroutine", self.goroutine)
        name = _RANGE_NAMES[code]
        if code in (spec.EV_GC_BEGIN, spec.EV_GC_ACTIVE, spec.EV_GC_END):
            return Range(name, "None")
        if code in (spec.EV_GC_SWEEP_BEGIN, spec.EV_GC_SWEEP_ACTIVE, spec.EV_GC_SWEEP_END):
            return Range(name, "Proc", self.arg(0) if code == spec.EV_GC_SWEEP_ACTIVE else self.proc)
        return Range(name, "Goroutine", self.arg(0) if code == spec.EV_GC_MARK_ASSIST_ACTIVE else self.goroutine)

    def range_attributes(self) -> list[tuple[str, int]]:
        if self.code != spec.EV_GC_SWEEP_END:
            return []
        return [("bytes swept", self.arg(0)), ("bytes reclaimed", self.arg(1))]

    def task(self) -> tuple[int, int, str]:
        """(ID, parent ID, type) of a task begin or end."""
        if self.code == spec.EV_USER_TASK_BEGIN:
            return self.arg(0), self.arg(1), self._string(self.arg(2))
        return self.arg(0), self.arg(2), self.gen.extra_strings[self.arg(3)]

    def region(self) -> tuple[int, str]:
        """(task ID, type) of a region begin or end."""
        return self.arg(0), self._string(self.arg(1))

    def log(self) -> tuple[int, str, str]:
        """(task ID, category, message)."""
        return self.arg(0), self._string(self.arg(1)), self._string(self.arg(2))

    def state_transition(self) -> Transition:
        code, g = self.code, self.goroutine
        go, proc = GO_STATE_NAMES, PROC_STATE_NAMES
        if code == spec.EV_PROC_START:
            return Transition("Proc", self.arg(0), proc[PS_IDLE], proc[PS_RUNNING])
        if code == spec.EV_PROC_STOP:
            return Transition("Proc", self.proc, proc[PS_RUNNING], proc[PS_IDLE])
        if code == spec.EV_PROC_STEAL:
            before = PS_IDLE if self.arg(3) == spec.PROC_SYSCALL_ABANDONED else PS_RUNNING
            return Transition("Proc", self.arg(0), proc[before], proc[PS_IDLE])
        if code == spec.EV_PROC_STATUS:
            return Transition("Proc", self.arg(0), proc[self.arg(2)], proc[PROC_STATUS_TO_STATE[self.arg(1)]])
        if code in (spec.EV_GO_CREATE, spec.EV_GO_CREATE_BLOCKED):
            to = GS_WAITING if code == spec.EV_GO_CREATE_BLOCKED else GS_RUNNABLE
            return Transition("Goroutine", self.arg(0), go[GS_NOT_EXIST], go[to], stack_id=self.arg(1))
        if code == spec.EV_GO_CREATE_SYSCALL:
            return Transition("Goroutine", self.arg(0), go[GS_NOT_EXIST], go[GS_SYSCALL])
        if code == spec.EV_GO_START:
            return Transition("Goroutine", self.arg(0), go[GS_RUNNABLE], go[GS_RUNNING])
        if code == spec.EV_GO_DESTROY:
            return Transition("Goroutine", g, go[GS_RUNNING], go[GS_NOT_EXIST])
        if code == spec.EV_GO_DESTROY_SYSCALL:
            return Transition("Goroutine", g, go[GS_SYSCALL], go[GS_NOT_EXIST])
        if code in (spec.EV_GO_STOP, spec.EV_GO_BLOCK):
            to = GS_RUNNABLE if code == spec.EV_GO_STOP else GS_WAITING
            return Transition("Goroutine", g, go[GS_RUNNING], go[to], self._string(self.arg(0)), self.arg(1))
        if code in (spec.EV_GO_UNBLOCK, spec.EV_GO_SWITCH, spec.EV_GO_SWITCH_DESTROY):
            return Transition("Goroutine", self.arg(0), go[GS_WAITING], go[GS_RUNNABLE])
        if code == spec.EV_GO_SYSCALL_BEGIN:
            return Transition("Goroutine", g, go[GS_RUNNING], go[GS_SYSCALL], stack_id=self.arg(1))
        if code == spec.EV_GO_SYSCALL_END:
            return Transition("Goroutine", g, go[GS_SYSCALL], go[GS_RUNNING])
        if code == spec.EV_GO_SYSCALL_END_BLOCKED:
            return Transition("Goroutine", g, go[GS_SYSCALL], go[GS_RUNNABLE])
        if code in (spec.EV_GO_STATUS, spec.EV_GO_STATUS_STACK):
            packed = self.arg(2)
            return Transition("Goroutine", self.arg(0), go[packed >> 32],
                              go[GO_STATUS_TO_STATE[packed & 0xFFFFFFFF]], stack_id=self.arg(3))
        raise ValueError(f"not a state transition: {self.name}")

    def experimental(self) -> tuple[str, list[tuple[str, int]]]:
        s = spec.spec_of(self.code)
        assert s is not None
        return s.name, [(a, self.arg(k)) for k, a in enumerate(s.args[1:])]

    def sync_n(self) -> int:
        return self.arg(0)

    def line(self) -> str:
        """The first line of Go's ``Event.String()`` (what ``go tool trace -d=parsed``
        prints before any stack)."""
        kind = self.kind
        head = f"M={self.thread} P={self.proc} G={self.goroutine} {kind.name} Time={self.time}"
        if kind == Kind.Metric:
            name, value = self.metric()
            return f"{head} Name={_quote(name)} Value=Value{{Uint64({value})}}"
        if kind == Kind.Label:
            return f"{head} Label={_quote(self.label())} Resource=Goroutine({self.goroutine})"
        if kind in (Kind.RangeBegin, Kind.RangeActive, Kind.RangeEnd):
            r = self.range()
            scope = r.scope if r.scope == "None" else f"{r.scope}({r.scope_id})"
            text = f"{head} Name={_quote(r.name)} Scope={scope}"
            if kind == Kind.RangeEnd:
                attrs = " ".join(f"{_quote(n)}=Value{{Uint64({v})}}" for n, v in self.range_attributes())
                text += f" Attributes=[{attrs}]"
            return text
        if kind in (Kind.TaskBegin, Kind.TaskEnd):
            tid, parent, typ = self.task()
            return f"{head} ID={tid} Parent={parent} Type={_quote(typ)}"
        if kind in (Kind.RegionBegin, Kind.RegionEnd):
            task, typ = self.region()
            return f"{head} Task={task} Type={_quote(typ)}"
        if kind == Kind.Log:
            task, cat, msg = self.log()
            return f"{head} Task={task} Category={_quote(cat)} Message={_quote(msg)}"
        if kind == Kind.StateTransition:
            s = self.state_transition()
            what = "GoID" if s.resource == "Goroutine" else "ProcID"
            return f"{head} {what}={s.id} {s.from_state}->{s.to_state} Reason={_quote(s.reason)}"
        if kind == Kind.Experimental:
            name, args = self.experimental()
            return f"{head} Name={name} Args=[{', '.join(f'{a}=Value{{Uint64({v})}}' for a, v in args)}]"
        if kind == Kind.Sync:
            text = f"{head} N={self.sync_n()}"
            clock = self.gen.clock if self.gen is not None and self._base == -2 and len(self._args) > 1 else None
            if clock is not None:
                wall = datetime.datetime.fromtimestamp(clock.wall_sec, datetime.UTC)
                frac = f"{clock.wall_nsec:09d}".rstrip("0")
                stamp = wall.strftime("%Y-%m-%dT%H:%M:%S") + (f".{frac}" if frac else "") + "Z"
                text += f" Trace={self.gen.ns(clock.trace_ticks)} Mono={clock.mono_ns} Wall={stamp}"
            return text
        return head


def _quote(s: str) -> str:
    """Go's ``%q`` for the strings traces hold (printable text)."""
    out = ['"']
    for ch in s:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ch.isprintable():
            out.append(ch)
        elif ord(ch) < 0x10000:
            out.append(f"\\x{ord(ch):02x}" if ord(ch) < 0x80 else f"\\u{ord(ch):04x}")
        else:
            out.append(f"\\U{ord(ch):08x}")
    out.append('"')
    return "".join(out)
