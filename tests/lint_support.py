"""Shared by the lint tests: the Go sources under tests/fixtures/go-src and their
"// want RULE CONFIDENCE [nofix]" markers."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent / "fixtures"
GO_SRC = FIXTURES / "go-src"

_WANT = re.compile(r"//\s*want\s+(.*)$")


@dataclass(frozen=True)
class Want:
    file: str  # path relative to GO_SRC
    line: int
    rule: str
    confidence: str
    nofix: bool


def wants(root: Path = GO_SRC) -> list[Want]:
    out: list[Want] = []
    for path in sorted(root.rglob("*.go")):
        for i, text in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            m = _WANT.search(text)
            if m is None:
                continue
            for item in m.group(1).split(","):
                words = item.split()
                out.append(Want(str(path.relative_to(root)), i, words[0], words[1], "nofix" in words[2:]))
    return out
