"""The trace decoder's two builds: compiled (mypyc, setup.py) and its Python source.

Both must give the same model; a stale compiled build must never run in place of an
edited source; the build and the run-time selection must agree on what is compiled.
"""

from __future__ import annotations

import ast
import hashlib
import importlib.machinery
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mapdoctor.formats.trace import native, parse_trace

ROOT = Path(__file__).resolve().parent.parent
TRACES = sorted((ROOT / "tests" / "fixtures").glob("go1.*/http-*/trace.out"))[:4] + sorted(
    (ROOT / "tests" / "fixtures" / "trace").glob("go1.2[3-7]*.trace"))

# What each build is compared on: every segment column, the wait sites, the functions,
# event counts, block reasons, CPU samples and scheduling waits.
_DIGEST = r"""
import hashlib, sys
from pathlib import Path
from mapdoctor.formats.trace import native, parse_trace
for f in sys.argv[1:]:
    tr = parse_trace(Path(f).read_bytes(), f)
    s = tr.segments
    h = hashlib.sha256()
    for name in ("start_ns", "code", "queued_ns", "run_ns", "runnable_ns", "syscall_ns", "net_ns",
                 "lock_ns", "chan_ns", "gc_ns", "other_ns"):
        h.update(repr(list(getattr(s, name))).encode())
    h.update(repr((s.functions, [(w.kind, w.stack, w.ns, w.count) for w in s.wait_sites], s.truncated)).encode())
    h.update(repr((sorted(tr.event_counts.items()), sorted(tr.block_reasons.items()))).encode())
    h.update(repr((len(tr.cpu_samples), list(tr.sched_waits.wait_ns), tr.partial)).encode())
    print(Path(f).name, h.hexdigest())
print(native.running_compiled())
"""


def _digests(pure: bool) -> tuple[list[str], bool]:
    env = {k: v for k, v in os.environ.items() if k != native.PURE_ENV}
    if pure:
        env[native.PURE_ENV] = "1"
    out = subprocess.run([sys.executable, "-c", _DIGEST, *map(str, TRACES)], capture_output=True, text=True,
                         env=env, timeout=600, check=True).stdout.split("\n")
    return out[:-2], out[-2] == "True"


def test_the_build_compiles_the_modules_the_run_time_selects() -> None:
    tree = ast.parse((ROOT / "setup.py").read_text())
    found = [node.value for node in ast.walk(tree) if isinstance(node, ast.Assign)
             and any(isinstance(t, ast.Name) and t.id == "COMPILED" for t in node.targets)]
    assert len(found) == 1
    assert ast.literal_eval(found[0]) == native.COMPILED


def test_both_builds_give_the_same_model() -> None:
    assert len(TRACES) >= 8
    pure, pure_compiled = _digests(pure=True)
    assert not pure_compiled
    default, _ = _digests(pure=False)
    assert default == pure


def test_the_install_compiled_the_decoder_and_it_runs() -> None:
    """With a C compiler, the install compiles the decoder (a build that silently fell back
    to the source fails here), and a current build is what runs."""
    folder = Path(native.__file__).parent
    if os.environ.get(native.PURE_ENV, "") not in ("", "0"):
        pytest.skip(f"{native.PURE_ENV} is set")
    if not native._built(folder):
        if shutil.which("cc") is None and shutil.which("gcc") is None:
            pytest.skip("no C compiler: the decoder runs as its source")
        pytest.fail("the install did not compile the trace decoder; `pip install -v -e .` shows why")
    if native._reason_for_source(folder):
        pytest.skip(f"the decoder runs as source here: {native.describe()}")
    tr = parse_trace((ROOT / "tests" / "fixtures" / "trace" / "go1.27-tiny.trace").read_bytes(), "t")
    assert tr.event_counts
    assert native.running_compiled()
    assert native.describe() == "compiled (mypyc)"


def _fake_build(folder: Path) -> None:
    suffix = importlib.machinery.EXTENSION_SUFFIXES[0]
    for m in native.COMPILED:
        (folder / f"{m}.py").write_text(f"X = {m!r}\n")
        (folder / f"{m}{suffix}").write_bytes(b"")
    (folder / native.RECORD).write_text(json.dumps(native.source_digests(folder)))


def test_an_edited_source_is_run_instead_of_its_stale_build(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(native.PURE_ENV, raising=False)
    _fake_build(tmp_path)
    assert native._reason_for_source(tmp_path) == ""
    (tmp_path / "handlers.py").write_text("X = 'edited'\n")
    assert "older than its sources" in native._reason_for_source(tmp_path)


def test_a_build_without_its_record_or_incomplete_is_not_trusted(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(native.PURE_ENV, raising=False)
    _fake_build(tmp_path)
    (tmp_path / native.RECORD).unlink()
    assert "no record" in native._reason_for_source(tmp_path)
    _fake_build(tmp_path)
    next(tmp_path.glob(f"cursor{importlib.machinery.EXTENSION_SUFFIXES[0]}")).unlink()
    assert "incomplete" in native._reason_for_source(tmp_path)


def test_the_environment_variable_forces_the_source(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_build(tmp_path)
    monkeypatch.setenv(native.PURE_ENV, "1")
    assert native.PURE_ENV in native._reason_for_source(tmp_path)
    monkeypatch.setenv(native.PURE_ENV, "0")
    assert native._reason_for_source(tmp_path) == ""


def test_no_build_is_reported_as_such(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(native.PURE_ENV, raising=False)
    for m in native.COMPILED:
        (tmp_path / f"{m}.py").write_text("")
    assert "not compiled" in native._reason_for_source(tmp_path)


def test_the_record_is_the_sources_sha256(tmp_path: Path) -> None:
    _fake_build(tmp_path)
    digests = native.source_digests(tmp_path)
    assert digests["ordering"] == hashlib.sha256(b"X = 'ordering'\n").hexdigest()


def test_version_says_which_build_runs() -> None:
    env = {**os.environ, native.PURE_ENV: "1"}
    out = subprocess.run([sys.executable, "-m", "mapdoctor", "--version"], capture_output=True, text=True,
                         env=env, timeout=120, check=True).stdout
    assert "trace decoder: Python source: MAPDOCTOR_PURE_PYTHON is set" in out
