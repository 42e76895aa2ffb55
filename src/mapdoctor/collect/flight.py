"""The execution trace from the service's flight recorder, when it keeps one.

A Go >= 1.25 service that imports mapdoctor's ``flightrecorder`` package (in
``src/mapdoctor/go/flightrecorder``) keeps the last seconds of execution trace in memory
and serves them at ``<pprof prefix>flightrecorder``. A live trace starts when the
collection starts, after the spike was noticed; the recorder's snapshot, taken at the end
of the window, also covers the seconds *before* it. When the service has no recorder
(404, an older Go, the endpoint cut by a proxy) the plan keeps its live trace.
"""

from __future__ import annotations

import io
from collections.abc import Callable

from mapdoctor.collect.fetch import Aborter, FetchError, fetch
from mapdoctor.collect.plan import TRACE_MAX_BYTES, PartSpec
from mapdoctor.collect.sniff import BodyKind
from mapdoctor.collect.target import Target

ENDPOINT = "flightrecorder"
#: The probe is a few bytes of text; a service that takes longer has no usable recorder.
PROBE_TIMEOUT_S = 3.0
PROBE_MAX_BYTES = 4096
#: What the recorder says when it runs (``?debug=1``).
RUNNING_PREFIX = "flight recorder: running"
#: The snapshot is requested just before the window ends, so that it holds the whole window
#: (with the CPU profile's samples) and the seconds before it, but not the goroutine dump's
#: stop-the-world pause that follows the window.
SNAPSHOT_BEFORE_END_S = 0.1
#: A snapshot is written from memory at once; this is the time given to transfer it.
SNAPSHOT_SERVER_S = 2.0


def probe(target: Target, *, aborter: Aborter | None = None) -> str | None:
    """The recorder's description when the service runs one, else None (never raises)."""
    buf = io.BytesIO()
    try:
        fetch(target, target.request_path(ENDPOINT, {"debug": "1"}), buf, timeout_s=PROBE_TIMEOUT_S,
              max_bytes=PROBE_MAX_BYTES, aborter=aborter)
    except FetchError:
        return None
    text = buf.getvalue().decode("utf-8", errors="replace").strip()
    return text if text.startswith(RUNNING_PREFIX) else None


def snapshot_part(duration_s: int) -> PartSpec:
    return PartSpec("trace", "execution trace (flight recorder)", ENDPOINT, {}, "trace.out", BodyKind.TRACE,
                    SNAPSHOT_SERVER_S, max(0.0, duration_s - SNAPSHOT_BEFORE_END_S), TRACE_MAX_BYTES)


def use_flight_recorder(duration_s: int) -> Callable[[list[PartSpec]], list[PartSpec]]:
    """A plan rewrite (``collect(parts=...)``): the recorder's snapshot instead of the live trace."""

    def rewrite(specs: list[PartSpec]) -> list[PartSpec]:
        return [snapshot_part(duration_s) if s.name == "trace" else s for s in specs]

    return rewrite


def plan_rewrite_for(target: Target, duration_s: int) -> tuple[Callable[[list[PartSpec]], list[PartSpec]] | None,
                                                             str | None]:
    """Probe ``target``; the rewrite to pass to ``collect`` (None: live trace) and the recorder's line."""
    found = probe(target)
    return (use_flight_recorder(duration_s) if found else None), found
