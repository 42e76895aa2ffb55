"""Benchmark: what the request inference and latency breakdown add to a trace's parse time.

Compares, on the same traces, in fresh subprocesses, alternating so that machine load hits
both alike (median of ``--runs``):

* **base** — ``parse_trace`` of the parser before per-goroutine accounting existed (the
  parent of the commit that added ``formats/trace/accounting.py``, exported from git);
* **now** — ``parse_trace`` of this tree (accounting included), then request inference
  and the slow/typical breakdown (``infer_requests`` + ``latency_section``).

Both sides run the same kind of build: by default compiled (the base tree's decoder modules
are compiled here with mypyc as the install compiles this tree's, see setup.py); with
``--pure`` both run as Python source.

Target: now <= 1.25 x base. Also reports peak RSS over file size for the current parser.
Traces: the lab's HTTP service fixtures (both Go versions) and, with ``--size-mb N``, a
large busy trace from the trace test generator (see perf/bench_trace.py).

Usage: python perf/bench_requests.py [--runs 5] [--size-mb 0] [--keep DIR] [--pure]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"

_CHILD = """
import resource, sys, time
from pathlib import Path
from mapdoctor.formats.trace import parse_trace
files = [Path(p) for p in sys.argv[2:]]
datas = [(str(f), f.read_bytes()) for f in files]
t0 = time.process_time()
traces = [parse_trace(d, p) for p, d in datas]
parse = time.process_time() - t0
analyse = 0.0
if sys.argv[1] == "now":
    from mapdoctor.analysis import frametable
    from mapdoctor.analysis.classify import StackClassifier
    from mapdoctor.analysis.latency import Pause, latency_section
    from mapdoctor.analysis.requests import infer_requests
    classifier = StackClassifier(frametable.ANY)
    t1 = time.process_time()
    for tr in traces:
        req = infer_requests(tr)
        if req.method is not None:
            pauses = [Pause(p.start_ns, p.end_ns or tr.end_ns, p.reason) for p in tr.stw_pauses]
            latency_section(req, tr, classifier, pauses)
    analyse = time.process_time() - t1
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(parse, analyse, rss)
"""


def export_base(dest: Path) -> str:
    added = subprocess.run(["git", "log", "--diff-filter=A", "--format=%H", "--",
                            "src/mapdoctor/formats/trace/accounting.py"], cwd=ROOT, check=True,
                           capture_output=True, text=True).stdout.split()
    if not added:
        raise SystemExit("no commit adds formats/trace/accounting.py: nothing to compare with")
    base = added[-1] + "^"
    archive = subprocess.run(["git", "archive", base, "src"], cwd=ROOT, check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    return base


def compile_base(src: Path) -> list[str]:
    """Compile the base tree's decoder modules with mypyc, in place, as setup.py does."""
    from mapdoctor.formats.trace.native import COMPILED

    mods = [f"mapdoctor/formats/trace/{m}.py" for m in COMPILED
            if (src / "mapdoctor" / "formats" / "trace" / f"{m}.py").is_file()]
    done = subprocess.run([sys.executable, "-m", "mypyc", *mods], cwd=src, capture_output=True, text=True,
                          timeout=1800)
    if done.returncode:
        raise SystemExit(f"compiling the base tree failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return [Path(m).stem for m in mods]


def run(mode: str, src: Path, files: list[Path], pure: bool) -> tuple[float, float, int]:
    env = {k: v for k, v in os.environ.items() if k != "MAPDOCTOR_PURE_PYTHON"}
    env["PYTHONPATH"] = str(src)
    if pure:
        env["MAPDOCTOR_PURE_PYTHON"] = "1"
    out = subprocess.run([sys.executable, "-c", _CHILD, mode, *map(str, files)], check=True,
                         capture_output=True, text=True, timeout=3600, env=env).stdout.split()
    return float(out[0]), float(out[1]), int(out[2])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--size-mb", type=int, default=0, help="also a generated busy trace of this size")
    ap.add_argument("--keep", type=Path, help="reuse or keep the generated trace in this directory")
    ap.add_argument("--pure", action="store_true", help="compare the Python sources (no compiled build)")
    args = ap.parse_args()
    from mapdoctor.formats.trace import native

    if not args.pure and native.describe() != "compiled (mypyc)":
        raise SystemExit(f"this tree's trace decoder is not compiled ({native.describe()}): "
                         "reinstall (pip install -e .) or pass --pure")
    sets: dict[str, list[Path]] = {"http fixtures": sorted(FIXTURES.glob("go1.*/http-*/trace.out"))}
    with tempfile.TemporaryDirectory() as tmp:
        if args.size_mb:
            sys.path.insert(0, str(ROOT / "perf"))
            from bench_trace import make_trace

            workdir = args.keep or Path(tmp)
            workdir.mkdir(parents=True, exist_ok=True)
            big = workdir / "busy.trace"
            if not big.is_file() or big.stat().st_size < args.size_mb << 20:
                big = make_trace(workdir, args.size_mb)
            sets[f"generated {args.size_mb} MB"] = [big]
        base_dir = Path(tmp) / "base"
        base_dir.mkdir()
        base = export_base(base_dir)
        compiled = [] if args.pure else compile_base(base_dir / "src")
        results: dict[str, object] = {"base": base, "build": "pure Python" if args.pure else "compiled (mypyc)",
                                      "base_compiled": compiled, "load_average_before": os.getloadavg()}
        for name, files in sets.items():
            size = sum(f.stat().st_size for f in files)
            b_runs, n_runs = [], []
            for _ in range(args.runs):
                b_runs.append(run("base", base_dir / "src", files, args.pure))
                n_runs.append(run("now", ROOT / "src", files, args.pure))
            b = statistics.median(r[0] for r in b_runs)
            p = statistics.median(r[0] for r in n_runs)
            a = statistics.median(r[1] for r in n_runs)
            results[name] = {
                "files": len(files), "bytes": size,
                "base_parse_cpu_s": round(b, 3), "parse_cpu_s": round(p, 3), "analysis_cpu_s": round(a, 3),
                "added_by_accounting": round(p / b - 1, 3), "added_in_total": round((p + a) / b - 1, 3),
                "peak_rss_over_size": round(max(r[2] for r in n_runs) / size, 2),
                "base_peak_rss_over_size": round(max(r[2] for r in b_runs) / size, 2),
            }
        results["load_average_after"] = os.getloadavg()
        print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
