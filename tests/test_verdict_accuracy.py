"""The verdict's accuracy on situations the first lab did not cover, from real captures of both
map implementations (Go 1.23 classic, Go 1.27 Swiss): each test names what it guards."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from labdata import EXPECT, GO_DIRS, LAB_GO, scenario_dir
from mapdoctor.analysis.diagnose import diagnose
from mapdoctor.analysis.findings import Cause, CauseKind, Diagnosis, Verdict
from mapdoctor.formats.detect import load_inputs
from mapdoctor.formats.limits import read_file
from mapdoctor.formats.pprof import decode_profile
from mapdoctor.model.profile import Sample
from mapdoctor.reports.json_report import to_dict
from mapdoctor.source import lint_paths

GOS = list(GO_DIRS)



def _own(cause: Cause) -> list[str]:
    """The cause's evidence from the profiles, without the request-span lines prepended to it
    (tagged ``supports (N …)`` / ``argues against (N …)``) and without their ``supports:`` tag."""
    return [e.removeprefix("supports: ") for e in cause.evidence
            if not e.startswith(("supports (", "argues against ("))]

def _files(go: str, scenario: str, *names: str) -> Diagnosis:
    folder = scenario_dir(go, scenario)
    paths = [folder / n for n in names] if names else [folder]
    for p in paths:
        if not p.exists():
            pytest.fail(f"missing fixture {p}: run python -m mapdoctor.lab.capture --scenario {scenario}")
    return diagnose(load_inputs(paths))


def _cause(d: Diagnosis, kind: CauseKind) -> Cause | None:
    return next((c for c in d.causes if c.kind is kind), None)


def _confirmed(d: Diagnosis) -> list[str]:
    return [c.kind.value for c in d.causes if c.status == "confirmed"]


def _line(file: str, text: str) -> int:
    lines = (LAB_GO / file).read_text().splitlines()
    hits = [n for n, line in enumerate(lines, 1) if text in line]
    assert len(hits) == 1, (file, text, hits)
    return hits[0]


# 1. Lock contention from a mutex profile alone (its stacks end in the holder's Unlock), and from
#    a goroutine dump alone.

@pytest.mark.parametrize("go", GOS)
def test_mutex_profile_alone_shows_the_contention(go: str) -> None:
    d = _files(go, "mutex", "mutex.pb.gz", "cpu.pb.gz")
    assert _confirmed(d)[:1] == ["lock_contention"], d.summary
    lock = d.causes[0]
    assert lock.interval is not None and lock.interval.unit == "events" and lock.interval.low > 0.25
    assert "mutex profile" in _own(lock)[0]
    site = lock.sites[0]
    assert (Path(site.file).name, site.line) == ("counters_mutex.go", _line("counters_mutex.go", "c.mu.Unlock()"))


@pytest.mark.parametrize("go", GOS)
@pytest.mark.parametrize("dump", ["goroutine.txt", "goroutine.pb.gz"])
def test_goroutine_dump_alone_shows_the_contention(go: str, dump: str) -> None:
    d = _files(go, "mutex", dump)
    assert d.causes and d.causes[0].kind is CauseKind.LOCK_CONTENTION, d.summary
    lock = d.causes[0]
    assert lock.interval is not None and lock.interval.unit == "goroutines" and lock.interval.samples >= 30
    # The critical section: where goroutines wait (Lock), or, when the dump caught them all handing
    # the lock over in starvation mode (Go 1.27's capture), the Unlock.
    section = {_line("counters_mutex.go", "c.mu.Lock()"), _line("counters_mutex.go", "c.mu.Unlock()")}
    assert Path(lock.sites[0].file).name == "counters_mutex.go" and lock.sites[0].line in section
    assert d.confidence == "medium"  # one instant


@pytest.mark.parametrize("go", GOS)
@pytest.mark.parametrize("dump", ["goroutine.txt", "goroutine.pb.gz"])
def test_goroutine_dump_of_a_healthy_service_blames_no_lock(go: str, dump: str) -> None:
    for scenario in ("mapgrow-str", "presized", "gcpressure", "syncmap-read"):
        d = _files(go, scenario, dump)
        assert not any(c.kind is CauseKind.LOCK_CONTENTION for c in d.causes), (scenario, d.summary)


# 2. Read-mostly sync.Map is not churn; churn is told by its operations.

@pytest.mark.parametrize("go", GOS)
def test_read_mostly_sync_map_is_not_churn(go: str) -> None:
    d = _files(go, "syncmap-read")
    assert d.shares["sync_map"] > 0.5  # the CPU is in sync.Map ...
    assert _cause(d, CauseKind.SYNC_MAP) is None, d.summary  # ... but reads are what it is for
    assert any("read-mostly" in n for n in d.notes)


@pytest.mark.parametrize("go", GOS)
def test_sync_map_of_new_keys_is_churn_with_the_new_key_advice(go: str) -> None:
    d = _files(go, "syncmap")
    c = d.causes[0]
    assert c.kind is CauseKind.SYNC_MAP and c.status == "confirmed"
    assert "new keys" in c.sites[0].advice and "stores of new keys" in _own(c)[1]
    assert (Path(c.sites[0].file).name, c.sites[0].line) == ("session_cache.go",
                                                             _line("session_cache.go", "cache.Store(key"))


# 3. Swiss (*Map).growToSmall is map creation, not growth.

@pytest.mark.parametrize("go", GOS)
def test_small_map_literals_are_creation_not_growth(go: str) -> None:
    d = _files(go, "smallmaps")
    assert d.verdict is Verdict.NOT_MAP_GROWTH, d.summary
    assert _cause(d, CauseKind.MAP_GROWTH) is None
    assert d.shares["map_growth"] < 0.02
    c = d.causes[0]
    assert c.kind is CauseKind.MAP_CREATION and "clear(m)" in c.sites[0].advice and "struct" in c.sites[0].advice
    assert (Path(c.sites[0].file).name, c.sites[0].line) == ("small_maps.go",
                                                             _line("small_maps.go", "row := map[string]string{"))


# 4. CPU sample counts are the profile's sample values, not its distinct stacks.

@pytest.mark.parametrize("go", GOS)
@pytest.mark.parametrize("scenario", ["mapgrow-str", "mutex", "idle", "mapgrow-minor"])
def test_cpu_samples_are_counted_from_the_sample_values(go: str, scenario: str) -> None:
    path = scenario_dir(go, scenario) / "cpu.pb.gz"
    prof = decode_profile(read_file(path), str(path))
    idx = prof.value_index("samples")
    assert idx is not None
    counted = sum(s.values[idx] for s in prof.samples)
    d = _files(go, scenario, "cpu.pb.gz")
    assert d.cpu_samples == counted
    assert counted > len(prof.samples) or scenario == "idle"  # records hold several samples
    assert to_dict(d)["cpu_samples"] == counted
    for c in d.causes:
        assert c.interval is not None and c.interval.samples == counted


# 5. A share near its threshold: an interval, "probably", and no verdict on it.

@pytest.mark.parametrize("go", GOS)
def test_near_threshold_growth_is_probable_and_not_the_verdict(go: str) -> None:
    d = _files(go, "mapgrow-minor")
    assert d.cpu_samples < 80
    growth = _cause(d, CauseKind.MAP_GROWTH)
    assert growth is not None and growth.interval is not None
    assert growth.status == "probable"
    assert growth.interval.low < 0.05 <= growth.interval.value
    assert d.verdict is Verdict.NOT_MAP_GROWTH and d.confidence == "medium"
    assert "possibly map growth" in d.summary and f"{d.cpu_samples} samples" in d.summary
    assert "±" in d.summary or "95% interval" in d.summary  # lopsided near 0 %: the range itself
    doc = to_dict(d)
    json_growth = next(c for c in doc["causes"] if c["kind"] == "map_growth")
    assert json_growth["status"] == "probable" and json_growth["interval"]["samples"] == d.cpu_samples
    lo, hi = doc["share_intervals"]["map_growth"]
    assert lo < doc["shares"]["map_growth"] < hi


@pytest.mark.parametrize("go", GOS)
def test_few_samples_confirm_only_a_dominant_cause(go: str, tmp_path: Path) -> None:
    # The near-threshold capture's own samples, cut to 30 of which 5 are map growth: a 95 %
    # interval clears the 5 % threshold (17 %, 7-34 %), but a cause is not confirmed from that few.
    from mapdoctor.formats.pprof import encode_profile

    src = scenario_dir(go, "mapgrow-minor") / "cpu.pb.gz"
    prof = decode_profile(read_file(src), str(src))
    growth_funcs = ("runtime.hashGrow", "runtime.growWork", "runtime.evacuate", "(*table).rehash",
                    "(*Map).growToTable", "(*table).grow", "(*Map).growToSmall")

    def counted(s: Sample, n: int) -> Sample:  # the sample's stack, n samples' worth of values
        return dataclasses.replace(s, values=tuple(v * n // s.values[0] for v in s.values))

    growth = [s for s in prof.samples if any(f.function.endswith(growth_funcs) for f in s.stack())]
    other = [s for s in prof.samples if s not in growth]
    assert growth and sum(s.values[0] for s in other) >= 25
    kept, left = [counted(growth[0], 5)], 25
    for s in other:
        take = min(left, s.values[0])
        kept.append(counted(s, take))
        left -= take
        if not left:
            break
    prof.samples = kept
    cut = tmp_path / "cpu.pb.gz"
    cut.write_bytes(encode_profile(prof))
    d = diagnose(load_inputs([cut]))
    assert d.cpu_samples == 30
    growth_cause = _cause(d, CauseKind.MAP_GROWTH)
    assert growth_cause is not None and growth_cause.interval is not None, d.summary
    assert growth_cause.interval.low >= growth_cause.threshold
    assert growth_cause.status == "probable", d.summary
    assert any("below 50 a cause is confirmed only" in e for e in growth_cause.evidence)
    assert d.verdict is Verdict.NOT_MAP_GROWTH and not _confirmed(d) and "possibly map growth" in d.summary


@pytest.mark.parametrize("go", GOS)
def test_clear_causes_are_confirmed_with_tight_intervals(go: str) -> None:
    for scenario in ("mapgrow-str", "slicegrow", "syncmap", "gcpressure"):
        d = _files(go, scenario)
        top = d.causes[0]
        assert top.status == "confirmed" and top.interval is not None
        assert top.interval.low >= top.threshold and top.interval.half_width < 0.1, (scenario, top.interval)


def test_one_slow_request_raises_no_cause_of_its_own() -> None:
    # A healthy service on a loaded machine: its single slowest request sat in two long pauses.
    folder = Path(__file__).parent / "fixtures" / "loaded" / "go1.23" / "presized"
    d = diagnose(load_inputs([folder]))
    req = d.timeline["requests"]  # type: ignore[index]
    assert req["slow"]["count"] == 1 and req["slow"]["top"]["category"] == "stw"
    assert d.verdict is Verdict.NOT_MAP_GROWTH and not d.causes, (d.summary, d.causes)
    assert d.summary.startswith("No: nothing stands out")
    assert any("(2 pauses) — GC work is light in the window" in n for n in d.notes), d.notes


def test_long_pauses_with_light_gc_are_not_gc_pressure() -> None:
    # The same service and load: two slow requests, each caught by a long sweep-termination
    # pause, while GC work over the window was light. The pauses were long because the OS did
    # not run the threads; "GC pressure" (with its advice to allocate less) would be wrong.
    folder = Path(__file__).parent / "fixtures" / "loaded" / "go1.23" / "presized-pauses"
    d = diagnose(load_inputs([folder]))
    slow = d.timeline["requests"]["slow"]  # type: ignore[index]
    assert slow["count"] == 2 and slow["top"]["category"] == "stw" and slow["top"]["pauses"] == 2
    assert slow["top"]["share"] > 0.8
    assert d.verdict is Verdict.NOT_MAP_GROWTH and not d.causes, (d.summary, d.causes)
    assert d.summary.startswith("No: nothing stands out")
    assert any("(2 pauses) — GC work is light in the window" in n and "not from GC pressure" in n
               for n in d.notes), d.notes


# 6. GC work caused by a growth is charged to it.

@pytest.mark.parametrize("go", GOS)
def test_gc_driven_by_slice_growth_is_charged_to_it(go: str) -> None:
    d = _files(go, "slicegc")
    top = d.causes[0]
    assert top.kind is CauseKind.SLICE_GROWTH, d.summary
    assert _cause(d, CauseKind.GC_PRESSURE) is None
    site = f"slice_gc.go:{_line('slice_gc.go', 'refs = append(refs')}"
    # The CPU shares lead on the Go 1.23 capture; on the Go 1.27 one the slowest requests do
    # (they waited for a CPU while the GC ran): either way the growth that drives the GC is named.
    if go.endswith("1.27"):
        assert d.summary.startswith("No: the slowest 1 % of requests"), d.summary
        assert f"(GC work driven by slice growth at mapdoctorlab/{site})" in d.summary
        assert d.summary.endswith(": slice growth, not map growth.")
    else:
        assert d.summary.startswith("No: GC pressure, driven by slice growth at") and site in d.summary
    assert top.gc_charged > 0.1 and top.score > d.shares["slice_growth"] + top.gc_charged - 1e-9
    assert any("garbage collection its allocations drive" in e for e in top.evidence)


@pytest.mark.parametrize("go", GOS)
def test_gc_pressure_counts_allocation_and_names_the_allocating_line(go: str) -> None:
    d = _files(go, "gcpressure")
    top = d.causes[0]
    assert top.kind is CauseKind.GC_PRESSURE and top.status == "confirmed"
    # Allocation itself is part of the cost the GC-pressure fix removes.
    assert top.score >= d.shares["gc"] + d.shares["malloc"]
    assert "allocating" in _own(top)[0]


# 7. Capacity advice is narrow, or says why it cannot be; the source bound is the advice.

@pytest.mark.parametrize("go", GOS)
@pytest.mark.parametrize(("scenario", "entries"), [("mapgrow-str", 60000), ("mapgrow-int", 60000),
                                                   ("mapgrow-field", 40000), ("mapgrow-minor", 1501)])
def test_capacity_range_holds_the_truth_and_is_narrow_or_says_why(go: str, scenario: str, entries: int) -> None:
    d = _files(go, scenario)
    growth = _cause(d, CauseKind.MAP_GROWTH)
    assert growth is not None
    cap = growth.sites[0].detail["capacity"]
    assert cap["low"] < entries <= cap["high"], cap
    if cap["narrow"]:
        assert cap["high"] <= 2 * cap["low"]
    else:
        assert cap["limit"] and cap["limit"] in growth.sites[0].advice


# 8. Confidence follows the documented rules.

@pytest.mark.parametrize("go", GOS)
def test_confidence_follows_the_rules(go: str) -> None:
    idle = _files(go, "idle")
    assert idle.cpu_samples < 50 and idle.confidence == "medium"  # a few samples: not "high"
    mutex = _files(go, "mutex")
    lock = mutex.causes[0]
    assert lock.interval is not None and lock.interval.samples >= 50
    assert mutex.cpu_samples >= 50 or mutex.confidence == "high"
    assert mutex.confidence == "high"  # thousands of contention events
    assert _files(go, "mapgrow-str").confidence == "high"
    assert _files(go, "mapgrow-minor").confidence == "medium"
    assert _files(go, "mapgrow-str", "allocs.pb.gz").confidence == "low"


# 9. lint and the profile agree.

def _lint(go: str, scenario: str) -> object:
    folder = scenario_dir(go, scenario)
    profiles = [decode_profile(read_file(folder / n), str(folder / n)) for n in ("cpu.pb.gz", "allocs.pb.gz")]
    return lint_paths([LAB_GO], profiles)


@pytest.mark.parametrize("go", GOS)
def test_every_blamed_line_gets_a_finding_or_a_reason(go: str) -> None:
    for scenario, want in EXPECT.items():
        if scenario == "crash":
            continue
        report = _lint(go, scenario)
        for ps in report.profile_sites:  # type: ignore[attr-defined]
            assert ps.rule or ps.reason, (scenario, ps)
        if want.primary in ("map_growth", "slice_growth", "sync_map"):
            site = want.site(go)
            assert site is not None
            hit = [ps for ps in report.profile_sites  # type: ignore[attr-defined]
                   if ps.kind == want.primary and ps.line == site[1] and ps.file.endswith(Path(site[0]).name)]
            assert hit and hit[0].rule, (scenario, report.profile_sites)  # type: ignore[attr-defined]


@pytest.mark.parametrize("go", GOS)
def test_make_site_is_found_in_the_constructor(go: str) -> None:
    report = _lint(go, "mapgrow-field")
    insert = _line("product_index.go", "ix.bySKU[p.SKU] = p")
    make = _line("product_index.go", "bySKU: make(map[string]*product)")
    ps = next(p for p in report.profile_sites if p.line == insert)  # type: ignore[attr-defined]
    assert (ps.rule, Path(ps.finding_file).name, ps.finding_line) == ("MD001", "product_index.go", make)
    top = report.findings[0]  # type: ignore[attr-defined]
    assert top.rule == "MD001" and top.line == make and top.capacity is not None


@pytest.mark.parametrize("go", GOS)
def test_make_site_is_found_a_few_lines_above_the_insert(go: str) -> None:
    report = _lint(go, "mapgrow-minor")
    insert = _line("minor_growth.go", "seen[k] = i")
    make = _line("minor_growth.go", "seen := make(map[string]int)")
    ps = next(p for p in report.profile_sites if p.line == insert)  # type: ignore[attr-defined]
    assert (ps.rule, ps.finding_line) == ("MD001", make)


@pytest.mark.parametrize("go", GOS)
def test_builder_without_grow_gets_a_finding(go: str) -> None:
    report = _lint(go, "builder")
    write = _line("csv_export.go", "sb.WriteString(r.line)")
    ps = next(p for p in report.profile_sites if p.line == write)  # type: ignore[attr-defined]
    assert ps.rule == "MD002" and ps.finding_line == _line("csv_export.go", "var sb strings.Builder")
    finding = next(f for f in report.findings if f.line == ps.finding_line)  # type: ignore[attr-defined]
    assert "sb.Grow(n)" in finding.message and finding.cost is not None and finding.cost.share > 0.1


@pytest.mark.parametrize("go", GOS)
def test_never_shrinks_is_not_claimed_for_a_cache_deleted_only_on_errors(go: str) -> None:
    report = _lint(go, "mapgrow-field")
    assert not [f for f in report.findings if f.rule == "MD005" and f.symbol == "priceCache"]  # type: ignore[attr-defined]


@pytest.mark.parametrize("go", GOS)
def test_analyze_with_source_attaches_the_finding_at_the_make(go: str) -> None:
    d = diagnose(load_inputs([scenario_dir(go, "mapgrow-field")]), source_dir=LAB_GO)
    site = d.causes[0].sites[0]
    findings = site.detail["source_findings"]
    assert findings[0]["rule"] == "MD001"
    assert findings[0]["line"] == _line("product_index.go", "bySKU: make(map[string]*product)")


# 10. A crash log does not hide the other causes.

@pytest.mark.parametrize("go", GOS)
def test_crash_log_beside_a_growth_profile_reports_both(go: str) -> None:
    crash, cpu = scenario_dir(go, "crash") / "crash.log", scenario_dir(go, "mapgrow-str") / "cpu.pb.gz"
    d = diagnose(load_inputs([crash, cpu]))
    kinds = [c.kind for c in d.causes]
    assert CauseKind.CONCURRENT_MAP_WRITES in kinds and CauseKind.MAP_GROWTH in kinds
    assert d.verdict is Verdict.MAP_GROWTH and d.confidence == "high"
    assert "Yes: map growth" in d.summary and "concurrent map writes" in d.summary
    alone = diagnose(load_inputs([crash]))
    assert alone.verdict is Verdict.NOT_MAP_GROWTH and alone.causes[0].kind is CauseKind.CONCURRENT_MAP_WRITES
