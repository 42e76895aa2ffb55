"""Parsing Go with tree-sitter under a time limit, and small utilities over its syntax nodes."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterable, Iterator

import tree_sitter
import tree_sitter_go

from mapdoctor.source.findings import Span

Node = tree_sitter.Node

GO_LANGUAGE = tree_sitter.Language(tree_sitter_go.language())


FUNCTION_TYPES = frozenset({"function_declaration", "method_declaration", "func_literal"})


class ParseTimeout(Exception):
    """The parser ran past its time limit."""


class GoParser:
    """One tree-sitter parser, reused for every file of a worker."""

    def __init__(self) -> None:
        self._parser = tree_sitter.Parser(GO_LANGUAGE)

    def parse(self, data: bytes, timeout_s: float) -> tree_sitter.Tree:
        deadline = time.monotonic() + timeout_s
        view = memoryview(data)

        def read(offset: int, _point: tree_sitter.Point) -> memoryview:
            return view[offset:]

        def progress(_offset: int, _has_error: bool) -> bool:
            return time.monotonic() > deadline  # True halts the parse

        # Only callback-fed parses take a progress callback (the time limit), but their trees
        # fetch node text through the callback again, slowly: the timed parse is followed by
        # an incremental re-parse from bytes, which reuses the whole tree (a few ms).
        try:
            timed = self._parser.parse(read, progress_callback=progress)
        except ValueError:
            # A halted parse leaves the parser mid-way: reset it before the next file.
            self._parser.reset()
            raise ParseTimeout(f"parsing took longer than {timeout_s:g} s") from None
        return self._parser.parse(data, old_tree=timed)


def query(source: str) -> tree_sitter.Query:
    return tree_sitter.Query(GO_LANGUAGE, source)


def text(node: Node) -> str:
    raw = node.text
    return raw.decode("utf-8", "replace") if raw is not None else ""


def child(node: Node, name: str) -> Node | None:
    return node.child_by_field_name(name)


def named(node: Node) -> list[Node]:
    return [c for c in node.children if c.is_named and c.type != "comment"]


def statements(block: Node) -> list[Node]:
    """Statements of a ``block`` (this grammar wraps them in a ``statement_list``)."""
    out: list[Node] = []
    for c in block.children:
        if c.type == "statement_list":
            out.extend(s for s in c.children if s.is_named and s.type != "comment")
        elif c.is_named and c.type not in ("comment", "{", "}"):
            out.append(c)
    return out


def unparen(node: Node) -> Node:
    while node.type == "parenthesized_expression" and node.named_child_count == 1:
        inner = node.named_child(0)
        if inner is None:
            break
        node = inner
    return node


def walk(node: Node, *, into_functions: bool = True) -> Iterator[Node]:
    """Every node under ``node`` (itself included), iteratively: deep trees must not recurse."""
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        if not into_functions and n is not node and n.type in FUNCTION_TYPES:
            continue
        stack.extend(reversed(n.children))


# tree-sitter finds a node's parent by descending from the root, so walking up from a node
# `depth` levels deep costs depth² steps, and rules that ask this for every node of a deeply
# nested function turn cubic (2,000 nested loops never finished). While a package is analysed
# its trees are indexed once, top-down: each node's parent, enclosing function and innermost
# loop become dictionary look-ups, and the analysis stays linear in the tree's size.
_PARENT: dict[int, Node] = {}
_FUNCTION: dict[int, Node | None] = {}
_LOOP: dict[int, Node | None] = {}


@contextlib.contextmanager
def indexed(roots: Iterable[Node]) -> Iterator[None]:
    """Index the trees under ``roots`` for the duration of the block (node ids are only
    unique while their trees are alive, so the index must not outlive them)."""
    keys: list[int] = []
    for root in roots:
        _FUNCTION[root.id] = None
        _LOOP[root.id] = None
        keys.append(root.id)
        stack = [root]
        while stack:
            n = stack.pop()
            nid = n.id
            func = n if n.type in FUNCTION_TYPES else _FUNCTION[nid]
            loop = n if n.type == "for_statement" else (None if n.type in FUNCTION_TYPES else _LOOP[nid])
            for c in n.children:
                cid = c.id
                _PARENT[cid] = n
                _FUNCTION[cid] = func
                _LOOP[cid] = loop
                keys.append(cid)
                stack.append(c)
    try:
        yield
    finally:
        for k in keys:
            _PARENT.pop(k, None)
            _FUNCTION.pop(k, None)
            _LOOP.pop(k, None)


def parent(node: Node) -> Node | None:
    got = _PARENT.get(node.id)
    return got if got is not None else node.parent


def enclosing(node: Node, types: frozenset[str] | set[str], stop: Node | None = None) -> Node | None:
    p = parent(node)
    while p is not None:
        if p.type in types:
            return p
        if stop is not None and p.id == stop.id:
            return None
        p = parent(p)
    return None


def enclosing_function(node: Node) -> Node | None:
    nid = node.id
    if nid in _FUNCTION:
        return _FUNCTION[nid]
    return enclosing(node, FUNCTION_TYPES)


def innermost_loop(node: Node) -> Node | None:
    """The closest enclosing for statement within the same function."""
    nid = node.id
    if nid in _LOOP:
        return _LOOP[nid]
    p = enclosing(node, frozenset({"for_statement"}) | FUNCTION_TYPES)
    return p if p is not None and p.type == "for_statement" else None


def contains(outer: Node, inner: Node) -> bool:
    return outer.start_byte <= inner.start_byte and inner.end_byte <= outer.end_byte


class LineIndex:
    """Turns byte offsets into 1-based lines and character columns."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def column(self, byte: int, row: int, byte_column: int) -> int:
        start = byte - byte_column
        prefix = self.data[start:byte]
        if prefix.isascii():
            return byte_column + 1
        return len(prefix.decode("utf-8", "replace")) + 1

    def span(self, node: Node, end: Node | None = None) -> Span:
        last = end if end is not None else node
        sp, ep = node.start_point, last.end_point
        return Span(
            line=sp.row + 1,
            column=self.column(node.start_byte, sp.row, sp.column),
            end_line=ep.row + 1,
            end_column=self.column(last.end_byte, ep.row, ep.column),
            start_byte=node.start_byte,
            end_byte=last.end_byte,
        )
