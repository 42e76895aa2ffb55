"""The timeline drawn as static SVG lanes on one time axis (readable without JavaScript).

Each lane's SVG uses trace milliseconds as its x unit (``viewBox`` width = the trace's span,
``preserveAspectRatio="none"``), so it stretches to any page width; labels and the axis are
HTML, so text never scales with it. Tick positions become CSS classes in the page's one
stylesheet (inline ``style`` attributes would need a weaker Content-Security-Policy).
"""

from __future__ import annotations

import math
from typing import Any

from mapdoctor.reports.html.common import COLORS, category_title, e, fmt_ms

LANE_H = 56
TALL_H = 90


def nice_ticks(span_ms: float, want: int = 6) -> list[float]:
    """Round tick values from 0 to ``span_ms`` (1, 2 or 5 times a power of ten apart)."""
    if span_ms <= 0:
        return [0.0]
    raw = span_ms / want
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 5, 10) if m * mag >= raw)
    n = int(span_ms // step)
    return [round(k * step, 6) for k in range(n + 1)]


def _tick_label(ms: float, span_ms: float) -> str:
    if span_ms >= 2000:
        s = ms / 1000
        return f"{s:g} s"
    return f"{ms:g} ms"


def axis(span_ms: float) -> tuple[str, list[str]]:
    """The axis HTML and the CSS rules placing its ticks."""
    ticks = nice_ticks(span_ms)
    rules: list[str] = []
    spans: list[str] = []
    for k, t in enumerate(ticks):
        cls = f"tk{k}"
        rules.append(f".axis .{cls}{{left:{100 * t / span_ms:.3f}%}}")
        extra = " first" if k == 0 else (" last" if t / span_ms > 0.97 else "")
        if k % 2:
            extra += " odd"  # hidden on narrow screens, where labels would touch
        spans.append(f'<span class="{cls}{extra}">{e(_tick_label(t, span_ms))}</span>')
    return f'<div class=axis aria-hidden=true>{"".join(spans)}</div>', rules


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def _grid(span_ms: float, h: int) -> str:
    return "".join(f'<line class=grid x1="{t:.3f}" x2="{t:.3f}" y1="0" y2="{h}" vector-effect="non-scaling-stroke"/>'
                   for t in nice_ticks(span_ms)[1:])


#: Slow requests' time windows, drawn behind every lane: (start ms, duration ms).
Bands = list[tuple[float, float]]


def _svg(kind: str, span_ms: float, h: int, body: str, label: str, cls: str = "", bands: Bands | None = None) -> str:
    c = f' class="{cls}"' if cls else ""
    # A faint band where each slow request ran: what else happened then is read straight down.
    back = "".join(f'<rect class=band x="{a:.3f}" y="0" width="{max(d, span_ms / 700):.3f}" height="{h}" '
                   f'fill="{COLORS["slow"]}" fill-opacity="0.09"/>' for a, d in bands or ())
    return (f'<svg data-lane="{e(kind)}"{c} viewBox="0 0 {span_ms:.3f} {h}" preserveAspectRatio="none" role="img" '
            f'aria-label="{e(label)}">{_grid(span_ms, h)}{back}{body}</svg>')


def _lane(title: str, note: str, svg: str) -> str:
    return f'<div class=lane><div class=lab><b>{title}</b><span class=muted>{note}</span></div>{svg}</div>'


def _bars(values: list[float], bin_ms: float, h: int, top: float, color: str, base: list[float] | None = None,
          what: str = "") -> str:
    out = []
    for b, v in enumerate(values):
        if not v:
            continue
        y0 = base[b] if base else 0.0
        hh = (h - 2) * v / top
        yb = (h - 2) * y0 / top
        out.append(f'<rect x="{b * bin_ms:.3f}" y="{h - yb - hh:.2f}" width="{bin_ms * 0.92:.3f}" height="{hh:.2f}" '
                   f'fill="{color}"><title>{e(fmt_ms(b * bin_ms))}: {v:g} {e(what)}</title></rect>')
    return "".join(out)


def lanes_html(lanes: dict[str, Any], timeline: dict[str, Any], focus: list[str]) -> tuple[str, list[str]]:
    """The timeline section's body (HTML) and its CSS rules."""
    span = float(lanes["span_ms"])
    bin_ms = float(lanes["bin_ms"])
    nb = int(lanes["bins"])
    samples: dict[str, list[int]] = lanes["samples"]
    parts: list[str] = []
    p99 = float(lanes.get("p99_ms") or 0.0)
    bands: Bands = [(float(r[0]), float(r[1])) for r in lanes["requests"] if p99 and r[1] >= p99]

    # One lane per category the verdict's causes are about: what the verdict says, over time.
    for cat in focus:
        vals = [float(v) for v in samples.get(cat, [0] * nb)]
        top = max(vals, default=0) or 1
        n = int(sum(vals))
        body = _bars(vals, bin_ms, LANE_H, top, COLORS.get(cat, "#888"), what=f"{category_title(cat)} samples")
        parts.append(_lane(e(f"{category_title(cat)}: CPU samples per {bin_ms:g} ms bin"),
                           e(f"{n} samples of 10 ms; tallest bar {int(top)}"),
                           _svg(f"cat:{cat}", span, LANE_H, body, f"{category_title(cat)} over time", bands=bands)))

    # All CPU, stacked by category (the verdict's categories at the bottom).
    order = [c for c in focus if c in samples] + sorted((c for c in samples if c not in focus),
                                                       key=lambda c: -sum(samples[c]))
    totals = [float(sum(samples[c][b] for c in samples)) for b in range(nb)]
    top = max(totals, default=0) or 1
    base = [0.0] * nb
    stacked: list[str] = []
    for cat in order:
        vals = [float(v) for v in samples[cat]]
        stacked.append(_bars(vals, bin_ms, TALL_H, top, COLORS.get(cat, "#888"), base,
                             f"{category_title(cat)} samples"))
        base = [a + b for a, b in zip(base, vals, strict=True)]
    legend = "".join(f'<span class="k-{e(c)}">{e(category_title(c))}</span>' for c in order)
    parts.append(_lane("All CPU samples, by category",
                       e(f"{int(sum(totals))} samples; tallest bar {int(top)} per {bin_ms:g} ms"),
                       _svg("cpu", span, TALL_H, "".join(stacked), "CPU samples by category", "tall", bands))
                 + f"<div class=legend>{legend}</div>")

    # Pauses: program STW and mark assists, milliseconds per bin.
    series = timeline.get("series") or {}
    stw = [float(v) for v in series.get("stw_ms", [])]
    assist = [float(v) for v in series.get("assist_ms", [])]
    both = [a + b for a, b in zip(stw, assist, strict=False)]
    ptop = max(both, default=0) or 1
    body_p = _bars(stw, bin_ms, LANE_H, ptop, COLORS["stw"], what="ms stop-the-world")
    body_p += _bars(assist, bin_ms, LANE_H, ptop, COLORS["assist"], stw, "ms mark assists")
    own = timeline.get("stw", {}).get("caused_by_collection", {})
    parts.append(_lane("Stop-the-world pauses + GC mark assists",
                       e(f"{sum(stw):.1f} ms STW ({_plural(int(lanes['stw_total']), 'pause')}), "
                         f"{sum(assist):.1f} ms assists; "
                         f"tallest bar {ptop:.2f} ms per bin"
                         + (f"; {_plural(int(own.get('count', 0)), 'pause')} caused by the measurement itself "
                            "left out" if own.get("count") else "")),
                       _svg("pause", span, LANE_H, body_p, "pauses over time", bands=bands))
                 + '<div class=legend><span class=k-stw>stop-the-world</span>'
                   '<span class=k-assist>mark assists</span></div>')

    # GC cycles as spans.
    gc = lanes["gc"]
    body_g = "".join(f'<rect x="{a:.3f}" y="3" width="{max(b - a, span / 800):.3f}" height="20" fill="{COLORS["gc"]}">'
                     f'<title>GC cycle {i + 1}: {e(fmt_ms(a))} to {e(fmt_ms(b))}</title></rect>'
                     for i, (a, b) in enumerate(gc))
    parts.append(_lane("GC cycles", e(_plural(len(gc), "cycle")),
                       _svg("gc", span, 26, body_g, "GC cycles", "short", bands)))

    # Requests: each a segment from its start to its end, as high as it was slow.
    reqs = lanes["requests"]
    if reqs:
        rtop = max(r[1] for r in reqs) or 1.0
        minw = span / 700
        segs = []
        # Slow ones last, so they are drawn on top.
        for start, dur, g in sorted(reqs, key=lambda r: bool(r[1] >= p99)):
            slow = dur >= p99
            y = (TALL_H - 4) * (1 - dur / rtop) + 1
            # Native tooltips (for readers without JavaScript) on the slow ones only: thousands
            # of titles would weigh more than the rest of the page.
            title = (f"<title>{e(fmt_ms(dur))} request at {e(fmt_ms(start))} (goroutine {g}), slow</title>"
                     if slow else "")
            segs.append(f'<rect x="{start:.2f}" y="{y:.1f}" width="{max(dur, minw):.2f}" height="{3 if slow else 2}" '
                        f'fill="{COLORS["slow" if slow else "request"]}"' + (" class=slow" if slow else "")
                        + (f">{title}</rect>" if title else "/>"))
        drawn = len(reqs)
        total = int(lanes["requests_total"])
        note = (f"{total} requests ({e(lanes['request_method'])}); p50 {e(fmt_ms(float(lanes['p50_ms'])))}, "
                f"p99 {e(fmt_ms(p99))}, max {e(fmt_ms(rtop))}; height = latency"
                + (f"; {drawn} drawn (every slow one, an even sample of the rest)" if drawn < total else ""))
        # First: "why are my slowest requests slow?" is the question; the lanes below answer it.
        parts.insert(0, _lane("Requests (slow ones, ≥ p99, in red)", note,
                           _svg("req", span, TALL_H, "".join(segs), "requests over time", "tall"))
                     + '<div class=legend><span class=k-slow>slow (≥ p99)</span>'
                       '<span class=k-request>other requests</span></div>')
    else:
        why = timeline.get("requests_absent") or "no request spans in the trace"
        parts.insert(0, f'<p class=muted>Requests: {e(why)}</p>')

    ax, rules = axis(span)
    header = (f'<p class=muted>{e(fmt_ms(span))} of execution trace ({e(lanes["source"])}), in {nb} bins of '
              f'{bin_ms:g} ms. Hover or tap a lane for the figures of that moment.'
              + (f" Faint red bands: when the {_slow_requests(len(bands))} ran." if bands else "") + "</p>")
    return header + "".join(parts) + ax, rules


def _slow_requests(n: int) -> str:
    return "slow request" if n == 1 else f"{n} slow requests"
