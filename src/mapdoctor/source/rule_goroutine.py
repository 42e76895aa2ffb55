"""MD003: a map written from a goroutine with no visible synchronisation."""

from __future__ import annotations

import re
from dataclasses import dataclass

from mapdoctor.source import gotree, loops
from mapdoctor.source.context import FileContext, file_query, first, run_query
from mapdoctor.source.findings import Confidence
from mapdoctor.source.gotree import Node, child, named, text
from mapdoctor.source.scope import Resolver

_GO = "(go_statement (call_expression function: (_) @fn arguments: (argument_list) @args)) @go"

GO = file_query("goroutine-go", _GO)

_WRITES = """
(assignment_statement left: (expression_list (index_expression operand: (_) @obj))) @w
(inc_statement (index_expression operand: (_) @obj)) @w
(dec_statement (index_expression operand: (_) @obj)) @w
(call_expression function: (identifier) @fn (#eq? @fn "delete") arguments: (argument_list . (_) @obj)) @w
"""

_LOCKS = """
(call_expression function: (selector_expression field: (field_identifier) @m
  (#any-of? @m "Lock" "RLock" "TryLock" "TryRLock"))) @lock
"""

#: Calls after which the launching function may touch the map again safely.
_WAITS = """
(call_expression function: (selector_expression field: (field_identifier) @m (#any-of? @m "Wait" "Lock"))) @wait
(unary_expression operator: "<-") @wait
(select_statement) @wait
"""


@dataclass(frozen=True, slots=True)
class _Shared:
    key: str  # identity: "var:<decl offset>", "pkg:<name>", "field:<name>"
    name: str  # as written
    write: Node
    origin: str  # "captured", "package-level", "argument", "field"
    decl_node: Node | None = None  # the local declaration, for captured variables and arguments


def check(ctx: FileContext) -> None:
    for caps in ctx.matches(GO):
        go, fn, args = first(caps, "go"), first(caps, "fn"), first(caps, "args")
        if go is None or fn is None or args is None:
            continue
        launcher = gotree.enclosing_function(go)
        if launcher is None:
            continue
        _check_go(ctx, go, gotree.unparen(fn), named(args), launcher)


def _check_go(ctx: FileContext, go: Node, fn: Node, args: list[Node], launcher: Node) -> None:
    outer = ctx.resolver(go)
    shared: list[_Shared] = []
    if fn.type == "func_literal":
        body = child(fn, "body")
        if body is None or _locks(body):
            return
        shared = _shared_in_literal(ctx, fn, body, args, outer)
        target = "func literal"
    else:
        decl, body_ctx = _callee(ctx, fn, outer)
        if decl is None or body_ctx is None:
            return
        body = child(decl, "body")
        if body is None or _locks(body):
            return
        shared = _shared_in_callee(body_ctx, decl, body, args, outer, fn)
        target = text(fn)
    seen: set[str] = set()
    for s in shared:
        if s.key in seen:
            continue
        seen.add(s.key)
        _report(ctx, go, launcher, target, s, outer)


def _locks(body: Node) -> bool:
    return bool(run_query("goroutine-locks", _LOCKS, body))


def _writes(body: Node) -> list[tuple[Node, Node]]:
    out: list[tuple[Node, Node]] = []
    for _, caps in run_query("goroutine-writes", _WRITES, body):
        w, obj = first(caps, "w"), first(caps, "obj")
        if w is None or obj is None:
            continue
        # Writes inside a nested `go` are that goroutine's business (checked on their own).
        inner_go = gotree.enclosing(w, frozenset({"go_statement"}), stop=body)
        if inner_go is None:
            out.append((w, gotree.unparen(obj)))
    return out


def _passed_ident(name: str, params: dict[str, int], args: list[Node]) -> Node | None:
    """The identifier the go statement passes for parameter ``name``, if it passes one."""
    idx = params[name]
    return args[idx] if idx < len(args) and args[idx].type == "identifier" else None


def _shared_in_literal(ctx: FileContext, lit: Node, body: Node, args: list[Node], outer: Resolver) -> list[_Shared]:
    params = _param_names(lit)
    out: list[_Shared] = []
    for w, obj in _writes(body):
        if obj.type == "identifier":
            name = text(obj)
            if name in params:
                arg = _passed_ident(name, params, args)
                if arg is not None:
                    s = _outer_map(ctx, arg, outer, w, "argument")
                    if s is not None:
                        out.append(s)
                continue
            decl = outer.decl_of(obj)
            if decl is not None and decl.node is not None and gotree.contains(lit, decl.node):
                continue  # the goroutine's own map
            s = _outer_map(ctx, obj, outer, w, "captured")
            if s is not None:
                out.append(s)
        elif obj.type == "selector_expression" and outer.type_of(obj).kind == "map":
            base = _base_ident(obj)
            if base is not None:
                decl = outer.decl_of(base)
                if decl is not None and decl.node is not None and gotree.contains(lit, decl.node):
                    continue
            out.append(_Shared(f"field:{text(obj)}", text(obj), w, "field"))
    return out


def _outer_map(ctx: FileContext, ident: Node, outer: Resolver, write: Node, origin: str) -> _Shared | None:
    if outer.type_of(ident).kind != "map":
        return None
    name = text(ident)
    decl = outer.decl_of(ident)
    if decl is None:
        if name in ctx.pkg.vars:
            return _Shared(f"pkg:{name}", name, write, "package-level")
        return None
    return _Shared(f"var:{decl.visible_from}", name, write, origin, decl.node)


def _param_names(func: Node) -> dict[str, int]:
    out: dict[str, int] = {}
    params = child(func, "parameters")
    i = 0
    for p in named(params) if params is not None else []:
        names = p.children_by_field_name("name")
        for n in names or [p]:
            if names:
                out[text(n)] = i
            i += 1
    return out


def _callee(ctx: FileContext, fn: Node, outer: Resolver) -> tuple[Node | None, FileContext | None]:
    """The declaration of a function or method started with `go f(...)`, in this package."""
    name = ""
    recv_type = ""
    if fn.type == "identifier":
        if outer.is_local(fn):
            return None, None
        name = text(fn)
    elif fn.type == "selector_expression":
        operand, field = child(fn, "operand"), child(fn, "field")
        if operand is None or field is None:
            return None, None
        name = text(field)
        recv_type = outer.type_of(operand).name
        if not recv_type:
            return None, None
    else:
        return None, None
    for f in ctx.package_files or [ctx]:
        decl = f.pkg.methods.get((recv_type, name)) if recv_type else f.pkg.funcs.get(name)
        if decl is not None and gotree.contains(f.root, decl):
            return decl, f
    return None, None


def _shared_in_callee(callee_ctx: FileContext, decl: Node, body: Node, args: list[Node],
                      outer: Resolver, fn: Node) -> list[_Shared]:
    inner = callee_ctx.resolver(body)
    params = _param_names(decl)
    recv = child(decl, "receiver")
    recv_names = {text(n) for p in (named(recv) if recv is not None else [])
                  for n in p.children_by_field_name("name")}
    out: list[_Shared] = []
    for w, obj in _writes(body):
        if obj.type == "identifier":
            name = text(obj)
            if name in params:
                arg = _passed_ident(name, params, args)
                if arg is not None:
                    s = _outer_map_from_arg(arg, outer, w)
                    if s is not None and inner.type_of(obj).kind == "map":
                        out.append(s)
                continue
            if inner.is_local(obj):
                continue
            if name in callee_ctx.pkg.vars and inner.type_of(obj).kind == "map":
                out.append(_Shared(f"pkg:{name}", name, w, "package-level"))
        elif obj.type == "selector_expression":
            base = _base_ident(obj)
            if base is not None and text(base) in recv_names and inner.type_of(obj).kind == "map":
                out.append(_Shared(f"field:{text(obj)}", text(obj), w, "field"))
    return out


def _outer_map_from_arg(arg: Node, outer: Resolver, write: Node) -> _Shared | None:
    if outer.type_of(arg).kind != "map":
        return None
    decl = outer.decl_of(arg)
    key = f"var:{decl.visible_from}" if decl is not None else f"pkg:{text(arg)}"
    return _Shared(key, text(arg), write, "argument", decl.node if decl is not None else None)


def _base_ident(sel: Node) -> Node | None:
    n: Node | None = sel
    while n is not None and n.type == "selector_expression":
        n = child(n, "operand")
    return n if n is not None and n.type == "identifier" else None


def _report(ctx: FileContext, go: Node, launcher: Node, target: str, s: _Shared, outer: Resolver) -> None:
    go_line = go.start_point.row + 1
    in_loop = loops.innermost_loop(go)
    own_per_iteration = (
        in_loop is not None and s.decl_node is not None and gotree.contains(in_loop, s.decl_node)
    )
    why: str
    confidence: Confidence
    if in_loop is not None and not own_per_iteration:
        confidence, why = Confidence.HIGH, "the go statement runs in a loop, so several goroutines write it"
    elif _used_after(ctx, go, launcher, s):
        confidence, why = Confidence.HIGH, "the launching function keeps using it while the goroutine runs"
    elif s.origin in ("package-level", "field"):
        confidence, why = Confidence.MEDIUM, f"it is a {s.origin} map other goroutines can reach"
    else:
        return
    where = f"goroutine started at line {go_line} ({'go ' + target if target != 'func literal' else 'go func'})"
    message = (f"map {s.name} is written from the {where} with no lock held: {why}; concurrent map writes "
               f"crash the process (fatal error: concurrent map writes) — guard it with a sync.Mutex or "
               f"confine it to one goroutine")
    writer_ctx_same = gotree.contains(ctx.root, s.write)
    node = s.write if writer_ctx_same else go
    related = [ctx.related(go, "goroutine started here")]
    ctx.add("MD003", node, message, confidence, symbol=s.name, related=related)


def _used_after(ctx: FileContext, go: Node, launcher: Node, s: _Shared) -> bool:
    """Whether the launching function mentions the map after the go statement, before any
    wait (WaitGroup.Wait, a lock, a channel receive)."""
    body = child(launcher, "body")
    if body is None:
        return False
    name = s.name.split(".")[-1]
    waits = [n.start_byte for _, caps in run_query("goroutine-waits", _WAITS, body)
             for n in caps.get("wait", []) if n.start_byte >= go.end_byte]
    limit = min(waits) if waits else body.end_byte
    region = ctx.data[go.end_byte:limit]
    # A later mention inside another go statement counts too: it is a second writer.
    return re.search(rb"\b" + re.escape(name.encode()) + rb"\b", region) is not None
