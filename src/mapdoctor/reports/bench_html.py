"""``mapdoctor bench --html``: the benchmark's results as one self-contained HTML file.

No script, no external resource (a Content-Security-Policy that allows neither); every string is
escaped (control characters as in the terminal, then :func:`html.escape`).
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from mapdoctor.analysis.benchstats import ALPHA
from mapdoctor.safetext import for_terminal

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src 'none'; base-uri 'none'; form-action 'none'"
_CSS = ("body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1000px;color:#222;padding:0 1em;"
        "overflow-wrap:break-word}"
        "table{border-collapse:collapse}td,th{padding:.2em .7em;text-align:left}th{border-bottom:1px solid #ccc}"
        "td.num{text-align:right;font-variant-numeric:tabular-nums}.muted{color:#666}.sig{color:#2e7d32}")


def _e(value: object) -> str:
    return html.escape(for_terminal(str(value)), quote=True)


def render(result: dict[str, Any]) -> str:
    base = _e(result.get("baseline", "NoHint"))
    mix = result.get("mix")
    mix_line = f"<p>operation mix, from the profile: {_e(mix['text'])}</p>" if mix else ""
    rows = []
    for b in result["benchmarks"]:
        cells = [f"<td>{_e(b['name'])}</td>"]
        for metric in ("ns/op", "B/op", "allocs/op"):
            m = b.get(metric)
            cells.append(f'<td class="num">{m["median"]:,.0f}<br><span class="muted">95% {m["ci"][0]:,.0f}'
                         f'..{m["ci"][1]:,.0f}</span></td>' if m else "<td></td>")
        vs = b.get("vs_baseline", b.get("vs_no_hint"))
        if vs is None:
            cells.append('<td class="muted">baseline</td>')
        elif vs["p_value"] < ALPHA:
            cells.append(f'<td class="sig">{100 * (vs["ratio"] - 1):+.1f}% time (p={vs["p_value"]:.2g})</td>')
        else:
            cells.append(f'<td class="muted">no significant difference (p={vs["p_value"]:.2g})</td>')
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return (f'<!doctype html><html><head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" '
            f'content="{CSP}"><title>mapdoctor bench</title><style>{_CSS}</style></head><body>'
            f"<h1>{_e(result['map'])}: {result['size']:,} entries, {_e(result['go'])}</h1>{mix_line}"
            f'<p class="muted">benchmarked as {_e(result["bench_map"])}; medians of the runs with the 95% interval '
            f"of the median; against {base} (the code as it is), the Mann-Whitney U test</p>"
            "<table><tr><th>benchmark</th><th>ns/op</th><th>B/op</th><th>allocs/op</th><th>vs "
            f"{base}</th></tr>"
            + "".join(rows) + "</table></body></html>\n")


def write_html(result: dict[str, Any], target: str) -> None:
    Path(target).write_text(render(result), encoding="utf-8")
