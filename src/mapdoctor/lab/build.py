"""Building the lab service (``lab/go``) with a given Go toolchain.

Binaries are cached per Go version and keyed by a hash of the Go sources, so building
again after the first time costs one ``go env`` call.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

from mapdoctor.lab.toolchain import GoToolchain, cache_dir

#: The Go module of the lab service.
LAB_SOURCE_DIR = Path(__file__).resolve().parent / "go"
#: The flight recorder package the lab imports (a module of its own, replaced by path in go.mod).
FLIGHTRECORDER_DIR = Path(__file__).resolve().parent.parent / "go" / "flightrecorder"
BINARY_NAME = "mapdoctorlab"
BUILD_TIMEOUT_S = 600


class LabError(Exception):
    """The lab service could not be built, started or captured."""


def source_hash(src: Path = LAB_SOURCE_DIR) -> str:
    """Hash of the module's sources (file names and contents), the packages it imports included."""
    digest = hashlib.sha256()
    files = sorted([*src.glob("*.go"), src / "go.mod"])
    if src == LAB_SOURCE_DIR:
        files += [*sorted(FLIGHTRECORDER_DIR.glob("*.go")), FLIGHTRECORDER_DIR / "go.mod"]
    for path in files:
        digest.update(path.parent.name.encode() + b"/" + path.name.encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def build_lab(tc: GoToolchain, out_dir: Path | None = None) -> Path:
    """The lab binary built by ``tc``, building it unless an identical build is cached.

    ``out_dir`` defaults to ``<cache>/lab/<go version>``.
    """
    version = tc.version() or "unknown"
    if out_dir is None:
        out_dir = cache_dir() / "lab" / version
    binary = out_dir / f"{BINARY_NAME}-{source_hash()}"
    if binary.is_file():
        return binary
    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = binary.with_name(f"{binary.name}.partial-{os.getpid()}")
    env = tc.env()
    # A static binary: no libc mappings in profiles, same behaviour with or without a C compiler.
    env["CGO_ENABLED"] = "0"
    cmd = [str(tc.go), "build", "-trimpath", "-o", str(tmp), "."]
    try:
        proc = subprocess.run(
            cmd, cwd=LAB_SOURCE_DIR, env=env, capture_output=True, text=True, timeout=BUILD_TIMEOUT_S
        )
    except subprocess.TimeoutExpired:
        tmp.unlink(missing_ok=True)
        raise LabError(f"building the lab with {version} took longer than {BUILD_TIMEOUT_S}s") from None
    if proc.returncode != 0:
        tmp.unlink(missing_ok=True)
        raise LabError(f"building the lab with {version} failed: {proc.stderr.strip()}")
    tmp.replace(binary)
    return binary
