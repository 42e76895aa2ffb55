"""``mapdoctor demo``: end to end in a subprocess, and nothing left running afterwards."""

from __future__ import annotations

import json
import os
import re
import selectors
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mapdoctor.lab.build import build_lab
from mapdoctor.lab.toolchain import SWISS_GO, find_go

pytestmark = pytest.mark.go

PID_LINE = re.compile(r"service listening on http://127\.0\.0\.1:\d+ \(pid (\d+)\)")


@pytest.fixture(scope="module", autouse=True)
def _lab_built() -> None:
    # Built once here, so the demo's own build is a cache hit and the tests time the demo.
    build_lab(find_go(SWISS_GO))


def _demo(*args: str) -> list[str]:
    return [sys.executable, "-m", "mapdoctor", "demo", *args, "--go", SWISS_GO]


def _state(pid: int) -> str | None:
    """The process state letter, or None when there is no such process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[0]


def _gone(pid: int) -> bool:
    return _state(pid) in (None, "Z", "X")


def _children(pid: int) -> list[int]:
    """Direct and indirect children of ``pid``."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found: list[int] = []
    frontier = [pid]
    while frontier:
        p = frontier.pop()
        kids = [c for c, pp in parents.items() if pp == p]
        found += kids
        frontier += kids
    return found


def test_demo_reports_map_growth_and_stops_the_service(tmp_path: Path) -> None:
    proc = subprocess.run(_demo("--duration", "1", "--json", "-"), cwd=tmp_path,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["verdict"] == "map_growth"
    m = PID_LINE.search(proc.stderr)
    assert m, proc.stderr
    assert _gone(int(m.group(1)))
    folder = tmp_path / "mapdoctor-demo-mapgrow-str"
    assert f"evidence kept in {folder}" in proc.stderr
    manifest = json.loads((folder / "manifest.json").read_text())
    assert (folder / "cpu.pb.gz").is_file()
    assert manifest["window_s"] == 1


def test_demo_runs_again_into_the_same_folder(tmp_path: Path) -> None:
    keep = tmp_path / "evidence"
    for _ in range(2):
        proc = subprocess.run(_demo("idle", "--duration", "1", "--keep", str(keep), "--quiet", "--json",
                                    str(tmp_path / "report.json")),
                              cwd=tmp_path, capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, proc.stderr
    assert json.loads((tmp_path / "report.json").read_text())["verdict"]


def test_demo_rejects_an_unknown_scenario(tmp_path: Path) -> None:
    proc = subprocess.run(_demo("nosuch"), cwd=tmp_path, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.startswith("mapdoctor: unknown scenario 'nosuch'")


def test_ctrl_c_stops_every_process_the_demo_started(tmp_path: Path) -> None:
    # A shell that started this run in the background may have left SIGINT ignored for
    # its children; a terminal's Ctrl-C reaches a demo with the default disposition.
    proc = subprocess.Popen(_demo("idle", "--duration", "30"), cwd=tmp_path, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    assert proc.stderr is not None
    seen = b""
    deadline = time.monotonic() + 120
    try:
        with selectors.DefaultSelector() as sel:
            sel.register(proc.stderr, selectors.EVENT_READ)
            while b"collecting from" not in seen:
                assert time.monotonic() < deadline, seen.decode(errors="replace")
                if sel.select(1):
                    chunk = os.read(proc.stderr.fileno(), 4096)
                    assert chunk, f"the demo ended early: {seen.decode(errors='replace')}"
                    seen += chunk
        children = _children(proc.pid)
        m = PID_LINE.search(seen.decode())
        assert m and int(m.group(1)) in children
        time.sleep(0.5)  # well inside the collection window
        proc.send_signal(signal.SIGINT)
        status = proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    rest = proc.stderr.read().decode(errors="replace")
    assert status == 130, rest
    assert "mapdoctor: interrupted" in rest
    assert [c for c in children if not _gone(c)] == []
