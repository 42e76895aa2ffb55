"""mapdoctor bench: generated Go benchmarks for the lab's map-growth finding, run with real toolchains."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from labdata import FIXTURES, LAB_GO, ROOT
from mapdoctor.analysis.benchstats import mann_whitney, summarize
from mapdoctor.lab.toolchain import CLASSIC_GO, SWISS_GO, find_go

ENV = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
GO = {"go1.23": CLASSIC_GO, "go1.27": SWISS_GO}


def _bench(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mapdoctor", "bench", *args], capture_output=True, text=True,
                          timeout=600, env=ENV)


def test_statistics_match_published_values() -> None:
    # Complete separation of 6 and 6: exact two-sided p = 2 / C(12, 6); interleaved 4 and 4: 0.6857 (R).
    assert mann_whitney(range(6), range(6, 12)) == pytest.approx(2 / 924)
    assert mann_whitney([1, 3, 5, 7], [2, 4, 6, 8]) == pytest.approx(0.6857, abs=1e-4)
    s = summarize([5, 1, 2, 3, 4, 6, 7, 8, 9, 10])  # benchstat's interval for 10 runs: x(2)..x(9)
    assert (s.median, s.low, s.high) == (5.5, 2, 9)


@pytest.mark.parametrize("go", ["go1.23", "go1.27"])
def test_hinted_map_is_faster_with_p_below_005(go: str, tmp_path: Path) -> None:
    find_go(GO[go])  # installed on first need, outside the command's own timeout
    r = _bench(str(FIXTURES / go / "mapgrow-str"), "--source", str(LAB_GO), "--go", GO[go], "--count", "8",
               "--benchtime", "10x", "--json", "-", "--html", str(tmp_path / "b.html"))
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["schema"] == "mapdoctor/bench@1" and out["map"] == "map[string]*Order"
    assert out["go"] == f"go{GO[go]}" and out["size"] > 10000
    by = {b["name"]: b for b in out["benchmarks"]}
    assert set(by) == {"NoHint", "Hint", "ClearReuse", "HintIntKey"} and out["baseline"] == "NoHint"
    hint = by["Hint"]["vs_no_hint"]
    if not (hint["significant"] and hint["ratio"] < 1):
        # A busy machine (CI's) can swamp eight 10-iteration runs; the claim is tested once more with
        # more runs before it is called wrong. Bytes and growths below are exact either way.
        again = _bench(str(FIXTURES / go / "mapgrow-str"), "--source", str(LAB_GO), "--go", GO[go], "--count",
                       "16", "--benchtime", "20x", "--json", "-")
        assert again.returncode == 0, again.stderr
        hint = {b["name"]: b for b in json.loads(again.stdout)["benchmarks"]}["Hint"]["vs_no_hint"]
    assert hint["significant"] and hint["p_value"] < 0.05 and hint["ratio"] < 1, by
    assert by["Hint"]["B/op"]["median"] < by["NoHint"]["B/op"]["median"]
    assert by["NoHint"]["growths/op"]["median"] > 10 and by["Hint"]["growths/op"]["median"] == 0
    page = (tmp_path / "b.html").read_text()
    assert "map[string]*Order" in page and "ClearReuse" in page and "<script" not in page


@pytest.mark.parametrize("go", ["go1.23", "go1.27"])
def test_sync_map_finding_benchmarks_four_ways(go: str, tmp_path: Path) -> None:
    find_go(GO[go])
    # The mix the profile shows (CPU shares) is taken from the finding and said to be a proxy.
    r = _bench(str(FIXTURES / go / "syncmap"), "--go", GO[go], "--count", "5", "--benchtime", "2000x",
               "--json", "-")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["baseline"] == "SyncMap" and out["mix"]["new_keys"] > 0.1 and "under-counted" in r.stderr
    assert {b["name"] for b in out["benchmarks"]} == {"SyncMap", "MutexMap", "RWMutexMap", "ShardedMap"}
    # The lab service's real mix: two reads that miss per new token. sync.Map is the wrong tool there.
    r = _bench("--mix", "0:67:0:33", "--size", "10000", "--go", GO[go], "--count", "6", "--benchtime", "0.05s",
               "--json", "-", "--html", str(tmp_path / "s.html"))
    assert r.returncode == 0, r.stderr
    by = {b["name"]: b for b in json.loads(r.stdout)["benchmarks"]}
    for b in by.values():  # every way ran the mix asked for (two misses per new key)
        assert b["misses/op"]["median"] == pytest.approx(0.67, abs=0.02), b
        assert b["newkeys/op"]["median"] == pytest.approx(0.33, abs=0.02), b
    # Which way wins is Go's business and a busy machine's (a preempted lock holder stalls the
    # others, sync.Map's lock-free reads do not): measured figures are in docs/BENCH.md. Here: the
    # comparison is made and stated.
    locked = by["MutexMap"]["vs_baseline"]
    assert 0 < locked["p_value"] <= 1 and locked["ratio"] > 0
    assert "=> " in _bench("--mix", "0:67:0:33", "--size", "1000", "--go", GO[go], "--count", "2",
                           "--benchtime", "100x").stdout
    page = (tmp_path / "s.html").read_text()
    assert "vs SyncMap" in page and "67% missed reads" in page


def test_emitted_benchmark_compiles_and_passes_vet(tmp_path: Path) -> None:
    out = tmp_path / "mapbench"
    r = _bench(str(FIXTURES / "go1.27" / "mapgrow-int"), "--source", str(LAB_GO), "--emit", str(out))
    assert r.returncode == 0, r.stderr
    code = (out / "map_bench_test.go").read_text()
    assert "map[int64]*benchValue" in code and "clear(m)" in code
    tc = find_go(SWISS_GO)
    for cmd in (["vet", "./..."], ["test", "-run", "^$", "-bench", ".", "-benchtime", "1x"]):
        done = subprocess.run([str(tc.go), *cmd], cwd=out, env=tc.env(), capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr + done.stdout


def test_without_types_or_finding_it_says_what_is_missing(tmp_path: Path) -> None:
    r = _bench(str(FIXTURES / "go1.23" / "mapgrow-str"), "--emit", str(tmp_path / "x"))
    assert r.returncode == 2 and "--source" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    r = _bench(str(FIXTURES / "go1.23" / "presized"))
    assert r.returncode == 2 and "no map-growth or sync.Map finding" in r.stderr
    r = _bench("--map", "map[float64]string", "--size", "10")
    assert r.returncode == 2 and "key type" in r.stderr
    r = _bench("--mix", "1:2:3", "--size", "10")
    assert r.returncode == 2 and "HITS:MISSES:UPDATES:NEW" in r.stderr
    r = _bench(str(FIXTURES / "go1.27" / "presized"), "--finding", "sync_map")
    assert r.returncode == 2 and "no sync.Map finding" in r.stderr
