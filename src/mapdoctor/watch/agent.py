"""The agent: targets from discovery, light samples on a schedule, triggers, captures.

Threads: one scheduling loop (discovery, dispatch, the CPU budget), a pool of sampling
workers (``concurrency``: each holds one target's CPU profile request for the window),
``max_captures`` capture workers fed by a bounded queue, and the HTTP server. All state
shared between them is in :class:`TargetState` objects guarded by one lock; nothing
slow happens while it is held.
"""

from __future__ import annotations

import contextlib
import queue
import sys
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TextIO

from mapdoctor.analysis.snapshot import CpuSnapshot, cpu_snapshot
from mapdoctor.collect.fetch import Aborter
from mapdoctor.collect.sample import light_sample
from mapdoctor.errors import InputError
from mapdoctor.safetext import for_terminal
from mapdoctor.watch.alerts import Alert, match
from mapdoctor.watch.capture import CaptureResult, capture
from mapdoctor.watch.discovery import Discovery
from mapdoctor.watch.scheduler import DutyLog, Schedule
from mapdoctor.watch.store import BundleInfo, BundleStore
from mapdoctor.watch.targets import WatchTarget
from mapdoctor.watch.triggers import Baseline, Trigger, TriggerRules, evaluate

TICK_S = 0.25
DISCOVERY_EVERY_S = 2.0
CAPTURE_QUEUE = 64
RECENT_EVENTS = 200


@dataclass(frozen=True, slots=True)
class WatchConfig:
    interval_s: float = 60.0
    window_s: int = 5
    jitter: float = 0.1
    concurrency: int = 64
    budget: float = 0.10
    max_cpu: float = 0.5
    capture_s: int = 5
    cooldown_s: float = 600.0
    max_captures: int = 2
    flight_recorder: bool = True
    rules: TriggerRules = field(default_factory=TriggerRules)


@dataclass(slots=True)
class TargetState:
    wt: WatchTarget
    next_due: float
    duty: DutyLog
    baseline: Baseline
    busy: threading.Lock = field(default_factory=threading.Lock)
    sampling: bool = False
    capturing: bool = False
    queued: bool = False
    last: CpuSnapshot | None = None
    goroutines: int | None = None
    last_sample_at: float | None = None  # wall clock
    last_success_at: float | None = None
    last_error: str | None = None
    errors: Counter[str] = field(default_factory=Counter)
    samples_ok: int = 0
    cooldown_until: float = 0.0  # monotonic
    captures: Counter[str] = field(default_factory=Counter)
    last_capture: BundleInfo | None = None
    last_trigger: str | None = None


@dataclass(slots=True)
class Event:
    at: float  # wall clock
    target: str
    what: str


class Agent:
    def __init__(self, config: WatchConfig, discovery: Discovery, store: BundleStore, *,
                 log: TextIO | None = None) -> None:
        self.config = config
        self.discovery = discovery
        self.store = store
        self.schedule = Schedule(config.interval_s, config.window_s, config.budget, config.jitter, config.max_cpu)
        self.lock = threading.Lock()
        self.states: dict[str, TargetState] = {}
        self.events: deque[Event] = deque(maxlen=RECENT_EVENTS)
        self.counters: Counter[str] = Counter()  # agent-wide: "alerts:<result>", "bundle_errors:<reason>", ...
        self.schedule_lag_s = 0.0
        self.in_flight = 0
        self.started_at = time.time()
        self._log_stream = log if log is not None else sys.stderr
        self._stop = threading.Event()
        self._aborter = Aborter()
        self._captures: queue.Queue[tuple[WatchTarget, Trigger]] = queue.Queue(CAPTURE_QUEUE)
        self._pool = ThreadPoolExecutor(max_workers=config.concurrency, thread_name_prefix="sample")
        self._threads: list[threading.Thread] = []
        self._resumed: list[dict[str, Any]] = []
        self._next_discovery = 0.0
        self.ready = threading.Event()  # set after the first discovery
        self.on_capture: Callable[[CaptureResult], None] | None = None

    # -- life cycle -----------------------------------------------------------------------

    def start(self) -> None:
        self._resumed = self.store.open()
        for n in range(self.config.max_captures):
            self._spawn(self._capture_worker, f"capture-{n}")
        self._spawn(self._loop, "schedule")

    def _spawn(self, fn: Callable[[], None], name: str) -> None:
        t = threading.Thread(target=fn, name=name, daemon=True)
        t.start()
        self._threads.append(t)

    def stop(self) -> None:
        """Stop at once: requests in flight are cut; an unfinished capture stays journaled."""
        self._stop.set()
        self._aborter.abort_all()
        self._pool.shutdown(wait=False, cancel_futures=True)

    def wait(self, timeout: float | None = None) -> bool:
        return self._stop.wait(timeout)

    def log(self, msg: str) -> None:
        stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        with contextlib.suppress(OSError, ValueError):  # a closed stderr must not stop the agent
            print(f"{stamp} mapdoctor watch: {for_terminal(msg)}", file=self._log_stream, flush=True)

    def _event(self, target: str, what: str) -> None:
        self.events.append(Event(time.time(), target, what))
        self.log(f"{target}: {what}")

    # -- the scheduling loop -----------------------------------------------------------------

    def _loop(self) -> None:
        while not self._stop.is_set():
            now = time.monotonic()
            if now >= self._next_discovery:
                self._next_discovery = now + DISCOVERY_EVERY_S
                self._discover(now)
            self.schedule.measure_cpu(now)
            self._dispatch(now)
            self._stop.wait(TICK_S)

    def _discover(self, now: float) -> None:
        try:
            found = self.discovery.poll(now)
        except Exception as exc:  # a bug in a source must not stop the agent
            self.log(f"discovery failed: {exc!r}")
            found = None
        if found is not None:
            self._apply_targets(found, now)
        if not self.ready.is_set():
            self.ready.set()
            self._resume()

    def _apply_targets(self, found: list[WatchTarget], now: float) -> None:
        with self.lock:
            new = {t.key: t for t in found}
            gone = [k for k in self.states if k not in new]
            for k in gone:
                del self.states[k]
            added = 0
            for k, t in new.items():
                st = self.states.get(k)
                if st is None:
                    self.states[k] = TargetState(t, self.schedule.first_due(now), DutyLog(now),
                                                 Baseline(self.config.rules.baseline_len))
                    added += 1
                else:
                    st.wt = t  # labels may have changed
            total = len(self.states)
        if added or gone:
            self.log(f"targets: {total} watched ({added} added, {len(gone)} removed)")

    def _resume(self) -> None:
        for doc in self._resumed:
            key = str(doc.get("target"))
            trig = doc.get("trigger") if isinstance(doc.get("trigger"), dict) else {}
            assert isinstance(trig, dict)
            with self.lock:
                st = self.states.get(key)
            if st is None:
                self.log(f"{key}: a capture cut short by a restart is dropped: no longer a watched target")
                continue
            reason = f"resumed after a restart (was: {trig.get('reason', '?')})"
            self.enqueue(st.wt, Trigger("resumed", reason, {"original": trig}), force=True)
        self._resumed = []

    def _dispatch(self, now: float) -> None:
        lag = 0.0
        jobs: list[TargetState] = []
        with self.lock:
            for st in self.states.values():
                if self.in_flight + len(jobs) >= self.config.concurrency:
                    break
                if st.next_due > now or st.sampling or st.capturing or st.queued:
                    continue
                if self.schedule.over_budget(st.duty, now):
                    st.next_due = self.schedule.next_due(now)
                    st.errors["budget"] += 1
                    continue
                lag = max(lag, now - st.next_due)
                st.sampling = True
                st.next_due = self.schedule.next_due(now)
                jobs.append(st)
            self.in_flight += len(jobs)
        self.schedule_lag_s = lag
        for st in jobs:
            try:
                self._pool.submit(self._sample, st)
            except RuntimeError:  # the pool is shutting down
                return

    # -- one light sample (a pool thread) -------------------------------------------------

    def _sample(self, st: TargetState) -> None:
        try:
            self._sample_once(st)
        except Exception as exc:  # a bug must not leave the target marked as sampling
            self.log(f"{st.wt.key}: internal error in a sample: {exc!r}")
        finally:
            with self.lock:
                st.sampling = False
                self.in_flight -= 1

    def _sample_once(self, st: TargetState) -> None:
        if not st.busy.acquire(blocking=False):
            return  # a capture holds the target's profiler
        try:
            got = light_sample(st.wt.target, self.config.window_s, aborter=self._aborter)
        finally:
            st.busy.release()
        if self._stop.is_set():
            return
        snap: CpuSnapshot | None = None
        error, reason = got.error, got.reason
        if got.cpu_profile is not None:
            try:
                snap = cpu_snapshot(got.cpu_profile, f"{st.wt.key}profile")
            except InputError as exc:
                error, reason = f"{exc.what}: {exc.why}", "body"
        trigger: Trigger | None = None
        with self.lock:
            st.last_sample_at = got.started_at
            if got.cpu_profile is not None:
                st.duty.add(time.monotonic(), min(got.elapsed_s, float(self.config.window_s) + 1.0))
            if got.goroutines is not None:
                st.goroutines = got.goroutines
            was = st.last_error
            if error is not None:
                st.errors[reason or "network"] += 1
                st.last_error = error
            else:
                st.last_error = None
                st.samples_ok += 1
                st.last_success_at = time.time()
                st.last = snap
            if error is None or got.goroutines is not None:
                trigger = evaluate(self.config.rules, snap, got.goroutines, st.baseline)
        if error != was:
            if error is not None:
                self._event(st.wt.key, f"sample failed: {error}")
            elif was is not None:
                self._event(st.wt.key, "sampling again")
        if trigger is not None:
            self.enqueue(st.wt, trigger)

    # -- captures ---------------------------------------------------------------------------

    def enqueue(self, wt: WatchTarget, trigger: Trigger, *, force: bool = False) -> str:
        """Queue a capture; returns what happened (also the webhook's answer per target)."""
        now = time.monotonic()
        with self.lock:
            st = self.states.get(wt.key)
            if st is None:
                return "unknown_target"
            if st.capturing or st.queued:
                return "already_capturing"
            if not force and now < st.cooldown_until:
                return "cooldown"
            st.queued = True
            st.last_trigger = trigger.reason
        try:
            self._captures.put_nowait((wt, trigger))
        except queue.Full:
            with self.lock:
                st.queued = False
            self.counters["bundle_errors:queue_full"] += 1
            self._event(wt.key, f"capture not queued (queue full): {trigger.reason}")
            return "queue_full"
        self._event(wt.key, f"trigger {trigger.kind}: {trigger.reason}")
        return "capturing"

    def _capture_worker(self) -> None:
        while not self._stop.is_set():
            try:
                wt, trigger = self._captures.get(timeout=0.5)
            except queue.Empty:
                continue
            try:
                self._capture_one(wt, trigger)
            except Exception as exc:
                self.log(f"{wt.key}: internal error in a capture: {exc!r}")

    def _capture_one(self, wt: WatchTarget, trigger: Trigger) -> None:
        with self.lock:
            st = self.states.get(wt.key)
            if st is None:
                return
            st.queued = False
            st.capturing = True
        try:
            # The target's profiler is free once its light sample (if any) ends.
            if not st.busy.acquire(timeout=self.config.window_s + 15.0):
                self._event(wt.key, "capture skipped: the target's profiler stayed busy")
                return
            t0 = time.monotonic()
            try:
                result = capture(wt.target, wt.key, trigger, self.store, duration_s=self.config.capture_s,
                                 flight_recorder=self.config.flight_recorder, aborter=self._aborter)
            finally:
                st.busy.release()
            spent = time.monotonic() - t0
        finally:
            with self.lock:
                st.capturing = False
        with self.lock:
            st.duty.add(time.monotonic(), spent)
            st.cooldown_until = time.monotonic() + self.config.cooldown_s
            if result.bundle is not None:
                st.captures[trigger.kind] += 1
                st.last_capture = result.bundle
            else:
                self.counters[f"bundle_errors:{result.reason or 'io'}"] += 1
        if result.bundle is not None:
            b = result.bundle
            self._event(wt.key, f"captured {b.id}: {b.verdict} ({b.confidence}) in {spent:.1f} s"
                                + (" [flight recorder]" if result.used_flight_recorder else ""))
        elif result.reason != "interrupted":
            self._event(wt.key, f"capture failed ({result.reason}): {result.error}")
        if self.on_capture is not None:
            self.on_capture(result)

    # -- the webhook ------------------------------------------------------------------------

    def handle_alerts(self, alerts: list[Alert]) -> dict[str, Any]:
        with self.lock:
            targets = [st.wt for st in self.states.values()]
        m = match(alerts, targets)
        answer: dict[str, Any] = {"captures": [], "ignored": []}
        for wt, alert in m.captures:
            trig = Trigger("alert", f"Alertmanager: {alert.describe()}",
                           {"alertname": alert.name, "fingerprint": alert.fingerprint,
                            "labels": dict(list(alert.labels.items())[:30])})
            result = self.enqueue(wt, trig)
            self.counters[f"alerts:{result}"] += 1
            answer["captures"].append({"target": wt.key, "result": result})
        for alert, why in m.ignored:
            self.counters["alerts:ignored"] += 1
            answer["ignored"].append({"alert": alert.describe(), "why": why})
        return answer

    # -- for metrics and the status page ----------------------------------------------------

    def snapshot(self) -> tuple[list[TargetState], dict[str, int]]:
        with self.lock:
            return list(self.states.values()), dict(self.counters)
