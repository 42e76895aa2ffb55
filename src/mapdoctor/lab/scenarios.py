"""The lab's scenarios and a context manager that runs one of them as a service."""

from __future__ import annotations

import os
import selectors
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO

from mapdoctor.lab.build import LabError

LISTEN_PREFIX = "listening on "


@dataclass(frozen=True)
class Scenario:
    name: str
    about: str
    #: Captured into the committed test fixtures.
    fixture: bool = True
    #: Runs as a service that serves pprof (False: it crashes by design).
    serves: bool = True


SCENARIOS: tuple[Scenario, ...] = (
    Scenario("mapgrow-str", "per-request map[string]*Order filled with 60000 entries without a size hint"),
    Scenario("mapgrow-int", "per-request map[int64]*Session filled with 60000 entries without a size hint"),
    Scenario("presized", "as mapgrow-str but made with len(batch) as size hint: no growth (healthy control)"),
    Scenario("slicegrow", "ranges over a presized map and appends to a slice without capacity"),
    Scenario("syncmap", "sync.Map cache with ever-new keys: Load misses interleaved with new-key Stores"),
    Scenario("mutex", "32 goroutines contend on one sync.Mutex guarding a small map"),
    Scenario("gcpressure", "short-lived pointer-rich garbage over a large long-lived pointer graph, no maps"),
    Scenario("slicegrow-fixed", "slicegrow with the report slice made with its capacity (its fixed variant)"),
    Scenario("gcpressure-fixed", "gcpressure with scratch nodes from a reused arena (its fixed variant)"),
    Scenario("idle", "serves pprof and does nothing else (baseline)"),
    # Plain net/http services with load clients inside the program and no trace annotations: the
    # slow requests are slow for one reason each (see docs/REQUESTS.md).
    Scenario("http-mapgrow", "HTTP; every 50th request rebuilds a 150000-entry index in an unsized map"),
    Scenario("http-bgmapgrow", "HTTP; four background refreshers regrow 800 unsized maps of wide rows twice a second"),
    Scenario("http-gc", "HTTP; every 50th request allocates 200000 linked nodes over a large live heap"),
    Scenario("http-lock", "HTTP; requests take a mutex that a background snapshot holds for 40 ms"),
    Scenario("http-starve", "HTTP; bursts of eight CPU-bound goroutines on GOMAXPROCS=2"),
    Scenario("http-slicegrow", "HTTP; every 50th request appends 400000 rows to a slice without capacity"),
    Scenario("http-healthy", "HTTP; every request does the same small work (healthy control)"),
    Scenario("crash", "two goroutines write one plain map without a lock: fatal error", serves=False),
    Scenario("syncmap-read", "read-mostly sync.Map: keys stored once, requests only Load them (healthy control)"),
    Scenario("smallmaps", "JSON-style rows as two-entry map literals: small-map creation, not growth"),
    Scenario("slicegc", "append without capacity over a large pointer graph: GC pressure driven by slice growth"),
    Scenario("mapgrow-minor", "mostly waiting; a small unhinted map per request: growth near the threshold"),
    Scenario("builder", "CSV export into a strings.Builder without Grow: slice growth under WriteString"),
    Scenario("mapgrow-field", "map field made in a constructor, filled through a method; make and insert apart"),
    Scenario("census", "package-level maps of known len, capacity and bytes (map census)", fixture=False),
    Scenario("globalindex", "a package-level map rebuilt from empty in a loop (census join)", fixture=False),
    Scenario("censusbig", "benchmarks only: ~1 GiB in maps and 100,000 small maps (census speed)", fixture=False),
    Scenario(
        "manystacks",
        "benchmarks only: MemProfileRate=1, allocations from a huge number of distinct stacks",
        fixture=False,
    ),
)

SCENARIO_NAMES: tuple[str, ...] = tuple(s.name for s in SCENARIOS)
FIXTURE_SCENARIOS: tuple[str, ...] = tuple(s.name for s in SCENARIOS if s.fixture)


def scenario(name: str) -> Scenario:
    for s in SCENARIOS:
        if s.name == name:
            return s
    raise LabError(f"unknown scenario {name!r} (known: {', '.join(SCENARIO_NAMES)})")


class LabService:
    """Runs the lab binary for one scenario until the ``with`` block ends.

    The process is always terminated (then killed) on exit, also on exceptions.
    ``env`` adds variables (e.g. ``{"GODEBUG": "gctrace=1"}``); ``stderr_path``
    receives the service's stderr (a temporary file is used otherwise).
    """

    def __init__(
        self,
        binary: Path,
        scenario: str,
        *,
        workers: int | None = None,
        env: Mapping[str, str] | None = None,
        stderr_path: Path | None = None,
        start_timeout: float = 15.0,
        args: tuple[str, ...] = (),
    ) -> None:
        self.binary = binary
        #: Extra command-line flags, e.g. ``("-flightrecorder", "10s")``.
        self.args = args
        self.scenario = scenario
        self.workers = workers
        self.extra_env = dict(env or {})
        self.stderr_path = stderr_path
        self.start_timeout = start_timeout
        self.address = ""
        self.returncode: int | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._stderr: IO[bytes] | None = None

    @property
    def base_url(self) -> str:
        if not self.address:
            raise LabError("the lab service is not running")
        return f"http://{self.address}"

    @property
    def pid(self) -> int:
        if self._proc is None:
            raise LabError("the lab service is not running")
        return self._proc.pid

    def __enter__(self) -> LabService:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> None:
        cmd = [str(self.binary), "-scenario", self.scenario, "-addr", "127.0.0.1:0"]
        if self.workers is not None:
            cmd += ["-workers", str(self.workers)]
        cmd += self.args
        env = dict(os.environ)
        env.update(self.extra_env)
        # The handle lives as long as the service; stop() closes it.
        if self.stderr_path is not None:
            self._stderr = self.stderr_path.open("w+b")
        else:
            self._stderr = tempfile.TemporaryFile()  # noqa: SIM115
        try:
            self._proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                          stderr=self._stderr, env=env)
            self.address = self._wait_for_listen_line()
        except BaseException:
            self.stop()
            raise

    def _wait_for_listen_line(self) -> str:
        assert self._proc is not None and self._proc.stdout is not None
        out = self._proc.stdout
        deadline = time.monotonic() + self.start_timeout
        buf = b""
        with selectors.DefaultSelector() as sel:
            sel.register(out, selectors.EVENT_READ)
            while b"\n" not in buf:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise LabError(f"{self.scenario}: no '{LISTEN_PREFIX.strip()}' line within "
                                   f"{self.start_timeout}s{self._stderr_tail()}")
                if not sel.select(left):
                    continue
                chunk = os.read(out.fileno(), 4096)
                if not chunk:
                    code = self._proc.wait(timeout=5)
                    raise LabError(f"{self.scenario}: the service exited ({code}) before listening"
                                   f"{self._stderr_tail()}")
                buf += chunk
        line = buf.split(b"\n", 1)[0].decode(errors="replace").strip()
        if not line.startswith(LISTEN_PREFIX):
            raise LabError(f"{self.scenario}: unexpected first line {line!r}")
        return line[len(LISTEN_PREFIX):]

    def _stderr_tail(self) -> str:
        if self._stderr is None:
            return ""
        try:
            self._stderr.flush()
            self._stderr.seek(0)
            text = self._stderr.read()[-2000:].decode(errors="replace").strip()
        except (OSError, ValueError):
            return ""
        return f": {text}" if text else ""

    def get(self, path: str, timeout: float = 30.0) -> bytes:
        """GET ``path`` (e.g. ``/stats``) from the service."""
        with urllib.request.urlopen(self.base_url + path, timeout=timeout) as resp:
            body: bytes = resp.read()
        return body

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=10)
            self.returncode = proc.returncode
            if proc.stdout is not None:
                proc.stdout.close()
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None
        self.address = ""
