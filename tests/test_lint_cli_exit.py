"""`mapdoctor lint` exit status for CI: 0 clean, 1 findings (syntax errors count, as in ruff),
2 when nothing was checked or an input is bad (one line on stderr)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mapdoctor.cli.main import main

FIXTURES = Path(__file__).parent / "fixtures" / "go-src"
GOOD = "package p\n\nfunc F() int {\n\treturn 1\n}\n"


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    rc = main(["lint", *args])
    return rc, capsys.readouterr().err


def test_clean_file_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "ok.go").write_text(GOOD)
    assert _run(capsys, str(tmp_path))[0] == 0


def test_findings_exit_1(capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(capsys, str(FIXTURES / "prealloc"))[0] == 1


def test_not_a_go_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("# title\n")
    rc, err = _run(capsys, str(readme))
    assert rc == 2
    assert err.strip().splitlines() == [f"{readme}: lint: no Go files checked (1 skipped)"]


def test_folder_without_go_files_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, err = _run(capsys, str(tmp_path))
    assert rc == 2
    assert err.strip() == f"{tmp_path}: lint: no Go files checked"


def test_missing_path_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, err = _run(capsys, str(tmp_path / "nope"))
    assert rc == 2
    assert len(err.strip().splitlines()) == 1


def test_syntax_error_is_a_finding(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "ok.go").write_text(GOOD)
    (tmp_path / "bad.go").write_text("package p\nfunc f( {\n")
    rc = main(["lint", str(tmp_path)])
    out = capsys.readouterr().out
    assert rc == 1
    assert "syntax error at line 2" in out


def test_profile_takes_what_analyze_takes(tmp_path: Path) -> None:
    """``--profile`` accepts a capture folder (as ``analyze`` does); a folder without pprof is exit 2."""
    import subprocess
    import sys

    from labdata import FIXTURES

    lab_go = Path(__file__).resolve().parent.parent / "src" / "mapdoctor" / "lab" / "go"
    r = subprocess.run([sys.executable, "-m", "mapdoctor", "lint", str(lab_go / "orders.go"), "--profile",
                        str(FIXTURES / "go1.23" / "mapgrow-str")], capture_output=True, text=True, timeout=120)
    assert r.returncode == 1, r.stderr
    assert "orders.go:22" in r.stdout and "59.2% of the CPU profile is map growth here" in r.stdout
    assert "goroutine" not in r.stdout.split("profile:", 1)[1].splitlines()[0]
    empty = tmp_path / "logs"
    empty.mkdir()
    (empty / "gctrace.log").write_bytes((FIXTURES / "go1.23" / "mapgrow-str" / "gctrace.log").read_bytes())
    r = subprocess.run([sys.executable, "-m", "mapdoctor", "lint", str(lab_go / "orders.go"), "--profile",
                        str(empty)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "no pprof profile found" in r.stderr and len(r.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("go", ["go1.23", "go1.27"])
def test_findings_at_the_sites_analyze_blames_for_slices_and_sync_map(go: str) -> None:
    """The lines ``analyze`` blames for slice growth and sync.Map churn get a finding, or a reason."""
    import subprocess
    import sys

    from labdata import FIXTURES

    lab_go = Path(__file__).resolve().parent.parent / "src" / "mapdoctor" / "lab" / "go"
    r = subprocess.run([sys.executable, "-m", "mapdoctor", "lint", str(lab_go), "--profile",
                        str(FIXTURES / go / "slicegrow"), str(FIXTURES / go / "syncmap")],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 1, r.stderr
    blamed = r.stdout.split("lines the CPU profile blames:", 1)[1]
    assert "stock_report.go:60" in blamed and "slice growth  -> MD002 at" in blamed
    assert "session_cache.go:54" in blamed and "sync map  -> MD004 at" in blamed
    for line in blamed.splitlines():
        if "%" in line and "->" in line:
            assert "-> MD" in line or "-> no finding: " in line, line  # a finding, or why there is none
