"""Bad input through the real command line: one line `PATH: KIND: reason`, exit 2, no traceback."""

from __future__ import annotations

import gzip
import os
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from google.protobuf import descriptor_pb2

from clirun import run_cli
from labdata import scenario_dir
from mapdoctor.formats.pprof.schema import ProfileMessage
from testbytes import gzip_bomb

GOOD = scenario_dir("go1.27", "mapgrow-str") / "cpu.pb.gz"


def run(*args: str | Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mapdoctor", *map(str, args)], capture_output=True,
                          text=True, timeout=timeout, env={**os.environ, "COLUMNS": "100"})


def assert_one_line_error(proc: subprocess.CompletedProcess[str], path: Path, kind: str) -> str:
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith(f"{path}: {kind}: "), lines[0]
    return lines[0]


def _profile(**fields: Any) -> bytes:
    msg = ProfileMessage(**fields)
    return bytes(msg.SerializeToString())


def test_empty_file(tmp_path: Path) -> None:
    p = tmp_path / "empty.pb.gz"
    p.write_bytes(b"")
    assert_one_line_error(run("analyze", p), p, "input")


def test_truncated_gzip(tmp_path: Path) -> None:
    p = tmp_path / "cut.pb.gz"
    p.write_bytes(GOOD.read_bytes()[:-40])
    assert_one_line_error(run("analyze", p), p, "gzip")


def test_corrupt_gzip(tmp_path: Path) -> None:
    data = bytearray(GOOD.read_bytes())
    for i in range(20, min(len(data) - 10, 400), 7):
        data[i] ^= 0xFF
    p = tmp_path / "corrupt.pb.gz"
    p.write_bytes(bytes(data))
    line = assert_one_line_error(run("analyze", p), p, "gzip")
    assert "corrupt" in line or "truncated" in line


def test_protobuf_that_is_not_a_profile(tmp_path: Path) -> None:
    fdp = descriptor_pb2.FileDescriptorProto(name="x.proto", package="example")
    fdp.message_type.add(name="Thing")
    p = tmp_path / "descriptor.pb"
    p.write_bytes(fdp.SerializeToString())
    assert_one_line_error(run("analyze", p), p, "input")


def test_pprof_with_dangling_location_id(tmp_path: Path) -> None:
    data = _profile(sample_type=[{"type": 1, "unit": 2}], string_table=[b"", b"cpu", b"nanoseconds"],
                    sample=[{"location_id": [99], "value": [10]}])
    p = tmp_path / "dangling.pb.gz"
    p.write_bytes(gzip.compress(data))
    line = assert_one_line_error(run("analyze", p), p, "pprof")
    assert "99" in line


def test_pprof_with_dangling_function_id(tmp_path: Path) -> None:
    data = _profile(sample_type=[{"type": 1, "unit": 2}], string_table=[b"", b"cpu", b"nanoseconds"],
                    location=[{"id": 1, "line": [{"function_id": 7, "line": 3}]}],
                    sample=[{"location_id": [1], "value": [10]}])
    p = tmp_path / "dangling-fn.pb"
    p.write_bytes(data)
    line = assert_one_line_error(run("analyze", p), p, "pprof")
    assert "7" in line


def test_gzip_bomb_is_refused_fast_with_bounded_memory(tmp_path: Path) -> None:
    p = tmp_path / "bomb.pb.gz"
    p.write_bytes(gzip_bomb(2 << 30))  # ~2 MB that inflates to 2 GiB
    # The child's own high-water mark (rusage of children would carry this runner's peak).
    child = run_cli(["analyze", p], timeout=60)
    proc = subprocess.CompletedProcess(child.args, child.returncode or 0, child.out, child.err)
    line = assert_one_line_error(proc, p, "gzip")
    assert "inflates to more than" in line
    assert child.peak_rss_kib < 800_000, f"peak RSS {child.peak_rss_kib} KiB"


def test_nested_gzip_is_not_taken_for_a_profile(tmp_path: Path) -> None:
    p = tmp_path / "nested.gz"
    p.write_bytes(gzip.compress(gzip_bomb(64 << 20)))  # a few KB: gzip of a gzip bomb
    assert_one_line_error(run("analyze", p), p, "input")


def test_directory_with_nothing_recognisable(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("nothing to see here\n")
    (tmp_path / "blob.bin").write_bytes(random.Random(2).randbytes(300))
    assert_one_line_error(run("analyze", tmp_path), tmp_path, "directory")


def test_missing_file(tmp_path: Path) -> None:
    p = tmp_path / "nope.pb.gz"
    assert_one_line_error(run("analyze", p), p, "file")


def test_bad_inputs_are_named_and_good_ones_analysed(tmp_path: Path) -> None:
    bad = tmp_path / "bad.pb.gz"
    bad.write_bytes(b"\x1f\x8b\x08\x00garbage")
    proc = run("analyze", GOOD, bad, "--json", "-")
    assert proc.returncode == 0, proc.stderr
    assert f"skipped {bad}: gzip:" in proc.stderr
    assert '"verdict": "map_growth"' in proc.stdout
    assert '"partial": true' in proc.stdout


@pytest.mark.parametrize("junk", [b"\x00" * 100, b"random words, not a profile\n" * 10,
                                  random.Random(1).randbytes(4096)])
def test_junk_never_raises(tmp_path: Path, junk: bytes) -> None:
    p = tmp_path / "junk"
    p.write_bytes(junk)
    assert_one_line_error(run("analyze", p), p, "input")
