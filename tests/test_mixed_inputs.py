"""Inputs keep their real kind, and inputs from different programs are not merged silently."""

from __future__ import annotations

import dataclasses
import gzip
import json
from pathlib import Path
from typing import Any

import pytest

from mapdoctor.cli.main import main
from mapdoctor.formats.detect import InputKind, load_file
from mapdoctor.formats.limits import read_file
from mapdoctor.formats.pprof import decode_profile, encode_profile

FIXTURES = Path(__file__).parent / "fixtures"


def _empty_copy(src: Path, dest: Path) -> Path:
    prof = decode_profile(gzip.decompress(read_file(src)), str(src))
    empty = dataclasses.replace(prof, samples=[])
    dest.write_bytes(gzip.compress(encode_profile(empty)))
    return dest


def test_lab_mutex_and_block_profiles_keep_their_kind() -> None:
    for version in ("go1.23", "go1.27"):
        assert load_file(FIXTURES / version / "mutex" / "mutex.pb.gz").kind is InputKind.MUTEX
        assert load_file(FIXTURES / version / "mutex" / "block.pb.gz").kind is InputKind.BLOCK


def test_empty_mutex_profile_is_labelled_by_its_name(tmp_path: Path) -> None:
    src = FIXTURES / "go1.27" / "idle" / "mutex.pb.gz"
    assert load_file(_empty_copy(src, tmp_path / "mutex.pb.gz")).kind is InputKind.MUTEX
    assert load_file(_empty_copy(src, tmp_path / "block.pprof")).kind is InputKind.BLOCK
    assert load_file(_empty_copy(src, tmp_path / "x.pb.gz")).kind is InputKind.CONTENTION


def _analyze(capsys: pytest.CaptureFixture[str], *paths: Path) -> dict[str, Any]:
    main(["analyze", "--json", "-", *map(str, paths)])
    out = capsys.readouterr().out
    doc: dict[str, Any] = json.loads(out[out.index("{"):])
    return doc


def test_a_go123_and_a_go127_program_are_warned_about(capsys: pytest.CaptureFixture[str]) -> None:
    old = FIXTURES / "go1.23" / "mapgrow-int" / "cpu.pb.gz"
    new = FIXTURES / "go1.27" / "syncmap" / "cpu.pb.gz"
    main(["analyze", str(old), str(new)])
    text = capsys.readouterr().out
    assert "different programs or Go versions" in text
    notes = _analyze(capsys, old, new)["notes"]
    mixed = [n for n in notes if "different programs" in n]
    assert len(mixed) == 1 and str(old) in mixed[0] and str(new) in mixed[0]


def test_two_go127_programs_differ_by_build_id(capsys: pytest.CaptureFixture[str]) -> None:
    notes = _analyze(capsys, FIXTURES / "go1.27" / "mapgrow-int" / "cpu.pb.gz",
                     FIXTURES / "go1.27" / "syncmap" / "heap.pb.gz")["notes"]
    assert any("different build IDs" in n for n in notes)


def test_one_capture_is_not_called_mixed(capsys: pytest.CaptureFixture[str]) -> None:
    notes = _analyze(capsys, FIXTURES / "go1.27" / "syncmap")["notes"]
    assert not any("different programs" in n for n in notes)


def test_separate_gives_one_verdict_per_program() -> None:
    """``analyze --separate``: a go1.23 map-growth capture and a go1.27 sync.Map one, each its own verdict,
    the same as each folder alone."""
    import subprocess
    import sys

    from labdata import FIXTURES

    r = subprocess.run([sys.executable, "-m", "mapdoctor", "analyze", str(FIXTURES / "go1.23" / "mapgrow-int"),
                        str(FIXTURES / "go1.27" / "syncmap"), "--separate", "--no-color"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    heads = [line for line in r.stdout.splitlines() if line.startswith("== ")]
    assert len(heads) == 2 and "classic maps" in heads[0] and "swiss maps" in heads[1], heads
    first, second = r.stdout.split(heads[1])
    assert " MAP GROWTH " in first and "sessions.go:55" in first and "go1.27/syncmap" not in first
    assert " SYNC.MAP CHURN " in second and "session_cache.go:54" in second and "go1.23/" not in second
    assert "different programs" not in r.stdout  # each verdict rests on one program's evidence
    bad = subprocess.run([sys.executable, "-m", "mapdoctor", "analyze", str(FIXTURES / "go1.23" / "idle"),
                          "--separate", "--json", "-"], capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "--separate" in bad.stderr
