"""Benchmarks of ``mapdoctor diagnose`` against the lab service (not part of the test suite).

(a) End to end: wall time from starting the command to the verdict, default window.
(b) Cost to the target: the lab service's request throughput (its ``/stats`` counter)
    while a diagnose runs, against intervals of the same length without one just before
    and just after it (so that drift on a shared machine cancels out); the median of the
    per-run ratios is kept, with the spread of the runs.
    Two ratios are reported: requests per second (what a user of the service sees, which
    on a small machine also pays for mapdoctor's own CPU use), and requests per CPU-second
    of the service (the cost of profiling and tracing inside the target, insensitive to
    other processes competing for the CPU).

    python perf/bench_diagnose.py [--go 1.27.3] [--scenario mapgrow-str] [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from mapdoctor.collect.plan import DEFAULT_DURATION_S
from mapdoctor.lab.build import build_lab
from mapdoctor.lab.scenarios import LabService
from mapdoctor.lab.toolchain import SWISS_GO, find_go

SETTLE_S = 2.0


@dataclass(frozen=True)
class Sample:
    t: float  # monotonic seconds
    requests: int  # the service's request counter
    cpu: float  # the service's CPU seconds (user + system)


@dataclass(frozen=True)
class Rates:
    per_s: float
    per_cpu_s: float


def _sample(svc: LabService) -> Sample:
    with urllib.request.urlopen(svc.base_url + "/stats", timeout=10) as resp:
        count: int = json.load(resp)["requests"]
    fields = Path(f"/proc/{svc.pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])  # utime, stime
    return Sample(time.monotonic(), count, ticks / os.sysconf("SC_CLK_TCK"))


def _rates(a: Sample, b: Sample) -> Rates:
    n = b.requests - a.requests
    return Rates(n / (b.t - a.t), n / max(b.cpu - a.cpu, 1e-9))


def _diagnose_cmd(url: str, duration: int, report: Path) -> list[str]:
    return [sys.executable, "-m", "mapdoctor", "diagnose", url, "--duration", str(duration),
            "--json", str(report)]


@dataclass
class Run:
    command_s: float  # start of the command to its exit (verdict written)
    window_s: float  # "collecting from" to "collected" on stderr
    window: Rates  # the target during the collection window
    command: Rates  # the target over the whole command


def diagnose_once(svc: LabService, duration: int, work: Path) -> Run:
    """One diagnose in a subprocess, with the target's counters read at each phase."""
    report = work / "report.json"
    report.unlink(missing_ok=True)
    s0 = _sample(svc)
    proc = subprocess.Popen(_diagnose_cmd(svc.base_url, duration, report), stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    marks: dict[str, Sample] = {}
    for line in proc.stderr:
        if "collecting from" in line:
            marks["start"] = _sample(svc)
        elif "collected" in line:
            marks["end"] = _sample(svc)
    status = proc.wait()
    s1 = _sample(svc)
    if status != 0 or "start" not in marks or "end" not in marks or not report.is_file():
        raise SystemExit(f"diagnose failed (exit {status})")
    return Run(s1.t - s0.t, marks["end"].t - marks["start"].t, _rates(marks["start"], marks["end"]),
               _rates(s0, s1))


def baseline(svc: LabService, seconds: float) -> Rates:
    s0 = _sample(svc)
    time.sleep(seconds)
    return _rates(s0, _sample(svc))


def _loss(with_diagnose: list[float], before: list[float], after: list[float]) -> str:
    """Median and range of the per-run losses against the mean of the brackets."""
    losses = sorted(1 - w / ((b + a) / 2) for w, b, a in zip(with_diagnose, before, after, strict=True))
    return f"{statistics.median(losses):+.1%} (runs {losses[0]:+.1%} .. {losses[-1]:+.1%})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--go", default=SWISS_GO)
    parser.add_argument("--scenario", default="mapgrow-str")
    parser.add_argument("--duration", type=int, default=DEFAULT_DURATION_S)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    binary = build_lab(find_go(args.go))
    print(f"lab {args.scenario}, Go {args.go}, window {args.duration} s, {args.runs} runs each")
    runs: list[Run] = []
    before: list[tuple[Rates, Rates]] = []  # (window-long, command-long) intervals
    after: list[tuple[Rates, Rates]] = []
    nominal = (args.duration + 0.2, args.duration + 2.0)
    with tempfile.TemporaryDirectory(prefix="bench-diagnose-") as tmp, \
            LabService(binary, args.scenario) as svc:
        work = Path(tmp)
        time.sleep(SETTLE_S)
        for i in range(args.runs):
            before.append((baseline(svc, nominal[0]), baseline(svc, nominal[1])))
            run = diagnose_once(svc, args.duration, work)
            runs.append(run)
            time.sleep(SETTLE_S)
            after.append((baseline(svc, nominal[0]), baseline(svc, nominal[1])))
            print(f"  run {i + 1}: command {run.command_s:.2f} s (window {run.window_s:.2f} s); req/s "
                  f"window {run.window.per_s:.1f} vs {before[-1][0].per_s:.1f}/{after[-1][0].per_s:.1f} "
                  f"without; req/CPU-s {run.window.per_cpu_s:.1f} vs "
                  f"{before[-1][0].per_cpu_s:.1f}/{after[-1][0].per_cpu_s:.1f}", flush=True)

    cmd = [r.command_s for r in runs]
    print(f"(a) command start to verdict: median {statistics.median(cmd):.2f} s, max {max(cmd):.2f} s "
          f"(window {args.duration} s: overhead median {statistics.median(cmd) - args.duration:.2f} s)")
    print("(b) target throughput lost, median of runs:")
    for label, k in (("collection window", 0), ("whole command    ", 1)):
        got = [r.window if k == 0 else r.command for r in runs]
        print(f"    {label} requests/s:           "
              f"{_loss([g.per_s for g in got], [b[k].per_s for b in before], [a[k].per_s for a in after])}")
        print(f"    {label} requests/service CPU-s: "
              f"{_loss([g.per_cpu_s for g in got], [b[k].per_cpu_s for b in before], [a[k].per_cpu_s for a in after])}")
    print(f"    (load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
