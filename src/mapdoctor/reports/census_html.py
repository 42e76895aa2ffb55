"""The census as one HTML file: findings, a heat map of maps x time, and the table of paths.

A truly single file: no script, no external resource, a Content-Security-Policy that allows
neither; the heat map is inline SVG (each cell has a ``<title>`` for hovering). Paths and type
names come from the target's binary: control characters are shown as escapes and the rest
goes through :func:`html.escape`.
"""

from __future__ import annotations

import html
from pathlib import Path

from mapdoctor.analysis.census_findings import human_bytes
from mapdoctor.model.census import Census
from mapdoctor.safetext import for_terminal

HEAT_ROWS = 30
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src 'none'; base-uri 'none'; form-action 'none'"

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;margin:2em auto;max-width:1100px;color:#222;
padding:0 1em;overflow-wrap:break-word}h1{font-size:1.3em;margin:.2em 0}h2{font-size:1.1em;margin:1.2em 0 .4em}
.muted{color:#666;font-size:.92em}table{border-collapse:collapse;margin:.4em 0 1em}
td,th{padding:.2em .6em;text-align:left}th{border-bottom:1px solid #ccc}
td.num{text-align:right;font-variant-numeric:tabular-nums}code{background:#f3f3f3;padding:0 .25em;border-radius:3px}
.finding{border-left:4px solid #c62828;padding:.2em 1em;margin:.6em 0}.growing{border-left-color:#f9a825}
.advice{background:#eef6ee;padding:.3em .7em;border-radius:4px}.partial{background:#f9a825;padding:.2em .6em}
svg{background:#fafafa;border:1px solid #ddd}.legend span{display:inline-block;width:1.2em;height:.9em}
"""


def _e(value: object) -> str:
    # Control and bidi characters shown as escapes (as in the terminal), then HTML-escaped.
    return html.escape(for_terminal(str(value)), quote=True)


def _colour(load: float) -> str:
    """Pale (empty) to deep blue (full): the load of the maps at that path in that sample."""
    x = max(0.0, min(1.0, load))
    r = int(235 - 200 * x)
    g = int(242 - 150 * x)
    b = int(250 - 80 * x)
    return f"rgb({r},{g},{b})"


def heat_map_svg(c: Census) -> str:
    samples = c.samples or []
    paths = [g.path for g in c.groups[:HEAT_ROWS]]
    if not samples or not paths:
        return "<p class=muted>No samples (run with --watch for the heat map).</p>"
    label_w, cell_h = 330, 16
    cols = len(samples)
    cell_w = max(4, min(40, 700 // max(1, cols)))
    width = label_w + cols * cell_w + 10
    height = 24 + len(paths) * cell_h + 10
    parts = [f'<svg id=heatmap xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'role="img" aria-label="map load over time">']
    for i, s in enumerate(samples):
        if i % max(1, cols // 10) == 0:
            parts.append(f'<text x="{label_w + i * cell_w}" y="14" font-size="10">+{s.t:.0f}s</text>')
    for row, path in enumerate(paths):
        y = 24 + row * cell_h
        short = path if len(path) <= 48 else "…" + path[-47:]
        parts.append(f'<text x="4" y="{y + 12}" font-size="11"><title>{_e(path)}</title>{_e(short)}</text>')
        for i, s in enumerate(samples):
            n, cap, growing = s.per_path.get(path, (0, 0, 0))
            load = n / cap if cap else 0.0
            stroke = ' stroke="#c62828" stroke-width="2"' if growing else ""
            x = label_w + i * cell_w
            tip = f"{path} at +{s.t:.1f}s: len {n:,}, capacity {cap:,}, load {100 * load:.0f}%"
            if growing:
                tip += f", {growing} growing"
            parts.append(f'<rect class=cell x="{x}" y="{y}" width="{cell_w - 1}" height="{cell_h - 2}" '
                         f'fill="{_colour(load)}"{stroke}><title>{_e(tip)}</title></rect>')
    parts.append("</svg>")
    return "".join(parts)


def render_html(c: Census) -> str:
    where = f"pid {c.pid}" if c.source == "pid" else c.core
    total = sum(g.bytes for g in c.groups)
    findings = "".join(
        f'<div class="finding{" growing" if f.kind == "growing" else ""}"><p>{_e(f.message)}</p>'
        f"<p class=advice><b>Do:</b> {_e(f.advice)}</p></div>" for f in c.findings)
    rows = "".join(
        f"<tr><td><code>{_e(g.path)}</code></td><td><code>{_e(g.type)}</code></td><td class=num>{g.count:,}</td>"
        f"<td class=num>{g.len:,}</td><td class=num>{g.capacity:,}</td><td class=num>{100 * g.load:.0f}%</td>"
        f"<td class=num>{_e(human_bytes(g.bytes))}</td><td class=num>{_e(human_bytes(g.waste_bytes))}</td>"
        f"<td class=num>{g.growing}</td><td class=num>{g.overflow:,}</td><td class=num>{g.tombstones:,}</td></tr>"
        for g in c.groups)
    events = "".join(f"<li>+{e.t:.1f}s <code>{_e(e.path)}</code>: capacity {e.capacity_from:,} &rarr; "
                     f"{e.capacity_to:,}</li>" for e in c.events[-50:])
    notes = "".join(f"<li>{_e(n)}</li>" for n in c.notes)
    partial = "<p class=partial>Partial census: see the notes.</p>" if c.partial else ""
    legend = ("<p class=legend muted>colour = load (len / capacity): "
              + "".join(f'<span style="background:{_colour(x / 4)}"></span>' for x in range(5))
              + " 0% &rarr; 100%; red outline = growing (classic: old buckets still being evacuated; "
              "Swiss: 90% of the growth budget spent)</p>")
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        f"<title>mapdoctor census: {_e(where)}</title><style>{_CSS}</style></head><body>"
        f"<h1>Map census of {_e(where)}</h1>"
        f"<p class=muted>{_e(c.go_version)}, {_e(c.impl)} maps; {len(c.maps):,} maps at {len(c.groups):,} paths, "
        f"{_e(human_bytes(total))} held; {len(c.samples)} samples</p>{partial}"
        f"<h2>Findings</h2>{findings or '<p class=muted>Nothing to change.</p>'}"
        f"<h2>Heat map</h2>{legend}{heat_map_svg(c)}"
        + (f"<h2>Growth events</h2><ul>{events}</ul>" if events else "")
        + "<h2>Maps by path</h2><table><tr><th>path</th><th>type</th><th>maps</th><th>len</th><th>capacity</th>"
        "<th>load</th><th>bytes</th><th>waste</th><th>growing</th><th>overflow</th><th>tombstones</th></tr>"
        f"{rows}</table>"
        + (f"<h2>Notes</h2><ul>{notes}</ul>" if notes else "")
        + "</body></html>\n")


def write_census_html(c: Census, dest: str) -> None:
    """Write the report to ``dest``; an OSError is the caller's to report (``reports.emit.write_output``)."""
    Path(dest).write_text(render_html(c), encoding="utf-8")
