"""One capture: the full ``diagnose`` collection into a pending bundle, the verdict, the reports.

The collection and the analysis are ``diagnose``'s own (``collect.collect`` and
``cli.diagnose.analyse``), so a bundle gives the same verdict as ``mapdoctor diagnose``
and ``mapdoctor analyze <bundle>`` would; the trace comes from the service's flight
recorder when it has one (the seconds before the trigger included).
"""

from __future__ import annotations

import errno
import os
from dataclasses import dataclass
from typing import Any

from mapdoctor.collect.fetch import Aborter
from mapdoctor.collect.target import Target
from mapdoctor.errors import InputError
from mapdoctor.watch.store import BundleInfo, BundleStore, Pending, StoreError
from mapdoctor.watch.triggers import Trigger

REPORT_JSON = "report.json"
REPORT_HTML = "report.html"


@dataclass(slots=True)
class CaptureResult:
    bundle: BundleInfo | None
    error: str | None = None
    reason: str | None = None  # metric label: collection, disk_full, io, interrupted
    used_flight_recorder: bool = False


def trigger_record(trigger: Trigger) -> dict[str, Any]:
    return {"kind": trigger.kind, "reason": trigger.reason, "detail": trigger.detail}


def _write(path: os.PathLike[str], text: str) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())


def capture(target: Target, key: str, trigger: Trigger, store: BundleStore, *, duration_s: int,
            flight_recorder: bool = True, aborter: Aborter | None = None) -> CaptureResult:
    """Collect, analyse and seal a bundle; never raises for a failed capture."""
    from mapdoctor.cli.diagnose import EagerLoader, LiveOptions, analyse, flight_notes, flight_plan
    from mapdoctor.collect.collector import collect
    from mapdoctor.reports.html_report import render_html
    from mapdoctor.reports.json_report import dumps

    try:
        pending: Pending = store.begin(key, trigger_record(trigger))
    except StoreError as exc:
        return CaptureResult(None, str(exc), exc.reason)
    if aborter is not None and aborter.aborted.is_set():
        # Stopping: the journaled trigger stays in pending/ and is captured after the restart.
        return CaptureResult(None, "interrupted", "interrupted")
    rewrite, recorder = flight_plan(target, LiveOptions(duration_s=duration_s, flight_recorder=flight_recorder))
    try:
        loader = EagerLoader()
        coll = collect(target, pending.dir, duration_s=duration_s, on_evidence=loader.submit, parts=rewrite)
        if aborter is not None and aborter.aborted.is_set():
            return CaptureResult(None, "interrupted", "interrupted")
        notes = [f"captured by mapdoctor watch: {trigger.reason}", *flight_notes(coll, recorder)]
        try:
            diagnosis = analyse(coll, keep_paths=False, folder=pending.dir, loader=loader, extra_notes=notes)
        except InputError as exc:
            store.abandon(pending)
            full = any("space left" in (p.error or "") for p in coll.parts)
            return CaptureResult(None, str(exc), "disk_full" if full else "collection")
        _write(pending.dir / REPORT_JSON, dumps(diagnosis))
        _write(pending.dir / REPORT_HTML, render_html(diagnosis))
    except OSError as exc:
        store.abandon(pending)
        err = StoreError(f"bundle {pending.id}: {exc.strerror or exc}",
                         "disk_full" if exc.errno in (errno.ENOSPC, errno.EDQUOT) else "io")
        return CaptureResult(None, str(err), err.reason)
    try:
        bundle = store.commit(pending, {"verdict": diagnosis.verdict.value, "confidence": diagnosis.confidence,
                                        "summary": diagnosis.summary, "partial": diagnosis.partial})
    except StoreError as exc:
        return CaptureResult(None, str(exc), exc.reason)
    return CaptureResult(bundle, used_flight_recorder=rewrite is not None)
