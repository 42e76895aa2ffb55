"""Opening inputs: only regular files are read, their size is checked first, and a bad
neighbour (an empty or unreadable folder, junk, FIFOs, devices, depth, count) never sinks a
good file: it is skipped and named, and what a limit left out is said."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from clirun import run_cli
from labdata import scenario_dir
from mapdoctor.errors import InputError
from mapdoctor.formats import detect

GOOD = scenario_dir("go1.27", "mapgrow-str") / "cpu.pb.gz"
#: Refusing a file must not cost more than starting the interpreter does.
SMALL_RSS_KIB = 120_000


def one_line_refusal(args: list[str | Path], path: Path, what: str) -> str:
    run = run_cli(["analyze", *args], timeout=20)
    assert not run.hung, f"analyze {args} did not finish in 20 s"
    assert run.returncode == 2, run.err
    lines = run.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"{path}: {what}: "), run.err
    assert run.peak_rss_kib < SMALL_RSS_KIB and run.seconds < 15, (run.peak_rss_kib, run.seconds)
    return lines[0]


def good_analysed(args: list[str | Path], timeout: float = 60) -> tuple[dict[str, object], str]:
    run = run_cli(["analyze", *args, "--json", "-"], timeout=timeout)
    assert not run.hung, f"analyze {args} did not finish in {timeout} s"
    assert run.returncode == 0, run.err
    doc = json.loads(run.out)
    assert doc["verdict"] == "map_growth"
    return doc, run.err


# --- what is not a regular file is refused without being read ----------------------------


def test_fifo_is_refused_without_waiting(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    assert "named pipe" in one_line_refusal([fifo], fifo, "file")


def test_good_file_next_to_a_fifo_is_analysed(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    doc, err = good_analysed([GOOD, fifo])
    assert f"skipped {fifo}: file: a named pipe" in err
    assert doc["partial"] is True


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_devices_are_refused_without_reading(device: str) -> None:
    if not Path(device).exists():
        pytest.skip(f"{device} does not exist here")
    assert "character device" in one_line_refusal([device], Path(device), "file")


def test_symlink_to_a_device_is_refused_without_reading(tmp_path: Path) -> None:
    link = tmp_path / "cpu.pb.gz"
    link.symlink_to("/dev/zero")
    assert "character device" in one_line_refusal([link], link, "file")


def test_huge_sparse_file_is_refused_by_its_size(tmp_path: Path) -> None:
    sparse = tmp_path / "huge.trace"
    with sparse.open("wb") as fh:
        fh.truncate(3 << 29)  # 1.5 GiB of holes: costs no disk, would cost memory if read
    line = one_line_refusal([sparse], sparse, "file")
    assert "1.5 GiB is larger than the 224 MiB limit" in line and "--max-memory" in line


def test_file_limit_follows_the_budget(tmp_path: Path) -> None:
    from mapdoctor.formats.limits import Budget, memory_budget, read_file

    p = tmp_path / "blob"
    p.write_bytes(bytes(3 << 20))
    with memory_budget(Budget(4 << 20)), pytest.raises(InputError, match="larger than the 2 MiB limit"):
        read_file(p)
    with memory_budget(Budget(6 << 20)):
        assert len(read_file(p)) == 3 << 20


# --- folders: skip and name what is bad, analyse what is good ---------------------------------


def test_good_file_and_an_empty_folder(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    _, err = good_analysed([GOOD, empty])
    assert f"skipped {empty}: directory: no Go profile" in err


def test_folder_of_junk_with_one_good_profile(tmp_path: Path) -> None:
    for i in range(2000):
        (tmp_path / f"{i:04d}.bin").write_bytes(b"not a profile %d\n" % i)
    # Last in name order, and over the file limit: likely evidence is read first.
    (tmp_path / "zz-cpu.pb.gz").write_bytes(GOOD.read_bytes())
    _, err = good_analysed([tmp_path], timeout=120)
    skipped = [ln for ln in err.splitlines() if ln.startswith("skipped ")]
    # Named one by one up to a limit, the rest counted: stderr stays readable.
    assert len(skipped) == detect.MAX_NAMED_SKIPS + 2, err[-2000:]
    assert f"{1999 - detect.MAX_NAMED_SKIPS} more inputs skipped" in skipped[-2]
    assert "more than 2000 files: read the first 2000, left out 1" in skipped[-1]


def test_good_profile_sixty_folders_deep(tmp_path: Path) -> None:
    deep = tmp_path
    for i in range(60):
        deep = deep / f"d{i}"
    deep.mkdir(parents=True)
    (deep / "cpu.pb.gz").write_bytes(GOOD.read_bytes())
    good_analysed([tmp_path])


def test_more_files_than_the_limit_says_what_was_left_out(tmp_path: Path) -> None:
    (tmp_path / "a-cpu.pb.gz").write_bytes(GOOD.read_bytes())
    extra = 150
    for i in range(detect.MAX_DIR_FILES + extra - 1):
        (tmp_path / f"z-{i:05d}.txt").write_bytes(b"x\n")
    doc, err = good_analysed([tmp_path], timeout=120)
    assert f"more than {detect.MAX_DIR_FILES} files" in err and f"left out {extra}" in err
    assert doc["partial"] is True


def test_unreadable_subfolder_is_named_and_the_rest_analysed(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "cpu.pb.gz").write_bytes(GOOD.read_bytes())
    locked = tmp_path / "locked"
    locked.mkdir()
    (locked / "heap.pb.gz").write_bytes(GOOD.read_bytes())
    real = os.scandir

    def scandir(path: str | os.PathLike[str]) -> object:
        # Root reads any folder whatever its mode, so the refusal is simulated for that case.
        if Path(path) == locked:
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(os, "scandir", scandir)
    loaded = detect.load_inputs([tmp_path])
    assert [Path(i.path).name for i in loaded.inputs] == ["cpu.pb.gz"]
    assert [str(e) for e in loaded.skipped] == [f"{locked}: directory: permission denied"]


def test_unreadable_subfolder_through_the_command_line(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root reads folders whatever their mode (covered in-process above)")
    (tmp_path / "cpu.pb.gz").write_bytes(GOOD.read_bytes())
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0)
    try:
        _, err = good_analysed([tmp_path])
    finally:
        locked.chmod(0o755)
    assert f"skipped {locked}: directory: permission denied" in err


def test_fifo_and_device_link_inside_a_folder(tmp_path: Path) -> None:
    (tmp_path / "cpu.pb.gz").write_bytes(GOOD.read_bytes())
    os.mkfifo(tmp_path / "pipe")
    (tmp_path / "zero").symlink_to("/dev/zero")
    _, err = good_analysed([tmp_path])
    assert f"skipped {tmp_path / 'pipe'}: file: a named pipe" in err
    assert f"skipped {tmp_path / 'zero'}: file: a character device" in err


def test_folder_with_only_junk_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("nothing here\n")
    os.mkfifo(tmp_path / "pipe")
    line = one_line_refusal([tmp_path], tmp_path, "directory")
    assert "skipped 2: notes.txt (not recognised), pipe (file: a named pipe" in line
