"""Fetch every part of the plan concurrently, within one window, into a folder.

Each part runs in its own thread with its own deadline, so a part that fails (or a
server that stalls on one endpoint) never holds the others back; the main thread only
schedules, shows progress and records results.
"""

from __future__ import annotations

import io
import queue
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from mapdoctor.collect.fetch import Aborter, FetchError, fetch
from mapdoctor.collect.index import GoVersionHint, parse_index, trace_format, version_hint
from mapdoctor.collect.plan import (
    DEFAULT_DURATION_S,
    MAX_GOROUTINES_FOR_DUMP,
    PartSpec,
    goroutine_dump_part,
    plan,
    trace_seconds_for,
)
from mapdoctor.collect.progress import NullProgress, Progress
from mapdoctor.collect.sniff import BodyError, check_body
from mapdoctor.collect.target import Target
from mapdoctor.errors import InputError

OK = "ok"
FAILED = "failed"
SKIPPED = "skipped"

_TICK_S = 0.2


@dataclass(slots=True)
class PartResult:
    spec: PartSpec
    status: str  # OK | FAILED | SKIPPED
    path: Path | None = None
    size: int = 0
    http_status: int | None = None
    started_s: float = 0.0  # after the collection started
    elapsed_s: float = 0.0
    error: str | None = None

    @property
    def is_evidence(self) -> bool:
        return self.spec.filename is not None


@dataclass(slots=True)
class Collection:
    target: Target
    started_at: datetime
    duration_s: int
    trace_s: float
    parts: list[PartResult] = field(default_factory=list)
    elapsed_s: float = 0.0
    index: dict[str, int] | None = None
    goroutine_count: int | None = None
    go_hint: GoVersionHint | None = None

    def evidence(self) -> list[PartResult]:
        return [p for p in self.parts if p.status == OK and p.path is not None]

    def part(self, name: str) -> PartResult | None:
        return next((p for p in self.parts if p.spec.name == name), None)

    def notes(self) -> list[str]:
        """Caveats for the analysis: what is missing and why."""
        out = []
        index = self.part("index")
        if index is not None and index.status != OK:
            # Not evidence itself, but the goroutine count and the Go version hint come from it.
            out.append(f"{index.spec.label} (/debug/pprof/) not collected: {index.error}; "
                       "the goroutine count comes from the goroutine profile alone")
        for p in self.parts:
            if not p.is_evidence or p.status == OK:
                continue
            verb = "skipped" if p.status == SKIPPED else "not collected"
            out.append(f"{p.spec.label} ({p.spec.request}) {verb}: {p.error}")
        if self.go_hint is not None:
            out.append(f"Go version not exposed over HTTP; {self.go_hint.releases} "
                       f"(from the {self.go_hint.evidence})")
        return out

    def incomplete(self) -> bool:
        """Whether any part failed, the index page included."""
        return any(p.status != OK for p in self.parts if p.is_evidence or p.spec.name == "index")

    def failure_reason(self) -> str:
        """One line for when nothing usable was collected."""
        failed = [p for p in self.parts if p.is_evidence and p.status == FAILED and p.error]
        if not failed:
            return "nothing collected"
        reasons = Counter(p.error for p in failed)
        reason, count = reasons.most_common(1)[0]
        if count == len(failed):
            return reason or "nothing collected"
        cpu = self.part("cpu")
        if cpu is not None and cpu.error:
            return f"{cpu.error} (and {len(failed) - 1} other parts failed)"
        return f"{reason} (and {len(failed) - count} other parts failed)"


def collect(
    target: Target,
    out_dir: Path,
    *,
    duration_s: int = DEFAULT_DURATION_S,
    trace_s: float | None = None,
    progress: Progress | None = None,
    max_goroutines_for_dump: int = MAX_GOROUTINES_FOR_DUMP,
    on_evidence: Callable[[PartResult], None] | None = None,
    parts: Callable[[list[PartSpec]], list[PartSpec]] | None = None,
) -> Collection:
    """Collect everything from ``target`` into ``out_dir`` (which must exist).

    ``on_evidence`` is called (from the calling thread) with each part saved, as soon as
    it is: decoding can start while the window still runs. ``parts`` may rewrite the plan
    (e.g. take the trace from the service's flight recorder, ``collect.flight``).
    """
    run = _Run(target, out_dir, duration_s,
               trace_s if trace_s is not None else trace_seconds_for(duration_s),
               progress or NullProgress(), max_goroutines_for_dump, on_evidence)
    run.rewrite_plan = parts
    return run.run()


class _Run:
    def __init__(self, target: Target, out_dir: Path, duration_s: int, trace_s: float,
                 progress: Progress, max_goroutines: int,
                 on_evidence: Callable[[PartResult], None] | None) -> None:
        self.target = target
        self.on_evidence = on_evidence
        self.out_dir = out_dir
        self.progress = progress
        self.max_goroutines = max_goroutines
        self.aborter = Aborter()
        self.results: queue.Queue[PartResult] = queue.Queue()
        self.coll = Collection(target, datetime.now(UTC), duration_s, trace_s)
        self.index_html = ""
        self.t0 = 0.0
        self.running: dict[str, PartSpec] = {}
        self.dump_decided = False
        self.rewrite_plan: Callable[[list[PartSpec]], list[PartSpec]] | None = None

    def run(self) -> Collection:
        specs = plan(self.coll.duration_s, self.coll.trace_s)
        if self.rewrite_plan is not None:
            specs = self.rewrite_plan(specs)
        self.progress.start(self.target.display, self.coll.duration_s, specs)
        self.t0 = time.monotonic()
        try:
            for spec in specs:
                self._start(spec)
            while self.running:
                try:
                    result = self.results.get(timeout=_TICK_S)
                except queue.Empty:
                    self._tick()
                    continue
                self._record(result)
                self._maybe_start_dump()
        except BaseException:
            # Ctrl-C (or anything else): every request in flight is cut now, not at its deadline.
            self.aborter.abort_all()
            self.progress.stop()
            raise
        self.coll.elapsed_s = time.monotonic() - self.t0
        order = {s.name: i for i, s in enumerate(specs)}
        self.coll.parts.sort(key=lambda p: order.get(p.spec.name, len(order)))
        trace = self.coll.part("trace")
        minor = trace_format(trace.path) if trace is not None and trace.path is not None else None
        self.coll.go_hint = version_hint(self.coll.index, minor)
        self.progress.finish(self.coll)
        return self.coll

    # -- scheduling ---------------------------------------------------------------------

    def _start(self, spec: PartSpec) -> None:
        self.running[spec.name] = spec
        worker = threading.Thread(target=self._worker, args=(spec,), name=f"collect-{spec.name}",
                                  daemon=True)
        worker.start()

    def _tick(self) -> None:
        now = time.monotonic() - self.t0
        active = [s.name for s in self.running.values() if s.start_after_s <= now]
        self.progress.tick(active, max(0.0, self.coll.duration_s - now))
        self._maybe_start_dump()

    def _record(self, result: PartResult) -> None:
        self.running.pop(result.spec.name, None)
        if result.spec.name == "index" and result.status == OK:
            self.coll.index = parse_index(self.index_html)
        if result.spec.name == "goroutine" and result.path is not None:
            self.coll.goroutine_count = _goroutine_count(result.path)
        self.coll.parts.append(result)
        self.progress.part_done(result)
        if self.on_evidence is not None and result.status == OK and result.path is not None:
            self.on_evidence(result)

    def _maybe_start_dump(self) -> None:
        """Start ``goroutine?debug=2`` once its count is known and the trace is over.

        The dump stops the world; taking it after the trace keeps that pause out of the
        trace, where it would look like a latency spike of the service's own.
        """
        if self.dump_decided:
            return
        spec = goroutine_dump_part()
        count = self.coll.goroutine_count
        if count is None and self.coll.index is not None:
            count = self.coll.index.get("goroutine")
        if count is None and ("goroutine" in self.running or "index" in self.running):
            return
        if count is None:
            self._skip(spec, "goroutine count unknown (the goroutine profile could not be read), "
                             "and the dump stops the world")
            return
        if count >= self.max_goroutines:
            self._skip(spec, f"{count} goroutines (limit {self.max_goroutines}): "
                             "the dump would stop the world for too long")
            return
        window_over = time.monotonic() - self.t0 >= self.coll.duration_s
        if "trace" in self.running and not window_over:
            return
        self.dump_decided = True
        self._start(spec)

    def _skip(self, spec: PartSpec, why: str) -> None:
        self.dump_decided = True
        result = PartResult(spec, SKIPPED, error=why, started_s=time.monotonic() - self.t0)
        self.coll.parts.append(result)
        self.progress.part_done(result)

    # -- one part, in its own thread ---------------------------------------------------------

    def _worker(self, spec: PartSpec) -> None:
        try:
            result = self._fetch_part(spec)
        except Exception as exc:  # a bug must not leave the main loop waiting forever
            result = PartResult(spec, FAILED, error=f"internal error: {exc!r}")
        self.results.put(result)

    def _fetch_part(self, spec: PartSpec) -> PartResult:
        delay = self.t0 + spec.start_after_s - time.monotonic()
        if delay > 0 and self.aborter.aborted.wait(delay):
            return PartResult(spec, SKIPPED, error="interrupted")
        started = time.monotonic()
        result = PartResult(spec, FAILED, started_s=started - self.t0)
        path = self.target.request_path(spec.endpoint, spec.query)
        try:
            if spec.filename is None:
                buf = io.BytesIO()
                got = fetch(self.target, path, buf, timeout_s=spec.timeout_s, max_bytes=spec.max_bytes,
                            aborter=self.aborter)
                self.index_html = buf.getvalue().decode("utf-8", errors="replace")
            else:
                dest = self.out_dir / spec.filename
                try:
                    with dest.open("wb") as fh:
                        got = fetch(self.target, path, fh, timeout_s=spec.timeout_s,
                                    max_bytes=spec.max_bytes, aborter=self.aborter)
                    if spec.body is not None:
                        check_body(dest, spec.body, got.content_type)
                except BaseException:
                    dest.unlink(missing_ok=True)
                    raise
                result.path = dest
        except FetchError as exc:
            result.error, result.http_status = exc.reason, exc.http_status
        except BodyError as exc:
            result.error, result.http_status = str(exc), 200
        except OSError as exc:
            result.error = f"cannot write {spec.filename}: {exc.strerror or exc}"
        else:
            result.status, result.size, result.http_status = OK, got.size, got.http_status
        result.elapsed_s = time.monotonic() - started
        return result


def _goroutine_count(path: Path) -> int | None:
    """Total goroutines in a goroutine profile, or None when it cannot be read."""
    from mapdoctor.formats import pprof
    from mapdoctor.formats.limits import gunzip, is_gzip, read_file

    try:
        raw = read_file(path)
        data = gunzip(raw, str(path)) if is_gzip(raw) else raw
        prof = pprof.decode_profile(data, str(path))
    except InputError:
        return None
    return sum(s.values[0] for s in prof.samples if s.values)
