"""The figures a label rests on, computed by Go's own ``go tool pprof`` (not by mapdoctor).

For a capture's CPU profile, the share of samples whose stacks hold the frames of each
situation (``-focus=REGEX``: pprof's "Showing nodes accounting for X, Y% of Z total"); for a
mutex or block profile, pprof's total delay. ``python accuracy/justify.py DIR...`` prints one
line per capture: the justification stored with each label in labels.json.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

#: Situation -> pprof focus regex (frames of both map implementations).
FOCUS: dict[str, str] = {
    "growth": r"runtime\.(hashGrow|growWork|evacuate)|maps\.\(\*table\)\.(rehash|grow|split)$"
              r"|maps\.\(\*Map\)\.(growToTable|installTableSplit)$",
    "small-map": r"runtime\.makemap_small$|maps\.\(\*Map\)\.growToSmall$",
    "growslice": r"^runtime\.growslice",
    "sync.Map-write": r"sync\.\(\*Map\)\.(Store|LoadOrStore|Swap|LoadAndDelete|Delete|CompareAnd)",
    "sync.Map-read": r"sync\.\(\*Map\)\.(Load|Range)$",
    "lock": r"sync\.\(\*(RW)?Mutex\)|internal/sync\.\(\*Mutex\)|runtime\.semacquire",
    "gc+alloc": r"runtime\.(gcBgMarkWorker|gcAssistAlloc|bgsweep|mallocgc)",
}

_TOTAL = re.compile(r"Showing nodes accounting for (\S+), ([\d.]+)% of (\S+) total")
_DELAY = re.compile(r"Showing nodes accounting for \S+, [\d.]+% of (\S+) total")


def pprof(go: Path, *args: str) -> str:
    # Every node, none dropped: the header's sum is then the whole of the (focused) samples.
    proc = subprocess.run([str(go), "tool", "pprof", "-top", "-nodecount=1000000", "-nodefraction=0",
                           "-edgefraction=0", *args], capture_output=True, text=True, timeout=120, check=False)
    return proc.stdout + proc.stderr


def cpu_figures(go: Path, profile: Path) -> dict[str, float]:
    out: dict[str, float] = {}
    for name, regex in FOCUS.items():
        m = _TOTAL.search(pprof(go, f"-focus={regex}", str(profile)))
        out[name] = float(m.group(2)) if m else 0.0
    return out


def total(go: Path, profile: Path) -> str:
    m = _DELAY.search(pprof(go, str(profile)))
    return m.group(1) if m else "0"


def justification(go: Path, capture: Path) -> str:
    """One line: the pprof figures of a capture folder."""
    parts: list[str] = []
    cpu = next((capture / n for n in ("cpu.pprof", "cpu.pb.gz") if (capture / n).exists()), None)
    if cpu is not None:
        figures = cpu_figures(go, cpu)
        shown = ", ".join(f"{k} {v:.1f}%" for k, v in figures.items() if v >= 1.0) or "no situation above 1%"
        parts.append(f"pprof -focus on {total(go, cpu)} CPU: {shown}")
    for name in ("mutex.pprof", "block.pprof", "mutex.pb.gz", "block.pb.gz"):
        if (capture / name).exists():
            parts.append(f"{name.split('.')[0]} delay {total(go, capture / name)}")
    if (capture / "crash.log").exists():
        first = next((ln for ln in (capture / "crash.log").read_text(errors="replace").splitlines()
                      if ln.startswith("fatal error")), "no fatal error")
        parts.append(first)
    return "; ".join(parts)


def main(argv: list[str]) -> int:
    from mapdoctor.lab.toolchain import SWISS_GO, find_go

    go = find_go(SWISS_GO).go
    for d in argv:
        print(f"{d}: {justification(go, Path(d))}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
