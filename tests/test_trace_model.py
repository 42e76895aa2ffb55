"""What the analysis gets from real traces of the generator program (tests/fixtures/trace/gen):
GC cycles, stop-the-world reasons, mark assists, CPU samples with stacks, scheduling
latency, user tasks/regions/logs and metrics, for both trace formats."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import pytest

from mapdoctor.formats.trace import parse_trace
from mapdoctor.formats.trace.dump import LineSink
from mapdoctor.formats.trace.events import Event, Kind
from mapdoctor.formats.trace.generations import Generation
from mapdoctor.formats.trace.reader import read_trace
from mapdoctor.formats.trace.states import Record
from mapdoctor.model.trace import (
    METRIC_GOMAXPROCS,
    METRIC_HEAP_GOAL,
    METRIC_HEAP_OBJECTS,
    NO_TASK,
    ExecutionTrace,
)

TRACE_DIR = Path(__file__).parent / "fixtures" / "trace"
TRACES = [TRACE_DIR / "go1.23.trace", TRACE_DIR / "go1.27.trace"]


@pytest.fixture(scope="module", params=TRACES, ids=lambda p: p.name)
def trace(request: pytest.FixtureRequest) -> ExecutionTrace:
    path: Path = request.param
    return parse_trace(path.read_bytes(), str(path))


def test_overview(trace: ExecutionTrace) -> None:
    assert trace.format_version in (23, 26)
    assert trace.generations >= 3
    assert not trace.partial and not trace.notes
    assert 2e9 < trace.duration_ns < 4e9  # the generator ran 2.2 s
    assert trace.event_counts["Sync"] == trace.generations + 1


def test_gc_cycles(trace: ExecutionTrace) -> None:
    assert len(trace.gc_cycles) >= 3  # the generator forces GCs and allocates a lot
    seqs = [c.seq for c in trace.gc_cycles]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    for c in trace.gc_cycles:
        if c.start_ns is not None and c.end_ns is not None:
            assert trace.start_ns <= c.start_ns < c.end_ns <= trace.end_ns
            assert c.duration_ns is not None and c.duration_ns > 0


def test_stop_the_world_reasons(trace: ExecutionTrace) -> None:
    reasons = {p.reason for p in trace.stw_pauses}
    # runtime.GC, runtime.ReadMemStats, a goroutine profile and trace.Start all stop the world.
    assert {"GC mark termination", "GC sweep termination", "read mem stats", "goroutine profile",
            "start trace"} <= reasons
    for p in trace.stw_pauses:
        assert p.end_ns is not None and p.duration_ns is not None and p.duration_ns > 0
        assert p.goroutine > 0
        assert p.stack and all(f.function for f in p.stack)
    read_mem = [p for p in trace.stw_pauses if p.reason == "read mem stats"]
    assert any(f.function == "runtime.ReadMemStats" for f in read_mem[0].stack)


def test_mark_assists(trace: ExecutionTrace) -> None:
    assert trace.mark_assists
    closed = [a for a in trace.mark_assists if a.duration_ns is not None]
    assert closed and all(a.duration_ns is not None and a.duration_ns >= 0 for a in closed)
    # Assists happen on allocation: their stacks lead back to the allocating code.
    with_stack = [a for a in trace.mark_assists if a.stack]
    assert with_stack
    assert any(f.function.startswith("runtime.mallocgc") for a in with_stack for f in a.stack)


def test_cpu_samples(trace: ExecutionTrace) -> None:
    assert trace.cpu_samples
    times = [s.time_ns for s in trace.cpu_samples]
    assert times == sorted(times)
    assert all(s.stack for s in trace.cpu_samples)
    # Leaf first: the last frame is the root of the goroutine (or the runtime's entry).
    main_samples = [s for s in trace.cpu_samples if any(f.function.startswith("main.") for f in s.stack)]
    assert main_samples
    for s in main_samples:
        names = [f.function for f in s.stack]
        assert names[-1] in ("runtime.goexit", "runtime.main")
        assert names[0] != "runtime.goexit"
        assert all(f.file and f.line > 0 for f in s.stack)
        assert s.goroutine > 0


def test_cpu_samples_share_stacks_and_frames(trace: ExecutionTrace) -> None:
    """Samples are columns over one table of distinct stacks, made of shared frames: equal
    stacks (across generations too) and equal frames are one object each."""
    samples = trace.cpu_samples
    assert trace.generations >= 3 and len(samples.stack) == len(samples) == len(samples.time_ns)
    stacks = list(samples)
    by_value = {s.stack: s.stack for s in stacks}
    assert all(s.stack is by_value[s.stack] for s in stacks)
    assert len(samples.stacks) == len(set(samples.stacks))
    frames = [f for st in samples.stacks for f in st]
    assert len({id(f) for f in frames}) == len(set(frames)) < len(frames)
    assert samples[0] == stacks[0] and samples[-1] == stacks[-1] and samples[:2] == stacks[:2]


def test_scheduling_latency(trace: ExecutionTrace) -> None:
    waits = trace.sched_waits
    assert len(waits) > 100
    assert len(waits.start_ns) == len(waits.wait_ns)
    assert min(waits.wait_ns) >= 0
    assert list(waits.start_ns) == sorted(waits.start_ns)
    assert trace.block_reasons["chan receive"] > 10
    assert "sleep" in trace.block_reasons


def test_tasks_regions_logs(trace: ExecutionTrace) -> None:
    requests = [t for t in trace.tasks if t.name == "request"]
    assert len(requests) > 20
    done = [t for t in requests if t.duration_ns is not None]
    assert len(done) >= len(requests) - 8  # a few may straddle the trace start or end
    assert all(t.parent == NO_TASK for t in requests)
    names = {r.name for r in trace.regions}
    assert {"grow-map", "shared-table", "sleep"} <= names
    for r in trace.regions:
        if r.start_ns is not None and r.end_ns is not None:
            assert r.end_ns >= r.start_ns
        assert r.task in {t.id for t in trace.tasks} or r.task == 0
    assert trace.logs and all(log.category == "request" and log.message.startswith("id=") for log in trace.logs)


def test_metrics(trace: ExecutionTrace) -> None:
    gomaxprocs = trace.metric(METRIC_GOMAXPROCS)
    assert len(gomaxprocs) >= 1 and all(v >= 1 for v in gomaxprocs.value)
    goal = trace.metric(METRIC_HEAP_GOAL)
    heap = trace.metric(METRIC_HEAP_OBJECTS)
    assert len(goal) > 3 and len(heap) > 100
    assert min(goal.value) >= 4 << 20  # the heap goal never goes below GOGC's 4 MB floor
    assert list(heap.time_ns) == sorted(heap.time_ns)
    assert len(trace.metric("/no/such:metric")) == 0


@pytest.mark.parametrize("path", TRACES, ids=lambda p: p.name)
def test_quiet_mode_gives_the_same_model(path: Path) -> None:
    data = path.read_bytes()
    quick = parse_trace(data, str(path))
    full = parse_trace(data, str(path), keep_transitions=True)
    assert quick.transitions is None
    assert full.transitions is not None and len(full.transitions) > 1000
    assert quick.event_counts == full.event_counts
    assert quick.block_reasons == full.block_reasons
    assert list(quick.sched_waits.wait_ns) == list(full.sched_waits.wait_ns)
    assert list(quick.sched_waits.start_ns) == list(full.sched_waits.start_ns)
    assert quick.stw_pauses == full.stw_pauses and quick.gc_cycles == full.gc_cycles
    starts = [s for s in full.transitions if s.from_state == "Runnable" and s.to_state == "Running"]
    assert len(starts) >= len(full.sched_waits)
    blocked = [s for s in full.transitions if s.to_state == "Waiting" and s.from_state == "Running"]
    assert {s.reason for s in blocked} == set(full.block_reasons)


class _Collect:
    def __init__(self) -> None:
        self.events: list[Event] = []
        self._gen: Generation | None = None

    def begin_generation(self, gen: Generation) -> None:
        self._gen = gen

    def consume(self, records: list[Record]) -> None:
        assert self._gen is not None
        self.events.extend(Event(r, self._gen) for r in records)

    def finish(self) -> None:
        pass


def test_event_views() -> None:
    sink = _Collect()
    read_trace((TRACE_DIR / "go1.27.trace").read_bytes(), sink)
    events = sink.events
    assert events[0].kind == Kind.Sync and events[-1].kind == Kind.Sync
    times = [e.time for e in events]
    assert all(a < b for a, b in pairwise(times))  # strictly increasing, as in Go
    kinds = {e.kind for e in events}
    assert {Kind.StateTransition, Kind.RangeBegin, Kind.RangeEnd, Kind.Metric, Kind.StackSample,
            Kind.TaskBegin, Kind.RegionBegin, Kind.Log, Kind.Label} <= kinds
    blocks = [e for e in events if e.name == "GoBlock"]
    st = blocks[0].state_transition()
    assert (st.resource, st.from_state, st.to_state) == ("Goroutine", "Running", "Waiting")
    assert st.id == blocks[0].goroutine and st.reason
    ranges = {e.range().name for e in events if e.kind == Kind.RangeBegin}
    assert "GC concurrent mark phase" in ranges and "stop-the-world (read mem stats)" in ranges
    labels = {e.label() for e in events if e.kind == Kind.Label}
    assert any(label.startswith("GC (") for label in labels)


def test_line_sink_matches_go_format() -> None:
    lines: list[str] = []
    read_trace((TRACE_DIR / "go1.23-tiny.trace").read_bytes(), LineSink(lines.append))
    assert lines[0].startswith("M=-1 P=-1 G=-1 Sync Time=")
    assert any(" Name=\"/gc/heap/goal:bytes\" Value=Value{Uint64(" in line for line in lines)
    assert any("Reason=\"chan receive\"" in line for line in lines)
