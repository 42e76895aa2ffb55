"""A single-file HTML report: no scripts, no external resources, every input string escaped.

Profile contents are untrusted (function names, file names and reasons come from the
program under diagnosis), so every value goes through :func:`html.escape`; the page carries
a Content-Security-Policy that forbids scripts and remote loads even if something slipped.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from mapdoctor.analysis.findings import Cause, Diagnosis, Verdict

_TITLES = {
    "map_growth": "map growth", "slice_growth": "slice growth", "sync_map": "sync.Map churn",
    "lock_contention": "lock contention", "gc_pressure": "GC pressure",
    "concurrent_map_writes": "concurrent map writes",
}
_VERDICT_CLASS = {Verdict.MAP_GROWTH: "bad", Verdict.NOT_MAP_GROWTH: "good", Verdict.INCONCLUSIVE: "meh"}

_CSS = """
body{font:15px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;margin:2em auto;max-width:980px;
color:#222;padding:0 1em}
h1{font-size:1.3em;margin:.2em 0}.verdict{display:inline-block;padding:.25em .7em;border-radius:4px;font-weight:700}
.bad{background:#c62828;color:#fff}.good{background:#2e7d32;color:#fff}.meh{background:#f9a825;color:#000}
.muted{color:#666;font-size:.92em}table{border-collapse:collapse;margin:.4em 0 1em}
td,th{padding:.2em .7em;text-align:left}
th{border-bottom:1px solid #ccc}td.num{text-align:right;font-variant-numeric:tabular-nums}
.cause{border-left:4px solid #999;padding:.1em 1em;margin:1em 0}.cause h2{font-size:1.05em;margin:.3em 0}
code{background:#f3f3f3;padding:0 .25em;border-radius:3px}
.advice{background:#eef6ee;padding:.4em .8em;border-radius:4px}
svg{background:#fafafa;border:1px solid #ddd}
"""


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def _cause(c: Cause) -> str:
    rows = "".join(
        f"<tr><td class=num>{_pct(s.share)}</td><td><code>{_e(s.file)}:{s.line}</code></td>"
        f"<td><code>{_e(s.function)}</code></td></tr>" for s in c.sites)
    advice = "".join(f"<p class=advice><b>Do:</b> {_e(s.advice)}</p>" for s in c.sites[:1] if s.advice)
    evidence = "".join(f"<li>{_e(e)}</li>" for e in c.evidence)
    table = f"<table><tr><th>share</th><th>where</th><th>function</th></tr>{rows}</table>" if rows else ""
    return (f"<div class=cause><h2>{_e(_TITLES.get(c.kind.value, c.kind.value))} "
            f"<span class=muted>score {_pct(c.score)}</span></h2><ul>{evidence}</ul>{table}{advice}</div>")


def _timeline_svg(t: dict[str, Any]) -> str:
    series = t.get("series") or {}
    growth, stw, assist = series.get("growth_samples", []), series.get("stw_ms", []), series.get("assist_ms", [])
    n = len(growth)
    if not n:
        return ""
    w, h, pad = 900, 140, 4
    bw = (w - 2 * pad) / n
    top_g = max(growth) or 1
    top_p = max((a + b for a, b in zip(stw, assist, strict=False)), default=0.0) or 1.0
    bars = []
    for i in range(n):
        x = pad + i * bw
        if growth[i]:
            gh = 55 * growth[i] / top_g
            bars.append(f'<rect x="{x:.1f}" y="{65 - gh:.1f}" width="{max(bw - .5, .5):.1f}" height="{gh:.1f}" '
                        f'fill="#c62828"/>')
        p_ms = (stw[i] if i < len(stw) else 0) + (assist[i] if i < len(assist) else 0)
        if p_ms:
            ph = 55 * p_ms / top_p
            bars.append(f'<rect x="{x:.1f}" y="75" width="{max(bw - .5, .5):.1f}" height="{ph:.1f}" fill="#1565c0"/>')
    return (f'<svg width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img" aria-label="timeline">'
            f'<text x="6" y="12" font-size="11" fill="#c62828">map growth (CPU samples per bin)</text>'
            f'<text x="6" y="{h - 4}" font-size="11" fill="#1565c0">stop-the-world + mark assists (ms per bin)</text>'
            f'{"".join(bars)}<line x1="0" y1="70" x2="{w}" y2="70" stroke="#bbb"/></svg>'
            f'<p class=muted>{_e(t.get("span_ms"))} ms of trace in {_e(t.get("bins"))} bins of '
            f'{_e(t.get("bin_ms"))} ms ({_e(t.get("source"))})</p>')


def render_html(d: Diagnosis) -> str:
    shares = "".join(f"<tr><td>{_e(k)}</td><td class=num>{_pct(v)}</td></tr>"
                     for k, v in sorted(d.shares.items(), key=lambda kv: -kv[1]) if v >= 0.005)
    go = d.go
    go_line = _e(f"Go {go.version or go.range or 'version unknown'}, {go.maps or 'unknown'} maps"
                 + (f" ({go.evidence})" if go.evidence else ""))
    causes = "".join(_cause(c) for c in d.causes) or "<p>No cause stands out.</p>"
    timeline = ""
    if d.timeline:
        timeline = "<h2>Timeline</h2>" + _timeline_svg(d.timeline)
    notes = "".join(f"<li>{_e(n)}</li>" for n in d.notes)
    inputs = "".join(f"<li>{_e(i.kind)}: <code>{_e(i.path)}</code></li>" for i in d.inputs)
    label = _e(d.verdict.value.replace("_", " ").upper())
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>mapdoctor: {label}</title><style>{_CSS}</style></head><body>
<h1><span class="verdict {_VERDICT_CLASS[d.verdict]}">{label}</span>
<span class=muted>confidence {_e(d.confidence)}{" · partial" if d.partial else ""}</span></h1>
<p>{_e(d.summary)}</p><p class=muted>{go_line}</p>
{causes}{timeline}
<h2>CPU by category</h2><table>{shares or "<tr><td>no CPU data</td></tr>"}</table>
<h2>Inputs</h2><ul>{inputs}</ul>{f"<h2>Notes</h2><ul>{notes}</ul>" if notes else ""}
</body></html>
"""


def write_html(d: Diagnosis, target: str) -> None:
    Path(target).write_text(render_html(d), encoding="utf-8")


class HtmlReporter:
    def __init__(self, target: str) -> None:
        self.target = target

    def write(self, diagnosis: Diagnosis) -> None:
        write_html(diagnosis, self.target)
