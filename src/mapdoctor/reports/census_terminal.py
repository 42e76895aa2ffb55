"""The census in the terminal: findings, the top paths by bytes, and (with --watch) sparklines.

Paths and type names come from the target's binary: every one goes through
:func:`mapdoctor.safetext.for_terminal` and into rich ``Text`` (never markup).
"""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from mapdoctor.analysis.census_findings import human_bytes
from mapdoctor.model.census import Census, Sample
from mapdoctor.safetext import for_terminal

SPARKS = "▁▂▃▄▅▆▇█"
TOP_PATHS = 20


def _t(s: str) -> Text:
    return Text(for_terminal(s))


def sparkline(values: list[int]) -> str:
    if not values:
        return ""
    lo, hi = min(values), max(values)
    if hi == lo:
        return SPARKS[0 if hi == 0 else 3] * len(values)
    return "".join(SPARKS[min(len(SPARKS) - 1, (v - lo) * len(SPARKS) // (hi - lo + 1))] for v in values)


def _series(samples: list[Sample], path: str, which: int) -> list[int]:
    return [s.per_path.get(path, (0, 0, 0))[which] for s in samples]


def render_census(c: Census, console: Console, top: int = TOP_PATHS) -> None:
    where = f"pid {c.pid}" if c.source == "pid" else for_terminal(c.core)
    total = sum(g.bytes for g in c.groups)
    head = Text()
    head.append("Map census ", style="bold")
    head.append(f"of {where} ({for_terminal(c.go_version)}, {c.impl} maps): ")
    head.append(f"{len(c.maps):,} maps at {len(c.groups):,} paths, {human_bytes(total)} held", style="bold")
    head.append(f"; walked {c.roots:,} package-level variables, {c.objects:,} values in {c.elapsed_s:.2f}s")
    console.print(head)
    if c.partial:
        console.print(Text("PARTIAL: see the notes below", style="bold yellow"))
    if c.freeze is not None:
        f = c.freeze
        console.print(_t(f"froze {f.threads} threads for {f.stopped_ms:.1f} ms (budget {f.budget_ms:g} ms); "
                         f"{f.maps_reread:,} maps re-read while stopped"
                         + ("" if f.complete else ", the rest from the live walk")))
    for fd in c.findings:
        style = "bold red" if fd.kind == "never_shrinks" else "bold yellow"
        line = Text("• ", style=style)
        line.append(for_terminal(fd.message))
        console.print(line)
        console.print(Text("  Do: " + for_terminal(fd.advice), style="green"))

    table = Table(show_edge=False, pad_edge=False, box=None, header_style="bold")
    for col, justify in (("path", "left"), ("type", "left"), ("maps", "right"), ("len", "right"),
                         ("capacity", "right"), ("load", "right"), ("bytes", "right"), ("waste", "right"),
                         ("growing", "right"), ("ovf/tomb", "right")):
        table.add_column(col, justify=justify)  # type: ignore[arg-type]
    watching = len(c.samples) > 1
    if watching:
        table.add_column("len over time")
    for g in c.groups[:top]:
        row: list[Text | str] = [
            _t(g.path), _t(g.type if len(g.type) <= 40 else g.type[:39] + "…"), f"{g.count:,}", f"{g.len:,}",
            f"{g.capacity:,}", f"{100 * g.load:.0f}%", human_bytes(g.bytes),
            human_bytes(g.waste_bytes) if g.waste_bytes else "-", str(g.growing) if g.growing else "-",
            f"{g.overflow or g.tombstones:,}" if (g.overflow or g.tombstones) else "-",
        ]
        if watching:
            row.append(sparkline(_series(c.samples, g.path, 0)))
        table.add_row(*row)
    console.print(table)
    if len(c.groups) > top:
        console.print(_t(f"... and {len(c.groups) - top:,} more paths (--json for all)"))
    if c.events:
        console.print(Text("Growth events", style="bold"))
        for e in c.events[-15:]:
            console.print(_t(f"  +{e.t:6.1f}s  {e.path}: capacity {e.capacity_from:,} -> {e.capacity_to:,}"))
    for note in c.notes:
        console.print(Text("note: " + for_terminal(note), style="dim"))


def render_sample_line(c: Census, sample: Sample, console: Console) -> None:
    """One progress line per --watch sample (to stderr)."""
    n = sum(v[0] for v in sample.per_path.values())
    grow = sum(1 for e in c.events if e.t == sample.t)
    console.print(_t(f"sample +{sample.t:.1f}s: {len(c.maps):,} maps, {n:,} entries"
                     + (f", {grow} growth events" if grow else "")))
