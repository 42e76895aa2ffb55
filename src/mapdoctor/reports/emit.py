"""Where a Diagnosis goes: the terminal report, and/or JSON and HTML files (one place for all commands).

The verdict comes first: the terminal report is printed before any file is written, and a
file that cannot be written is reported as one line (``PATH: write: reason``) without
losing the others. ``-`` means stdout for every output; the text report is printed only
when no output claims stdout.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from mapdoctor.analysis.findings import Diagnosis
from mapdoctor.safetext import for_terminal

STDOUT = "-"
#: Exit status of a run whose verdict was given but one of its outputs could not be written.
EXIT_WRITE_FAILED = 2


@dataclass(frozen=True, slots=True)
class Outputs:
    json: str | None = None  # a path, or "-" for stdout instead of the terminal report
    html: str | None = None  # a path, or "-" for stdout instead of the terminal report
    color: bool = True
    #: Another output (``--export-pprof -``) writes to stdout: no text report there either.
    stdout_taken: bool = False

    @property
    def text_on_stdout(self) -> bool:
        return not self.stdout_taken and STDOUT not in (self.json, self.html)


@dataclass(frozen=True, slots=True)
class WriteFailure:
    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: write: {self.reason}"


def write_output(path: str, write: Callable[[], object]) -> WriteFailure | None:
    """Run one write; an OSError becomes a WriteFailure (the other outputs still get written)."""
    try:
        write()
    except OSError as exc:
        return WriteFailure(path, exc.strerror or str(exc))
    return None


def emit(diagnosis: Diagnosis, outputs: Outputs) -> list[WriteFailure]:
    """The terminal report, then each file; returns the writes that failed."""
    # Imported here: the reporters (rich) cost nothing to a run that fails early.
    from mapdoctor.reports.html_report import render_html, write_html
    from mapdoctor.reports.json_report import write_json

    if outputs.text_on_stdout:
        from mapdoctor.reports.console import make_console
        from mapdoctor.reports.terminal import render

        render(diagnosis, make_console(color=outputs.color))
    failures: list[WriteFailure | None] = []
    if outputs.html == STDOUT:
        failures.append(write_output(STDOUT, lambda: _to_stdout(render_html(diagnosis))))
    elif outputs.html:
        html = outputs.html
        failures.append(write_output(html, lambda: write_html(diagnosis, html)))
    if outputs.json is not None:
        target = outputs.json
        failures.append(write_output(target, lambda: write_json(diagnosis, target)))
    return [f for f in failures if f is not None]


def _to_stdout(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


def report_failures(failures: Sequence[WriteFailure]) -> int:
    """One line per failed write on stderr; the exit status (0 when everything was written)."""
    for failure in failures:
        print(for_terminal(str(failure)), file=sys.stderr)
    return EXIT_WRITE_FAILED if failures else 0
