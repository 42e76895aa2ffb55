"""A fleet of fake ``net/http/pprof`` endpoints serving real captured profiles (tests/fixtures).

Used by the watch soak and benchmark scripts: hundreds of targets cost one Python process
(asyncio, one listener per port on 127.0.0.1) instead of hundreds of Go services. Each
target serves one fixture scenario's files the way net/http/pprof does (``profile?seconds=N``
and ``trace?seconds=N`` answer after N seconds), can be switched to another scenario (a
"spike"), and can be taken down and brought back. Requests for ``cmdline`` or ``vars``
are counted as violations (mapdoctor must never make them).

    python perf/fake_pprof.py --targets 500 --sd fleet.json     # serve until Ctrl-C
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures"
SCENARIOS = ("presized", "mapgrow-str", "gcpressure", "idle", "mutex", "syncmap", "slicegrow", "mapgrow-int")
FILES = {"goroutine": "goroutine.pb.gz", "heap": "heap.pb.gz", "allocs": "allocs.pb.gz", "mutex": "mutex.pb.gz",
         "block": "block.pb.gz", "profile": "cpu.pb.gz", "trace": "trace.out"}
MAX_SLEEP_S = 60.0


def load_fixtures(go_dir: str = "go1.27") -> dict[str, dict[str, bytes]]:
    out: dict[str, dict[str, bytes]] = {}
    for sc in SCENARIOS:
        folder = FIXTURES / go_dir / sc
        out[sc] = {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}
    return out


def index_page(goroutines: int) -> bytes:
    rows = "".join(f"<tr><td>{n}</td><td><a href='{name}?debug=1'>{name}</a></td></tr>\n"
                   for name, n in (("allocs", 120), ("block", 3), ("goroutine", goroutines), ("heap", 120),
                                   ("mutex", 2), ("threadcreate", 8)))
    return (f"<html><head><title>/debug/pprof/</title></head><body>/debug/pprof/<br><br>"
            f"Types of profiles available:<table><thead><td>Count</td><td>Profile</td></thead>{rows}</table>"
            "</body></html>").encode()


@dataclass
class FakeTarget:
    port: int
    scenario: str
    goroutines: int = 12
    server: asyncio.base_events.Server | None = None
    requests: int = 0
    up: bool = True


@dataclass
class Fleet:
    fixtures: dict[str, dict[str, bytes]]
    targets: list[FakeTarget] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    requests: int = 0

    async def _handle(self, t: FakeTarget, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
            line = head.split(b"\r\n", 1)[0].decode("latin-1")
            _, target, _ = line.split(" ", 2)
            parts = urlsplit(target)
            name = parts.path.removeprefix("/debug/pprof/").strip("/")
            query = parse_qs(parts.query)
            t.requests += 1
            self.requests += 1
            status, ctype, body = 200, "application/octet-stream", b""
            files = self.fixtures[t.scenario]
            if name in ("cmdline", "vars") or parts.path.endswith("/vars"):
                self.violations.append(f"{t.port}: {target}")
                status, ctype, body = 403, "text/plain", b"forbidden\n"
            elif name == "":
                ctype, body = "text/html; charset=utf-8", index_page(t.goroutines)
            elif name == "goroutine" and query.get("debug") == ["2"]:
                ctype, body = "text/plain; charset=utf-8", files["goroutine.txt"]
            elif name in FILES and FILES[name] in files:
                seconds = float(query.get("seconds", ["0"])[0] or 0)
                if name in ("profile", "trace") or seconds:
                    await asyncio.sleep(min(seconds, MAX_SLEEP_S))
                body = files[FILES[name]]
            else:
                status, ctype, body = 404, "text/plain; charset=utf-8", b"Unknown profile\n"
            reason = {200: "OK", 403: "Forbidden", 404: "Not Found"}[status]
            writer.write(f"HTTP/1.1 {status} {reason}\r\nContent-Type: {ctype}\r\nContent-Length: {len(body)}\r\n"
                         "Connection: close\r\n\r\n".encode() + body)
            await writer.drain()
        except (OSError, ValueError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError):
            pass
        finally:
            writer.close()

    async def start_target(self, t: FakeTarget) -> None:
        t.server = await asyncio.start_server(lambda r, w: self._handle(t, r, w), "127.0.0.1", t.port,
                                              reuse_address=True, backlog=64)
        if t.port == 0:
            t.port = t.server.sockets[0].getsockname()[1]
        t.up = True

    async def stop_target(self, t: FakeTarget) -> None:
        if t.server is not None:
            t.server.close()
            t.server = None
        t.up = False

    async def add(self, n: int, rng: random.Random) -> None:
        for i in range(n):
            t = FakeTarget(0, "presized" if i % 3 else rng.choice(SCENARIOS[2:]))
            await self.start_target(t)
            self.targets.append(t)


def write_sd(fleet: Fleet, path: Path, extra: Sequence[str] = ()) -> None:
    groups = [{"targets": [f"127.0.0.1:{t.port}" for t in fleet.targets], "labels": {"job": "fake"}}]
    if extra:
        groups.append({"targets": list(extra), "labels": {"job": "lab"}})
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(groups, indent=1))
    tmp.replace(path)


async def _serve(args: argparse.Namespace) -> None:
    fleet = Fleet(load_fixtures(args.go))
    await fleet.add(args.targets, random.Random(1))
    write_sd(fleet, Path(args.sd))
    print(f"{len(fleet.targets)} fake targets; file_sd in {args.sd}", flush=True)
    t0 = time.monotonic()
    while args.seconds <= 0 or time.monotonic() - t0 < args.seconds:
        await asyncio.sleep(1)
    print(f"{fleet.requests} requests, {len(fleet.violations)} violations", flush=True)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--targets", type=int, default=200)
    p.add_argument("--sd", default="fleet.json")
    p.add_argument("--go", default="go1.27")
    p.add_argument("--seconds", type=float, default=0, help="stop after this long (0: until Ctrl-C)")
    args = p.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
