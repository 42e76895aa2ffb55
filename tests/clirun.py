"""Run the real command line in a child process and measure that child alone.

The peak RSS is the child's own high-water mark (``VmHWM``), written by the child when it
exits: Linux carries a parent's peak into the ``ru_maxrss`` of a child started with
vfork+exec, so rusage would report the test runner's memory. A run that outlives its
timeout is killed and reported as a hang rather than raising.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src"

#: ``python -m mapdoctor``, plus the report of the peak resident size at exit.
_LAUNCH = r"""
import atexit, os, sys
def _hwm():
    try:
        with open("/proc/self/status") as fh:
            kib = next((int(l.split()[1]) for l in fh if l.startswith("VmHWM:")), 0)
    except OSError:
        import resource
        kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with open(os.environ["MAPDOCTOR_TEST_HWM"], "w") as out:
        out.write(str(kib))
atexit.register(_hwm)
sys.argv[0] = "mapdoctor"
from mapdoctor.cli.main import main
raise SystemExit(main())
"""


@dataclass(frozen=True)
class Run:
    args: tuple[str, ...]
    returncode: int | None  # None: killed after the timeout
    stdout: bytes
    stderr: bytes
    peak_rss_kib: int
    seconds: float

    @property
    def hung(self) -> bool:
        return self.returncode is None

    @property
    def out(self) -> str:
        return self.stdout.decode("utf-8", "replace")

    @property
    def err(self) -> str:
        return self.stderr.decode("utf-8", "replace")


def child_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {**os.environ, "COLUMNS": "100", "PYTHONPATH": os.pathsep.join(
        p for p in (str(SRC), os.environ.get("PYTHONPATH", "")) if p)}
    env.update(extra or {})
    return env


def run_cli(args: Sequence[str | Path], *, timeout: float = 60, env: Mapping[str, str] | None = None,
            cwd: Path | None = None) -> Run:
    """``python -m mapdoctor ARGS`` with its own exit status, output, peak RSS and duration."""
    argv = (sys.executable, "-c", _LAUNCH, *map(str, args))
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            tempfile.NamedTemporaryFile("r", suffix=".hwm") as hwm:
        started = time.monotonic()
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err, cwd=cwd,
                                env=child_env({"MAPDOCTOR_TEST_HWM": hwm.name, **(env or {})}),
                                start_new_session=True)
        status: int | None = None
        usage = None
        while True:
            pid, raw, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid == proc.pid:
                status = os.waitstatus_to_exitcode(raw)
                break
            if time.monotonic() - started > timeout:
                os.killpg(proc.pid, signal.SIGKILL)
                _, raw, usage = os.wait4(proc.pid, 0)
                status = None
                break
            time.sleep(0.02)
        proc.returncode = -1  # reaped by wait4; keeps Popen from waiting again
        seconds = time.monotonic() - started
        out.seek(0)
        err.seek(0)
        text = hwm.read().strip()
        peak = int(text) if text.isdigit() else usage.ru_maxrss
        return Run(tuple(map(str, args)), status, out.read(), err.read(), peak, seconds)
