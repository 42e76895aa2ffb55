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
