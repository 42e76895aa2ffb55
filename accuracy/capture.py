"""Make the captures of the accuracy suite: profile a case with a real Go toolchain.

A case (one entry of labels.json) says what to run:

* ``gotest``: a benchmark of a GOROOT package (``"pkg": "runtime"``) or of this repo's
  purpose-written module (``"pkg": "repo"``, accuracy/go), built with ``go test -c`` and run with
  ``-test.cpuprofile/-memprofile/-mutexprofile/-blockprofile`` (and ``-trace`` when asked);
* ``gofmt``, ``compile``, ``link``: Go's own tools on real inputs with their ``-cpuprofile`` flag
  (gofmt over a GOROOT directory, the compiler on a GOROOT package, the linker on gofmt);
* ``lab``: a scenario of the repo's lab service, diagnosed live over net/http/pprof
  (``mapdoctor diagnose --out``); ``crash``: the lab's crashing scenario, its stderr kept.

Everything lands in ``<work>/<go>/<case>/``; binaries are cached in ``<work>/bin/<go>/``.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mapdoctor.lab.build import build_lab
from mapdoctor.lab.scenarios import LabService
from mapdoctor.lab.toolchain import GoToolchain

REPO_MODULE = Path(__file__).resolve().parent / "go"
RUN_TIMEOUT_S = 300
DEFAULT_BENCHTIME = "2s"


class CaptureError(Exception):
    pass


def _env(tc: GoToolchain) -> dict[str, str]:
    env = tc.env()
    # Module-relative file names in the profiles (no machine paths in the committed subset).
    env["GOFLAGS"] = " ".join(f for f in (env.get("GOFLAGS", ""), "-trimpath") if f)
    env["CGO_ENABLED"] = "0"
    env["GOTOOLCHAIN"] = "local"
    env["GOPROXY"] = "off"
    return env


def _run(cmd: list[str], env: Mapping[str, str], cwd: Path, timeout: float = RUN_TIMEOUT_S,
         stdout: Any = subprocess.DEVNULL) -> subprocess.CompletedProcess[bytes]:
    try:
        proc = subprocess.run(cmd, env=dict(env), cwd=cwd, stdout=stdout, stderr=subprocess.PIPE,
                              timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        raise CaptureError(f"{' '.join(cmd[:3])}: no result within {timeout:.0f} s") from exc
    if proc.returncode != 0:
        tail = proc.stderr.decode(errors="replace").strip()[-600:]
        raise CaptureError(f"{' '.join(cmd[:4])} exited {proc.returncode}: {tail}")
    return proc


def _test_binary(tc: GoToolchain, pkg: str, bin_dir: Path) -> Path:
    bin_dir.mkdir(parents=True, exist_ok=True)
    name = ("repo" if pkg == "repo" else pkg.replace("/", "_")) + ".test"
    out = bin_dir / name
    if out.exists():
        return out
    env = _env(tc)
    if pkg == "repo":
        _run([str(tc.go), "test", "-c", "-o", str(out), "."], env, REPO_MODULE)
    else:
        _run([str(tc.go), "test", "-c", "-o", str(out), pkg], env, tc.goroot / "src")
    return out


def capture_case(case: dict[str, Any], go_key: str, tc: GoToolchain, dest: Path, bin_dir: Path) -> None:
    """Run ``case`` with toolchain ``tc`` (its labels key ``go_key``, e.g. ``1.27``) into ``dest``."""
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    kind = case["kind"]
    spec = {**case, **case.get("by_go", {}).get(go_key, {})}
    if kind == "gotest":
        _gotest(spec, tc, dest, bin_dir)
    elif kind == "gofmt":
        gofmt = tc.goroot / "bin" / "gofmt"
        target = tc.goroot / "src" / spec["input"]
        # Exit status 2 only reports the deliberately broken files among the compiler's testdata;
        # every file was formatted and the profile written.
        proc = subprocess.run([str(gofmt), "-cpuprofile", str(dest / "cpu.pprof"), "-l", str(target)],
                              env=_env(tc), cwd=dest, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              timeout=RUN_TIMEOUT_S, check=False)
        if proc.returncode not in (0, 2) or not (dest / "cpu.pprof").exists():
            raise CaptureError(f"gofmt exited {proc.returncode}: {proc.stderr.decode(errors='replace')[-300:]}")
    elif kind == "compile":
        _tool_profile(tc, dest, ["build", "-o", os.devnull, f"-gcflags={spec['input']}=-cpuprofile={{out}}",
                                 spec["input"]])
    elif kind == "link":
        _tool_profile(tc, dest, ["build", "-o", str(dest / "linked.bin"), "-ldflags=-cpuprofile={out}",
                                 spec["input"]])
        (dest / "linked.bin").unlink(missing_ok=True)
    elif kind == "lab":
        _lab(spec, tc, dest)
    elif kind == "crash":
        binary = build_lab(tc)
        proc = subprocess.run([str(binary), "-scenario", "crash", "-addr", "127.0.0.1:0"], stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, timeout=60, check=False)
        (dest / "crash.log").write_bytes(proc.stderr)
    else:
        raise CaptureError(f"unknown case kind {kind!r}")


def _gotest(spec: dict[str, Any], tc: GoToolchain, dest: Path, bin_dir: Path) -> None:
    binary = _test_binary(tc, spec["pkg"], bin_dir)
    cmd = [str(binary), "-test.run", "^$", "-test.bench", spec["bench"],
           "-test.benchtime", spec.get("benchtime", DEFAULT_BENCHTIME), "-test.count", "1",
           "-test.cpuprofile", str(dest / "cpu.pprof"), "-test.memprofile", str(dest / "mem.pprof")]
    profiles = spec.get("profiles", [])
    if "mutex" in profiles:
        cmd += ["-test.mutexprofile", str(dest / "mutex.pprof")]
    if "block" in profiles:
        cmd += ["-test.blockprofile", str(dest / "block.pprof"), "-test.blockprofilerate", "10000"]
    if "trace" in profiles:
        cmd += ["-test.trace", str(dest / "trace.out")]
    # Benchmarks read their testdata relative to the package directory, as under go test.
    pkg_dir = REPO_MODULE if spec["pkg"] == "repo" else tc.goroot / "src" / spec["pkg"]
    out = _run(cmd, _env(tc), pkg_dir, stdout=subprocess.PIPE)
    (dest / "bench.txt").write_bytes(out.stdout)
    if b"\nBenchmark" not in b"\n" + out.stdout:
        raise CaptureError(f"{spec['bench']}: no benchmark ran (check the -bench pattern)")


def _tool_profile(tc: GoToolchain, dest: Path, args: list[str]) -> None:
    # A fresh profile path each run: the flag is part of the build's cache key, so the tool
    # really runs (and writes the profile) instead of a cache hit.
    tmp = dest / f"cpu-{uuid.uuid4().hex[:8]}.pprof"
    _run([str(tc.go), *(a.replace("{out}", str(tmp)) for a in args)], _env(tc), tc.goroot / "src")
    if not tmp.exists():
        raise CaptureError(f"go {args[0]}: the tool wrote no profile")
    tmp.rename(dest / "cpu.pprof")


def _lab(spec: dict[str, Any], tc: GoToolchain, dest: Path) -> None:
    from mapdoctor.cli.main import main

    binary = build_lab(tc)
    evidence = dest / "evidence"
    with LabService(binary, spec["scenario"]) as svc:
        time.sleep(1.0)  # steady state
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            status = main(["diagnose", svc.base_url, "--duration", str(spec.get("seconds", 3)), "--out",
                           str(evidence), "--json", os.devnull, "--quiet"])
    if status != 0:
        raise CaptureError(f"lab {spec['scenario']}: mapdoctor diagnose exited {status}")
    for f in evidence.iterdir():
        f.rename(dest / f.name)
    evidence.rmdir()
