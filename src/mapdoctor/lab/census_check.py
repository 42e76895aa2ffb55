"""Check the map census against the lab across Go versions (outside the test suite: it installs toolchains).

For each toolchain (and optional GOEXPERIMENT), builds the lab, runs its ``census`` scenario and
compares what ``mapdoctor census`` finds with what the program reports about its own maps
(``/census/expect``): count, len, capacity and growth state exactly, bytes within 1 KiB of the
``runtime.MemStats`` delta.

    python -m mapdoctor.lab.census_check 1.21.13 1.22.10 1.23.9 1.24.11 1.24.11:noswissmap \\
        1.25.5 1.25.5:noswissmap 1.26.6 1.27.3
"""

from __future__ import annotations

import argparse
import json
import os
import time
from typing import Any

from mapdoctor.analysis.census import open_target, take_census
from mapdoctor.analysis.census_walk import Limits
from mapdoctor.lab.build import build_lab
from mapdoctor.lab.scenarios import LabService
from mapdoctor.lab.toolchain import cache_dir, find_go

BYTES_TOLERANCE = 1024


def check(spec: str) -> tuple[int, int, list[str]]:
    """(paths checked, paths that matched, problems) for one ``VERSION[:GOEXPERIMENT]``."""
    version, _, experiment = spec.partition(":")
    tc = find_go(version)
    saved = os.environ.get("GOEXPERIMENT")
    if experiment:
        os.environ["GOEXPERIMENT"] = experiment
    try:
        out_dir = cache_dir() / "lab" / f"go{version}{'-' + experiment if experiment else ''}"
        binary = build_lab(tc, out_dir=out_dir)
    finally:
        if saved is None:
            os.environ.pop("GOEXPERIMENT", None)
        else:
            os.environ["GOEXPERIMENT"] = saved
    problems: list[str] = []
    with LabService(binary, "census", start_timeout=60) as svc:
        expect: dict[str, Any] = {}
        for _ in range(150):
            expect = json.loads(svc.get("/census/expect"))
            if expect["index_done"]:
                break
            time.sleep(0.2)
        target = open_target(pid=svc.pid)
        try:
            census = take_census(target, Limits(packages=("main.",)))
        finally:
            target.close()
    got = {g.path: g for g in census.groups}
    ok = 0
    for path, want in sorted(expect["maps"].items()):
        g = got.get(path)
        if g is None:
            problems.append(f"{path}: not found")
            continue
        have = (g.count, g.len, g.capacity, g.growing, g.impl)
        need = (want["count"], want["len"], want["capacity"], want["growing"], expect["impl"])
        if have != need:
            problems.append(f"{path}: census {have}, program {need}")
        elif want.get("bytes") and abs(g.bytes - want["bytes"]) > BYTES_TOLERANCE:
            problems.append(f"{path}: census {g.bytes} bytes, MemStats {want['bytes']}")
        else:
            ok += 1
    print(f"{spec:22} {census.go_version:10} {census.impl:8} DWARF {census.dwarf_version}: "
          f"{ok}/{len(expect['maps'])} paths match" + ("" if not problems else "; " + "; ".join(problems)),
          flush=True)
    return len(expect["maps"]), ok, problems


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("specs", nargs="+", metavar="VERSION[:GOEXPERIMENT]")
    args = ap.parse_args()
    bad = 0
    for spec in args.specs:
        _, _, problems = check(spec)
        bad += bool(problems)
    raise SystemExit(1 if bad else 0)


if __name__ == "__main__":
    main()
