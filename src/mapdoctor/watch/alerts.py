"""Alertmanager's webhook (``webhook_configs``): which watched targets an alert names.

The payload is Alertmanager's standard one (``version: "4"``). Each firing alert is
matched to a watched target by, in order:

1. a ``mapdoctor_target`` label or annotation: the target's URL, its ``host:port``, or
   anything ``mapdoctor diagnose`` accepts for it;
2. the ``instance`` label, compared with the target's ``instance`` label (from service
   discovery) and with its ``host:port``: what Prometheus puts in ``instance`` when it
   scrapes a service's ``/metrics`` on the port that also serves ``/debug/pprof/``.

Only watched targets are ever captured: a webhook cannot make the agent fetch an address
of its choosing. Resolved alerts are ignored.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from mapdoctor.cli.command import UsageError
from mapdoctor.collect.target import parse_target
from mapdoctor.watch.targets import WatchTarget

MAX_BODY_BYTES = 1 << 20
TARGET_LABEL = "mapdoctor_target"
MAX_SHOWN_CHARS = 200


class PayloadError(Exception):
    """Not an Alertmanager webhook payload; the message says why."""


@dataclass(frozen=True, slots=True)
class Alert:
    name: str
    status: str
    labels: dict[str, str]
    annotations: dict[str, str]
    fingerprint: str

    def describe(self) -> str:
        inst = self.labels.get("instance", "")
        return f"alert {self.name or '?'}" + (f" (instance {inst})" if inst else "")


@dataclass(slots=True)
class Matched:
    captures: list[tuple[WatchTarget, Alert]] = field(default_factory=list)
    ignored: list[tuple[Alert, str]] = field(default_factory=list)


def _str_map(value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        return {}
    return {str(k)[:MAX_SHOWN_CHARS]: str(v)[:1000] for k, v in value.items() if isinstance(k, str)}


def parse_payload(body: bytes) -> list[Alert]:
    try:
        doc = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise PayloadError(f"not JSON ({exc})") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("alerts"), list):
        raise PayloadError("not an Alertmanager webhook payload (no \"alerts\" list)")
    out = []
    for item in doc["alerts"][:1000]:
        if not isinstance(item, dict):
            continue
        labels = _str_map(item.get("labels"))
        out.append(Alert(labels.get("alertname", ""), str(item.get("status", "")), labels,
                         _str_map(item.get("annotations")), str(item.get("fingerprint", ""))[:64]))
    return out


def _normalised(value: str) -> set[str]:
    forms = {value.strip()}
    try:
        t = parse_target(value)
    except UsageError:
        return forms
    return forms | {t.display, t.netloc, f"{t.host}:{t.port}"}


def match(alerts: Sequence[Alert], targets: Sequence[WatchTarget]) -> Matched:
    by_key: dict[str, WatchTarget] = {}
    by_instance: dict[str, list[WatchTarget]] = {}
    for t in targets:
        for k in {t.key, t.address, f"{t.target.host}:{t.target.port}"}:
            by_key.setdefault(k, t)
        for k in {t.instance, t.address}:
            by_instance.setdefault(k, []).append(t)
    out = Matched()
    seen: set[str] = set()
    for a in alerts:
        if a.status != "firing":
            out.ignored.append((a, f"status {a.status or 'missing'}"))
            continue
        explicit = a.labels.get(TARGET_LABEL) or a.annotations.get(TARGET_LABEL)
        found: list[WatchTarget] = []
        if explicit:
            hit = next((by_key[f] for f in _normalised(explicit) if f in by_key), None)
            if hit is None:
                out.ignored.append((a, f"{TARGET_LABEL} {explicit[:MAX_SHOWN_CHARS]} is not a watched target"))
                continue
            found = [hit]
        elif "instance" in a.labels:
            inst = a.labels["instance"]
            found = by_instance.get(inst, [])
            if not found:
                found = [by_key[f] for f in _normalised(inst) if f in by_key][:1]
            if not found:
                out.ignored.append((a, f"instance {inst[:MAX_SHOWN_CHARS]} is not a watched target"))
                continue
        else:
            out.ignored.append((a, f"no {TARGET_LABEL} or instance label"))
            continue
        for t in found:
            if t.key not in seen:
                seen.add(t.key)
                out.captures.append((t, a))
    return out
