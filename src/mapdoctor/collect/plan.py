"""What is fetched, when, and within which limits.

Everything windowed runs over the same interval, so the profiles describe the same
seconds of the service's life: the CPU profile and the delta profiles (allocations,
mutex, block) start together; the execution trace starts just after the CPU profile
so that it records CPU samples (the runtime adds them to a trace only while a CPU
profile runs) and ends before it. Snapshots (heap, goroutines) are taken at the start.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mapdoctor.collect.sniff import BodyKind

MIN_DURATION_S = 1
MAX_DURATION_S = 60
DEFAULT_DURATION_S = 5
#: The trace covers the whole window (less the CPU profile's head start and a short tail), so
#: that a latency spike anywhere in it is seen with its requests. Measured on the lab's HTTP
#: services (docs/REQUESTS.md): 80-110 KB of trace per second, decoded and analysed at about
#: 4 MB/s, so a 5 s window costs well under a second; Go's tracer itself costs the service
#: a few percent of CPU. Traces larger than TRACE_MAX_BYTES are refused.
DEFAULT_MAX_TRACE_S = float(MAX_DURATION_S)
#: Time given to the CPU profile to start on the server before the trace starts.
TRACE_DELAY_S = 0.3

PROFILE_MAX_BYTES = 64 << 20
TRACE_MAX_BYTES = 256 << 20
DUMP_MAX_BYTES = 64 << 20
INDEX_MAX_BYTES = 1 << 20

#: ``goroutine?debug=2`` stops the world while every stack is printed; above this many
#: goroutines that pause is itself a latency spike, so the dump is skipped.
MAX_GOROUTINES_FOR_DUMP = 10_000


def request_timeout(server_seconds: float) -> float:
    """Hard deadline of one request that the server takes ``server_seconds`` to answer."""
    return 1.5 * server_seconds + 5.0


@dataclass(frozen=True, slots=True)
class PartSpec:
    name: str  # short id: "cpu", "trace", ...
    label: str  # for people: "CPU profile"
    endpoint: str  # under the pprof prefix
    query: dict[str, str] = field(default_factory=dict)
    filename: str | None = None  # where it is saved; None: kept in memory, not evidence
    body: BodyKind | None = None
    server_seconds: float = 0.0
    start_after_s: float = 0.0
    max_bytes: int = PROFILE_MAX_BYTES

    @property
    def timeout_s(self) -> float:
        return request_timeout(self.server_seconds)

    @property
    def request(self) -> str:
        """Endpoint and our own query, as recorded (the user's query is never recorded)."""
        qs = "&".join(f"{k}={v}" for k, v in self.query.items())
        return self.endpoint + (f"?{qs}" if qs else "")


def trace_seconds_for(duration_s: int, max_trace_s: float = DEFAULT_MAX_TRACE_S) -> float:
    """The trace length: inside the CPU profile's window, at most ``max_trace_s``."""
    room = duration_s - TRACE_DELAY_S - 0.2
    return round(max(0.5, min(max_trace_s, room)), 1)


INDEX = PartSpec("index", "pprof index", "", max_bytes=INDEX_MAX_BYTES)


def goroutine_dump_part() -> PartSpec:
    return PartSpec("goroutines", "goroutine dump", "goroutine", {"debug": "2"}, "goroutine.txt",
                    BodyKind.GOROUTINE_TEXT, max_bytes=DUMP_MAX_BYTES)


def plan(duration_s: int, trace_s: float) -> list[PartSpec]:
    """The parts started unconditionally (the goroutine dump is decided later)."""
    n = str(duration_s)
    pprof = BodyKind.PPROF
    return [
        INDEX,
        PartSpec("goroutine", "goroutine profile", "goroutine", {}, "goroutine.pb.gz", pprof),
        PartSpec("heap", "heap profile", "heap", {}, "heap.pb.gz", pprof),
        PartSpec("cpu", "CPU profile", "profile", {"seconds": n}, "cpu.pb.gz", pprof, duration_s),
        PartSpec("allocs", "allocation profile", "allocs", {"seconds": n}, "allocs.pb.gz", pprof, duration_s),
        PartSpec("mutex", "mutex profile", "mutex", {"seconds": n}, "mutex.pb.gz", pprof, duration_s),
        PartSpec("block", "block profile", "block", {"seconds": n}, "block.pb.gz", pprof, duration_s),
        PartSpec("trace", "execution trace", "trace", {"seconds": f"{trace_s:g}"}, "trace.out",
                 BodyKind.TRACE, trace_s, TRACE_DELAY_S, TRACE_MAX_BYTES),
    ]


#: Every file a collection may write (an --out folder is cleaned of these before reuse).
EVIDENCE_FILES = frozenset(
    [p.filename for p in plan(1, 1.0) if p.filename] + [goroutine_dump_part().filename or ""]
) - {""}
