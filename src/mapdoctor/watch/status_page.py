"""The agent's status page: targets, recent captures (with links to their reports), events.

Everything shown that came from outside (target URLs and labels, error texts from
services, alert labels, profile function names) is HTML-escaped; the page has no script
and a Content-Security-Policy that forbids loading anything.
"""

from __future__ import annotations

import html
import time
from datetime import UTC, datetime

from mapdoctor.safetext import for_terminal
from mapdoctor.watch.agent import Agent

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src 'none'; base-uri 'none'; form-action 'none'"
MAX_ROWS = 500


def _e(value: object) -> str:
    # Control and bidi characters become visible escapes too: they can hide or reorder text.
    return html.escape(for_terminal(str(value)), quote=True)


def _ago(wall: float | None) -> str:
    if wall is None:
        return "never"
    s = max(0.0, time.time() - wall)
    return f"{s:.0f} s ago" if s < 120 else f"{s / 60:.0f} min ago"


def _time(wall: float) -> str:
    return datetime.fromtimestamp(wall, UTC).strftime("%Y-%m-%d %H:%M:%SZ")


_STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #ccc;padding:.2em .5em;text-align:left;
vertical-align:top}th{background:#f3f3f3}.err{color:#a00}.yes{color:#a00;font-weight:bold}.mono{font-family:monospace}
small{color:#666}
"""


def render_status(agent: Agent) -> str:
    states, counters = agent.snapshot()
    sched = agent.schedule
    rows = []
    with agent.lock:
        for st in sorted(states, key=lambda s: s.wt.key)[:MAX_ROWS]:
            snap = st.last
            cpu = f"{snap.cores:.2f}" if snap else ""
            mg = f"{100 * snap.shares.get('map_growth', 0.0):.1f}%" if snap else ""
            verdict = snap.verdict if snap else ""
            top = ""
            if snap and snap.top:
                top = f"{snap.top.file}:{snap.top.line} ({100 * snap.top.share:.0f}% {snap.top.kind})"
            cap = st.last_capture
            cap_cell = (f'<a href="/bundles/{_e(cap.id)}/report.html">{_e(cap.verdict)}</a> '
                        f'<small>{_e(cap.finished_at)}</small>' if cap else "")
            err = f'<span class="err">{_e(st.last_error)}</span>' if st.last_error else ""
            labels = ", ".join(f"{k}={v}" for k, v in st.wt.labels)
            rows.append(
                f"<tr><td class=mono>{_e(st.wt.key)}<br><small>{_e(labels)}</small></td>"
                f"<td>{_e(_ago(st.last_success_at))}</td><td>{_e(cpu)}</td><td>{_e(st.goroutines or '')}</td>"
                f"<td class={'yes' if verdict == 'map_growth' else ''}>{_e(verdict)}</td><td>{_e(mg)}</td>"
                f"<td class=mono>{_e(top)}</td><td>{cap_cell}</td><td>{err}</td></tr>")
    bundles = list(reversed(agent.store.bundles()))[:50]
    caps = "".join(
        f"<tr><td>{_e(b.finished_at)}</td><td class=mono>{_e(b.target)}</td><td>{_e(b.trigger)}: "
        f"{_e(b.reason)}</td><td class={'yes' if b.verdict == 'map_growth' else ''}>{_e(b.verdict)} "
        f"({_e(b.confidence)}){' partial' if b.partial else ''}</td><td>{_e(b.summary)}</td>"
        f'<td><a href="/bundles/{_e(b.id)}/report.html">report</a> · '
        f'<a href="/bundles/{_e(b.id)}/report.json">json</a> · '
        f'<a href="/bundles/{_e(b.id)}/manifest.json">manifest</a></td></tr>'
        for b in bundles)
    events = "".join(f"<tr><td>{_e(_time(ev.at))}</td><td class=mono>{_e(ev.target)}</td><td>{_e(ev.what)}</td></tr>"
                     for ev in reversed(list(agent.events)[-50:]))
    sources = "".join(
        f"<tr><td class=mono>{_e(s.status.name)}</td><td>{s.status.targets}</td>"
        f"<td class=err>{_e(s.status.error or '')}</td></tr>" for s in agent.discovery.sources)
    rejected = "".join(f"<li class=mono>{_e(k)}: {_e(v)}</li>" for k, v in list(agent.discovery.rejected.items())[:50])
    more = f"<p><small>first {MAX_ROWS} of {len(states)} targets</small></p>" if len(states) > MAX_ROWS else ""
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>mapdoctor watch</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><style>{_STYLE}</style></head><body>
<h1>mapdoctor watch</h1>
<p>{len(states)} targets · light sample {sched.window_s} s every {sched.effective_interval_s:.0f} s
(stretch {sched.stretch:.2f}) · agent CPU {sched.agent_cpu_cores:.2f} of {sched.max_cpu:g} cores ·
overhead budget {100 * sched.budget:.0f}% · {len(agent.store.bundles())} bundles ·
<a href="/metrics">/metrics</a></p>
<h2>Targets</h2>
<table><tr><th>target</th><th>last sample</th><th>CPU cores</th><th>goroutines</th><th>verdict (sample)</th>
<th>map growth</th><th>top site</th><th>last capture</th><th>error</th></tr>{''.join(rows)}</table>{more}
<h2>Recent captures</h2>
<table><tr><th>finished</th><th>target</th><th>trigger</th><th>verdict</th><th>summary</th><th></th></tr>{caps}</table>
<h2>Events</h2><table><tr><th>time</th><th>target</th><th>event</th></tr>{events}</table>
<h2>Target sources</h2><table><tr><th>source</th><th>targets</th><th>error</th></tr>{sources}</table>
{f'<h3>Rejected targets</h3><ul>{rejected}</ul>' if rejected else ''}
<p><small>alerts: {_e(', '.join(f'{k[7:]} {v}' for k, v in sorted(counters.items()) if k.startswith('alerts:'))
    or 'none')}</small></p>
</body></html>
"""
