"""The runbook: git blame of the site line, and GC knobs computed from the gctrace log."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

import mapdoctor
from labdata import FIXTURES, LAB_GO
from mapdoctor.analysis.runbook import gc_knobs, gc_model
from mapdoctor.formats.gctrace import parse_gctrace


@pytest.mark.parametrize("go", ["go1.23", "go1.27"])
def test_gc_knobs_follow_the_pacer_model(go: str) -> None:
    log = FIXTURES / go / "gcpressure" / "gctrace.log"
    model = gc_model(parse_gctrace(log.read_text(), str(log)))
    assert model is not None and model.gogc == 100  # the lab runs with the default GOGC
    k = gc_knobs(model)
    assert k["gogc"] > 100
    # Frequency scales with 1/GOGC above the 4 MB minimum heap; the peak with live x (1 + GOGC/100).
    assert k["predicted_cycles_per_s"] == pytest.approx(model.cycles_per_s * 100 / k["gogc"], rel=0.02)
    assert k["predicted_peak_mb"] == pytest.approx(model.live_mb * (1 + k["gogc"] / 100), rel=0.01)
    assert k["gomemlimit_mib"] > k["predicted_peak_busy_mb"] >= k["predicted_peak_mb"]
    assert k["gomemlimit_floor_mib"] < k["gomemlimit_mib"]


def test_gc_pressure_verdict_carries_the_gc_step() -> None:
    d = mapdoctor.analyze(FIXTURES / "go1.27" / "gcpressure")
    kinds = [s["kind"] for s in d.runbook]
    assert kinds == ["code", "gc_knobs"]
    assert "GOGC=" in d.runbook[1]["action"] and "GOMEMLIMIT=" in d.runbook[1]["action"]
    assert mapdoctor.to_json(d)["runbook"] == d.runbook


def test_no_cause_no_runbook() -> None:
    assert mapdoctor.analyze(FIXTURES / "go1.23" / "presized").runbook == []


def test_git_blame_names_the_commit_of_the_site_line(tmp_path: Path) -> None:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    tree = tmp_path / "svc"
    shutil.copytree(LAB_GO, tree)
    git = ["git", "-C", str(tree), "-c", "user.name=Dev One", "-c", "user.email=dev@example.com"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "Index orders per batch"], check=True,
                   env={"GIT_AUTHOR_DATE": "2026-01-02T03:04:05Z", "GIT_COMMITTER_DATE": "2026-01-02T03:04:05Z",
                        "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    head = subprocess.run([*git, "rev-parse", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
    d = mapdoctor.analyze(FIXTURES / "go1.23" / "mapgrow-str", source=tree)
    step = d.runbook[0]
    assert step["kind"] == "code" and step["file"] == "mapdoctorlab/orders.go"
    blame = step["blame"]
    assert blame["commit"] == head[:12] and blame["summary"] == "Index orders per batch"
    assert blame["author"] == "Dev One"
    assert "2026-01-02" in step["action"] and "roll back" in step["action"]
