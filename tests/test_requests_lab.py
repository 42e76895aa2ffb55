"""Requests inferred from unannotated execution traces of the lab's HTTP services, both Go
versions: the spans match what each service measured itself over the same window, the
slowest requests' breakdown names the one reason they are slow, and the verdict follows."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from labdata import FIXTURES, GO_DIRS, HTTP_EXPECT, scenario_dir
from mapdoctor.analysis.classify import StackClassifier
from mapdoctor.analysis.diagnose import diagnose
from mapdoctor.analysis.findings import Diagnosis
from mapdoctor.analysis.frametable import ANY
from mapdoctor.analysis.requests import infer_requests
from mapdoctor.analysis.trace_evidence import trace_lock_waits
from mapdoctor.formats.detect import load_inputs
from mapdoctor.formats.limits import read_file
from mapdoctor.formats.trace import parse_trace
from mapdoctor.model.trace import ExecutionTrace

CASES = [(go, sc) for go in GO_DIRS for sc in HTTP_EXPECT]
IDS = [f"{g}-{s}" for g, s in CASES]
#: The bar: count, p50 and p99 within this of the service's own measurement.
TOLERANCE = 0.10


@cache
def _diagnose(go: str, scenario: str) -> Diagnosis:
    folder = scenario_dir(go, scenario)
    if not folder.is_dir():
        pytest.fail(f"missing fixture folder {folder}: run python -m mapdoctor.lab.capture --scenario {scenario}")
    return diagnose(load_inputs([folder]))


@cache
def _trace(go: str, scenario: str) -> ExecutionTrace:
    path = scenario_dir(go, scenario) / "trace.out"
    return parse_trace(read_file(path), str(path))


def _measured(go: str, scenario: str) -> dict[str, Any]:
    captures = json.loads((FIXTURES / "MANIFEST.json").read_text())["captures"]
    entry = next(c for c in captures if c["dir"] == f"{go}/{scenario}")
    measured: dict[str, Any] = entry["stats"]["traced_requests"]
    return measured


def _close(found: float, want: float) -> bool:
    return abs(found - want) <= TOLERANCE * want


@pytest.mark.parametrize(("go", "scenario"), CASES, ids=IDS)
def test_spans_match_what_the_service_measured(go: str, scenario: str) -> None:
    req = _diagnose(go, scenario).timeline["requests"]  # type: ignore[index]
    want = _measured(go, scenario)
    assert req["method"] == "http1-conn"
    assert want["count"] >= 200, want
    got = (req["count"], req["p50_ms"], req["p99_ms"])
    assert _close(req["count"], want["count"]), (got, want)
    assert _close(req["p50_ms"], want["p50_ms"]), (got, want)
    assert _close(req["p99_ms"], want["p99_ms"]), (got, want)


@pytest.mark.parametrize(("go", "scenario"), CASES, ids=IDS)
def test_slow_requests_breakdown_and_verdict(go: str, scenario: str) -> None:
    d = _diagnose(go, scenario)
    want = HTTP_EXPECT[scenario]
    req = d.timeline["requests"]  # type: ignore[index]
    slow, typical = req["slow"], req["typical"]
    assert slow["count"] == -(-req["count"] // 100)
    assert typical["count"] >= req["count"] // 2 - 1
    for group in (slow, typical):
        assert sum(group["breakdown"].values()) == pytest.approx(1.0, abs=0.01), group
    causes = [c.kind.value for c in d.causes]
    assert d.verdict.value == want.verdict, (d.summary, causes)
    if want.cause is None:
        assert causes == [], d.summary
        return
    assert causes[0] == want.cause, (d.summary, causes)
    top = slow["top"]
    assert top["category"] in (want.category, *want.also), (d.summary, slow["breakdown"])
    assert top["share"] >= 0.25
    assert typical["breakdown"][top["category"]] < top["share"] / 2
    first = d.causes[0]
    assert first.status == "confirmed", first  # the slow requests decide: the primary cause
    # The answer speaks of the slow requests first, with their sample size; evidence is marked.
    assert d.summary.startswith(("Yes: the slowest 1 % of requests", "No: the slowest 1 % of requests"))
    site = want.site()
    assert site is not None
    file, line = site

    def at(found_file: str, found_line: int) -> bool:
        return found_file == file and line <= found_line <= line + want.lines

    assert at(first.sites[0].file, first.sites[0].line), first
    if top["category"] == want.category:
        assert at(top["site"]["file"], top["site"]["line"]), top
    assert first.evidence[0].startswith(f"supports ({slow['count']} slowest of {req['count']} requests")
    assert all(e.startswith(("supports", "argues against", "neither")) for e in first.evidence), first.evidence


@pytest.mark.parametrize("go", list(GO_DIRS))
def test_background_growth_says_what_ran_instead(go: str) -> None:
    """Growth in background goroutines: the slow requests wait for a CPU, and what the CPUs ran
    meanwhile is the refreshers' map growth at the insert line."""
    d = _diagnose(go, "http-bgmapgrow")
    slow = d.timeline["requests"]["slow"]  # type: ignore[index]
    ran = slow["ran_instead"]
    assert slow["top"]["category"] == "runnable"
    assert ran["category"] == "map_growth" and ran["share"] >= 0.5 and ran["cpu_samples"] >= 8, ran
    site = HTTP_EXPECT["http-bgmapgrow"].site()
    assert site is not None
    assert (ran["site"]["file"], ran["site"]["line"]) == site, ran
    assert "while map growth at " + ":".join(map(str, site)) in d.summary, d.summary


@pytest.mark.parametrize("go", list(GO_DIRS))
def test_idle_service_has_no_request_section_and_says_why(go: str) -> None:
    d = diagnose(load_inputs([scenario_dir(go, "idle")]))
    assert d.timeline is not None
    assert d.timeline["requests"] is None
    assert "no requests found" in d.timeline["requests_absent"]
    assert any("no request section" in n for n in d.notes)


@pytest.mark.parametrize("go", list(GO_DIRS))
def test_batch_job_without_annotations_has_no_requests(go: str) -> None:
    """The self-loading lab programs without their regions and tasks: a batch job."""
    path = scenario_dir(go, "mapgrow-str") / "trace.out"
    tr = parse_trace(read_file(path), str(path))
    tr.regions.clear()
    tr.tasks.clear()
    found = infer_requests(tr)
    assert found.method is None and not found.spans
    assert found.why_none


@pytest.mark.parametrize("go", list(GO_DIRS))
def test_annotated_requests_still_use_regions(go: str) -> None:
    req = diagnose(load_inputs([scenario_dir(go, "mapgrow-str")]))
    assert req.timeline is not None and req.timeline["requests"]["method"] == "regions"


@pytest.mark.parametrize("go", list(GO_DIRS))
@pytest.mark.parametrize("scenario", ["mutex", "http-lock"])
def test_lock_contention_from_trace_sync_blocking_alone(go: str, scenario: str, tmp_path: Path) -> None:
    """No mutex or block profile: the trace's sync blocking finds the lock and its site."""
    lab = "counters_mutex.go" if scenario == "mutex" else "ledger_lock.go"
    marker = "c.mu.Lock()" if scenario == "mutex" else "waits while the snapshot holds"
    only = tmp_path / "trace.out"
    only.write_bytes((scenario_dir(go, scenario) / "trace.out").read_bytes())
    locks = trace_lock_waits(load_inputs([only]).inputs, StackClassifier(ANY))
    assert locks is not None and locks.samples > 0 and locks.duration_ns > 0
    top = locks.top_sites(next(iter(locks.by_cost)))[0][0]
    lines = (Path(__file__).parent.parent / "src/mapdoctor/lab/go" / lab).read_text().splitlines()
    assert top[1:] == (f"mapdoctorlab/{lab}", next(n for n, t in enumerate(lines, 1) if marker in t))
    d = diagnose(load_inputs([only]))
    kinds = [c.kind.value for c in d.causes]
    assert kinds[0] == "lock_contention", (d.summary, kinds)
    assert (d.causes[0].sites[0].file, d.causes[0].sites[0].line) == top[1:]


def test_worker_pool_jobs_without_annotations() -> None:
    """The trace generator's worker pool, its regions removed: each job is one channel-receive
    to channel-receive segment of a worker, and contains the region the job was annotated with."""
    path = FIXTURES / "trace" / "go1.23.trace"
    tr = parse_trace(read_file(path), str(path))
    regions = sorted((r.start_ns or 0, r.end_ns or 0, r.goroutine) for r in tr.regions
                     if r.start_ns is not None and r.end_ns is not None and r.name == "grow-map")
    tr.regions.clear()
    tr.tasks.clear()
    found = infer_requests(tr)
    assert found.method == "worker" and "main.worker" in found.detail
    jobs = sorted((s.start, s.end, s.goroutine) for s in found.spans)
    assert len(jobs) == len(regions)
    for (js, je, jg), (rs, re_, rg) in zip(jobs, regions, strict=True):
        assert jg == rg and js <= rs and re_ <= je
        assert found.spans and all(s.acc is not None and sum(s.acc) == s.wall for s in found.spans[:50])
