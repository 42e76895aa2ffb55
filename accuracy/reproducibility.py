"""Does the verdict hold from one capture to the next? Two captures of the same lab service.

    python accuracy/reproducibility.py [--runs 20] [--go 1.23.9] [--go 1.27.3] [--scenario NAME ...]
                                       [--seconds 2] [--json results.json]

Each run starts the lab service for a scenario, lets it settle, then diagnoses it twice in a row
over net/http/pprof (``mapdoctor diagnose --duration N``), exactly as a user would at 3 a.m.
A run *agrees* when both captures give the same verdict and the same primary cause (the first
confirmed cause, or none). Printed per Go version and scenario: agreeing runs out of ``--runs``,
and how many captures matched the scenario's expected verdict and primary cause. Exit status 1
when any scenario agrees in fewer than 19 of 20 runs (scaled to ``--runs``).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import sys
import time
from pathlib import Path
from typing import Any

from mapdoctor.cli.main import main as mapdoctor_main
from mapdoctor.lab.build import build_lab
from mapdoctor.lab.scenarios import LabService
from mapdoctor.lab.toolchain import LAB_VERSIONS, find_go

#: Scenario -> (verdict, primary cause); mapgrow-minor sits near the growth threshold by design.
EXPECTED: dict[str, tuple[str, str | None]] = {
    "mapgrow-str": ("map_growth", "map_growth"),
    "mapgrow-int": ("map_growth", "map_growth"),
    "presized": ("not_map_growth", None),
    "slicegrow": ("not_map_growth", "slice_growth"),
    "syncmap": ("not_map_growth", "sync_map"),
    "mutex": ("not_map_growth", "lock_contention"),
    "gcpressure": ("not_map_growth", "gc_pressure"),
    "idle": ("not_map_growth", None),
    "syncmap-read": ("not_map_growth", None),
    "smallmaps": ("not_map_growth", "map_creation"),
    "slicegc": ("not_map_growth", "slice_growth"),
    "mapgrow-minor": ("not_map_growth", None),
}


def diagnose_once(url: str, seconds: float) -> tuple[str, str | None, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = mapdoctor_main(["diagnose", url, "--duration", f"{seconds:g}", "--json", "-", "--quiet"])
    if status != 0:
        return "error", None, err.getvalue().strip()[-200:]
    doc: dict[str, Any] = json.loads(out.getvalue())
    primary = next((c["kind"] for c in doc["causes"] if c.get("status", "confirmed") == "confirmed"), None)
    return doc["verdict"], primary, doc["summary"]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--go", action="append", dest="versions")
    ap.add_argument("--scenario", action="append", dest="scenarios")
    ap.add_argument("--seconds", type=float, default=2.0, help="window of each capture")
    ap.add_argument("--json", type=Path, help="write every run's outcome here")
    args = ap.parse_args(argv)
    versions = args.versions or list(LAB_VERSIONS)
    scenarios = args.scenarios or list(EXPECTED)
    need = (19 * args.runs + 19) // 20
    results: list[dict[str, Any]] = []
    lines = ["| Go | scenario | runs agreeing (both captures: same verdict and primary) | captures as expected |",
             "|---|---|---|---|"]
    worst = args.runs
    t0 = time.monotonic()
    for version in versions:
        binary = build_lab(find_go(version))
        for sc in scenarios:
            agree = expected_hits = 0
            for run in range(args.runs):
                with LabService(binary, sc) as svc:
                    time.sleep(0.5)
                    first = diagnose_once(svc.base_url, args.seconds)
                    second = diagnose_once(svc.base_url, args.seconds)
                same = first[:2] == second[:2] and first[0] != "error"
                agree += same
                want = EXPECTED.get(sc)
                expected_hits += sum(1 for c in (first, second) if want is not None and c[:2] == want)
                results.append({"go": version, "scenario": sc, "run": run, "first": first, "second": second,
                                "agree": same})
                if not same:
                    print(f"  go{version} {sc} run {run}: {first[:2]} vs {second[:2]}\n    1: {first[2]}\n"
                          f"    2: {second[2]}", flush=True)
            worst = min(worst, agree)
            line = f"| {version} | {sc} | {agree} / {args.runs} | {expected_hits} / {2 * args.runs} |"
            lines.append(line)
            print(line, flush=True)
    print("\n".join(lines))
    print(f"{time.monotonic() - t0:.0f} s; fewest agreeing runs: {worst} of {args.runs} (bar: {need})")
    if args.json is not None:
        args.json.write_text(json.dumps(results, indent=1) + "\n")
    return 0 if worst >= need else 1


if __name__ == "__main__":
    sys.exit(main())
