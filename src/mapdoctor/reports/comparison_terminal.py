"""The terminal report of a before/after comparison.

Strings from the inputs go through ``rich.text.Text`` and :func:`for_terminal`, never markup.
"""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from mapdoctor.analysis.compare import CauseChange, Comparison
from mapdoctor.safetext import for_terminal as _safe

_TITLE = {
    "map_growth": "map growth", "slice_growth": "slice growth", "sync_map": "sync.Map churn",
    "lock_contention": "lock contention", "gc_pressure": "GC pressure (GC + assists)",
    "concurrent_map_writes": "concurrent map writes", "map_creation": "small-map creation",
    "cpu_starvation": "CPU starvation (scheduler)",
}


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f}%"


def _pts(x: float) -> str:
    return f"{100 * x:+.1f}"


def _p(p: float) -> str:
    return "p<0.0001" if p < 1e-4 else f"p={p:.2g}"


def _judgement(x: CauseChange) -> Text:
    if x.ci is None:
        return Text("not a sampled share: not tested", style="dim")
    ci = f"95% CI {_pts(x.ci[0])} .. {_pts(x.ci[1])} pts, {_p(x.p_value)}" if x.p_value is not None \
        else f"95% CI {_pts(x.ci[0])} .. {_pts(x.ci[1])} pts"
    if not x.significant:
        return Text(f"no significant change ({ci})", style="dim")
    word = "dropped" if (x.delta or 0) < 0 else "rose"
    return Text(f"{word} ({ci})", style="bold green" if word == "dropped" else "bold red")


def render(c: Comparison, console: Console) -> None:
    b, a = c.before, c.after
    head = Text("Before: ", style="bold")
    head.append(f"{b.verdict.value} ({b.confidence}, {b.cpu_samples} CPU samples)")
    head.append("   After: ", style="bold")
    head.append(f"{a.verdict.value} ({a.confidence}, {a.cpu_samples} CPU samples)")
    console.print(head)
    console.print(Text("before: " + _safe(b.summary), style="dim"))
    console.print(Text("after:  " + _safe(a.summary), style="dim"))
    console.print()
    table = Table(show_header=True, header_style="bold", box=None, padding=(0, 1), pad_edge=False)
    for col, just in (("cause", "left"), ("before", "right"), ("after", "right"), ("change", "right"),
                      ("verdict of the test", "left")):
        table.add_column(col, justify=just)  # type: ignore[arg-type]
    for x in c.causes:
        change = "-" if x.delta is None else f"{_pts(x.delta)} pts"
        table.add_row(Text(_TITLE.get(x.kind, x.kind)), Text(_pct(x.before)), Text(_pct(x.after)), Text(change),
                      _judgement(x))
    console.print(table)
    moved = [s for s in c.sites if s.change != "kept" or s.significant]
    if moved:
        console.print()
        console.print(Text("Sites", style="bold underline"))
        for s in moved:
            line = Text(f" {s.change:<9} ")
            line.append(f"{_safe(s.file)}:{s.line}", style="bold")
            line.append(f"  {_safe(s.function)}  {_TITLE.get(s.kind, s.kind)} {_pct(s.before)} -> {_pct(s.after)}")
            if s.significant:
                line.append("  (significant)", style="cyan")
            console.print(line)
    if c.requests:
        rb, ra = c.requests["before"], c.requests["after"]
        console.print()
        console.print(Text(f"Requests: p50 {rb['p50_ms']} ms -> {ra['p50_ms']} ms, p99 {rb['p99_ms']} ms -> "
                           f"{ra['p99_ms']} ms ({rb['count']} and {ra['count']} requests)"))
    for w in c.warnings:
        console.print(Text("Warning: " + _safe(w), style="yellow"))
