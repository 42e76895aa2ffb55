"""Regenerate the test fixtures: real captures of every lab scenario with real toolchains.

    python -m mapdoctor.lab.capture [--go 1.23.9 --go 1.27.3] [--scenario NAME ...] [--out tests/fixtures]

For each Go version and scenario: build the lab, start it with ``GODEBUG=gctrace=1``, warm up,
then fetch concurrently from net/http/pprof a CPU profile, an execution trace overlapping it
(so the trace carries CPU samples), delta allocs/mutex/block profiles, heap and goroutine
profiles and a ``debug=2`` goroutine dump; stop the service and keep its stderr as
``gctrace.log``. The ``crash`` scenario is run to its fatal error and its stderr kept as
``crash.log``. Captures land in ``<out>/go<major.minor>/<scenario>/`` and are listed in
``<out>/MANIFEST.json``.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from mapdoctor.lab.build import BINARY_NAME, LabError, build_lab
from mapdoctor.lab.scenarios import FIXTURE_SCENARIOS, LabService, scenario
from mapdoctor.lab.toolchain import LAB_VERSIONS, cache_dir, find_go

DEFAULT_OUT = Path("tests/fixtures")
MANIFEST = "MANIFEST.json"
CRASH_TIMEOUT_S = 30.0
MANYSTACKS_TIMEOUT_S = 300.0
#: Each fixture file stays under this size (traces are re-taken shorter when larger).
MAX_FIXTURE_BYTES = 1_000_000
MAX_TRACE_ATTEMPTS = 4
MIN_TRACE_S = 0.1
#: Work units after which manystacks has allocated from all its stacks (2^19 / 20000, plus
#: idle units, so its final forced GCs are done).
MANYSTACKS_PASS_UNITS = 30


@dataclass(frozen=True)
class CaptureTiming:
    warmup_s: float = 1.0
    cpu_s: int = 3
    delta_s: int = 3
    trace_s: float = 1.0
    #: The trace starts this long after the CPU profile, so it overlaps it and carries CPU samples.
    trace_delay_s: float = 0.3


@dataclass(frozen=True)
class Fetch:
    """One net/http/pprof request and the fixture file it is saved as."""

    path: str
    file: str
    #: Seconds after the capture window opens.
    start_s: float
    #: Requests with the same group run one after another in one thread.
    group: str
    timeout_s: float


#: Per scenario, a shorter trace keeps the fixture small where events are dense.
TRACE_SECONDS: dict[str, float] = {"mutex": 0.5}
#: Per scenario, fewer self-load goroutines than the service's default.
WORKERS: dict[str, int] = {}
#: The HTTP services (``http-*``) serve a few hundred requests a second: a longer window gives
#: the slowest 1 % enough requests. They also report their own measurement of the requests
#: that ran while the trace was recorded (``/requests``), kept in the manifest.
HTTP_PREFIX = "http-"
HTTP_TIMING = CaptureTiming(warmup_s=1.5, cpu_s=5, delta_s=5, trace_s=4.4)


def timing_for(name: str, default: CaptureTiming) -> CaptureTiming:
    return HTTP_TIMING if name.startswith(HTTP_PREFIX) and default == CaptureTiming() else default


def plan(timing: CaptureTiming, trace_s: float) -> list[Fetch]:
    """The requests of one capture; profile windows overlap, snapshots come after the trace."""
    slack = 30.0
    after_trace = timing.trace_delay_s + trace_s + 0.2
    return [
        Fetch(f"/debug/pprof/profile?seconds={timing.cpu_s}", "cpu.pb.gz", 0.0, "cpu", timing.cpu_s + slack),
        Fetch(f"/debug/pprof/trace?seconds={trace_s:g}", "trace.out", timing.trace_delay_s, "trace",
              trace_s + slack),
        Fetch(f"/debug/pprof/allocs?seconds={timing.delta_s}", "allocs.pb.gz", 0.0, "allocs",
              timing.delta_s + slack),
        Fetch(f"/debug/pprof/mutex?seconds={timing.delta_s}", "mutex.pb.gz", 0.0, "mutex",
              timing.delta_s + slack),
        Fetch(f"/debug/pprof/block?seconds={timing.delta_s}", "block.pb.gz", 0.0, "block",
              timing.delta_s + slack),
        # In the trace's group: they start only once the trace has been received, so that
        # they never run inside it (on a loaded machine the trace ends late).
        Fetch("/debug/pprof/heap", "heap.pb.gz", after_trace, "trace", slack),
        Fetch("/debug/pprof/goroutine", "goroutine.pb.gz", after_trace, "trace", slack),
        Fetch("/debug/pprof/goroutine?debug=2", "goroutine.txt", after_trace, "trace", slack),
    ]


def fixture_dir_name(go_version: str) -> str:
    """``1.23.9`` -> ``go1.23``."""
    parts = go_version.removeprefix("go").split(".")
    return "go" + ".".join(parts[:2])


@dataclass
class CaptureResult:
    go: str
    scenario: str
    dir: Path
    files: dict[str, int] = field(default_factory=dict)
    stats: dict[str, object] = field(default_factory=dict)
    trace_seconds: float | None = None


def _log(msg: str) -> None:
    print(msg, flush=True)


def _http_get(url: str, timeout: float) -> bytes:
    with urllib.request.urlopen(url, timeout=timeout) as resp:
        body: bytes = resp.read()
    return body


def _run_fetches(base_url: str, fetches: Sequence[Fetch]) -> dict[str, bytes]:
    """Run the fetches on their schedule, one thread per group; raise the first failure."""
    t0 = time.monotonic()
    results: dict[str, bytes] = {}
    errors: list[str] = []
    lock = threading.Lock()

    def run_group(items: list[Fetch]) -> None:
        for f in items:
            delay = t0 + f.start_s - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            try:
                body = _http_get(base_url + f.path, f.timeout_s)
            except OSError as exc:
                with lock:
                    errors.append(f"{f.path}: {exc}")
                continue
            with lock:
                results[f.file] = body

    groups: dict[str, list[Fetch]] = {}
    for f in fetches:
        groups.setdefault(f.group, []).append(f)
    threads = [threading.Thread(target=run_group, args=(items,), daemon=True) for items in groups.values()]
    for t in threads:
        t.start()
    deadline = t0 + max(f.start_s + f.timeout_s for f in fetches) + 5
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
    if any(t.is_alive() for t in threads):
        errors.append("fetches did not finish in time")
    if errors:
        raise LabError("; ".join(errors))
    return results


# --- keeping this machine's paths out of the fixtures ------------------------------------------
# pprof profiles name the executable in their mappings (read from /proc/self/maps), an
# absolute path on the capturing machine; it is replaced by the binary's plain name.


def _read_varint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if pos >= len(data):
            raise LabError("truncated varint in a pprof profile")
        b = data[pos]
        pos += 1
        value |= (b & 0x7F) << shift
        if b < 0x80:
            return value, pos
        shift += 7


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        b = value & 0x7F
        value >>= 7
        if value:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


PROFILE_STRING_TABLE_FIELD = 6


def rewrite_profile_strings(profile: bytes, rewrite: Callable[[str], str]) -> bytes:
    """Re-encode a (gunzipped) profile.proto with ``rewrite`` applied to its string table.

    Only the top-level fields are walked; every other field is copied byte for byte.
    """
    out = bytearray()
    pos = 0
    while pos < len(profile):
        start = pos
        key, pos = _read_varint(profile, pos)
        key_end = pos
        wire = key & 7
        if wire == 0:
            _, pos = _read_varint(profile, pos)
        elif wire == 1:
            pos += 8
        elif wire == 5:
            pos += 4
        elif wire == 2:
            size, body = _read_varint(profile, pos)
            pos = body + size
            if key >> 3 == PROFILE_STRING_TABLE_FIELD:
                text = rewrite(profile[body:pos].decode("utf-8", errors="surrogateescape"))
                encoded = text.encode("utf-8", errors="surrogateescape")
                out += profile[start:key_end] + _varint(len(encoded)) + encoded
                continue
        else:
            raise LabError(f"unexpected wire type {wire} in a pprof profile")
        if pos > len(profile):
            raise LabError("truncated field in a pprof profile")
        out += profile[start:pos]
    return bytes(out)


def scrub_profile(data: bytes, binary: Path) -> bytes:
    """The gzipped profile with the executable's absolute path replaced by its plain name."""
    real = str(binary.resolve())

    def rewrite(s: str) -> str:
        return BINARY_NAME if s in (real, str(binary)) else s

    return gzip.compress(rewrite_profile_strings(gzip.decompress(data), rewrite), mtime=0)


def local_path_markers() -> list[bytes]:
    """Absolute path prefixes of this machine that must not appear in a fixture."""
    places = (Path.home(), Path.cwd(), Path(__file__).resolve().parents[3], Path(tempfile.gettempdir()),
              cache_dir())
    markers = {str(p.resolve()).rstrip("/") + "/" for p in places}
    return sorted(m.encode() for m in markers if m != "/")


def local_paths_in(data: bytes) -> list[str]:
    plain = gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data
    return [m.decode() for m in local_path_markers() if m in plain]


# --- one capture ------------------------------------------------------------------------------


def capture_service(binary: Path, go_version: str, name: str, dest: Path,
                    timing: CaptureTiming) -> CaptureResult:
    """One capture of a serving scenario; the trace is shortened and taken again while too large."""
    timing = timing_for(name, timing)
    trace_s = TRACE_SECONDS.get(name, timing.trace_s)
    for _ in range(MAX_TRACE_ATTEMPTS):
        result, bodies = _capture_service_once(binary, go_version, name, dest, timing, trace_s)
        trace_size = len(bodies.get("trace.out", b""))
        if trace_size <= MAX_FIXTURE_BYTES:
            break
        shorter = max(MIN_TRACE_S, round(trace_s * 0.8 * MAX_FIXTURE_BYTES / trace_size, 2))
        _log(f"  trace of {trace_s:g}s is {trace_size // 1024} KiB; again with {shorter:g}s")
        trace_s = shorter
    else:
        raise LabError(f"{name}: the trace stays larger than {MAX_FIXTURE_BYTES} bytes")
    dest.mkdir(parents=True, exist_ok=True)
    for file, body in bodies.items():
        if file.endswith(".pb.gz"):
            body = scrub_profile(body, binary)
        (dest / file).write_bytes(body)
    for path in sorted(dest.iterdir()):
        leaked = local_paths_in(path.read_bytes())
        if leaked:
            raise LabError(f"{path} contains local paths {leaked}")
        result.files[path.name] = path.stat().st_size
    result.trace_seconds = trace_s
    return result


def _capture_service_once(binary: Path, go_version: str, name: str, dest: Path, timing: CaptureTiming,
                          trace_s: float) -> tuple[CaptureResult, dict[str, bytes]]:
    dest.mkdir(parents=True, exist_ok=True)
    result = CaptureResult(go_version, name, dest)
    with LabService(binary, name, workers=WORKERS.get(name), env={"GODEBUG": "gctrace=1"},
                    stderr_path=dest / "gctrace.log") as svc:
        time.sleep(timing.warmup_s)
        bodies = _run_fetches(svc.base_url, plan(timing, trace_s))
        result.stats = json.loads(svc.get("/stats", timeout=10))
        if name.startswith(HTTP_PREFIX):
            result.stats["traced_requests"] = json.loads(svc.get("/requests", timeout=10))
    return result, bodies


def capture_manystacks(binary: Path, go_version: str, dest: Path,
                       timeout_s: float = MANYSTACKS_TIMEOUT_S) -> CaptureResult:
    """Only the (large) cumulative allocs profile, once the service made its pass of stacks."""
    dest.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + timeout_s
    with LabService(binary, "manystacks") as svc:
        while int(json.loads(svc.get("/stats", timeout=30))["requests"]) < MANYSTACKS_PASS_UNITS:
            if time.monotonic() > deadline:
                raise LabError(f"manystacks did not finish its pass within {timeout_s}s")
            time.sleep(0.5)
        body = svc.get("/debug/pprof/allocs", timeout=max(30.0, deadline - time.monotonic()))
    path = dest / "allocs.pb.gz"
    path.write_bytes(scrub_profile(body, binary))
    return CaptureResult(go_version, "manystacks", dest, {path.name: path.stat().st_size})


def capture_crash(binary: Path, go_version: str, dest: Path) -> CaptureResult:
    dest.mkdir(parents=True, exist_ok=True)
    log = dest / "crash.log"
    try:
        proc = subprocess.run([str(binary), "-scenario", "crash", "-addr", "127.0.0.1:0"],
                              stdin=subprocess.DEVNULL, capture_output=True, timeout=CRASH_TIMEOUT_S,
                              env={**os.environ, "GOTRACEBACK": "single"})
    except subprocess.TimeoutExpired:
        raise LabError(f"crash scenario did not crash within {CRASH_TIMEOUT_S}s") from None
    if b"fatal error: concurrent map" not in proc.stderr:
        raise LabError(f"crash scenario exited {proc.returncode} without the expected fatal error")
    log.write_bytes(proc.stderr)
    leaked = local_paths_in(proc.stderr)
    if leaked:
        raise LabError(f"{log} contains local paths {leaked}")
    return CaptureResult(go_version, "crash", dest, {log.name: log.stat().st_size},
                         {"exit_code": proc.returncode})


def write_manifest(out: Path, results: Sequence[CaptureResult]) -> Path:
    """Merge ``results`` into ``out/MANIFEST.json`` (entries of other captures are kept)."""
    path = out / MANIFEST
    entries: dict[str, dict[str, object]] = {}
    if path.is_file():
        for e in json.loads(path.read_text())["captures"]:
            entries[str(e["dir"])] = e
    for r in results:
        rel = r.dir.relative_to(out).as_posix()
        entry: dict[str, object] = {"dir": rel, "go": r.go, "scenario": r.scenario, "files": r.files}
        if r.trace_seconds is not None:
            entry["trace_seconds"] = r.trace_seconds
        entry["stats"] = r.stats
        entries[rel] = entry
    doc = {
        "generator": "python -m mapdoctor.lab.capture",
        "captures": [entries[k] for k in sorted(entries)],
    }
    path.write_text(json.dumps(doc, indent=2) + "\n")
    return path


def capture_one(binary: Path, go_version: str, name: str, dest: Path,
                timing: CaptureTiming = CaptureTiming()) -> CaptureResult:
    if name == "manystacks":
        return capture_manystacks(binary, go_version, dest)
    if scenario(name).serves:
        return capture_service(binary, go_version, name, dest, timing)
    return capture_crash(binary, go_version, dest)


def _capture_with_retry(binary: Path, go_version: str, name: str, dest: Path,
                        timing: CaptureTiming) -> CaptureResult:
    """A capture is retried once: on a shared machine a service can be starved or killed."""
    try:
        return capture_one(binary, go_version, name, dest, timing)
    except LabError as exc:
        _log(f"  failed ({exc}); retrying once")
    return capture_one(binary, go_version, name, dest, timing)


def capture_all(versions: Sequence[str], names: Sequence[str], out: Path,
                timing: CaptureTiming = CaptureTiming()) -> list[CaptureResult]:
    results: list[CaptureResult] = []
    for version in versions:
        tc = find_go(version)
        _log(f"go {version}: building the lab")
        binary = build_lab(tc)
        for name in names:
            dest = out / fixture_dir_name(version) / name
            _log(f"go {version}: {name} -> {dest}")
            t = time.monotonic()
            r = _capture_with_retry(binary, version, name, dest, timing)
            sizes = ", ".join(f"{f} {n // 1024} KiB" for f, n in sorted(r.files.items()))
            _log(f"  done in {time.monotonic() - t:.1f}s: {sizes}")
            results.append(r)
            write_manifest(out, [r])
    return results


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mapdoctor.lab.capture", description=__doc__.split("\n")[0])
    parser.add_argument("--go", action="append", dest="versions", metavar="VERSION",
                        help=f"Go version to capture with (repeatable; default {' and '.join(LAB_VERSIONS)})")
    parser.add_argument("--scenario", action="append", dest="names", metavar="NAME",
                        help="scenario to capture (repeatable; default: all fixture scenarios)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="fixtures folder (default %(default)s)")
    args = parser.parse_args(argv)
    versions: list[str] = args.versions or list(LAB_VERSIONS)
    names: list[str] = args.names or list(FIXTURE_SCENARIOS)
    try:
        for n in names:
            scenario(n)
        capture_all(versions, names, args.out)
    except LabError as exc:
        print(f"capture: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
