"""Time `mapdoctor analyze` against `go tool pprof -top` on the same large profile.

Makes a >= 5 MB allocation profile with the lab's `manystacks` scenario (tens of thousands of
distinct call stacks), then runs each tool several times and reports medians and the ratio.
Target: ratio <= 1.0 (mapdoctor no slower than Go's own tool).

    python perf/bench_analyze.py [--go 1.27.3] [--runs 5] [--profile FILE]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from mapdoctor.lab.build import build_lab
from mapdoctor.lab.scenarios import LabService
from mapdoctor.lab.toolchain import SWISS_GO, find_go

MIN_BYTES = 5 << 20


def make_profile(go_version: str, out: Path) -> Path:
    tc = find_go(go_version)
    binary = build_lab(tc)
    with LabService(binary, "manystacks") as svc:
        for _ in range(60):
            time.sleep(2)
            with urllib.request.urlopen(f"{svc.base_url}/debug/pprof/allocs", timeout=120) as resp:
                data = resp.read()
            print(f"  allocs profile: {len(data) / 1e6:.1f} MB", file=sys.stderr)
            if len(data) >= MIN_BYTES:
                out.write_bytes(data)
                return out
    raise SystemExit("the manystacks service never produced a 5 MB profile")


def timed(cmd: list[str], env: dict[str, str] | None = None) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, env=env, timeout=600)
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"{cmd[0]} failed: {proc.stderr.decode(errors='replace')[-500:]}")
    return elapsed


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--go", default=SWISS_GO)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--profile", type=Path, help="use this profile instead of making one")
    args = ap.parse_args()
    tc = find_go(args.go)
    with tempfile.TemporaryDirectory() as tmp:
        prof = args.profile or make_profile(args.go, Path(tmp) / "manystacks-allocs.pb.gz")
        size = prof.stat().st_size
        ours = [sys.executable, "-m", "mapdoctor", "analyze", str(prof), "--json", str(Path(tmp) / "out.json")]
        theirs = [str(tc.go), "tool", "pprof", "-top", str(prof)]
        timed(ours), timed(theirs, tc.env())  # warm caches
        t_ours = [timed(ours) for _ in range(args.runs)]
        t_go = [timed(theirs, tc.env()) for _ in range(args.runs)]
    m_ours, m_go = statistics.median(t_ours), statistics.median(t_go)
    print(f"profile: {size / 1e6:.2f} MB ({prof.name})")
    print(f"mapdoctor analyze : median {m_ours:.3f} s  (runs: {', '.join(f'{t:.3f}' for t in t_ours)})")
    print(f"go tool pprof -top: median {m_go:.3f} s  (runs: {', '.join(f'{t:.3f}' for t in t_go)})")
    print(f"ratio mapdoctor / go tool pprof = {m_ours / m_go:.2f} (target <= 1.0)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
