"""Inputs are recognised by content, never by name; a saved evidence folder carries its caveats."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from labdata import scenario_dir
from mapdoctor.analysis.diagnose import diagnose
from mapdoctor.formats.detect import InputKind, load_inputs

KINDS = {
    "cpu.pb.gz": InputKind.CPU, "allocs.pb.gz": InputKind.ALLOCS, "heap.pb.gz": InputKind.HEAP,
    "mutex.pb.gz": InputKind.MUTEX, "block.pb.gz": InputKind.BLOCK, "goroutine.pb.gz": InputKind.GOROUTINE_PROFILE,
    "goroutine.txt": InputKind.GOROUTINE_DUMP, "trace.out": InputKind.TRACE, "gctrace.log": InputKind.GCTRACE,
}


def test_kinds_come_from_content_not_names(tmp_path: Path) -> None:
    src = scenario_dir("go1.27", "mutex")
    for i, name in enumerate(sorted(KINDS)):
        shutil.copy(src / name, tmp_path / f"input{i}.bin")  # names that say nothing
    loaded = load_inputs([tmp_path])
    assert not loaded.skipped
    got = sorted(i.kind.value for i in loaded.inputs)
    assert got == sorted(k.value for k in KINDS.values())


def test_crash_log_is_a_crash() -> None:
    loaded = load_inputs([scenario_dir("go1.23", "crash")])
    assert [i.kind for i in loaded.inputs] == [InputKind.CRASH]


def test_saved_folder_notes_reach_the_offline_verdict(tmp_path: Path) -> None:
    folder = tmp_path / "evidence"
    shutil.copytree(scenario_dir("go1.23", "mapgrow-str"), folder)
    (folder / "mutex.pb.gz").unlink()
    (folder / "manifest.json").write_text(json.dumps({
        "format": 1, "notes": ["goroutine dump skipped: 20000 goroutines"],
        "parts": [{"name": "mutex", "what": "mutex profile", "error": "HTTP 404: pprof not mounted"}],
    }))
    d = diagnose(load_inputs([folder]))
    assert "goroutine dump skipped: 20000 goroutines" in d.notes
    assert any("mutex profile: HTTP 404" in n for n in d.notes)
    assert d.verdict.value == "map_growth"
