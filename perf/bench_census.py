"""Benchmarks of ``mapdoctor census`` against the lab's ``censusbig`` service (not part of the tests).

(a) Speed: wall time of ``mapdoctor census PID`` on a process holding about 1 GiB in maps and
    100,000 reachable maps (the command as a user runs it: DWARF, walk, report), with the
    time to dump the same process with ``gcore`` as a reference for "reading it all".
(b) Cost to the target: its request rate (``/stats``) while ``census --watch 1s`` runs, against
    windows of the same length just before and just after (drift on a shared machine cancels
    out); the ratio per wall second (what users of the service see; on 2 cores this also
    pays for mapdoctor's own CPU) and per CPU-second of the service.
(c) ``--freeze``: the stop as the target saw it (the longest gap of its own 1 ms ticker,
    ``/census/stall``) and as the census measured it.

Each part runs ``--runs`` times; medians are printed with the spread and ``uptime``'s load.

    python perf/bench_census.py [--go 1.27.3] [--mb 1024] [--maps 100000] [--runs 5] [--window 10]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from mapdoctor.lab.build import build_lab
from mapdoctor.lab.scenarios import LabService
from mapdoctor.lab.toolchain import SWISS_GO, find_go


@dataclass(frozen=True)
class Counter:
    t: float
    requests: int
    cpu: float


def _load() -> str:
    return Path("/proc/loadavg").read_text().split(" ", 3)[:3].__str__()


def _counter(svc: LabService) -> Counter:
    with urllib.request.urlopen(svc.base_url + "/stats", timeout=10) as resp:
        n: int = json.load(resp)["requests"]
    fields = Path(f"/proc/{svc.pid}/stat").read_text().rpartition(")")[2].split()
    return Counter(time.monotonic(), n, (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK"))


def _rate(a: Counter, b: Counter) -> tuple[float, float]:
    n = b.requests - a.requests
    return n / (b.t - a.t), n / max(b.cpu - a.cpu, 1e-9)


def _stall(svc: LabService) -> float:
    with urllib.request.urlopen(svc.base_url + "/census/stall", timeout=10) as resp:
        v: float = json.load(resp)["max_stall_ms"]
    return v


def _census(pid: int, *extra: str) -> tuple[float, dict[str, object]]:
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        start = time.monotonic()
        proc = subprocess.run([sys.executable, "-m", "mapdoctor", "census", str(pid), "--json", out.name,
                               "--quiet", *extra], capture_output=True, text=True, timeout=600)
        took = time.monotonic() - start
        if proc.returncode != 0:
            raise SystemExit(f"census failed: {proc.stderr.strip()}")
        doc: dict[str, object] = json.loads(Path(out.name).read_text())
    return took, doc


def _spread(xs: list[float]) -> str:
    return f"median {statistics.median(xs):.3f} (min {min(xs):.3f}, max {max(xs):.3f}, n={len(xs)})"


def speed(svc: LabService, runs: int) -> None:
    times, walks = [], []
    doc: dict[str, object] = {}
    for _ in range(runs):
        took, doc = _census(svc.pid)
        times.append(took)
        stats = doc["stats"]
        assert isinstance(stats, dict)
        walks.append(float(stats["elapsed_s"]))
        print(f"  census run: {took:.2f}s wall, walk {stats['elapsed_s']}s, load {_load()}", flush=True)
    maps = doc["maps"]
    assert isinstance(maps, list)
    total = sum(int(m["bytes"]) for m in maps)
    count = sum(int(m["count"]) for m in maps)
    print(f"(a) census of {count:,} maps holding {total / (1 << 30):.2f} GiB: wall s {_spread(times)}; "
          f"walk s {_spread(walks)}; partial={doc['partial']}")
    gcore = shutil.which("gcore")
    if gcore:
        with tempfile.TemporaryDirectory() as tmp:
            start = time.monotonic()
            subprocess.run([gcore, "-o", f"{tmp}/core", str(svc.pid)], capture_output=True, timeout=600, check=False)
            took = time.monotonic() - start
        print(f"    reference: gcore dump of the same process {took:.2f}s "
              f"(census/gcore = {statistics.median(times) / took:.2f})")


def throughput(svc: LabService, runs: int, window: float) -> None:
    wall, cpu = [], []
    for _ in range(runs):
        a = _counter(svc)
        time.sleep(window)
        b = _counter(svc)
        proc = subprocess.Popen([sys.executable, "-m", "mapdoctor", "census", str(svc.pid), "--watch", "1s",
                                 "--for", f"{window + 6:g}s", "--json", os.devnull, "--quiet"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        time.sleep(5)  # DWARF and the first full walk: the steady state of --watch starts after them
        c = _counter(svc)
        time.sleep(window)
        d = _counter(svc)
        proc.wait(timeout=600)
        time.sleep(1)
        e = _counter(svc)
        time.sleep(window)
        f = _counter(svc)
        before, during, after = _rate(a, b), _rate(c, d), _rate(e, f)
        wall.append(during[0] / ((before[0] + after[0]) / 2))
        cpu.append(during[1] / ((before[1] + after[1]) / 2))
        print(f"  watch run: {before[0]:.0f} / {during[0]:.0f} / {after[0]:.0f} req/s before/during/after, "
              f"load {_load()}", flush=True)
    print(f"(b) target throughput during census --watch 1s, relative to without: per wall s {_spread(wall)}; "
          f"per service CPU-s {_spread(cpu)}")


def freeze(svc: LabService, runs: int) -> None:
    seen, measured = [], []
    for _ in range(runs):
        _stall(svc)  # reset
        _, doc = _census(svc.pid, "--freeze")
        time.sleep(0.2)
        stall = _stall(svc)
        fz = doc["freeze"]
        assert isinstance(fz, dict)
        seen.append(stall)
        measured.append(float(fz["stopped_ms"]))
        print(f"  freeze run: target saw a {stall:.1f} ms stall, census measured {fz['stopped_ms']} ms, "
              f"{fz['maps_reread']} maps re-read, load {_load()}", flush=True)
    print(f"(c) --freeze stop, ms: as the target saw it {_spread(seen)}; as measured {_spread(measured)}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--go", default=SWISS_GO)
    ap.add_argument("--mb", type=int, default=1024)
    ap.add_argument("--maps", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--window", type=float, default=10.0)
    ap.add_argument("--only", choices=("speed", "throughput", "freeze"))
    args = ap.parse_args()
    binary = build_lab(find_go(args.go))
    env = {"MAPDOCTOR_LAB_CENSUS_MB": str(args.mb), "MAPDOCTOR_LAB_CENSUS_MAPS": str(args.maps)}
    print(f"go {args.go}, {args.mb} MiB in maps + {args.maps:,} small maps; load {_load()}", flush=True)
    with LabService(binary, "censusbig", workers=1, env=env, start_timeout=300) as svc:
        time.sleep(2)
        if args.only in (None, "speed"):
            speed(svc, args.runs)
        if args.only in (None, "throughput"):
            throughput(svc, args.runs, args.window)
        if args.only in (None, "freeze"):
            freeze(svc, args.runs)


if __name__ == "__main__":
    main()
