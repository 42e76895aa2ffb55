"""The readable terminal report: verdict first, then causes and sites, then what to do.

Profile contents are untrusted: every string from the inputs goes into ``rich.text.Text``
objects, never into markup, so a function named ``[red]x`` prints as itself, and through
:func:`mapdoctor.safetext.for_terminal`, so control characters in it are shown, not obeyed.
"""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from mapdoctor.analysis.findings import Diagnosis, Verdict
from mapdoctor.analysis.request_verdict import requests_line
from mapdoctor.safetext import for_terminal as _safe

_VERDICT_STYLE = {
    Verdict.MAP_GROWTH: ("MAP GROWTH", "bold white on red"),
    Verdict.NOT_MAP_GROWTH: ("NOT MAP GROWTH", "bold black on green"),
    Verdict.INCONCLUSIVE: ("INCONCLUSIVE", "bold black on yellow"),
}

_CAUSE_TITLE = {
    "map_growth": "map growth",
    "slice_growth": "slice growth",
    "sync_map": "sync.Map churn",
    "lock_contention": "lock contention",
    "gc_pressure": "GC pressure",
    "concurrent_map_writes": "concurrent map writes",
    "map_creation": "small-map creation",
}


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def render(d: Diagnosis, console: Console) -> None:
    label, style = _VERDICT_STYLE[d.verdict]
    head = Text()
    head.append(f" {label} ", style=style)
    head.append(f"  confidence: {d.confidence}", style="bold")
    if d.partial:
        head.append("  (partial: some inputs missing or incomplete)", style="yellow")
    console.print(head)
    console.print(Text(_safe(d.summary)))
    req = (d.timeline or {}).get("requests")
    if req and req.get("slow"):
        console.print(Text(_safe(requests_line(req)), style="dim"))
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
            score = cause.interval.text() if cause.interval is not None else _pct(cause.score)
            title.append(f"  score {score}", style="cyan")
            if cause.status == "probable":
                title.append("  probable: the interval reaches below the threshold", style="yellow")
            console.print(title)
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
    if d.inputs:
        console.print(Text("Inputs: " + ", ".join(f"{i.kind} ({_safe(i.path)})" for i in d.inputs), style="dim"))
    for note in d.notes:
        console.print(Text("Note: " + _safe(note), style="yellow"))


class TerminalReporter:
    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console()

    def write(self, diagnosis: Diagnosis) -> None:
        render(diagnosis, self.console)
