"""--export-pprof: each cause's sub-profile read by the real `go tool pprof -top`."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from labdata import FIXTURES, ROOT
from mapdoctor.lab.toolchain import CLASSIC_GO, SWISS_GO, find_go

SRC = ROOT / "src"
ENV = {**os.environ, "PYTHONPATH": str(SRC)}
GO = {"go1.23": CLASSIC_GO, "go1.27": SWISS_GO}
#: (scenario, cause, the shares that measure it)
CASES = [("mapgrow-str", "map_growth", ("map_growth",)), ("gcpressure", "gc_pressure", ("gc", "gc_assist")),
         ("slicegrow", "slice_growth", ("slice_growth",)), ("syncmap", "sync_map", ("sync_map",))]
_TOTAL = re.compile(r"Showing nodes accounting for [^,]+, [^ ]+ of ([0-9.]+)ms total")


def _pprof_total_ms(go: str, path: Path) -> float:
    tool = find_go(GO[go])
    r = subprocess.run([str(tool.go), "tool", "pprof", "-top", "-unit=ms", str(path)], env=tool.env(),
                       capture_output=True, text=True, timeout=180)
    assert r.returncode == 0, r.stderr
    m = _TOTAL.search(r.stdout)
    assert m, r.stdout[:500]
    return float(m.group(1))


@pytest.mark.parametrize("go", ["go1.23", "go1.27"])
@pytest.mark.parametrize(("scenario", "cause", "keys"), CASES)
def test_go_tool_pprof_reads_the_sub_profile_and_its_total_is_the_share(
        go: str, scenario: str, cause: str, keys: tuple[str, ...], tmp_path: Path) -> None:
    folder = FIXTURES / go / scenario
    out = tmp_path / f"{cause}.pb.gz"
    r = subprocess.run([sys.executable, "-m", "mapdoctor", "analyze", str(folder), "--json", "-",
                        "--export-pprof", str(out), "--export-cause", cause],
                       capture_output=True, text=True, timeout=180, env=ENV)
    assert r.returncode == 0, r.stderr
    share = sum(json.loads(r.stdout)["shares"][k] for k in keys)
    assert share > 0.02
    sub, full = _pprof_total_ms(go, out), _pprof_total_ms(go, folder / "cpu.pb.gz")
    # pprof prints totals to the 10 ms sample; shares in the JSON are rounded to 4 places.
    assert sub / full == pytest.approx(share, abs=1e-3), (sub, full, share)
    assert sub < full


def test_export_of_a_cause_without_samples_is_a_one_line_error(tmp_path: Path) -> None:
    r = subprocess.run([sys.executable, "-m", "mapdoctor", "analyze", str(FIXTURES / "go1.23" / "presized"),
                        "--export-pprof", str(tmp_path / "x.pb.gz"), "--export-cause", "sync_map"],
                       capture_output=True, text=True, timeout=120, env=ENV)
    assert r.returncode == 2 and "no CPU samples in sync_map" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "x.pb.gz").exists()
