"""Escaping, number formats, colours and names shared by the report's parts."""

from __future__ import annotations

import html

#: One colour per CPU category (analysis.frametable.SHARE_OF keys) and per timeline mark.
COLORS: dict[str, str] = {
    "map_growth": "#d62728", "map_access": "#ff9896", "slice_growth": "#9467bd", "sync_map": "#e377c2",
    "lock_wait": "#8c564b", "gc": "#1f77b4", "gc_assist": "#17becf", "malloc": "#aec7e8",
    "scheduler": "#bcbd22", "syscall": "#7f7f7f", "user": "#98df8a", "other": "#c7c7c7",
    "stw": "#0d47a1", "assist": "#4fc3f7", "request": "#9e9e9e", "slow": "#d50000",
}

CATEGORY_TITLES: dict[str, str] = {
    "map_growth": "map growth", "map_access": "map access", "slice_growth": "slice growth",
    "sync_map": "sync.Map", "lock_wait": "lock wait", "gc": "GC (background)", "gc_assist": "GC assists",
    "malloc": "malloc", "scheduler": "scheduler", "syscall": "syscalls", "user": "user code",
    "other": "other runtime",
}

CAUSE_TITLES: dict[str, str] = {
    "map_growth": "map growth", "slice_growth": "slice growth", "sync_map": "sync.Map churn",
    "lock_contention": "lock contention", "gc_pressure": "GC pressure",
    "concurrent_map_writes": "concurrent map writes", "map_creation": "small-map creation",
    "cpu_starvation": "CPU starvation",
}


def e(value: object) -> str:
    """Untrusted text as HTML text or attribute value."""
    return html.escape(str(value), quote=True)


def category_title(cat: str) -> str:
    return CATEGORY_TITLES.get(cat, cat.replace("_", " "))


def pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def fmt_ms(ms: float) -> str:
    if ms >= 1000:
        return f"{ms / 1000:.{1 if ms >= 10000 else 2}f} s"
    if ms >= 10:
        return f"{ms:.0f} ms"
    if ms >= 1:
        return f"{ms:.1f} ms"
    return f"{ms:.3f} ms"


def color_rules() -> list[str]:
    """``.k-CATEGORY`` classes give legends their colour without inline styles."""
    return [f".k-{k}{{--c:{v}}}" for k, v in COLORS.items()]
