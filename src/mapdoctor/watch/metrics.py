"""Prometheus exposition (``/metrics``): what each target's samples say, and the agent's own cost.

The metric names and labels are a public contract, documented in docs/WATCH.md. Series
are built from the agent's current state at each scrape (a custom collector), so a target
that leaves service discovery leaves ``/metrics`` too, and each target has at most one
top-site series and one verdict series at a time: cardinality is bounded by the number of
targets, whatever the profiles contain.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector

from mapdoctor.analysis.frametable import SHARE_KEYS
from mapdoctor.collect.sample import REASONS
from mapdoctor.watch.agent import Agent

#: Longest function/file label value (profiles can hold very long generic names).
MAX_LABEL_CHARS = 160


def _clip(text: str) -> str:
    return text if len(text) <= MAX_LABEL_CHARS else text[: MAX_LABEL_CHARS - 3] + "..."


class WatchCollector(Collector):
    def __init__(self, agent: Agent) -> None:
        self.agent = agent

    def collect(self) -> Iterator[Metric]:
        a = self.agent
        now = time.monotonic()
        T = ["target"]
        share = GaugeMetricFamily("mapdoctor_cpu_share", "Share of the target's sampled CPU time per kind of cost "
                                  "(last light sample; the kinds are the JSON report's shares)", labels=[*T, "kind"])
        share_n = GaugeMetricFamily("mapdoctor_cpu_samples", "CPU samples the last shares rest on", labels=T)
        cores = GaugeMetricFamily("mapdoctor_cpu_cores", "CPU used by the target during the last sample, in cores",
                                  labels=T)
        gor = GaugeMetricFamily("mapdoctor_goroutines", "Goroutines at the last sample (pprof index count)", labels=T)
        top = GaugeMetricFamily("mapdoctor_top_site_share", "Share of sampled CPU at the top site of the primary "
                                "cause (one series per target)", labels=[*T, "kind", "function", "file", "line"])
        verdict = GaugeMetricFamily("mapdoctor_verdict", "Verdict of the last light sample (CPU profile only): 1 "
                                    "for the current one", labels=[*T, "verdict", "confidence"])
        cverdict = GaugeMetricFamily("mapdoctor_capture_verdict", "Verdict of the last capture (full collection): "
                                     "1 for the current one", labels=[*T, "verdict", "confidence"])
        cap_ts = GaugeMetricFamily("mapdoctor_last_capture_timestamp_seconds", "When the last capture finished",
                                   labels=T)
        errors = CounterMetricFamily("mapdoctor_collection_errors", "Failed light samples by reason "
                                     f"({', '.join(REASONS)}; budget: skipped by the overhead budget)",
                                     labels=[*T, "reason"])
        samples = CounterMetricFamily("mapdoctor_samples", "Successful light samples", labels=T)
        ok_ts = GaugeMetricFamily("mapdoctor_last_success_timestamp_seconds", "When the last light sample "
                                  "succeeded", labels=T)
        prof_s = CounterMetricFamily("mapdoctor_profiled_seconds", "Seconds the target spent being profiled by "
                                     "this agent (samples and captures)", labels=T)
        duty = GaugeMetricFamily("mapdoctor_profiled_ratio", "Share of the last hour the target spent being "
                                 "profiled (the overhead budget caps it)", labels=T)
        caps = CounterMetricFamily("mapdoctor_captures", "Captures (bundles written) by trigger",
                                   labels=[*T, "trigger"])
        up = GaugeMetricFamily("mapdoctor_target_up", "1 when the last light sample succeeded", labels=T)

        states, counters = a.snapshot()
        with a.lock:
            for st in states:
                k = st.wt.key
                snap = st.last
                if snap is not None:
                    for kind in SHARE_KEYS:
                        share.add_metric([k, kind], snap.shares.get(kind, 0.0))
                    share_n.add_metric([k], snap.samples)
                    cores.add_metric([k], snap.cores)
                    verdict.add_metric([k, snap.verdict, snap.confidence], 1)
                    if snap.top is not None:
                        t = snap.top
                        top.add_metric([k, t.kind, _clip(t.function), _clip(t.file), str(t.line)], t.share)
                if st.goroutines is not None:
                    gor.add_metric([k], st.goroutines)
                if st.last_capture is not None:
                    b = st.last_capture
                    cverdict.add_metric([k, b.verdict, b.confidence], 1)
                    cap_ts.add_metric([k], _iso_ts(b.finished_at))
                for reason in (*REASONS, "budget"):
                    if st.errors.get(reason):
                        errors.add_metric([k, reason], st.errors[reason])
                samples.add_metric([k], st.samples_ok)
                if st.last_success_at is not None:
                    ok_ts.add_metric([k], st.last_success_at)
                prof_s.add_metric([k], st.duty.total_s)
                duty.add_metric([k], st.duty.ratio(now))
                for trig, n in st.captures.items():
                    caps.add_metric([k, trig], n)
                if st.last_sample_at is not None:
                    up.add_metric([k], 0 if st.last_error else 1)
        yield from (share, share_n, cores, gor, top, verdict, cverdict, cap_ts, errors, samples, ok_ts, prof_s,
                    duty, caps, up)

        sched = a.schedule
        yield _gauge("mapdoctor_watch_targets", "Targets watched", len(states))
        yield _gauge("mapdoctor_watch_interval_seconds", "Effective interval between light samples of a target "
                     "(after the budget and the CPU stretch)", sched.effective_interval_s)
        yield _gauge("mapdoctor_watch_window_seconds", "Length of a light sample's CPU profile", sched.window_s)
        yield _gauge("mapdoctor_watch_overhead_budget_ratio", "Most of its time a target may spend being profiled",
                     sched.budget)
        yield _gauge("mapdoctor_watch_interval_stretch", "Factor applied to the interval to keep the agent under "
                     "--max-cpu (1 = not stretched)", sched.stretch)
        yield _gauge("mapdoctor_watch_cpu_cores", "The agent's own CPU use, in cores (last few seconds)",
                     sched.agent_cpu_cores)
        yield _gauge("mapdoctor_watch_max_cpu_cores", "The agent's CPU budget (--max-cpu)", sched.max_cpu)
        yield _gauge("mapdoctor_watch_schedule_lag_seconds", "How late the latest dispatched sample started",
                     a.schedule_lag_s)
        yield _gauge("mapdoctor_watch_samples_in_flight", "Light samples running now", a.in_flight)
        bundles = a.store.bundles()
        yield _gauge("mapdoctor_watch_bundles", "Evidence bundles kept on disk", len(bundles))
        yield _gauge("mapdoctor_watch_bundle_bytes", "Total size of the bundles kept", sum(b.bytes for b in bundles))
        yield _counter("mapdoctor_watch_bundles_pruned", "Bundles deleted by retention", a.store.pruned_total)
        berr = CounterMetricFamily("mapdoctor_watch_bundle_errors", "Captures that produced no bundle, by reason "
                                   "(disk_full, io, collection, queue_full)", labels=["reason"])
        alerts = CounterMetricFamily("mapdoctor_watch_alerts", "Alertmanager alerts received, by what was done "
                                     "(capturing, cooldown, already_capturing, queue_full, unknown_target, ignored)",
                                     labels=["result"])
        for name, n in sorted(counters.items()):
            kind, _, label = name.partition(":")
            if kind == "bundle_errors":
                berr.add_metric([label], n)
            elif kind == "alerts":
                alerts.add_metric([label], n)
        yield berr
        yield alerts
        disc = CounterMetricFamily("mapdoctor_watch_discovery_errors", "Failed reads of a target source",
                                   labels=["source"])
        for src in a.discovery.sources:
            disc.add_metric([src.status.name], src.status.errors_total)
        yield disc


def _iso_ts(text: str) -> float:
    from datetime import datetime

    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return 0.0


def _gauge(name: str, doc: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, value=value)


def _counter(name: str, doc: str, value: float) -> CounterMetricFamily:
    return CounterMetricFamily(name, doc, value=value)


def make_registry(agent: Agent) -> CollectorRegistry:
    reg = CollectorRegistry(auto_describe=False)
    reg.register(WatchCollector(agent))
    ProcessCollector(registry=reg)  # process_cpu_seconds_total, process_resident_memory_bytes, ...
    return reg
