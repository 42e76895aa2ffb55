"""Go tools the tests compare against (``go tool pprof``, ``go tool trace``), built once.

Since Go 1.24 the toolchain ships these as source and ``go tool NAME`` builds them on first
use: on a fresh, busy machine that first build took longer than a single test's timeout.
Each tool is built here once per toolchain, with a generous bound and a line of progress,
into the mapdoctor cache; tests then run the binary directly.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

from mapdoctor.lab.toolchain import GoToolchain, cache_dir

#: A fresh build of cmd/pprof compiles ~300 packages: minutes on a loaded 2-core machine.
BUILD_TIMEOUT_S = 1800
_LOCK = threading.Lock()


def go_tool(tc: GoToolchain, name: str) -> list[str]:
    """The command that runs ``go tool NAME`` of ``tc``, built on first need."""
    built = tc.goroot / "pkg" / "tool"
    prebuilt = next(iter(built.glob(f"*/{name}")), None) if built.is_dir() else None
    if prebuilt is not None:
        return [str(prebuilt)]
    dest = cache_dir() / "tools" / tc.goroot.parent.name / tc.goroot.name / name
    with _LOCK:
        if not dest.is_file():
            dest.parent.mkdir(parents=True, exist_ok=True)
            print(f"\nbuilding go tool {name} of {tc.goroot} once (up to {BUILD_TIMEOUT_S // 60} min)...",
                  file=sys.__stderr__, flush=True)
            start = time.monotonic()
            tmp = dest.with_name(f"{name}.{os.getpid()}.tmp")
            subprocess.run([str(tc.go), "build", "-o", str(tmp), f"cmd/{name}"], env=tc.env(),
                           check=True, timeout=BUILD_TIMEOUT_S, capture_output=True)
            tmp.replace(dest)
            print(f"built go tool {name} in {time.monotonic() - start:.0f} s", file=sys.__stderr__, flush=True)
    return [str(dest)]
