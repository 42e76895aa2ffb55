"""Builds the analysis model (:class:`~mapdoctor.model.trace.ExecutionTrace`) from the
ordered event stream: GC cycles, stop-the-world pauses, mark assists, CPU samples,
scheduling latency, user tasks/regions/logs and metrics.

This sink sees every event, so it works on raw records and keeps per-event work to
a table lookup plus, for the few kinds it keeps, an append to a columnar array.
"""

from __future__ import annotations

from collections import Counter
from operator import itemgetter

from mapdoctor.formats.trace import spec
from mapdoctor.formats.trace.events import KIND_OF_CODE, Event, Kind, StackResolver
from mapdoctor.formats.trace.generations import Generation
from mapdoctor.formats.trace.reader import ReadOutcome
from mapdoctor.formats.trace.states import SYNC, Record
from mapdoctor.model.stack import Stack
from mapdoctor.model.trace import (
    METRIC_GOMAXPROCS,
    METRIC_HEAP_GOAL,
    METRIC_HEAP_OBJECTS,
    ExecutionTrace,
    GCCycle,
    MarkAssist,
    MetricSeries,
    StateTransition,
    STWPause,
    UserLog,
    UserRegion,
    UserTask,
)

# What the builder does with each event code (0: count it only). Scheduling latency
# comes from the ordering, which tracks each goroutine's state anyway.
(_SKIP, _BLOCK, _METRIC, _STW_BEGIN, _STW_END, _GC_BEGIN, _GC_ACTIVE, _GC_END, _ASSIST_BEGIN, _ASSIST_ACTIVE,
 _ASSIST_END, _SAMPLE, _TASK_BEGIN, _TASK_END, _REGION_BEGIN, _REGION_END, _LOG, _SYNC) = range(18)

_ACTION = [_SKIP] * (SYNC + 1)
for _code, _act in {
    spec.EV_GO_BLOCK: _BLOCK,
    spec.EV_HEAP_ALLOC: _METRIC,
    spec.EV_HEAP_GOAL: _METRIC,
    spec.EV_PROCS_CHANGE: _METRIC,
    spec.EV_STW_BEGIN: _STW_BEGIN,
    spec.EV_STW_END: _STW_END,
    spec.EV_GC_BEGIN: _GC_BEGIN,
    spec.EV_GC_ACTIVE: _GC_ACTIVE,
    spec.EV_GC_END: _GC_END,
    spec.EV_GC_MARK_ASSIST_BEGIN: _ASSIST_BEGIN,
    spec.EV_GC_MARK_ASSIST_ACTIVE: _ASSIST_ACTIVE,
    spec.EV_GC_MARK_ASSIST_END: _ASSIST_END,
    spec.EV_CPU_SAMPLE: _SAMPLE,
    spec.EV_USER_TASK_BEGIN: _TASK_BEGIN,
    spec.EV_USER_TASK_END: _TASK_END,
    spec.EV_USER_REGION_BEGIN: _REGION_BEGIN,
    spec.EV_USER_REGION_END: _REGION_END,
    spec.EV_USER_LOG: _LOG,
    SYNC: _SYNC,
}.items():
    _ACTION[_code] = _act
_ACTIONS = tuple(_ACTION)

_first = itemgetter(0)

_METRIC_OF_CODE = {
    spec.EV_HEAP_ALLOC: METRIC_HEAP_OBJECTS,
    spec.EV_HEAP_GOAL: METRIC_HEAP_GOAL,
    spec.EV_PROCS_CHANGE: METRIC_GOMAXPROCS,
}


class TraceBuilder:
    """An event sink that accumulates the :class:`ExecutionTrace` model."""

    def __init__(self, *, keep_transitions: bool = False) -> None:
        self.trace = ExecutionTrace(format_version=0)
        if keep_transitions:
            self.trace.transitions = []
        self._gen: Generation | None = None
        self._stacks = StackResolver()
        self.trace.cpu_samples.stacks = self._stacks.table
        self._code_counts: Counter[int] = Counter()
        self._block_by_id: dict[int, int] = {}
        self._metrics = {code: MetricSeries(name) for code, name in _METRIC_OF_CODE.items()}
        self._gc_open: tuple[int, int | None, Stack] | None = None
        self._stw_open: dict[int, tuple[str, int, Stack]] = {}
        self._assist_open: dict[int, tuple[int | None, Stack]] = {}
        self._tasks: dict[int, UserTask] = {}
        self._regions_open: dict[int, list[UserRegion]] = {}
        self._last_time = 0

    # -- EventSink --------------------------------------------------------------------

    def begin_generation(self, gen: Generation) -> None:
        self._flush_block_reasons()
        self._gen = gen

    def consume(self, records: list[Record]) -> None:
        gen = self._gen
        assert gen is not None
        actions = _ACTIONS
        blocks = self._block_by_id
        self._code_counts.update(map(_first, records))
        for rec in records:
            code, t, _, _, _, a, b = rec
            act = actions[code]
            if act == _SKIP:
                pass
            elif act == _BLOCK:
                reason = a[b + 2]
                blocks[reason] = blocks.get(reason, 0) + 1
            elif act == _METRIC:
                series = self._metrics[code]
                series.time_ns.append(t)
                series.value.append(a[b + 2])
            else:
                self._rare(gen, rec, act)
        transitions = self.trace.transitions
        if transitions is not None:
            for rec in records:
                if KIND_OF_CODE[rec[0]] == Kind.StateTransition:
                    self._transition(gen, rec, transitions)
        if records:
            self._last_time = records[-1][1]

    def finish(self) -> None:
        self._flush_block_reasons()

    # -- rarer events ------------------------------------------------------------------

    def _rare(self, gen: Generation, rec: Record, act: int) -> None:
        _, t, g, p, m, a, b = rec
        tr = self.trace
        if act == _SYNC:
            if tr.start_ns == 0:
                tr.start_ns = t
        elif act == _SAMPLE:
            tr.cpu_samples.add(t, g, m, p, self._stacks.index(gen, a[b + 2]) if a[b + 2] else 0)
        elif act == _STW_BEGIN:
            self._stw_open[g] = (gen.strings.get(a[b + 2], ""), t, self._stack(gen, a[b + 3]))
        elif act == _STW_END:
            opened = self._stw_open.pop(g, None)
            if opened is not None:
                reason, start, stack = opened
                tr.stw_pauses.append(STWPause(reason, start, t, g, stack))
        elif act == _GC_BEGIN:
            self._gc_open = (a[b + 2], t, self._stack(gen, a[b + 3]))
        elif act == _GC_ACTIVE:
            self._gc_open = (a[b + 2], None, ())
        elif act == _GC_END:
            if self._gc_open is not None:
                seq, gc_start, gc_stack = self._gc_open
                tr.gc_cycles.append(GCCycle(seq, gc_start, t, gc_stack))
            else:
                tr.gc_cycles.append(GCCycle(a[b + 2] - 1, None, t))
            self._gc_open = None
        elif act == _ASSIST_BEGIN:
            self._assist_open[g] = (t, self._stack(gen, a[b + 2]))
        elif act == _ASSIST_ACTIVE:
            self._assist_open.setdefault(a[b + 2], (None, ()))
        elif act == _ASSIST_END:
            start_stack = self._assist_open.pop(g, None)
            if start_stack is not None:
                tr.mark_assists.append(MarkAssist(g, start_stack[0], t, start_stack[1]))
        elif act in (_TASK_BEGIN, _TASK_END, _REGION_BEGIN, _REGION_END, _LOG):
            self._annotation(gen, rec, act)

    def _annotation(self, gen: Generation, rec: Record, act: int) -> None:
        ev = Event(rec, gen)
        tr = self.trace
        if act == _TASK_BEGIN:
            tid, parent, name = ev.task()
            task = UserTask(tid, name, parent, ev.time, None, ev.goroutine)
            self._tasks[tid] = task
            tr.tasks.append(task)
        elif act == _TASK_END:
            tid = ev.arg(0)
            found = self._tasks.pop(tid, None)
            if found is None:
                _, parent, name = ev.task()
                tr.tasks.append(UserTask(tid, name, parent, None, ev.time, ev.goroutine))
            else:
                found.end_ns = ev.time
        elif act == _REGION_BEGIN:
            task_id, name = ev.region()
            region = UserRegion(name, task_id, ev.goroutine, ev.time)
            self._regions_open.setdefault(ev.goroutine, []).append(region)
            tr.regions.append(region)
        elif act == _REGION_END:
            task_id, name = ev.region()
            stack = self._regions_open.get(ev.goroutine)
            if stack and stack[-1].name == name and stack[-1].task == task_id:
                stack.pop().end_ns = ev.time
            else:
                tr.regions.append(UserRegion(name, task_id, ev.goroutine, None, ev.time))
        else:
            task_id, category, message = ev.log()
            tr.logs.append(UserLog(ev.time, task_id, ev.goroutine, category, message))

    def _transition(self, gen: Generation, rec: Record, out: list[StateTransition]) -> None:
        s = Event(rec, gen).state_transition()
        if s.resource == "Goroutine":
            out.append(StateTransition(rec[1], s.id, s.from_state, s.to_state, s.reason,
                                       self._stack(gen, s.stack_id)))

    def _stack(self, gen: Generation, stack_id: int) -> Stack:
        return self._stacks.resolve(gen, stack_id) if stack_id else ()

    def _flush_block_reasons(self) -> None:
        if self._gen is None or not self._block_by_id:
            return
        strings = self._gen.strings
        reasons = self.trace.block_reasons
        for sid, n in self._block_by_id.items():
            reason = strings.get(sid, "")
            reasons[reason] = reasons.get(reason, 0) + n
        self._block_by_id.clear()

    # -- result ------------------------------------------------------------------------

    def result(self, outcome: ReadOutcome) -> ExecutionTrace:
        tr = self.trace
        tr.format_version = outcome.version
        tr.generations = outcome.generations
        tr.partial = outcome.partial
        tr.notes.extend(outcome.notes)
        tr.end_ns = self._last_time
        order = outcome.ordering
        tr.sched_waits = order.waits
        tr.segments = order.acct.flush()
        for reason, n in order.block_reasons.items():
            tr.block_reasons[reason] = tr.block_reasons.get(reason, 0) + n
        for code, n in enumerate(order.quiet_counts):
            if n:
                self._code_counts[code] += n
        if self._gc_open is not None:
            seq, start, stack = self._gc_open
            tr.gc_cycles.append(GCCycle(seq, start, None, stack))
        for g, (reason, start, stack) in self._stw_open.items():
            tr.stw_pauses.append(STWPause(reason, start, None, g, stack))
        for g, (start_ns, stack) in self._assist_open.items():
            tr.mark_assists.append(MarkAssist(g, start_ns, None, stack))
        tr.stw_pauses.sort(key=lambda s: s.start_ns)
        tr.mark_assists.sort(key=lambda a: a.start_ns if a.start_ns is not None else -1)
        tr.metrics = {s.name: s for s in self._metrics.values() if len(s)}
        counts: dict[str, int] = {}
        for code, n in sorted(self._code_counts.items()):
            if n:
                name = KIND_OF_CODE[code].name
                counts[name] = counts.get(name, 0) + n
        tr.event_counts = counts
        return tr
