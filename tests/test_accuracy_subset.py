"""The external accuracy suite's committed subset: GOROOT benchmarks (and one repo program)
profiled by ``go test`` with both lab toolchains, against the labels of accuracy/labels.json.

The captures are what ``python accuracy/run.py --save-fixtures`` keeps (tests/fixtures/accuracy);
the full suite (minutes, every case) runs outside the unit tests.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mapdoctor.analysis.diagnose import diagnose
from mapdoctor.analysis.findings import CauseKind
from mapdoctor.formats.detect import load_inputs

ROOT = Path(__file__).resolve().parent.parent
LABELS = ROOT / "accuracy" / "labels.json"
FIXTURES = ROOT / "tests" / "fixtures" / "accuracy"
GOS = ("1.23", "1.27")


def _cases() -> list[tuple[str, str, dict[str, Any]]]:
    cases = json.loads(LABELS.read_text())["cases"]
    return [(go, c["id"], c["expect"][go]) for c in cases if c.get("fixture") for go in GOS if go in c["expect"]]


CASES = _cases()


def _folder(go: str, case: str) -> Path:
    folder = FIXTURES / f"go{go}" / case
    if not folder.is_dir():
        pytest.fail(f"missing {folder}: run python accuracy/run.py --case {case} --save-fixtures")
    return folder


def test_the_subset_covers_both_toolchains_and_several_causes() -> None:
    assert {go for go, _, _ in CASES} == set(GOS)
    assert len({label["primary"] for _, _, label in CASES}) >= 4


@pytest.mark.parametrize(("go", "case", "label"), CASES, ids=[f"go{g}-{c}" for g, c, _ in CASES])
def test_verdict_and_primary_cause_match_the_label(go: str, case: str, label: dict[str, Any]) -> None:
    d = diagnose(load_inputs([_folder(go, case)]))
    primary = next((c.kind.value for c in d.causes if c.status == "confirmed"), None)
    assert (d.verdict.value, primary) == (label["verdict"], label["primary"]), (d.summary, label["why"])
    for f in _folder(go, case).iterdir():
        assert f.stat().st_size < 1_000_000


# Item: a mutex profile written by `go test -mutexprofile` carries no duration; the CPU profile of
# the same run gives the window.

@pytest.mark.parametrize("go", GOS)
def test_mutex_profile_without_duration_takes_the_cpu_window(go: str) -> None:
    folder = _folder(go, "repo-counters-contended")
    inputs = load_inputs([folder / "mutex.pprof", folder / "cpu.pprof"])
    mutex = next(i for i in inputs.inputs if i.path.endswith("mutex.pprof"))
    assert mutex.profile is not None and mutex.profile.duration_nanos == 0
    d = diagnose(inputs)
    lock = d.causes[0]
    assert lock.kind is CauseKind.LOCK_CONTENTION and lock.status == "confirmed", d.summary
    assert "window of CPU profile" in lock.evidence[0] and "carries no duration" in lock.evidence[0]
    assert lock.interval is not None and lock.interval.unit == "events" and lock.interval.samples >= 50
    assert d.confidence == "high"
    assert Path(lock.sites[0].file).name == "mutex_test.go"
    # Alone, it cannot be compared with anything: said so, and no score is made up.
    alone = diagnose(load_inputs([folder / "mutex.pprof"]))
    assert not [c for c in alone.causes if c.kind is CauseKind.LOCK_CONTENTION and c.status == "confirmed"]
    assert any("no duration" in n for n in alone.notes)


@pytest.mark.parametrize("go", GOS)
def test_contended_sync_mutex_benchmark_is_lock_contention(go: str) -> None:
    d = diagnose(load_inputs([_folder(go, "sync-mutex")]))
    lock = d.causes[0]
    assert lock.kind is CauseKind.LOCK_CONTENTION and lock.status == "confirmed"
    assert d.cpu_samples >= 50 and d.confidence == "high"


@pytest.mark.parametrize("go", GOS)
def test_capacity_of_a_goroot_map_holds_its_size(go: str) -> None:
    # BenchmarkMapPopulate/100000 fills make(map[int]bool) with 100000 keys: 88-byte classic
    # buckets, 136-byte Swiss groups, guessed from the allocation sizes alone (no source).
    d = diagnose(load_inputs([_folder(go, "runtime-map-populate")]))
    growth = next(c for c in d.causes if c.kind is CauseKind.MAP_GROWTH)
    cap = growth.sites[0].detail["capacity"]
    assert cap["low"] < 100000 <= cap["high"], cap
    assert cap["narrow"] or cap["limit"]
