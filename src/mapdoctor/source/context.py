"""What every rule gets for one file: its tree, its package, the means to make findings."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import tree_sitter

from mapdoctor.source import gotree
from mapdoctor.source.findings import Confidence, Finding, Fix, Related, Severity, Span, TextEdit
from mapdoctor.source.gotree import LineIndex, Node
from mapdoctor.source.rules import RULES
from mapdoctor.source.scope import FunctionScope, PackageIndex, Resolver


@dataclass(slots=True)
class FileContext:
    display: str
    data: bytes
    root: Node
    pkg: PackageIndex
    #: all files of the package (for rules that look across files), this one included.
    package_files: list[FileContext] = field(default_factory=list)
    go_version: tuple[int, int] | None = None
    lines: LineIndex = field(init=False)
    findings: list[Finding] = field(default_factory=list)
    _resolvers: dict[int, Resolver] = field(default_factory=dict)
    _matches: dict[str, list[dict[str, list[Node]]]] | None = None

    def matches(self, name: str) -> list[dict[str, list[Node]]]:
        """Matches of the file-level query part ``name`` (see :func:`file_query`). All parts run
        in one pass over the tree: a query costs mostly its traversal, not its patterns."""
        if self._matches is None:
            query, owners = _combined_query()
            self._matches = {n: [] for n in _FILE_QUERY_PARTS}
            for index, caps in tree_sitter.QueryCursor(query).matches(self.root):
                self._matches[owners[index]].append(caps)
        return self._matches[name]

    def __post_init__(self) -> None:
        self.lines = LineIndex(self.data)

    def resolver(self, node: Node) -> Resolver:
        """The resolver of the outermost function around ``node`` (closures share it)."""
        func = gotree.enclosing_function(node) if node.type not in gotree.FUNCTION_TYPES else node
        outer = func
        while outer is not None:
            up = gotree.enclosing_function(outer)
            if up is None:
                break
            outer = up
        key = outer.id if outer is not None else -1
        r = self._resolvers.get(key)
        if r is None:
            r = Resolver(FunctionScope(outer if outer is not None else self.root, self.pkg))
            self._resolvers[key] = r
        return r

    def span(self, node: Node, end: Node | None = None) -> Span:
        return self.lines.span(node, end)

    def edit(self, node: Node, replacement: str) -> TextEdit:
        return TextEdit(self.span(node), replacement)

    def related(self, node: Node, message: str) -> Related:
        sp = self.span(node)
        return Related(sp.line, sp.column, message)

    def mentions(self, node: Node, name: str) -> bool:
        """Whether ``name`` appears as a word in ``node``'s source (a cheap, conservative test)."""
        return re.search(rb"\b" + re.escape(name.encode()) + rb"\b",
                         self.data[node.start_byte:node.end_byte]) is not None

    def add(
        self,
        rule: str,
        node: Node,
        message: str,
        confidence: Confidence,
        *,
        symbol: str = "",
        bound: str | None = None,
        fix: Fix | None = None,
        related: list[Related] | None = None,
        cost_lines: tuple[int, ...] = (),
        severity: Severity | None = None,
        key_size: int | None = None,
        elem_size: int | None = None,
    ) -> Finding:
        span = self.span(node)
        f = Finding(
            rule=rule,
            file=self.display,
            span=span,
            message=message,
            severity=severity or RULES[rule].severity,
            confidence=confidence,
            symbol=symbol,
            bound=bound,
            fix=fix,
            related=related or [],
            cost_lines=tuple(sorted({span.line, *cost_lines})),
            key_size=key_size,
            elem_size=elem_size,
        )
        self.findings.append(f)
        return f


_QUERIES: dict[str, tree_sitter.Query] = {}
_FILE_QUERY_PARTS: dict[str, str] = {}
_COMBINED: list[tuple[tree_sitter.Query, list[str]]] = []


def file_query(name: str, source: str) -> str:
    """Register a query run over every file (read its matches with ``ctx.matches(name)``)."""
    _FILE_QUERY_PARTS[name] = source
    _COMBINED.clear()
    return name


def _combined_query() -> tuple[tree_sitter.Query, list[str]]:
    if not _COMBINED:
        owners: list[str] = []
        for name, source in _FILE_QUERY_PARTS.items():
            owners.extend([name] * gotree.query(source).pattern_count)
        _COMBINED.append((gotree.query("\n".join(_FILE_QUERY_PARTS.values())), owners))
    return _COMBINED[0]


def run_query(name: str, source: str, node: Node) -> list[tuple[int, dict[str, list[Node]]]]:
    """Matches of a (cached) query under ``node``."""
    q = _QUERIES.get(name)
    if q is None:
        q = _QUERIES[name] = gotree.query(source)
    return tree_sitter.QueryCursor(q).matches(node)


def first(captures: dict[str, list[Node]], name: str) -> Node | None:
    got = captures.get(name)
    return got[0] if got else None
