"""Text renderers outside the main report escape what they quote: lint's text output and
diagnose's progress lines (which quote HTTP error bodies)."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from mapdoctor.cli.main import main
from mapdoctor.collect.collector import FAILED, PartResult
from mapdoctor.collect.plan import plan
from mapdoctor.collect.progress import LineProgress, LiveProgress

RAW_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
HOSTILE = "evil\x1b]0;owned\x07\x1b[2J\u202e\x9b6n"

GOOD = (
    "package p\n\nfunc F(xs []int) map[int]bool {\n\tm := make(map[int]bool)\n"
    "\tfor _, x := range xs {\n\t\tm[x] = true\n\t}\n\treturn m\n}\n"
)


def test_lint_text_escapes_file_names(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / f"{HOSTILE}\nforged.go:1:1: MD001 fake.go").write_text(GOOD)
    (tmp_path / f"{HOSTILE}bad.go").write_text("package p\n\nfunc f() {\n\tx := \n}\n")
    main(["lint", str(tmp_path)])
    out, err = capsys.readouterr()
    assert "MD001" in out and "bad.go: skipped: " in out
    assert not RAW_CONTROL.search(out + err)
    assert not any(line.startswith("forged.go") for line in out.splitlines())
    assert "\\x1b]0;owned" in out


def test_progress_escapes_http_error_bodies() -> None:
    spec = next(s for s in plan(1, 0.5) if s.filename is not None)
    result = PartResult(spec, FAILED, error=f"HTTP 500 Internal Server Error: {HOSTILE}")
    for make in (LiveProgress, LineProgress):
        stream = io.StringIO()
        progress = make(stream)
        progress.start(f"http://host{HOSTILE}:6060", 1, [spec])
        progress.part_done(result)
        progress.stop()
        assert not RAW_CONTROL.search(stream.getvalue()), make.__name__
        if make is LiveProgress:
            assert "\\x1b]0;owned" in stream.getvalue()
