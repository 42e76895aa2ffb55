"""A seeded adversarial run over every input kind: mutated captures, bombs, hostile names,
folders of junk, mixed good and bad inputs, and a faulty pprof server.

Each case runs ``mapdoctor`` in this process (one process for the whole run, so its peak
RSS bounds every case) and is judged on what a user on a terminal would see:

* no Python traceback (exit status 0 or 2, nothing but one-line errors),
* no hang (each case under ``CASE_TIMEOUT_S``),
* no raw control character on stdout or stderr in text mode,
* in mixed runs, the good input is analysed.

Usage: ``python tests/adversarial.py [--seed N] [--cases N] [--long]`` prints a JSON summary;
``tests/test_adversarial.py`` runs the small default in CI, ``--long`` is for soak runs.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import http.server
import io
import json
import os
import random
import re
import resource
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from testbytes import gzip_bomb, pprof_deep_stack, pprof_many_samples, trace_cpu_sample_bomb  # noqa: E402

FIXTURES = HERE / "fixtures"
CAPTURE = FIXTURES / "go1.27" / "mapgrow-str"
CASE_TIMEOUT_S = 60
RAW_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
HOSTILE_NAMES = ["evil\x1b]0;owned\x07.pb.gz", "clear\x1b[2J\x1b[H.trace", "q\x9b6n.txt",
                 "line\nforged: file: bad.log", "rtl\u202egol.log", "bell\x07\x08.go"]

SEEDS: dict[str, Path] = {
    "pprof": CAPTURE / "cpu.pb.gz",
    "heap": CAPTURE / "heap.pb.gz",
    "trace": CAPTURE / "trace.out",
    "gctrace": CAPTURE / "gctrace.log",
    "goroutines": CAPTURE / "goroutine.txt",
    "crash": FIXTURES / "text" / "go1.27" / "crash-writes.log",
    "panic": FIXTURES / "text" / "go1.27" / "panic.log",
}
GO_SOURCE = (b"package p\n\nfunc F(xs []int) map[int]bool {\n\tm := make(map[int]bool)\n"
             b"\tfor _, x := range xs {\n\t\tm[x] = true\n\t}\n\treturn m\n}\n")


@dataclass
class Outcome:
    case: str
    status: int | None
    seconds: float
    problem: str | None = None


@dataclass
class Summary:
    cases: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)
    problems: list[dict[str, object]] = field(default_factory=list)
    slowest_s: float = 0.0
    #: the whole in-process run (every case but the bombs), and the largest bomb's own process
    peak_rss_mb: float = 0.0
    peak_bomb_rss_mb: float = 0.0
    seconds: float = 0.0


# -- mutations ------------------------------------------------------------------------------

def _mutate(rng: random.Random, data: bytes) -> bytes:
    op = rng.randrange(9)
    n = len(data)
    if n == 0 or op == 0:
        return data[: rng.randrange(n + 1)] if n else b""
    if op == 1:  # bit flips
        b = bytearray(data)
        for _ in range(rng.randint(1, 8)):
            i = rng.randrange(n)
            b[i] ^= 1 << rng.randrange(8)
        return bytes(b)
    if op == 2:  # random bytes overwritten
        i = rng.randrange(n)
        return data[:i] + rng.randbytes(rng.randint(1, 64)) + data[i + 64:]
    if op == 3:  # a chunk duplicated
        i, j = sorted((rng.randrange(n), rng.randrange(n)))
        return data[:j] + data[i:j] * rng.randint(1, 4) + data[j:]
    if op == 4:  # a chunk deleted
        i, j = sorted((rng.randrange(n), rng.randrange(n)))
        return data[:i] + data[j:]
    if op == 5:  # gzip wrapping (or unwrapping)
        if data[:2] == b"\x1f\x8b":
            try:
                return gzip.decompress(data)
            except (OSError, EOFError, zlib.error):
                return data[2:]
        return gzip.compress(data, mtime=0)
    if op == 6:  # extreme varints where lengths live
        i = rng.randrange(n)
        return data[:i] + b"\xff" * rng.randint(1, 10) + b"\x01" + data[i:]
    if op == 7:  # control characters and escapes in text
        i = rng.randrange(n)
        return data[:i] + rng.choice([b"\x1b]0;owned\x07", b"\x1b[2J", b"\x9b6n", b"\x00", b"\r"]) + data[i:]
    return rng.randbytes(rng.randint(0, 4096))


def _bomb(rng: random.Random) -> tuple[str, bytes]:
    kind = rng.randrange(4)
    if kind == 0:
        return "gzip-bomb.pb.gz", gzip_bomb(rng.choice([64, 300, 1024]) << 20)
    if kind == 1:
        return "deep-stack.pb.gz", gzip.compress(pprof_deep_stack(rng.choice([100_000, 2_000_000])), mtime=0)
    if kind == 2:
        return "many-samples.pb.gz", gzip.compress(pprof_many_samples(rng.choice([10_000, 500_000])), mtime=0)
    return "cpu-bomb.trace.gz", trace_cpu_sample_bomb(rng.choice([16, 64]) << 20)


# -- running one case -----------------------------------------------------------------------

class _Hang(Exception):
    pass


def _alarm(_sig: int, _frame: object) -> None:
    raise _Hang


def _run(argv: list[str]) -> tuple[int | None, str, str, str | None]:
    from mapdoctor.cli.main import main

    out, err = io.StringIO(), io.StringIO()
    problem = None
    status: int | None = None
    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(CASE_TIMEOUT_S)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            status = main(argv)
    except _Hang:
        problem = f"hang: no answer in {CASE_TIMEOUT_S} s"
    except SystemExit as exc:
        status = exc.code if isinstance(exc.code, int) else 2
    except BaseException:
        problem = "traceback: " + traceback.format_exc(limit=-3).replace("\n", " | ")
    finally:
        signal.alarm(0)
    text = out.getvalue() + err.getvalue()
    if problem is None and status not in (0, 1, 2):
        problem = f"exit status {status}"
    if problem is None and "Traceback (most recent call last)" in text:
        problem = "traceback printed"
    return status, out.getvalue(), err.getvalue(), problem


def _check_text(out: str, err: str) -> str | None:
    m = RAW_CONTROL.search(out + err)
    return f"raw control character {m.group()!r} in text output" if m else None


# -- the faulty server ----------------------------------------------------------------------

class _Faulty(http.server.BaseHTTPRequestHandler):
    fault = "ok"

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        endpoint = self.path.split("?")[0].removeprefix("/debug/pprof/")
        fault = self.server.faults.get(endpoint, self.server.faults.get("*", "ok"))  # type: ignore[attr-defined]
        if fault == "stall":
            time.sleep(4)
            return
        if fault == "hostile500":
            body = b"upstream \x1b]0;owned\x07\x1b[2J exploded\n"
            self.send_response(500)
        elif fault == "garbage":
            body = bytes(random.Random(endpoint).randbytes(2000))
            self.send_response(200)
        else:
            name = {"profile": "cpu.pb.gz", "trace": "trace.out", "": None, "goroutine": "goroutine.pb.gz"}.get(
                endpoint, f"{endpoint}.pb.gz")
            if name is None:
                body = (b"<html><table><tr><td>3</td><td><a href='goroutine?debug=1'>goroutine</a>"
                        b"</td></tr></table></html>")
            else:
                path = CAPTURE / name
                body = path.read_bytes() if path.is_file() else b""
            self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@contextlib.contextmanager
def _server(faults: dict[str, str]) -> Iterator[str]:
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Faulty)
    srv.faults = faults  # type: ignore[attr-defined]
    srv.daemon_threads = True
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    try:
        yield f"http://127.0.0.1:{srv.server_address[1]}"
    finally:
        srv.shutdown()
        srv.server_close()


# -- the run --------------------------------------------------------------------------------

def _cases(rng: random.Random, root: Path, n: int) -> Iterator[tuple[str, Callable[[], Outcome]]]:
    seeds = {k: p.read_bytes() for k, p in SEEDS.items()}
    good = root / "good-cpu.pb.gz"
    good.write_bytes(seeds["pprof"])
    for i in range(n):
        d = root / f"c{i}"
        d.mkdir()
        pick = rng.random()
        if pick < 0.55:  # one mutated capture, text mode
            kind = rng.choice(sorted(seeds))
            data = seeds[kind]
            for _ in range(rng.randint(1, 3)):
                data = _mutate(rng, data)
            name = rng.choice(HOSTILE_NAMES) if rng.random() < 0.2 else SEEDS[kind].name
            path = d / name
            path.write_bytes(data)
            yield kind, _text_case(f"{kind} #{i}", ["analyze", str(path)])
        elif pick < 0.65:  # lint on mutated Go source
            src = GO_SOURCE
            for _ in range(rng.randint(1, 3)):
                src = _mutate(rng, src)
            (d / (rng.choice(HOSTILE_NAMES) + ".go" if rng.random() < 0.3 else "a.go")).write_bytes(src)
            yield "lint", _text_case(f"lint #{i}", ["lint", str(d)])
        elif pick < 0.72:  # bombs
            name, data = _bomb(rng)
            (d / name).write_bytes(data)
            yield "bomb", _subprocess_case(f"bomb {name} #{i}", ["analyze", str(d / name)])
        elif pick < 0.92:  # mixed: a good file beside bad ones, in a folder or on the command line
            bad = d / "bad"
            bad.mkdir()
            for j in range(rng.randint(1, 6)):
                kind = rng.choice(sorted(seeds))
                (bad / f"{j}{rng.choice(HOSTILE_NAMES)}").write_bytes(_mutate(rng, seeds[kind]))
            if rng.random() < 0.3:
                (bad / "empty").mkdir()
            if rng.random() < 0.3:
                deep = bad
                for k in range(rng.randint(1, 70)):
                    deep = deep / f"d{k}"
                deep.mkdir(parents=True)
            yield "mixed", _mixed_case(f"mixed #{i}", good, bad)
        else:  # odd files: empty, symlinks, FIFOs, unreadable
            path = d / "odd"
            choice = rng.randrange(4)
            if choice == 0:
                path.write_bytes(b"")
            elif choice == 1:
                path.symlink_to("/dev/zero")
            elif choice == 2:
                os.mkfifo(path)
            else:
                path.symlink_to(d / "nowhere")
            yield "odd", _text_case(f"odd #{i}", ["analyze", str(path), str(good)])


def _text_case(name: str, argv: list[str]) -> Callable[[], Outcome]:
    def run() -> Outcome:
        start = time.monotonic()
        status, out, err, problem = _run(argv)
        problem = problem or _check_text(out, err)
        return Outcome(name, status, time.monotonic() - start, problem)
    return run


def _subprocess_case(name: str, argv: list[str]) -> Callable[[], Outcome]:
    """A case in its own process: bombs are judged by their own peak RSS, not by what the
    allocator of a long-lived process keeps after them."""
    def run() -> Outcome:
        start = time.monotonic()
        try:
            proc = subprocess.run([sys.executable, "-m", "mapdoctor", *argv], capture_output=True,
                                  text=True, timeout=CASE_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            return Outcome(name, None, time.monotonic() - start, f"hang: no answer in {CASE_TIMEOUT_S} s")
        problem = None
        if proc.returncode not in (0, 1, 2) or "Traceback (most recent call last)" in proc.stderr:
            problem = f"exit status {proc.returncode}: {proc.stderr[-300:]!r}"
        problem = problem or _check_text(proc.stdout, proc.stderr)
        return Outcome(name, proc.returncode, time.monotonic() - start, problem)
    return run


def _mixed_case(name: str, good: Path, bad: Path) -> Callable[[], Outcome]:
    def run() -> Outcome:
        start = time.monotonic()
        status, out, err, problem = _run(["analyze", str(bad), str(good), "--json", "-"])
        if problem is None:
            try:
                inputs = [i["path"] for i in json.loads(out)["inputs"]]
            except (ValueError, KeyError, TypeError):
                inputs = []
            if str(good) not in inputs:
                problem = f"good file not analysed (status {status}): {err.strip()[-200:]!r}"
            problem = problem or _check_text("", err)
        return Outcome(name, status, time.monotonic() - start, problem)
    return run


def _http_cases() -> Iterator[tuple[str, Callable[[], Outcome]]]:
    for faults in ({"": "stall"}, {"*": "hostile500"}, {"profile": "hostile500"}, {"*": "garbage"},
                   {"trace": "garbage", "heap": "hostile500"}):
        def run(faults: dict[str, str] = faults) -> Outcome:
            start = time.monotonic()
            with _server(faults) as url:
                status, out, err, problem = _run(["diagnose", url, "--duration", "1"])
            problem = problem or _check_text(out, err)
            return Outcome(f"http {faults}", status, time.monotonic() - start, problem)
        yield "http", run


def run(seed: int, cases: int, *, http: bool = True) -> Summary:
    rng = random.Random(seed)
    summary = Summary()
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="mapdoctor-adversarial-") as tmp:
        all_cases = list(_cases(rng, Path(tmp), cases))
        if http:
            all_cases.extend(_http_cases())
        for kind, case in all_cases:
            outcome = case()
            summary.cases += 1
            summary.by_kind[kind] = summary.by_kind.get(kind, 0) + 1
            summary.slowest_s = max(summary.slowest_s, outcome.seconds)
            if outcome.problem:
                summary.problems.append({"case": outcome.case, "problem": outcome.problem,
                                         "status": outcome.status})
    summary.seconds = round(time.monotonic() - t0, 1)
    summary.peak_rss_mb = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    summary.peak_bomb_rss_mb = round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1)
    return summary


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--cases", type=int, default=1000)
    ap.add_argument("--long", action="store_true", help="20,000 cases (a soak run, not for CI)")
    ap.add_argument("--no-http", action="store_true")
    args = ap.parse_args()
    cases = 20_000 if args.long else args.cases
    summary = run(args.seed, cases, http=not args.no_http)
    print(json.dumps(summary.__dict__, indent=1, default=str))
    return 1 if summary.problems else 0


if __name__ == "__main__":
    sys.exit(main())
