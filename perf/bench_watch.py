"""Benchmarks of ``mapdoctor watch`` (not part of the test suite).

(a) ``--part agent``: the agent's own CPU and RSS at 500 targets on the default schedule
    (a 5 s CPU profile every 60 s per target, jittered), the targets being fake pprof
    endpoints serving real captured profiles (perf/fake_pprof.py, in this process; the
    agent runs in its own). After one interval of warm-up, the agent's CPU is read every
    10 s: the median and 90th percentile of those windows are reported, with its RSS and
    whether it kept the schedule (samples per second achieved vs 500/60, interval
    stretch 1.0 = never slowed down by its CPU budget).
(b) ``--part overhead``: the cost to a watched service. One lab service (map growth, Go
    1.27) under self-load, watched on the default schedule. Its request counter and CPU
    time are read every 0.5 s, and the agent's ``/metrics`` tell when a light sample is
    running. Each sampling window is compared with windows of the same length just before
    and just after it (drift on a shared machine cancels out); the median over the cycles
    of that loss, times the share of time spent sampling (window / interval), is the
    throughput the service loses to being watched.

    python perf/bench_watch.py --part agent [--targets 500] [--seconds 300]
    python perf/bench_watch.py --part overhead [--cycles 15]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fake_pprof import Fleet, load_fixtures, write_sd
from mapdoctor.lab.build import build_lab
from mapdoctor.lab.scenarios import LabService
from mapdoctor.lab.toolchain import SWISS_GO, find_go

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def proc_cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def proc_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def metrics(port: int) -> dict[str, float]:
    """Sum of each metric's samples (enough for the agent-wide ones read here)."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as resp:
        text = resp.read().decode()
    out: dict[str, float] = {}
    for line in text.splitlines():
        m = re.match(r"^([a-z_]+)(?:\{[^}]*\})? ([0-9.e+-]+)$", line)
        if m:
            out[m.group(1)] = out.get(m.group(1), 0.0) + float(m.group(2))
    return out


def start_agent(args: list[str], port: int, log: Path) -> subprocess.Popen[bytes]:
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    fh = log.open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "mapdoctor", "watch", *args, "--listen", f"127.0.0.1:{port}"],
                            stdin=subprocess.DEVNULL, stdout=fh, stderr=fh, env=env)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            metrics(port)
            return proc
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"the agent did not start: {log.read_text()[-2000:]}")


def load() -> str:
    return f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"


# -- (a) the agent at N targets --------------------------------------------------------------

def bench_agent(n: int, seconds: float, interval: float) -> None:
    fleet = Fleet(load_fixtures())
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    work = Path(tempfile.mkdtemp(prefix="bench-watch-"))
    sd = work / "fleet.json"

    async def serve() -> None:
        await fleet.add(n, random.Random(1))
        write_sd(fleet, sd)
        ready.set()
        while True:
            await asyncio.sleep(1)

    threading.Thread(target=lambda: loop.run_until_complete(serve()), daemon=True).start()
    if not ready.wait(120):
        raise SystemExit("the fake fleet did not start")
    port = free_port()
    # No share-jump captures: this measures the light sampling itself.
    proc = start_agent(["--targets-file", str(sd), "--share-jump", "0", "--out", str(work / "out"),
                        "--interval", f"{interval:g}"], port, work / "agent.log")
    print(f"(a) agent at {n} fake targets, 5 s profile every {interval:g} s; warm-up {interval:g} s ({load()})",
          flush=True)
    try:
        time.sleep(interval)
        m0, c0, t0 = metrics(port), proc_cpu_s(proc.pid), time.monotonic()
        cores: list[float] = []
        rss: list[float] = []
        lags: list[float] = []
        stretch: list[float] = []
        last_c, last_t = c0, t0
        while time.monotonic() - t0 < seconds:
            time.sleep(10)
            c, t = proc_cpu_s(proc.pid), time.monotonic()
            cores.append((c - last_c) / (t - last_t))
            last_c, last_t = c, t
            rss.append(proc_rss_mb(proc.pid))
            m = metrics(port)
            lags.append(m.get("mapdoctor_watch_schedule_lag_seconds", 0.0))
            stretch.append(m.get("mapdoctor_watch_interval_stretch", 1.0))
        m1, t1 = metrics(port), time.monotonic()
        rate = (m1["mapdoctor_samples_total"] - m0["mapdoctor_samples_total"]) / (t1 - t0)
        errs = m1.get("mapdoctor_collection_errors_total", 0.0) - m0.get("mapdoctor_collection_errors_total", 0.0)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    q = statistics.quantiles(cores, n=10)
    print(f"    agent CPU over {len(cores)} windows of 10 s: median {statistics.median(cores):.3f} cores, "
          f"p90 {q[-1]:.3f}, max {max(cores):.3f}")
    print(f"    agent RSS: median {statistics.median(rss):.1f} MB, max {max(rss):.1f} MB")
    print(f"    light samples: {rate:.2f}/s achieved vs {n / interval:.2f}/s scheduled "
          f"({rate / (n / interval):.1%}); failed samples {errs:.0f}; interval stretch max {max(stretch):.2f}; "
          f"schedule lag max {max(lags):.2f} s")
    print(f"    per light sample: {statistics.median(cores) / rate * 1000:.1f} ms of agent CPU ({load()})")


# -- (b) overhead on a watched lab service ---------------------------------------------------

@dataclass(frozen=True)
class Point:
    t: float
    requests: int
    cpu: float
    sampling: bool


def _lab_point(svc: LabService, port: int) -> Point:
    with urllib.request.urlopen(svc.base_url + "/stats", timeout=10) as resp:
        count: int = json.load(resp)["requests"]
    sampling = metrics(port).get("mapdoctor_watch_samples_in_flight", 0.0) > 0
    return Point(time.monotonic(), count, proc_cpu_s(svc.pid), sampling)


def _rate(a: Point, b: Point) -> tuple[float, float]:
    n = b.requests - a.requests
    return n / (b.t - a.t), n / max(b.cpu - a.cpu, 1e-9)


def bench_overhead(cycles: int, interval: float, window: int) -> None:
    binary = build_lab(find_go(SWISS_GO))
    work = Path(tempfile.mkdtemp(prefix="bench-watch-"))
    port = free_port()
    with LabService(binary, "mapgrow-str") as svc:
        proc = start_agent([svc.base_url, "--share-jump", "0", "--out", str(work / "out"),
                            "--interval", f"{interval:g}", "--window", str(window)], port, work / "agent.log")
        print(f"(b) overhead on lab mapgrow-str (Go {SWISS_GO}), {window} s profile every {interval:g} s, "
              f"{cycles} cycles ({load()})", flush=True)
        points: list[Point] = []
        try:
            deadline = time.monotonic() + (cycles + 1.2) * interval * 1.15
            while time.monotonic() < deadline:
                points.append(_lab_point(svc, port))
                time.sleep(0.5)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    # Sampling spans: runs of points with a sample in flight.
    spans: list[tuple[int, int]] = []
    i = 0
    while i < len(points):
        if points[i].sampling:
            j = i
            while j + 1 < len(points) and points[j + 1].sampling:
                j += 1
            spans.append((i, j))
            i = j + 1
        else:
            i += 1
    losses_s: list[float] = []
    losses_cpu: list[float] = []
    for a, b in spans:
        width = b - a + 1
        before, after = (a - 2 - width, a - 2), (b + 2, b + 2 + width)
        if before[0] < 0 or after[1] >= len(points):
            continue
        if any(p.sampling for p in points[before[0]:before[1] + 1] + points[after[0]:after[1] + 1]):
            continue
        w = _rate(points[a], points[b])
        pre = _rate(points[before[0]], points[before[1]])
        post = _rate(points[after[0]], points[after[1]])
        losses_s.append(1 - w[0] / ((pre[0] + post[0]) / 2))
        losses_cpu.append(1 - w[1] / ((pre[1] + post[1]) / 2))
        print(f"  cycle {len(losses_s)}: sampling {points[b].t - points[a].t:.1f} s, req/s {w[0]:.1f} vs "
              f"{pre[0]:.1f}/{post[0]:.1f} around; loss {losses_s[-1]:+.1%}", flush=True)
    if not losses_s:
        raise SystemExit("no sampling window could be bracketed")
    duty = window / interval
    med, med_cpu = statistics.median(losses_s), statistics.median(losses_cpu)
    print(f"    during a light sample, requests/s lost: median {med:+.1%} over {len(losses_s)} windows "
          f"(range {min(losses_s):+.1%} .. {max(losses_s):+.1%}); requests per service CPU-s: {med_cpu:+.1%}")
    print(f"    overall, with sampling {duty:.1%} of the time: {med * duty:+.2%} of throughput "
          f"(target <= 1 %) ({load()})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--part", choices=("agent", "overhead", "both"), default="both")
    parser.add_argument("--targets", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=300.0)
    parser.add_argument("--interval", type=float, default=60.0)
    parser.add_argument("--window", type=int, default=5)
    parser.add_argument("--cycles", type=int, default=15)
    args = parser.parse_args()
    print(subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())
    if args.part in ("agent", "both"):
        bench_agent(args.targets, args.seconds, args.interval)
    if args.part in ("overhead", "both"):
        bench_overhead(args.cycles, args.interval, args.window)
    print(subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
