"""Where a Diagnosis goes: the terminal report, and/or JSON and HTML files (one place for all commands)."""

from __future__ import annotations

from dataclasses import dataclass

from mapdoctor.analysis.findings import Diagnosis


@dataclass(frozen=True, slots=True)
class Outputs:
    json: str | None = None  # a path, or "-" for stdout instead of the terminal report
    html: str | None = None
    color: bool = True


def emit(diagnosis: Diagnosis, outputs: Outputs) -> None:
    # Imported here: the reporters (rich) cost nothing to a run that fails early.
    from mapdoctor.reports.html_report import write_html
    from mapdoctor.reports.json_report import write_json

    if outputs.html:
        write_html(diagnosis, outputs.html)
    if outputs.json != "-":
        from rich.console import Console

        from mapdoctor.reports.terminal import render

        render(diagnosis, Console(no_color=not outputs.color, highlight=False))
    if outputs.json is not None:
        write_json(diagnosis, outputs.json)
