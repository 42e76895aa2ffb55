"""The flight recorder package (src/mapdoctor/go/flightrecorder) and its use by ``diagnose``.

Go 1.27 (Swiss maps, runtime/trace.FlightRecorder): the trace comes from the recorder and
reaches back before the collection window. Go 1.23: the package compiles, the lab says
the recorder is unavailable, and ``diagnose`` falls back to a live trace.
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from mapdoctor.cli.main import main
from mapdoctor.lab.build import FLIGHTRECORDER_DIR, build_lab
from mapdoctor.lab.scenarios import LabService
from mapdoctor.lab.toolchain import CLASSIC_GO, SWISS_GO, find_go

pytestmark = pytest.mark.go

WINDOW_S = 2
RECORDER = ("-flightrecorder", "10s")


@pytest.mark.parametrize("version", [CLASSIC_GO, SWISS_GO])
def test_go_package_tests(version: str) -> None:
    tc = find_go(version)
    proc = subprocess.run([str(tc.go), "test", "-count=1", "./..."], cwd=FLIGHTRECORDER_DIR, env=tc.env(),
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def _diagnose(url: str, out: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[dict[str, Any],
                                                                                              dict[str, Any]]:
    capsys.readouterr()
    status = main(["diagnose", url, "--duration", str(WINDOW_S), "--json", "-", "--quiet", "--out", str(out),
                   *extra])
    stdout, err = capsys.readouterr()
    assert status == 0, err
    report: dict[str, Any] = json.loads(stdout)
    manifest: dict[str, Any] = json.loads((out / "manifest.json").read_text())
    return report, manifest


def _trace_part(manifest: dict[str, Any]) -> dict[str, Any]:
    part: dict[str, Any] = next(p for p in manifest["parts"] if p["name"] == "trace")
    return part


def test_diagnose_takes_the_recorded_seconds_before_the_window(tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    binary = build_lab(find_go(SWISS_GO))
    with LabService(binary, "mapgrow-str", args=RECORDER) as svc:
        time.sleep(4)  # let the recorder fill
        report, manifest = _diagnose(svc.base_url, tmp_path / "fr", capsys)
        part = _trace_part(manifest)
        assert part["request"] == "/debug/pprof/flightrecorder" and part["status"] == "ok"
        assert report["verdict"] == "map_growth"
        assert any("flight recorder" in n for n in report["notes"])
        # The trace reaches back before the window: longer than the window itself.
        span_ms = report["timeline"]["span_ms"]
        assert span_ms > (WINDOW_S + 2) * 1000, span_ms
        # Asked not to, diagnose takes a live trace as before.
        _, live = _diagnose(svc.base_url, tmp_path / "live", capsys, "--no-flight-recorder")
        assert _trace_part(live)["request"].startswith("/debug/pprof/trace?seconds=")


def test_older_go_falls_back_to_a_live_trace(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    binary = build_lab(find_go(CLASSIC_GO))
    stderr = tmp_path / "lab.err"
    with LabService(binary, "mapgrow-str", args=RECORDER, stderr_path=stderr) as svc:
        report, manifest = _diagnose(svc.base_url, tmp_path / "out", capsys)
        part = _trace_part(manifest)
        assert part["request"].startswith("/debug/pprof/trace?seconds=") and part["status"] == "ok"
        assert report["verdict"] == "map_growth"
        assert not any("flight recorder" in n for n in report["notes"])
    assert "needs Go 1.25" in stderr.read_text()
