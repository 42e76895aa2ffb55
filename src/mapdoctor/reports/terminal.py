"""The readable terminal report: verdict first, then causes and sites, then what to do.

Profile contents are untrusted: every string from the inputs goes into ``rich.text.Text``
objects, never into markup, so a function named ``[red]x`` prints as itself, and through
:func:`mapdoctor.safetext.for_terminal`, so control characters in it are shown, not obeyed.
"""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from mapdoctor.analysis.findings import Diagnosis
from mapdoctor.analysis.measures import CAUSE_TITLES as _CAUSE_TITLE
from mapdoctor.analysis.measures import CPU_BREAKDOWN_NOTE, EXPLAIN, Measure, measure_of, parts_text, score_text
from mapdoctor.analysis.request_verdict import percentiles_line, requests_line
from mapdoctor.analysis.severity import Level, badge, level_of
from mapdoctor.safetext import for_terminal as _safe

#: Severity, not the verdict, colours the badge: green only ever means healthy.
_LEVEL_STYLE = {
    Level.RED: "bold white on red",
    Level.AMBER: "bold black on yellow",
    Level.GREEN: "bold black on green",
    Level.GREY: "bold white on grey42",
}


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def render(d: Diagnosis, console: Console) -> None:
    word, beside = badge(d)
    head = Text()
    head.append(f" {word} ", style=_LEVEL_STYLE[level_of(d)])
    head.append(f"  {beside} · confidence: {d.confidence}", style="bold")
    if d.partial:
        head.append("  (partial: some inputs missing or incomplete)", style="yellow")
    console.print(head)
    console.print(Text(_safe(d.summary)))
    req = (d.timeline or {}).get("requests")
    if req and req.get("slow"):
        console.print(Text(_safe(requests_line(req)), style="dim"))
    elif req and req.get("count"):
        console.print(Text(_safe(percentiles_line(req)), style="dim"))
    go = d.go
    if go.version or go.maps or go.range:
        console.print(Text(
            f"Go: {_safe(go.version or go.range or 'unknown version')}, "
            f"{(go.maps or 'unknown') + ' maps'}" + (f"  ({_safe(go.evidence)})" if go.evidence else ""),
            style="dim",
        ))
    console.print()

    if d.causes:
        for n, cause in enumerate(d.causes, 1):
            title = Text(f"{n}. {_CAUSE_TITLE.get(cause.kind.value, cause.kind.value)}", style="bold")
            title.append(f"  {score_text(cause)}", style="cyan")
            if cause.status == "probable":
                title.append("  probable: the interval reaches below the threshold", style="yellow")
            console.print(title)
            m = measure_of(cause)
            what = parts_text(cause) or (EXPLAIN[m] if m is not Measure.CPU else "")
            if what:
                console.print(Text(f"   {what}", style="dim"))
            for ev in cause.evidence:
                console.print(Text("   - " + _safe(ev)))
            if cause.sites:
                table = Table(show_header=True, header_style="bold", box=None, padding=(0, 1), pad_edge=False)
                table.add_column("   share", justify="right")
                table.add_column("where")
                table.add_column("function")
                for s in cause.sites:
                    where = f"{_safe(s.file)}:{s.line}" if s.file else "(unknown)"
                    table.add_row(Text("   " + _pct(s.share)), Text(where, style="bold"), Text(_safe(s.function)))
                console.print(table)
            console.print()
    else:
        console.print(Text("No cause stands out: nothing costs the service more than is normal.", style="green"))
        console.print()

    advice = [(c, s) for c in d.causes for s in c.sites[:1] if s.advice]
    if advice:
        console.print(Text("What to do", style="bold underline"))
        for _cause, site in advice:
            line = Text(" * ")
            line.append(f"{_safe(site.file)}:{site.line}", style="bold")
            line.append(f"  {_safe(site.advice)}")
            console.print(line)
        console.print()

    if d.runbook:
        console.print(Text("Runbook: what to do now, in order", style="bold underline"))
        for n, step in enumerate(d.runbook, 1):
            console.print(Text(f" {n}. {_safe(str(step.get('action', '')))}"))
        console.print(Text("    (what does not work: docs/RUNBOOK.md)", style="dim"))
        console.print()

    if d.shares and any(d.shares.values()):
        parts = [f"{k} {_pct(v)}" for k, v in sorted(d.shares.items(), key=lambda kv: -kv[1]) if v >= 0.005]
        samples = f" ({d.cpu_samples} samples)" if d.cpu_samples else ""
        console.print(Text("CPU by category" + samples + ": " + ", ".join(parts), style="dim"))
        console.print(Text(f"  ({CPU_BREAKDOWN_NOTE})", style="dim"))
    if d.inputs:
        console.print(Text("Inputs: " + ", ".join(f"{i.kind} ({_safe(i.path)})" for i in d.inputs), style="dim"))
    for note in d.notes:
        console.print(Text("Note: " + _safe(note), style="yellow"))


class TerminalReporter:
    def __init__(self, console: Console | None = None) -> None:
        if console is None:
            from mapdoctor.reports.console import make_console

            console = make_console()
        self.console = console

    def write(self, diagnosis: Diagnosis) -> None:
        render(diagnosis, self.console)
