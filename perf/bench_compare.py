"""Time `mapdoctor compare` against `go tool pprof -diff_base -top` on the same two CPU profiles.

The lab's before/after fixtures (mapgrow-str -> presized): mapdoctor analyses both sides in full
(every input of each folder, or only the CPU profiles with --cpu-only) and tests each change;
pprof prints the difference. Medians of several runs and their ratio.
Target: ratio <= 3 for the CPU profiles alone (two full analyses plus statistics vs one diff).

    python perf/bench_compare.py [--go 1.27.3] [--runs 5] [--cpu-only]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from mapdoctor.lab.toolchain import SWISS_GO, find_go

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures"


def _time(cmd: list[str], env: dict[str, str], runs: int) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(cmd, env=env, check=True, capture_output=True, timeout=300)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--go", default=SWISS_GO)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--cpu-only", action="store_true", help="compare the CPU profiles alone")
    args = parser.parse_args()
    gdir = "go" + ".".join(args.go.split(".")[:2])
    before, after = FIXTURES / gdir / "mapgrow-str", FIXTURES / gdir / "presized"
    tc = find_go(args.go)
    src = str(Path(__file__).resolve().parent.parent / "src")
    env = {**os.environ, "PYTHONPATH": src}
    sides = [str(before / "cpu.pb.gz"), str(after / "cpu.pb.gz")] if args.cpu_only else [str(before), str(after)]
    ours = _time([sys.executable, "-m", "mapdoctor", "compare", *sides, "--json", os.devnull], env, args.runs)
    theirs = _time([str(tc.go), "tool", "pprof", "-top", "-diff_base", str(before / "cpu.pb.gz"),
                    str(after / "cpu.pb.gz")], tc.env(), args.runs)
    load = os.getloadavg()[0]
    print(f"mapdoctor compare {'(CPU profiles)' if args.cpu_only else '(whole folders)'}: {ours:.3f} s; "
          f"go tool pprof -diff_base -top: {theirs:.3f} s; ratio {ours / theirs:.2f} (load average {load:.2f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
