"""MD004: sync.Map used as a write-heavy store of ever-new keys."""

from __future__ import annotations

from mapdoctor.source import gotree, loops
from mapdoctor.source.context import FileContext, file_query, first
from mapdoctor.source.findings import Confidence
from mapdoctor.source.gotree import Node, child, named, text
from mapdoctor.source.scope import Resolver

_STORES = """
(call_expression
  function: (selector_expression operand: (_) @recv field: (field_identifier) @m
    (#any-of? @m "Store" "LoadOrStore" "Swap"))
  arguments: (argument_list . (_) @key)) @call
"""

STORES = file_query("syncmap-stores", _STORES)


def check(ctx: FileContext) -> None:
    for caps in ctx.matches(STORES):
        call, recv, method, key = first(caps, "call"), first(caps, "recv"), first(caps, "m"), first(caps, "key")
        if call is None or recv is None or method is None or key is None:
            continue
        func = gotree.enclosing_function(call)
        if func is None:
            continue
        resolver = ctx.resolver(call)
        if resolver.type_of(recv).kind != "syncmap":
            continue
        loop = loops.innermost_loop(call)
        if loop is not None:
            varying = _varies_in(key, loop, resolver)
            if varying is None:
                continue
            where = f"in every iteration of the loop at line {loop.start_point.row + 1}"
            confidence = Confidence.HIGH if varying else Confidence.MEDIUM
            related = [ctx.related(loop, "the loop")]
        elif _is_handler(func) and not _constant(key):
            where, confidence, related = "on every request (HTTP handler)", Confidence.MEDIUM, []
        else:
            continue
        name = text(recv)
        message = (f"sync.Map {name} gets a new key ({text(key)}) {where} via {text(method)}: sync.Map "
                   f"is built for write-once, read-many keys; a stream of new keys copies its read map "
                   f"(Go <= 1.23) or allocates trie nodes and boxes keys (Go >= 1.24) — a map guarded by "
                   f"a sync.Mutex (or sharded maps) is cheaper for write-heavy use")
        ctx.add("MD004", call, message, confidence, symbol=name, related=related)


def _varies_in(key: Node, loop: Node, resolver: Resolver) -> bool | None:
    """True when the key uses a variable that changes per iteration, None when it is constant
    across iterations, False when it cannot be told (a call, say)."""
    if _constant(key):
        return None
    for n in gotree.walk(key):
        if n.type == "identifier":
            d = resolver.decl_of(n)
            if d is not None and d.node is not None and gotree.contains(loop, d.node):
                return True
            # A variable declared outside but assigned in the loop changes too.
            body = child(loop, "body")
            if d is not None and body is not None and loops.assigned_in(body, {text(n)}):
                return True
        elif n.type == "call_expression":
            return False
    return None


def _constant(expr: Node) -> bool:
    return all(n.type not in ("identifier", "call_expression") for n in gotree.walk(expr)) or (
        gotree.unparen(expr).type in ("interpreted_string_literal", "raw_string_literal", "int_literal")
    )


def _is_handler(func: Node) -> bool:
    params = child(func, "parameters")
    return params is not None and any(
        text(t) == "*http.Request" for p in named(params) for t in [child(p, "type")] if t is not None
    )
