"""Lint one Go package: parse its files, index its declarations, run every rule.

A file that cannot be used (unreadable, not UTF-8, generated, a syntax error, a parse past the
time limit, nesting too deep for the analysis) is reported as skipped; the rest go on.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from mapdoctor.source import gotree, rule_goroutine, rule_lifetime, rule_prealloc, rule_profile_sites, rule_syncmap
from mapdoctor.source.context import FileContext
from mapdoctor.source.files import SourceFile, Unreadable, go_version, load
from mapdoctor.source.findings import Finding, ProfileSite, SkippedFile
from mapdoctor.source.gotree import GoParser, Node, ParseTimeout
from mapdoctor.source.profile_match import BlamedSite
from mapdoctor.source.scope import PackageIndex

#: A file whose parse takes longer is skipped (tree-sitter parses ~100k lines/s here).
PARSE_TIMEOUT_S = 5.0

FILE_RULES = (rule_prealloc.check, rule_goroutine.check, rule_syncmap.check, rule_lifetime.check_remade)


@dataclass(slots=True)
class PackageResult:
    findings: list[Finding] = field(default_factory=list)
    skipped: list[SkippedFile] = field(default_factory=list)
    files: int = 0
    lines: int = 0
    profile_sites: list[ProfileSite] = field(default_factory=list)


_parser: GoParser | None = None


def _get_parser() -> GoParser:
    global _parser
    if _parser is None:
        _parser = GoParser()
    return _parser


def lint_package(paths: Sequence[tuple[str, str]],
                 blamed: Sequence[tuple[str, BlamedSite]] = ()) -> PackageResult:
    """Lint the files of one package, given as (path, display path) pairs; ``blamed`` are the
    (path, site) lines a CPU profile blames in them, each to be covered or explained."""
    result = PackageResult()
    sources: list[SourceFile] = []
    for path, display in paths:
        try:
            sources.append(load(Path(path), display))
        except Unreadable as why:
            result.skipped.append(SkippedFile(display, str(why)))
    by_package: dict[str, list[SourceFile]] = {}
    for s in sources:
        by_package.setdefault(s.package, []).append(s)
    display_of = dict(paths)
    for group in by_package.values():
        names = {s.display for s in group}
        _lint_group(group, result, [(display_of.get(p, p), b) for p, b in blamed if display_of.get(p, p) in names])
    return result


def _lint_group(sources: list[SourceFile], result: PackageResult,
                blamed: Sequence[tuple[str, BlamedSite]] = ()) -> None:
    parser = _get_parser()
    pkg = PackageIndex()
    contexts: list[FileContext] = []
    for s in sources:
        try:
            tree = parser.parse(s.data, PARSE_TIMEOUT_S)
        except ParseTimeout as why:
            result.skipped.append(SkippedFile(s.display, str(why)))
            continue
        root = tree.root_node
        if root.has_error:
            result.skipped.append(SkippedFile(s.display, _syntax_error(root)))
            continue
        try:
            pkg.add_file(root)
        except RecursionError:
            result.skipped.append(SkippedFile(s.display, "nested too deeply to analyse"))
            continue
        contexts.append(FileContext(s.display, s.data, root, pkg, go_version=go_version(s.path.parent)))
    for c in contexts:
        c.package_files = contexts
    with gotree.indexed(c.root for c in contexts):
        _analyse(contexts, result, blamed)


def _analyse(contexts: list[FileContext], result: PackageResult,
             blamed: Sequence[tuple[str, BlamedSite]]) -> None:
    done: list[FileContext] = []
    for c in contexts:
        if _run(c, result):
            done.append(c)
    # A file nested too deeply was already reported by the file rules.
    with contextlib.suppress(RecursionError):
        rule_lifetime.check_package(done)
    if blamed:
        by_display = {c.display: c for c in done}
        sites = [(by_display[d], b) for d, b in blamed if d in by_display]
        with contextlib.suppress(RecursionError):
            result.profile_sites.extend(rule_profile_sites.explain(done, sites))
        result.profile_sites.extend(
            rule_profile_sites.outcome(b, d, reason="the file was skipped (see the skipped files)")
            for d, b in blamed if d not in by_display)
    for c in done:
        result.findings.extend(c.findings)
        result.files += 1
        result.lines += c.data.count(b"\n")


def _run(c: FileContext, result: PackageResult) -> bool:
    try:
        for rule in FILE_RULES:
            rule(c)
    except RecursionError:
        result.skipped.append(SkippedFile(c.display, "nested too deeply to analyse"))
        return False
    return True


def _syntax_error(root: Node) -> str:
    node = root
    while True:
        bad = next((c for c in node.children if c.is_error or c.is_missing), None)
        if bad is not None:
            node = bad
            break
        nxt = next((c for c in node.children if c.has_error), None)
        if nxt is None:
            break
        node = nxt
    row, col = node.start_point.row + 1, node.start_point.column + 1
    what = f"missing {node.type}" if node.is_missing else "syntax error"
    return f"{what} at line {row}, column {col}"
