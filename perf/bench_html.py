"""What the HTML report costs on top of the analysis, and how big its pages are.

Two measures: (1) every lab capture (tests/fixtures): page size and render time; (2) a
pathological CPU profile (``--stacks`` distinct stacks, made from a real capture by splicing
random real locations into its stacks): analysis time alone vs analysis + HTML, medians of
``--runs``. The report is only built when asked for, so (2) is the price of ``--html`` alone.

    python perf/bench_html.py [--runs 3] [--stacks 200000]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from mapdoctor.analysis.diagnose import diagnose
from mapdoctor.formats.detect import InputKind, load_inputs
from mapdoctor.formats.pprof import encode_profile
from mapdoctor.model.profile import Sample
from mapdoctor.reports.html import render_html

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures"


def lab_pages() -> None:
    sizes: list[tuple[int, float, str]] = []
    for go_dir in ("go1.23", "go1.27"):
        for folder in sorted((FIXTURES / go_dir).iterdir()):
            if not folder.is_dir():
                continue
            d = diagnose(load_inputs([folder]))
            t = time.perf_counter()
            page = render_html(d)
            sizes.append((len(page.encode()), time.perf_counter() - t, f"{go_dir}/{folder.name}"))
    sizes.sort()
    med = statistics.median(s for s, _, _ in sizes)
    print(f"lab pages: {len(sizes)}, median {med / 1e3:.0f} kB, largest {sizes[-1][0] / 1e3:.0f} kB "
          f"({sizes[-1][2]}), smallest {sizes[0][0] / 1e3:.0f} kB; render median "
          f"{1e3 * statistics.median(t for _, t, _ in sizes):.0f} ms, max {1e3 * max(t for _, t, _ in sizes):.0f} ms")


def pathological(stacks: int, out: Path) -> Path:
    loaded = load_inputs([FIXTURES / "go1.27" / "syncmap" / "cpu.pb.gz"])
    prof = next(i.profile for i in loaded.inputs if i.kind is InputKind.CPU and i.profile is not None)
    rng = random.Random(1)
    samples = []
    for _ in range(stacks):
        base = rng.choice(prof.samples)
        extra = tuple(rng.choice(prof.locations) for _ in range(rng.randint(0, 6)))
        samples.append(Sample(base.locations[:3] + extra + base.locations[3:], base.values))
    out.write_bytes(encode_profile(replace(prof, samples=samples)))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--stacks", type=int, default=200_000)
    args = ap.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f} (2-core machines are shared: compare ratios)")
    lab_pages()
    with tempfile.TemporaryDirectory(prefix="mapdoctor-bench-html-") as tmp:
        path = pathological(args.stacks, Path(tmp) / "cpu.pb")
        analysis, with_html = [], []
        size = 0
        for _ in range(args.runs):
            t = time.perf_counter()
            d = diagnose(load_inputs([path]))
            analysis.append(time.perf_counter() - t)
            t = time.perf_counter()
            size = len(render_html(d).encode())
            with_html.append(analysis[-1] + time.perf_counter() - t)
        a, h = statistics.median(analysis), statistics.median(with_html)
        print(f"pathological profile ({args.stacks} samples, {path.stat().st_size / 1e6:.1f} MB): analysis {a:.2f} s, "
              f"analysis + HTML {h:.2f} s (x{h / a:.2f}), page {size / 1e3:.0f} kB; "
              f"load average {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
