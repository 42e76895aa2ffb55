"""Benchmark: parse a large, busy execution trace and compare with Go's own reader.

Generates a >= 30 MB trace with the test generator (tests/fixtures/trace/gen: map-growing
request workers, goroutine ping-pong, a CPU profile), then times

* ``parse_trace`` (in a fresh subprocess, which also reports its peak RSS), and
* ``go tool trace -pprof=sched FILE`` of the Go 1.27.3 toolchain, which reads and
  orders the same trace with Go's ``internal/trace`` reader.

Runs alternate between the two so machine load affects both alike; the best of
``--runs`` is reported. Targets: parse time <= 1.0x Go's, peak RSS <= 3x file size.

``--mixes busy,fanout,cpu`` measures one trace per event mix instead — ``busy`` (request
workers and goroutine ping-pong: scheduling events), ``fanout`` (producer/consumer pairs on
small buffered channels: many short blocks and unblocks), ``cpu`` (goroutines that only compute,
profiled at 1 kHz, deep in varied call chains: CPU samples and their stacks) — and reports each
one's parse seconds per MB and peak RSS over file size, and the spread of seconds per MB (target:
within 1.5x).

The trace decoder runs as installed: compiled where the install could (see setup.py), which the
output names; ``--pure`` runs its Python source instead.

Usage: python perf/bench_trace.py [--size-mb 30] [--runs 3] [--keep DIR] [--mixes busy,fanout,cpu] [--pure]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from mapdoctor.lab.toolchain import SWISS_GO, find_go

GEN_DIR = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "trace" / "gen"

_CHILD = """
import sys, time
from pathlib import Path
from mapdoctor.formats.detect import load_file
import mapdoctor.formats.trace  # imported before the clock starts, as before
t0 = time.perf_counter()
c0 = time.process_time()
# The loader users go through (it maps the file and parses the trace from the map).
tr = load_file(Path(sys.argv[1])).trace
wall = time.perf_counter() - t0
cpu = time.process_time() - c0
# VmHWM, not ru_maxrss: Linux carries the parent's peak into a vfork+exec child's rusage.
with open("/proc/self/status") as fh:
    rss = next(int(l.split()[1]) for l in fh if l.startswith("VmHWM:")) * 1024
events = sum(tr.event_counts.values())
from mapdoctor.formats.trace import native
print(f"{wall} {cpu} {rss} {events}")
print(native.describe())
"""


#: Generator flags per event mix.
MIXES = {
    "busy": ["-pingpong", "4"],
    "fanout": ["-fanout", "8", "-workers", "1"],
    # Deep, varied stacks: a CPU sample costs its stack too, and the kernel's tick caps samples
    # at a few hundred a second, so samples with one shared stack grow a trace by only ~25 KB/s.
    "cpu": ["-spin", "2", "-cpuhz", "1000", "-workers", "1", "-pause", "1ms", "-spindepth", "64"],
}


#: Longest single generator run, so a slow-growing mix is measured in minutes, not hours.
MAX_GEN_SECONDS = 300.0


def make_trace(workdir: Path, size_mb: int, mix: str = "busy") -> Path:
    tc = find_go(SWISS_GO)
    exe = workdir / "tracegen"
    if not exe.is_file():
        subprocess.run([str(tc.go), "build", "-trimpath", "-o", str(exe), "."], cwd=GEN_DIR, env=tc.env(),
                       check=True, timeout=600)
    out = workdir / f"{mix}.trace"
    seconds = 1.0
    for _ in range(6):
        subprocess.run([str(exe), "-o", str(out), "-duration", f"{seconds}s", *MIXES[mix]], check=True,
                       timeout=600, stderr=subprocess.DEVNULL)
        size = out.stat().st_size
        if size >= size_mb << 20:
            return out
        if seconds >= MAX_GEN_SECONDS:
            # CPU samples grow with CPU time only (the cpu mix, ~180 KB/s on two idle cores), so a
            # loaded machine may not reach the size; a capped run still measures the cost per MB.
            print(f"{mix}: {size / 2**20:.1f} MB after {seconds:.0f} s (generation capped)", file=sys.stderr)
            return out
        seconds = min(MAX_GEN_SECONDS, seconds * 1.15 * (size_mb << 20) / max(size, 1))
    raise SystemExit(f"could not make a {size_mb} MB trace (last: {out.stat().st_size} bytes)")


def time_go(trace: Path) -> tuple[float, float]:
    tc = find_go(SWISS_GO)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run([str(tc.go), "tool", "trace", "-pprof=sched", str(trace)], env=tc.env(), check=True,
                   stdout=subprocess.DEVNULL, timeout=1200)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


#: The trace decoder's build the children run (see --pure): filled in by the first child.
DECODER: dict[str, str] = {}


def time_python(trace: Path, pure: bool = False) -> tuple[float, float, int, int]:
    env = {k: v for k, v in os.environ.items() if k != "MAPDOCTOR_PURE_PYTHON"}
    if pure:
        env["MAPDOCTOR_PURE_PYTHON"] = "1"
    out = subprocess.run([sys.executable, "-c", _CHILD, str(trace)], check=True, capture_output=True,
                         text=True, timeout=1200, env=env)
    line, build = out.stdout.splitlines()[:2]
    DECODER.setdefault("decoder", build)
    wall, cpu, rss, events = line.split()
    return float(wall), float(cpu), int(rss), int(events)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size-mb", type=int, default=30)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--keep", type=Path, help="reuse or keep the trace in this directory")
    ap.add_argument("--mixes", help="comma-separated event mixes to compare: " + ", ".join(MIXES))
    ap.add_argument("--pure", action="store_true",
                    help="run the trace decoder's Python source even where the install compiled it")
    args = ap.parse_args()
    if args.mixes:
        compare_mixes(args)
        return
    with tempfile.TemporaryDirectory() as tmp:
        workdir = args.keep or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        trace = workdir / "busy.trace"
        if not trace.is_file() or trace.stat().st_size < args.size_mb << 20:
            trace = make_trace(workdir, args.size_mb)
        size = trace.stat().st_size
        time_go(trace)  # the first run may build the trace tool
        go_runs, py_runs = [], []
        for _ in range(args.runs):
            go_runs.append(time_go(trace))
            py_runs.append(time_python(trace, args.pure))
        go_wall = min(w for w, _ in go_runs)
        go_cpu = min(c for _, c in go_runs)
        py_wall = min(r[0] for r in py_runs)
        py_cpu = min(r[1] for r in py_runs)
        rss = max(r[2] for r in py_runs)
        result = {
            "trace_bytes": size,
            "events": py_runs[0][3],
            "go_wall_s": round(go_wall, 2),
            "go_cpu_s": round(go_cpu, 2),
            "parse_wall_s": round(py_wall, 2),
            "parse_cpu_s": round(py_cpu, 2),
            "time_ratio_wall": round(py_wall / go_wall, 2),
            "time_ratio_cpu": round(py_cpu / go_cpu, 2),
            "peak_rss_bytes": rss,
            "rss_over_file_size": round(rss / size, 2),
            "load_average": os.getloadavg()[0],
            **DECODER,
        }
        print(json.dumps(result, indent=2))


def compare_mixes(args: argparse.Namespace) -> None:
    mixes = [m.strip() for m in args.mixes.split(",") if m.strip()]
    unknown = [m for m in mixes if m not in MIXES]
    if unknown:
        raise SystemExit(f"unknown mix {unknown[0]!r}: choose from {', '.join(MIXES)}")
    with tempfile.TemporaryDirectory() as tmp:
        workdir = args.keep or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        rows = {}
        for mix in mixes:
            trace = workdir / f"{mix}.trace"
            if not trace.is_file() or trace.stat().st_size < args.size_mb << 20:
                trace = make_trace(workdir, args.size_mb, mix)
            size = trace.stat().st_size
            runs = [time_python(trace, args.pure) for _ in range(args.runs)]
            cpu = sorted(r[1] for r in runs)[len(runs) // 2]
            rows[mix] = {"trace_mb": round(size / 2**20, 1), "events": runs[0][3],
                         "parse_cpu_s_median": round(cpu, 2), "cpu_s_per_mb": round(cpu / (size / 2**20), 3),
                         "peak_rss_mb": round(max(r[2] for r in runs) / 2**20),
                         "rss_over_file_size": round(max(r[2] for r in runs) / size, 2)}
            print(mix, json.dumps(rows[mix]), file=sys.stderr)
        per_mb = [r["cpu_s_per_mb"] for r in rows.values()]
        print(json.dumps({"mixes": rows, "cpu_s_per_mb_spread": round(max(per_mb) / min(per_mb), 2),
                          "load_average": os.getloadavg()[0], **DECODER}, indent=2))


if __name__ == "__main__":
    main()
