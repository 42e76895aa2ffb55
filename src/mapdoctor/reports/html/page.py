"""The page shell: verdict header, causes, timeline, flame graph, sites, source, inputs.

Profile contents are untrusted (function names, file names and reasons come from the program
under diagnosis): every value goes through :func:`common.e`, the embedded data block escapes
``<``, ``>`` and ``&``, and the script only ever sets ``textContent``. The Content-Security-
Policy allows exactly this page's one stylesheet and one script (by SHA-256) and nothing
remote, so even a slip could neither run code nor fetch anything.

The page is complete without JavaScript (verdict, causes, the timeline's SVG lanes with native
tooltips, tables, source); the script adds the flame graph, search, zoom and richer tooltips.
"""

from __future__ import annotations

import base64
import hashlib
import json
from importlib import resources
from typing import Any

from mapdoctor.analysis.findings import Cause, Diagnosis
from mapdoctor.analysis.measures import EXPLAIN, measure_of, parts_text, score_text
from mapdoctor.analysis.severity import badge, level_of, severity_of
from mapdoctor.reports.html.common import (
    CATEGORY_TITLES,
    CAUSE_TITLES,
    COLORS,
    category_title,
    color_rules,
    e,
    fmt_ms,
    pct,
)
from mapdoctor.reports.html.timeline import lanes_html

#: Beyond this many top sites per cause the table stops (the JSON has them all).
MAX_SITES = 10


def _asset(name: str) -> str:
    return resources.files("mapdoctor.reports.html").joinpath(name).read_text(encoding="utf-8")


def _sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode() + "'"


def _json_block(data: Any) -> str:
    # Inside <script type="application/json"> only "</script" could end the block: escape every
    # "<" (and ">" and "&" for good measure); JSON.parse reads them back unchanged.
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _facts(d: Diagnosis) -> str:
    facts: list[str] = []
    if d.causes:
        c = d.causes[0]
        title = CAUSE_TITLES.get(c.kind.value, c.kind.value)
        facts.append(f"<li>{e(title)} <b>{e(score_text(c))}</b>"
                     f"{' <span class=muted>' + e(parts_text(c)) + '</span>' if parts_text(c) else ''}</li>")
    if "map_growth" in d.shares:
        # The question the reader came with, answered in CPU terms whatever the verdict.
        n = f" ({d.cpu_samples} samples)" if d.cpu_samples else ""
        facts.append(f"<li>map growth <b>{pct(d.shares['map_growth'])}</b> of sampled CPU{e(n)}</li>")
    req = (d.timeline or {}).get("requests") or {}
    if req.get("count"):
        facts.append(f"<li>requests <b>p50 {e(fmt_ms(float(req['p50_ms'])))}</b> · "
                     f"<b>p99 {e(fmt_ms(float(req['p99_ms'])))}</b> · max {e(fmt_ms(float(req['max_ms'])))} "
                     f"({int(req['count'])} requests)</li>")
    facts.append(f"<li>confidence <b>{e(d.confidence)}</b></li>")
    if d.partial:
        facts.append("<li><b>partial</b>: some inputs were skipped or incomplete (see Notes)</li>")
    return f"<ul class=facts>{''.join(facts)}</ul>"


def _cause(c: Cause, i: int, snippets: dict[str, Any]) -> str:
    title = CAUSE_TITLES.get(c.kind.value, c.kind.value)
    rows = []
    for s in c.sites[:MAX_SITES]:
        key = f"{s.file}:{s.line}"
        where = f"<code>{e(key)}</code>"
        if key in snippets:
            where = f'<a href="#src-{e(_anchor(key, snippets))}">{where}</a>'
        rows.append(f"<tr><td class=num>{pct(s.share)}</td><td>{where}</td><td><code>{e(s.function)}</code></td></tr>")
    more = (f"<p class=muted>{len(c.sites) - MAX_SITES} more sites in the JSON output.</p>"
            if len(c.sites) > MAX_SITES else "")
    table = (f"<div class=wrap><table class=sites><tr><th class=num>share of this cause</th><th>where</th>"
             f"<th>function</th></tr>"
             f"{''.join(rows)}</table></div>{more}" if rows else "")
    advice = "".join(f"<p class=advice><b>Do:</b> {e(s.advice)}</p>" for s in c.sites[:1] if s.advice)
    evidence = "".join(f"<li>{e(x)}</li>" for x in c.evidence)
    if evidence:
        # Closed by default: the site and the change come first; the proof is one click away.
        evidence = f"<details><summary>Evidence ({len(c.evidence)} lines)</summary><ul>{evidence}</ul></details>"
    status = f"{c.status}" + (f", threshold {pct(c.threshold)}" if c.threshold else "")
    parts = f" {parts_text(c)}" if parts_text(c) else ""
    return (f'<div class="cause{" c-focus" if i == 0 else ""}"><h3>{i + 1}. {e(title)} '
            f"<span class=muted>{e(score_text(c))} · {e(status)}</span></h3>"
            f"<p class=muted title=\"{e(EXPLAIN[measure_of(c)])}\">{e(EXPLAIN[measure_of(c)])}{e(parts)}</p>"
            f"{table}{advice}{evidence}</div>")


def _anchor(key: str, snippets: dict[str, Any]) -> str:
    return str(list(snippets).index(key))


def _snippets(snippets: dict[str, Any]) -> str:
    out = []
    for k, (key, sn) in enumerate(snippets.items()):
        marks = set(sn["marks"])
        lines = "".join(f'<span{" class=mark" if sn["start"] + j in marks else ""}><i>{sn["start"] + j}</i>{e(text)}'
                        f"</span>" for j, text in enumerate(sn["lines"]))
        out.append(f'<div class=snippet id="src-{k}"><h3><code>{e(sn["path"])}</code> '
                   f'<span class=muted>for {e(key)}</span></h3><pre>{lines}</pre></div>')
    return "".join(out)


def _self_times(flame: dict[str, Any], top: int = 15) -> list[tuple[str, float, str]]:
    """(function, own ms, category) of the biggest leaves of the kept tree: the no-script summary."""
    own: dict[str, float] = {}
    cat_of: dict[str, str] = {}

    def walk(n: list[Any]) -> None:
        kids = n[4] if len(n) > 4 else []
        name = flame["names"][n[0]]
        mine = n[2] - sum(k[2] for k in kids)
        if mine > 0 and n is not flame["tree"]:
            own[name] = own.get(name, 0.0) + mine
            cat_of.setdefault(name, flame["categories"][n[3]])
        for k in kids:
            walk(k)

    walk(flame["tree"])
    return [(n, ms, cat_of[n]) for n, ms in sorted(own.items(), key=lambda kv: -kv[1])[:top]]


def _flame_section(flame: dict[str, Any] | None, prepared: bool) -> str:
    if not prepared:
        return "<p class=muted>The flame graph was not prepared for this report.</p>"
    if flame is None:
        return "<p class=muted>No CPU profile or trace CPU samples among the inputs: no flame graph.</p>"
    total = float(flame["total_ms"]) or 1.0
    capped = ""
    if flame["capped"]:
        capped = (f"<p class=muted>Showing the {flame['shown']} largest frames (the report's limit); smaller "
                  f"ones (at most {e(fmt_ms(float(flame['capped_below_ms'])))} each) are left inside their "
                  "caller's bar.</p>")
    cats = sorted(set(flame["categories"]), key=lambda c: list(CATEGORY_TITLES).index(c)
                  if c in CATEGORY_TITLES else 99)
    legend = "".join(f'<span class="k-{e(c)}">{e(category_title(c))}</span>' for c in cats)
    rows = "".join(f"<tr><td class=num>{e(fmt_ms(ms))}</td><td class=num>{pct(ms / total)}</td>"
                   f"<td><code>{e(name)}</code></td><td>{e(category_title(cat))}</td></tr>"
                   for name, ms, cat in _self_times(flame))
    return (f"<p class=muted>{e(fmt_ms(total))} of CPU from the {e(flame['source'])}; each bar is a function, "
            "as wide as the CPU spent in it and below it, coloured by the cost category of most of its samples "
            "(the same frame table the verdict uses).</p>"
            '<div class="flametools js-only"><input id=flame-search type=search placeholder="Search functions" '
            'aria-label="Search functions"><button id=flame-reset type=button>Reset</button></div>'
            '<p id=flame-info class="muted js-only" aria-live=polite></p>'
            '<div id=flame><p class="no-js muted">The interactive flame graph needs JavaScript; the table below '
            "lists the functions with the most CPU of their own.</p></div>"
            f"<div class=legend>{legend}</div>{capped}"
            f"<h3>Functions with the most CPU of their own</h3><div class=wrap><table><tr><th class=num>own CPU</th>"
            f"<th class=num>share</th><th>function</th><th>category</th></tr>{rows}</table></div>")


def _cpu_table(d: Diagnosis) -> str:
    rows = []
    for k, v in sorted(d.shares.items(), key=lambda kv: -kv[1]):
        if v < 0.005:
            continue
        lo_hi = d.share_intervals.get(k)
        iv = f"{pct(lo_hi[0])}-{pct(lo_hi[1])}" if lo_hi else ""
        rows.append(f'<tr><td><span class="legend"><span class="k-{e(k)}">{e(category_title(k))}</span></span></td>'
                    f"<td class=num>{pct(v)}</td><td class=num>{iv}</td></tr>")
    if not rows:
        return "<p class=muted>No CPU data.</p>"
    n = f" ({d.cpu_samples} CPU samples)" if d.cpu_samples else ""
    return (f"<p class=muted>Share of sampled CPU per cost category{e(n)}; a cause's score above can be larger "
            "than its CPU share when GC time its allocations drive is charged to it.</p>"
            "<div class=wrap><table><tr><th>category</th><th class=num>share of CPU</th>"
            f"<th class=num>95% interval</th></tr>{''.join(rows)}</table></div>")


def render_html(d: Diagnosis) -> str:
    plots = d.plots.get() if d.plots is not None else {}
    level = level_of(d)
    word, beside = badge(d)
    go = d.go
    version = (go.version or go.range or "version unknown").removeprefix("go")
    go_line = f"Go {version}, {go.maps or 'unknown'} maps"
    snippets: dict[str, Any] = plots.get("snippets") or {}
    causes = "".join(_cause(c, i, snippets) for i, c in enumerate(d.causes)) or "<p>No cause stands out.</p>"
    lanes = plots.get("lanes")
    rules: list[str] = color_rules()
    if d.timeline and lanes:
        body, axis_rules = lanes_html(lanes, d.timeline, list(plots.get("focus") or []))
        rules += axis_rules
        timeline = body
    elif d.timeline:
        timeline = "<p class=muted>The timeline's lanes were not prepared for this report.</p>"
    else:
        timeline = ("<p class=muted>No execution trace among the inputs: no timeline. <code>mapdoctor diagnose</code> "
                    "collects one; offline, add a <code>/debug/pprof/trace</code> capture.</p>")
    notes = "".join(f"<li>{e(n)}</li>" for n in d.notes)
    inputs = "".join(f"<li>{e(i.kind)}: <code>{e(i.path)}</code>{f' ({e(i.note)})' if i.note else ''}</li>"
                     for i in d.inputs)
    source = (f"<section id=source><h2>Source</h2>{_snippets(snippets)}</section>" if snippets else "")
    # The script needs no per-assist list (the lanes carry assists per bin).
    lanes_js = {k: v for k, v in lanes.items() if k != "assists"} if lanes else None
    data = {"flame": plots.get("flame"), "lanes": lanes_js, "colors": COLORS, "titles": CATEGORY_TITLES,
            "series": {k: (d.timeline or {}).get("series", {}).get(k, []) for k in ("stw_ms", "assist_ms")}}
    css = _asset("report.css") + "\n" + "\n".join(rules) + "\n"
    js = _asset("report.js")
    csp = (f"default-src 'none'; style-src {_sha256(css)}; script-src {_sha256(js)}; img-src data:; "
           "base-uri 'none'; form-action 'none'")
    sev = severity_of(d).value
    toc = ('<nav class=toc><a href="#causes">Causes</a><a href="#timeline">Timeline</a>'
           '<a href="#flame-graph">Flame graph</a><a href="#cpu">CPU</a>'
           + ('<a href="#source">Source</a>' if snippets else "") + '<a href="#inputs">Inputs</a></nav>')
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{csp}">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>mapdoctor: {e(word)} ({e(beside)})</title><style>{css}</style></head><body>
<header class="bar-{level.value}" data-severity="{e(sev)}" data-level="{level.value}"
 data-verdict="{e(d.verdict.value)}">
<h1><span class="badge lv-{level.value}">{e(word)}</span><span class=muted>{e(beside)} · {e(go_line)}</span></h1>
<p class=headline>{e(d.summary)}</p>{_facts(d)}{toc}</header>
<section id=causes><h2>Causes</h2>{causes}</section>
<section id=timeline><h2>Timeline</h2>{timeline}</section>
<section id=flame-graph><h2>CPU flame graph</h2>{_flame_section(plots.get("flame"), d.plots is not None)}</section>
<section id=cpu><h2>CPU by category</h2>{_cpu_table(d)}</section>
{source}
<section id=inputs><h2>Inputs</h2><ul>{inputs}</ul>{f"<h2>Notes</h2><ul>{notes}</ul>" if notes else ""}
<p class=muted>{e(go.evidence)}</p></section>
<div id=tip role=tooltip></div>
<script type="application/json" id="md-data">{_json_block(data)}</script>
<script>{js}</script>
</body></html>
"""

