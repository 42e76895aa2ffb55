"""Inputs keep their real kind, and inputs from different programs are not merged silently."""

from __future__ import annotations

import dataclasses
import gzip
from pathlib import Path

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
