"""--fix rewrites only exact bounds, and the result still gofmt's, builds and vets with real Go."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from lint_support import GO_SRC
from mapdoctor.cli.main import main
from mapdoctor.lab.toolchain import LAB_VERSIONS, GoToolchain, ToolchainError, find_go
from mapdoctor.source import lint_paths


def _toolchain(version: str) -> GoToolchain:
    try:
        return find_go(version, install=False)
    except ToolchainError as err:
        pytest.skip(str(err))


def _go(tc: GoToolchain, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(tc.go), *args], cwd=cwd, env=tc.env(), capture_output=True, text=True,
                          timeout=300)


@pytest.fixture(scope="module")
def fixed_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tree = tmp_path_factory.mktemp("fix") / "go-src"
    shutil.copytree(GO_SRC, tree)
    assert main(["lint", str(tree), "--fix", "--format", "json", "--output", str(tree.parent / "after.json")]) == 1
    return tree


def test_fix_applies_exact_bounds_only(fixed_tree: Path) -> None:
    md001 = (fixed_tree / "prealloc/md001.go").read_text()
    assert "byID := make(map[string]*Order, len(orders)) // want MD001 high" in md001
    assert "cents := make(map[string]int64, len(orders))" in md001
    assert "byID = make(map[string]*Order, len(b.Orders))" in md001
    assert "names := make(map[int]string, n)" in md001
    assert "totals := make(map[string]int64) //" in md001  # keys repeat: not fixed
    assert "big := make(map[string]*Order) //" in md001  # conditional: not fixed
    md002 = (fixed_tree / "prealloc/md002.go").read_text()
    assert "out := make([]string, 0, len(names)) // want MD002 high" in md002
    assert "sq := make([]int, 0, n)" in md002
    assert "var ids []string" in md002  # nil-ness would change: not fixed
    left = lint_paths([fixed_tree]).findings
    assert not [f for f in left if f.fix is not None and f.fix.safe]


@pytest.mark.go
@pytest.mark.parametrize("version", LAB_VERSIONS)
def test_fixed_code_gofmts_builds_and_vets(fixed_tree: Path, version: str) -> None:
    tc = _toolchain(version)
    gofmt = tc.goroot / "bin" / "gofmt"
    fmt = subprocess.run([str(gofmt), "-l", "."], cwd=fixed_tree, capture_output=True, text=True, timeout=120)
    assert fmt.returncode == 0 and fmt.stdout == "", fmt.stdout + fmt.stderr
    build = _go(tc, fixed_tree, "build", "-trimpath", "./...")
    assert build.returncode == 0, build.stderr
    vet = _go(tc, fixed_tree, "vet", "./...")
    assert vet.returncode == 0, vet.stderr


@pytest.mark.go
@pytest.mark.parametrize("version", LAB_VERSIONS)
def test_fixture_sources_compile(version: str, tmp_path: Path) -> None:
    tc = _toolchain(version)
    tree = tmp_path / "go-src"
    shutil.copytree(GO_SRC, tree)
    build = _go(tc, tree, "vet", "./...")
    assert build.returncode == 0, build.stderr
