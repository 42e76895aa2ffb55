"""``mapdoctor census`` against the lab's census scenario, built with both lab toolchains.

The lab program reports, for each of its package-level maps, the len it sees, the capacity its
own ``unsafe`` read of the runtime header implies, and (for maps built alone) the heap bytes
``runtime.MemStats`` saw them take. The census, reading the process from outside, must agree:
len, count, capacity and growth state exactly; bytes within 1 KiB (MemStats also counts the
few runtime allocations that happen while a 1M-entry map is built and emptied: 112 and 400
bytes were seen on a 38-40 MB map).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import debian
from mapdoctor.cli.main import main
from mapdoctor.lab.build import build_lab
from mapdoctor.lab.scenarios import LabService
from mapdoctor.lab.toolchain import CLASSIC_GO, SWISS_GO, find_go

pytestmark = pytest.mark.go

BYTES_TOLERANCE = 1024
SRC = Path(__file__).resolve().parent.parent / "src"


def _expect(svc: LabService, *, done: bool = True) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while True:
        doc: dict[str, Any] = json.loads(svc.get("/census/expect"))
        if doc["index_done"] or not done or time.monotonic() > deadline:
            return doc
        time.sleep(0.2)


@pytest.fixture(scope="module", params=[CLASSIC_GO, SWISS_GO])
def lab(request: pytest.FixtureRequest) -> Iterator[tuple[str, Path]]:
    version: str = request.param
    yield version, build_lab(find_go(version))


@pytest.fixture(scope="module")
def service(lab: tuple[str, Path]) -> Iterator[tuple[LabService, dict[str, Any]]]:
    with LabService(lab[1], "census", start_timeout=60) as svc:
        yield svc, _expect(svc)


def _census(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    capsys.readouterr()
    status = main(["census", *args, "--json", "-", "--quiet"])
    out, err = capsys.readouterr()
    assert status == 0, err
    doc: dict[str, Any] = json.loads(out)
    assert doc["schema"] == "mapdoctor/census@1"
    return doc


def _by_path(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {m["path"]: m for m in doc["maps"]}


def _compare(doc: dict[str, Any], expect: dict[str, Any]) -> None:
    got = _by_path(doc)
    for path, want in expect["maps"].items():
        assert path in got, f"{path} not found; found {sorted(got)}"
        g = got[path]
        assert (g["count"], g["len"], g["capacity"], g["growing"]) == \
            (want["count"], want["len"], want["capacity"], want["growing"]), (path, g, want)
        if want.get("bytes"):
            assert abs(g["bytes"] - want["bytes"]) <= BYTES_TOLERANCE, (path, g["bytes"], want["bytes"])
        assert g["impl"] == expect["impl"]


def test_census_matches_what_the_program_reports(service: tuple[LabService, dict[str, Any]],
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    svc, expect = service
    doc = _census(capsys, str(svc.pid), "--package", "main.")
    assert doc["pid"] == svc.pid and doc["partial"] is False, doc["notes"]
    assert doc["go"]["version"] == expect["go"] and doc["go"]["impl"] == expect["impl"]
    _compare(doc, expect)
    cache = _by_path(doc)["main.censusCache"]
    # 1,000 entries left of 1,000,000: nearly all of it is kept from the peak.
    assert cache["waste_bytes"] > 0.99 * cache["bytes"]
    shrink = [f for f in doc["findings"] if f["kind"] == "never_shrinks"]
    assert [f["path"] for f in shrink] == ["main.censusCache"]
    assert "make(map[K]V, len(m))" in shrink[0]["advice"]
    sized = _by_path(doc)["main.censusSized"]
    assert sized["waste_bytes"] < 0.01 * sized["bytes"]  # made with the right hint: nothing to give back
    mid = _by_path(doc)["main.censusMidGrowth"]["largest"][0]
    if expect["impl"] == "classic":
        assert mid["growing"] and 0 < mid["evacuated"] < 0.01 and mid["old_capacity"] == mid["capacity"] // 2
        assert _by_path(doc)["main.censusCache"]["overflow"] > 0
    else:
        assert mid["evacuated"] is None and mid["tables"] >= 1
        assert _by_path(doc)["main.censusCache"]["tombstones"] > 0  # deletes leave tombstones in full groups


def test_all_packages_by_default(service: tuple[LabService, dict[str, Any]],
                                 capsys: pytest.CaptureFixture[str]) -> None:
    svc, expect = service
    doc = _census(capsys, str(svc.pid))
    paths = _by_path(doc)
    assert set(expect["maps"]) <= set(paths)
    assert any(not p.startswith("main.") for p in paths)  # the standard library's maps too
    assert not any(p.startswith(("runtime.", "internal/")) for p in paths)


def test_freeze_is_bounded_and_the_process_runs_on(service: tuple[LabService, dict[str, Any]],
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    svc, expect = service
    doc = _census(capsys, str(svc.pid), "--package", "main.", "--freeze")
    fz = doc["freeze"]
    assert fz["threads"] >= 2 and 0 < fz["stopped_ms"] <= 200, fz
    # On a loaded machine the re-read may not fit in the budget: then the stop still ends on
    # time and the census says how many maps it re-read (partial, labelled), never more.
    assert 0 < fz["maps_reread"] <= doc["stats"]["maps_found"], fz
    if fz["complete"]:
        assert fz["maps_reread"] == doc["stats"]["maps_found"]
    else:
        assert any("--freeze:" in n and "re-read within" in n for n in doc["notes"]), doc["notes"]
    _compare(doc, expect)
    assert _expect(svc)["index_done"]  # still serving


def test_core_file_gives_the_same_census(lab: tuple[str, Path], service: tuple[LabService, dict[str, Any]],
                                         capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    gcore = debian.need("gdb", "gcore")
    svc, expect = service
    prefix = tmp_path / "core"
    proc = subprocess.run([gcore, "-o", str(prefix), str(svc.pid)], capture_output=True, text=True, timeout=120)
    core = Path(f"{prefix}.{svc.pid}")
    assert core.is_file(), proc.stdout + proc.stderr
    try:
        doc = _census(capsys, "--core", str(core), "--binary", str(lab[1]), "--package", "main.")
    finally:
        core.unlink()
    assert doc["core"] == str(core) and doc["pid"] == svc.pid and doc["partial"] is False
    _compare(doc, expect)


def test_watch_sees_the_index_grow(lab: tuple[str, Path], capsys: pytest.CaptureFixture[str],
                                   tmp_path: Path) -> None:
    with LabService(lab[1], "census", start_timeout=60) as svc:
        doc = _census(capsys, str(svc.pid), "--package", "main.censusIndex", "--watch", "250ms", "--for", "3s",
                      "--html", str(tmp_path / "census.html"))
        final = _expect(svc)
    lens = [s["maps"]["main.censusIndex"]["len"] for s in doc["samples"]]
    assert len(lens) >= 6
    assert lens == sorted(lens) and lens[-1] > lens[0], lens
    caps = [s["maps"]["main.censusIndex"]["capacity"] for s in doc["samples"]]
    events = [e for e in doc["events"] if e["path"] == "main.censusIndex"]
    assert events and all(e["capacity_to"] > e["capacity_from"] for e in events)
    assert sum(e["doublings"] for e in events) >= 1 and caps[-1] > caps[0]
    assert final["maps"]["main.censusIndex"]["len"] >= lens[-1]
    assert "<svg id=heatmap" in (tmp_path / "census.html").read_text()


def test_process_exiting_mid_watch_is_a_partial_result(lab: tuple[str, Path]) -> None:
    with LabService(lab[1], "census", start_timeout=60) as svc:
        env = dict(os.environ, PYTHONPATH=str(SRC))
        proc = subprocess.Popen([sys.executable, "-m", "mapdoctor", "census", str(svc.pid), "--package", "main.",
                                 "--watch", "200ms", "--for", "20s", "--json", "-", "--quiet"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        time.sleep(4.5)  # DWARF, the first walk, some samples
        os.kill(svc.pid, signal.SIGKILL)
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    doc = json.loads(out)
    assert doc["partial"] is True and any("exited" in n for n in doc["notes"]), doc["notes"]
    assert len(doc["samples"]) >= 1


def test_stripped_binary_needs_its_unstripped_copy(lab: tuple[str, Path], capsys: pytest.CaptureFixture[str],
                                                   tmp_path: Path) -> None:
    stripped = tmp_path / "mapdoctorlab-stripped"
    subprocess.run(["objcopy", "--strip-debug", str(lab[1]), str(stripped)], check=True, timeout=60)
    with LabService(stripped, "census", start_timeout=60) as svc:
        capsys.readouterr()
        assert main(["census", str(svc.pid), "--quiet"]) == 2
        err = capsys.readouterr().err.strip()
        assert err.count("\n") == 0 and "stripped" in err and "--binary" in err, err
        doc = _census(capsys, str(svc.pid), "--binary", str(lab[1]), "--package", "main.")
        assert _by_path(doc)["main.censusSized"]["len"] == 5000


def test_permission_denied_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        pytest.skip("needs root and setpriv (util-linux) to run a target as another user")
    scratch = Path(tempfile.mkdtemp(prefix="mapdoctor-perm-"))
    try:
        scratch.chmod(0o755)
        sleeper = scratch / "sleep"
        shutil.copy("/bin/sleep", sleeper)
        target = subprocess.Popen(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                                   str(sleeper), "30"])
        try:
            time.sleep(0.3)
            env = dict(os.environ, PYTHONPATH=str(SRC))
            proc = subprocess.run(["setpriv", "--bounding-set=-sys_ptrace", "--inh-caps=-sys_ptrace",
                                   sys.executable, "-m", "mapdoctor", "census", str(target.pid)],
                                  capture_output=True, text=True, timeout=60, env=env)
        finally:
            target.kill()
            target.wait()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "permission denied" in lines[0] and "ptrace" in lines[0], proc.stderr


def test_non_go_process_and_missing_process(capsys: pytest.CaptureFixture[str]) -> None:
    sleeper = subprocess.Popen(["sleep", "30"])
    try:
        capsys.readouterr()
        assert main(["census", str(sleeper.pid)]) == 2
        err = capsys.readouterr().err.strip()
        assert err == f"pid {sleeper.pid}: binary: not a Go program (no Go build information)", err
    finally:
        sleeper.kill()
        sleeper.wait()
    assert main(["census", str(sleeper.pid)]) == 2
    assert capsys.readouterr().err.strip() == f"pid {sleeper.pid}: process: no such process"


def test_binary_of_another_build_is_refused(lab: tuple[str, Path], service: tuple[LabService, dict[str, Any]],
                                            capsys: pytest.CaptureFixture[str]) -> None:
    svc, _ = service
    other = build_lab(find_go(SWISS_GO if lab[0] == CLASSIC_GO else CLASSIC_GO))
    capsys.readouterr()
    assert main(["census", str(svc.pid), "--binary", str(other), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"{other}: binary: another build than the target's (Go build ID") and "\n" not in err
