"""The seeded adversarial run (tests/adversarial.py) at its CI size: every generated case
ends with a result or a one-line error, in time, within the memory budget, with nothing
raw reaching the terminal. ``MAPDOCTOR_ADVERSARIAL_CASES`` and ``..._SEED`` change the run;
``python tests/adversarial.py --long`` is the soak run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def test_adversarial_run() -> None:
    cases = os.environ.get("MAPDOCTOR_ADVERSARIAL_CASES", "1000")
    seed = os.environ.get("MAPDOCTOR_ADVERSARIAL_SEED", "1")
    proc = subprocess.run([sys.executable, str(HERE / "adversarial.py"), "--cases", cases, "--seed", seed],
                          capture_output=True, text=True, timeout=900)
    assert proc.stdout, proc.stderr[-2000:]
    summary = json.loads(proc.stdout)
    assert summary["cases"] >= int(cases)
    assert summary["problems"] == [], json.dumps(summary["problems"][:20], indent=1)
    assert summary["peak_rss_mb"] <= 512, summary
    assert summary["peak_bomb_rss_mb"] <= 512, summary
    assert summary["slowest_s"] < 60, summary
    assert proc.returncode == 0
