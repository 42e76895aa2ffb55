"""Lint Go's own standard library source and report the throughput.

Usage: python perf/bench_lint.py [--go VERSION] [--jobs N]

Prints files/s, lines/s, findings/s and the total time; exits 1 if it took longer than the
target (60 s for ~2 M lines on 2 cores) or if an internal error skipped a file.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from collections import Counter
from pathlib import Path

from mapdoctor.lab.toolchain import SWISS_GO, find_go
from mapdoctor.source.lint import lint_paths

TARGET_S = 60.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--go", default=SWISS_GO, help=f"Go version whose GOROOT/src is linted ({SWISS_GO})")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes (default 2)")
    args = parser.parse_args()
    src: Path = find_go(args.go).goroot / "src"
    start = time.perf_counter()
    report = lint_paths([src], workers=args.jobs)
    elapsed = time.perf_counter() - start
    usage = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    cpu = sum(u.ru_utime + u.ru_stime for u in usage)
    rules = Counter(f.rule for f in report.findings)
    conf = Counter(f.confidence.value for f in report.findings)
    reasons = Counter(s.reason.split(" at line")[0].split(" (")[0] for s in report.skipped)
    print(f"linted {src} with {args.jobs} worker(s)")
    print(f"files: {report.files_checked}  lines: {report.lines_checked}  skipped: {len(report.skipped)}")
    for reason, n in reasons.most_common():
        print(f"  skipped {n:5d}: {reason}")
    print(f"findings: {len(report.findings)}  by rule: {dict(sorted(rules.items()))}  by confidence: {dict(conf)}")
    print(f"total time: {elapsed:.1f} s  (target {TARGET_S:.0f} s); CPU time {cpu:.1f} s "
          f"(wall time above CPU time / jobs means other processes shared the cores)")
    print(f"files/s: {report.files_checked / elapsed:.0f}  lines/s: {report.lines_checked / elapsed:.0f}  "
          f"findings/s: {len(report.findings) / elapsed:.1f}")
    return 0 if elapsed <= TARGET_S else 1


if __name__ == "__main__":
    sys.exit(main())
