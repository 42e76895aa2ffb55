"""Profile-guided lint on the lab's map-growth services, and the size arithmetic behind it."""

from __future__ import annotations

from pathlib import Path

import pytest

from lint_support import FIXTURES
from mapdoctor.formats.limits import read_file
from mapdoctor.formats.pprof import decode_profile
from mapdoctor.model.profile import Profile
from mapdoctor.source import estimate_map_capacity, findings_at, lint_paths
from mapdoctor.source.capacity import _entries_for_tables, expected_tables
from mapdoctor.source.gosizes import MapLayout, allocation_matches, roundup_size
from mapdoctor.source.profile_match import profile_costs

LAB_GO = Path(__file__).resolve().parent.parent / "src" / "mapdoctor" / "lab" / "go"
#: Entries each lab request puts in its map (the batch size constants of the lab scenarios).
LAB_ENTRIES = 60000

SCENARIOS = [("mapgrow-str", "orders.go", 16, 8), ("mapgrow-int", "sessions.go", 8, 8)]
VERSIONS = [("go1.23", "classic"), ("go1.27", "swiss")]


def _load(path: Path) -> Profile:
    return decode_profile(read_file(path), str(path))


def check_growth_scenario(directory: Path, file: str, implementation: str) -> None:
    cpu, allocs = _load(directory / "cpu.pb.gz"), _load(directory / "allocs.pb.gz")
    report = lint_paths([LAB_GO], [cpu, allocs])
    top = report.findings[0]
    assert top.rule == "MD001" and Path(top.file).name == file, top
    costs = profile_costs(cpu)
    assert costs is not None and costs.growth_by_line
    (grow_file, grow_line), _ = max(costs.growth_by_line.items(), key=lambda kv: kv[1])
    assert Path(grow_file).name == file and grow_line in top.cost_lines
    assert top.cost is not None and top.cost.growth_share > 0.1
    cap = top.capacity
    assert cap is not None and cap.implementation == implementation
    # The range holds the real size, and is narrow (within 2x) or says why it cannot be.
    assert cap.contains(LAB_ENTRIES), cap
    assert cap.narrow or cap.limit, cap
    assert top.bound == "len(batch)"
    # The library calls the lead's verdict uses, with the profile's own file name.
    assert findings_at(report, grow_file, grow_line)[0] is top
    est = estimate_map_capacity(allocs, grow_file, grow_line)
    assert est is not None and est.contains(LAB_ENTRIES) and (est.narrow or est.limit)


@pytest.mark.parametrize(("go", "implementation"), VERSIONS)
@pytest.mark.parametrize(("scenario", "file", "key", "elem"), SCENARIOS)
def test_lab_growth_line_ranked_first_with_capacity(
    go: str, implementation: str, scenario: str, file: str, key: int, elem: int
) -> None:
    directory = FIXTURES / go / scenario
    if not (directory / "cpu.pb.gz").is_file() or not (directory / "allocs.pb.gz").is_file():
        pytest.skip(f"no {go}/{scenario} captures")
    check_growth_scenario(directory, file, implementation)


def test_layouts_match_the_runtime() -> None:
    i64 = MapLayout(8, 8)
    assert i64.bucket_size == 144 and i64.group_size == 136
    # make(map[int64]int64, 53) on Go 1.23: 17 buckets -> a 2688-byte size class (2760 bytes
    # with the hmap and mapextra).
    assert roundup_size(i64.classic_array_bytes(4)) == 2688
    assert allocation_matches(i64.swiss_groups_bytes(1024), 18432)
    assert not allocation_matches(i64.swiss_groups_bytes(512), 18432)
    assert MapLayout(16, 8).bucket_size == 208 and MapLayout(16, 8).group_size == 200
    assert roundup_size(40000) == 40960


def test_swiss_table_model_is_monotonic_and_invertible() -> None:
    counts = [expected_tables(n) for n in (500, 2000, 10000, 60000, 200000)]
    assert counts == sorted(counts) and counts[0] == 1
    # Between two waves of splits the count plateaus (all tables full at one depth), so the
    # inverse is checked on the table count.
    for tables in (3.0, 40.0, 121.5, 300.0):
        assert abs(expected_tables(_entries_for_tables(tables)) - tables) / tables < 0.02
