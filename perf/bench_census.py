"""Benchmarks of ``mapdoctor census`` against the lab's ``censusbig`` service (not part of the tests).

(a) Speed: wall time of ``mapdoctor census PID`` on a process holding about 1 GiB in maps and
    100,000 reachable maps (the command as a user runs it: DWARF, walk, report), with the
    time to dump the same process with ``gcore`` as a reference for "reading it all".
(b) Cost to the target: its request rate (``/stats``) while ``census --watch 1s`` runs, from
    its first sample on, against windows of the same length just before and just after (drift
    on a shared machine cancels out); the ratio per wall second (what users of the service
    see; on 2 cores this also pays for mapdoctor's own CPU) and per CPU-second of the service.
    The whole run (reading DWARF and the first full walk, which takes most of (a)) is printed
    beside it.
(c) ``--freeze``: the stop as the target saw it (the longest gap of its own 1 ms ticker,
    ``/census/stall``) and as the census measured it.

Each part runs ``--runs`` times; medians are printed with the spread and ``uptime``'s load.

    python perf/bench_census.py [--go 1.27.3] [--mb 1024] [--maps 100000] [--runs 5] [--window 10]
"""

from __future__ import annotations

import argparse
import json
import os
import pty
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
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


def _start_watch(pid: int, seconds: float) -> tuple[subprocess.Popen[bytes], list[float]]:
    """``census --watch 1s`` with stderr on a pseudo-terminal (it prints a line per sample only
    to a terminal); returns the process and the list the times of its stderr lines go to."""
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "mapdoctor", "census", str(pid), "--watch", "1s",
                             "--for", f"{seconds:g}s", "--json", os.devnull, "--no-color"],
                            stdout=subprocess.DEVNULL, stderr=slave, stdin=subprocess.DEVNULL)
    os.close(slave)
    lines: list[float] = []

    def pump() -> None:
        buf = b""
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break
            if not chunk:
                break
            buf += chunk
            while b"\n" in buf:
                line, _, buf = buf.partition(b"\n")
                if b"walking" not in line and b"DWARF" not in line and line.strip():
                    lines.append(time.monotonic())
        os.close(master)

    threading.Thread(target=pump, daemon=True).start()
    return proc, lines


def throughput(svc: LabService, runs: int, window: float) -> None:
    """The steady state of --watch (from its first sample on) and the whole run (DWARF and the
    first full walk included), each against the windows just before and after."""
    wall, cpu, whole = [], [], []
    for _ in range(runs):
        a = _counter(svc)
        time.sleep(window)
        b = _counter(svc)
        start = _counter(svc)
        proc, lines = _start_watch(svc.pid, 600)
        deadline = time.monotonic() + 300
        while not lines and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        if not lines:
            proc.kill()
            raise SystemExit("census --watch printed no sample")
        first = lines[0] - start.t
        c = _counter(svc)
        time.sleep(window)
        d = _counter(svc)
        proc.terminate()
        proc.wait(timeout=60)
        samples = sum(1 for t in lines if c.t <= t <= d.t)
        time.sleep(1)
        e = _counter(svc)
        time.sleep(window)
        f = _counter(svc)
        before, during, after = _rate(a, b), _rate(c, d), _rate(e, f)
        base = (before[0] + after[0]) / 2
        wall.append(during[0] / base)
        cpu.append(during[1] / ((before[1] + after[1]) / 2))
        whole.append(_rate(start, d)[0] / base)
        print(f"  watch run: {before[0]:.0f} / {during[0]:.0f} / {after[0]:.0f} req/s before/during/after; "
              f"first sample after {first:.1f}s, {samples} samples in the {window:g}s window; "
              f"whole run {whole[-1]:.3f}; load {_load()}", flush=True)
    print(f"(b) target throughput during census --watch 1s (steady state, from the first sample), relative to "
          f"without: per wall s {_spread(wall)}; per service CPU-s {_spread(cpu)}")
    print(f"    whole run, DWARF and first full walk included: per wall s {_spread(whole)}")


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
