"""Check the runbook's GOGC advice on the lab's GC-pressure service.

    python -m mapdoctor.lab.gc_knobs_check [--go 1.23.9 --go 1.27.3] [--seconds 6]

For each Go version: run ``gcpressure`` with the default GOGC and ``GODEBUG=gctrace=1``, compute
the runbook's GOGC advice from its log, run it again with that GOGC, and print the GC cycles per
second measured against those predicted. The service loads itself (back-to-back work units), so
with less GC it does more work and allocates faster: the measured drop is expected somewhat
smaller than the prediction, which holds the allocation rate fixed.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

from mapdoctor.analysis.runbook import gc_knobs, gc_model
from mapdoctor.formats.gctrace import parse_gctrace
from mapdoctor.lab.build import build_lab
from mapdoctor.lab.scenarios import LabService
from mapdoctor.lab.toolchain import LAB_VERSIONS, find_go


def _run(binary: Path, env: dict[str, str], seconds: float, log: Path) -> Any:
    with LabService(binary, "gcpressure", env={"GODEBUG": "gctrace=1", **env}, stderr_path=log):
        time.sleep(seconds)
    model = gc_model(parse_gctrace(log.read_text(errors="replace"), str(log)))
    if model is None:
        raise SystemExit(f"{log}: too few GC cycles")
    return model


def check(version: str, seconds: float) -> dict[str, Any]:
    binary = build_lab(find_go(version))
    with TemporaryDirectory() as tmp:
        base = _run(binary, {}, seconds, Path(tmp) / "base.log")
        advice = gc_knobs(base)
        tuned = _run(binary, {"GOGC": str(advice["gogc"])}, seconds, Path(tmp) / "tuned.log")
    return {"go": version, "gogc": advice["gogc"], "before_cycles_per_s": round(base.cycles_per_s, 2),
            "predicted_cycles_per_s": advice["predicted_cycles_per_s"],
            "measured_cycles_per_s": round(tuned.cycles_per_s, 2),
            "predicted_ratio": round(advice["predicted_cycles_per_s"] / base.cycles_per_s, 3),
            "measured_ratio": round(tuned.cycles_per_s / base.cycles_per_s, 3),
            "predicted_peak_mb": [advice["predicted_peak_mb"], advice["predicted_peak_busy_mb"]],
            "measured_peak_mb": tuned.peak_mb,
            "alloc_mb_per_s": [round(base.alloc_mb_per_s, 1), round(tuned.alloc_mb_per_s, 1)]}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mapdoctor.lab.gc_knobs_check", description=__doc__.split("\n")[0])
    parser.add_argument("--go", action="append", dest="versions", metavar="VERSION")
    parser.add_argument("--seconds", type=float, default=6.0)
    args = parser.parse_args(argv)
    for v in args.versions or LAB_VERSIONS:
        print(json.dumps(check(v, args.seconds)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
