"""The single-file HTML report: one page, offline, locked by its Content-Security-Policy.

``page`` assembles it; ``timeline`` draws the lanes as static SVG; ``report.css`` and
``report.js`` (package data) are inlined and allowed by their SHA-256 hashes.
"""

from __future__ import annotations

from pathlib import Path

from mapdoctor.analysis.findings import Diagnosis
from mapdoctor.reports.html.page import render_html


def write_html(d: Diagnosis, target: str) -> None:
    Path(target).write_text(render_html(d), encoding="utf-8")


class HtmlReporter:
    def __init__(self, target: str) -> None:
        self.target = target

    def write(self, diagnosis: Diagnosis) -> None:
        write_html(diagnosis, self.target)


__all__ = ["HtmlReporter", "render_html", "write_html"]
