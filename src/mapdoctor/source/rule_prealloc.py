"""MD001 (map without a size hint) and MD002 (slice without a capacity), filled in a counted loop."""

from __future__ import annotations

from dataclasses import dataclass

from mapdoctor.source import gotree, loops
from mapdoctor.source.context import FileContext, file_query, first, run_query
from mapdoctor.source.findings import Confidence, Fix
from mapdoctor.source.gosizes import map_layout
from mapdoctor.source.gotree import Node, child, named, text

_DECLS = """
(short_var_declaration
  left: (expression_list . (identifier) @name .)
  right: (expression_list . [
    (call_expression function: (identifier) @fn arguments: (argument_list . [(map_type) (slice_type)] @type))
    (composite_literal type: [(map_type) (slice_type)] @type body: (literal_value))
  ] @value .)) @decl
(assignment_statement
  left: (expression_list . (identifier) @name .)
  right: (expression_list . [
    (call_expression function: (identifier) @fn arguments: (argument_list . [(map_type) (slice_type)] @type))
    (composite_literal type: [(map_type) (slice_type)] @type body: (literal_value))
  ] @value .)) @decl
(var_declaration (var_spec name: (identifier) @name type: [(map_type) (slice_type)]? @type
  value: (expression_list . [
    (call_expression function: (identifier) @fn arguments: (argument_list . [(map_type) (slice_type)] @type))
    (composite_literal type: [(map_type) (slice_type)] @type body: (literal_value))
  ] @value .))) @decl
(var_declaration (var_spec name: (identifier) @name type: (slice_type) @type)) @decl
"""

DECLS = file_query("prealloc-decls", _DECLS)

_MAP_WRITES = """
(assignment_statement left: (expression_list (index_expression operand: (identifier) @obj))) @w
(inc_statement (index_expression operand: (identifier) @obj)) @w
(dec_statement (index_expression operand: (identifier) @obj)) @w
"""

_APPENDS = """
(assignment_statement
  left: (expression_list . (identifier) @lhs .)
  right: (expression_list . (call_expression function: (identifier) @fn arguments: (argument_list) @args) .)) @w
"""


#: How many statements after the declaration the filling loop is looked for.
MAX_LOOKAHEAD = 64


@dataclass(slots=True)
class _Decl:
    stmt: Node  # the statement in its block
    name: str
    kind: str  # "map" | "slice"
    type_node: Node
    value: Node | None  # make(...) or T{}; None for `var s []T`


def check(ctx: FileContext) -> None:
    for caps in ctx.matches(DECLS):
        d = _candidate(caps)
        if d is None:
            continue
        block = gotree.parent(d.stmt)
        if block is None or block.type != "statement_list" or gotree.enclosing_function(d.stmt) is None:
            continue
        _check_decl(ctx, d, block)


def _candidate(caps: dict[str, list[Node]]) -> _Decl | None:
    stmt, name, typ = first(caps, "decl"), first(caps, "name"), caps.get("type")
    if stmt is None or name is None or not typ:
        return None
    value = first(caps, "value")
    type_node = typ[-1]
    kind = "map" if type_node.type == "map_type" else "slice"
    if stmt.type == "var_declaration":
        specs = [c for c in named(stmt)]
        if len(specs) != 1 or specs[0].type != "var_spec" or len(specs[0].children_by_field_name("name")) != 1:
            return None
        if value is None and child(specs[0], "value") is not None:
            return None
    if stmt.type == "assignment_statement":
        op = child(stmt, "operator")
        if op is None or text(op) != "=":
            return None
    if value is not None:
        if value.type == "call_expression":
            fn = first(caps, "fn")
            args = child(value, "arguments")
            argv = named(args) if args is not None else []
            if fn is None or text(fn) != "make":
                return None
            if kind == "map" and len(argv) != 1:
                return None
            if kind == "slice" and (len(argv) != 2 or text(argv[1]) != "0"):
                return None
        else:
            body = child(value, "body")
            if body is None or named(body):
                return None
    elif kind != "slice":
        return None
    return _Decl(stmt, text(name), kind, type_node, value)


def _check_decl(ctx: FileContext, d: _Decl, block: Node) -> None:
    between: list[Node] = []
    sib = d.stmt.next_named_sibling
    for _ in range(MAX_LOOKAHEAD):
        if sib is None:
            return
        if sib.type == "comment":
            sib = sib.next_named_sibling
            continue
        loop = sib if sib.type == "for_statement" else None
        if sib.type == "labeled_statement":
            inner = [c for c in named(sib) if c.type == "for_statement"]
            loop = inner[0] if inner else None
        if loop is not None and ctx.mentions(loop, d.name):
            _check_loop(ctx, d, loop, between)
            return
        if ctx.mentions(sib, d.name):
            return  # used (or filled) before any loop: its final size is not the loop's count
        between.append(sib)
        sib = sib.next_named_sibling


def _check_loop(ctx: FileContext, d: _Decl, loop: Node, between: list[Node]) -> None:
    body = child(loop, "body")
    if body is None:
        return
    writes = _writes(ctx, d, body)
    if not writes:
        return
    func = gotree.enclosing_function(loop)
    for w in writes:
        inner = loops.innermost_loop(w)
        if inner is None or inner.id != loop.id:
            return  # filled in a nested loop or a closure: the count is not this loop's
        wf = gotree.enclosing_function(w)
        if wf is None or func is None or wf.id != func.id:
            return
    if _reassigned(ctx, d, body, writes):
        return
    resolver = ctx.resolver(loop)
    trip = loops.trip_count(loop, resolver)
    if trip.known is False:
        return
    if d.kind == "slice" and len(writes) > 1:
        return  # several appends per iteration: the count is a multiple we do not compute

    doubts: list[str] = []
    confidence = Confidence.HIGH
    if trip.bound is None:
        confidence = Confidence.MEDIUM
        doubts.append("the loop header has side effects: compute the count into a variable first")
    if trip.known is None:
        confidence = Confidence.LOW
        doubts.append(f"the trip count is unsure ({trip.what})")
    ex = loops.exits(loop)
    if ex.any:
        confidence = Confidence.LOW
        doubts.append(f"the loop may skip iterations or stop early ({ex.describe()})")
    if any(loops.is_conditional(w, loop) for w in writes):
        confidence = Confidence.LOW
        doubts.append("the write is conditional")
    if d.kind == "map" and confidence is not Confidence.LOW:
        if len(writes) > 1:
            confidence = Confidence.MEDIUM
            doubts.append(f"{len(writes)} writes per iteration")
        elif _updates_existing(writes[0]):
            confidence = Confidence.MEDIUM
            doubts.append("it updates entries, so keys may repeat")

    loop_line = loop.start_point.row + 1
    bound = trip.bound
    type_text = text(d.type_node)
    if d.kind == "map":
        rule = "MD001"
        suggestion = f"make({type_text}, {bound})" if bound else f"make({type_text}, n)"
        message = (f"map {d.name} is made without a size hint, then filled in the loop at line {loop_line} "
                   f"({trip.what}{f', {bound} iterations' if bound else ''}): "
                   f"{suggestion} allocates it once instead of growing it")
    else:
        rule = "MD002"
        suggestion = (f"make({type_text}, 0, {bound})" if bound
                      else f"make({type_text}, 0, n)")
        message = (f"slice {d.name} is grown by append in the loop at line {loop_line} "
                   f"({trip.what}{f', {bound} iterations' if bound else ''}) without a "
                   f"capacity: {suggestion} allocates it once")
    if doubts:
        message += "; " + "; ".join(doubts)
        if bound and confidence is not Confidence.HIGH:
            message += f", so {bound} is an upper bound"

    fix = _fix(ctx, d, loop, between, bound, trip, confidence) if bound else None
    layout = map_layout(d.type_node, ctx.pkg) if d.kind == "map" else None
    ctx.add(
        rule,
        d.value if d.value is not None else d.stmt,
        message,
        confidence,
        symbol=d.name,
        bound=bound,
        fix=fix,
        related=[ctx.related(w, "filled here") for w in writes],
        cost_lines=tuple(w.start_point.row + 1 for w in writes),
        key_size=layout.key_size if layout else None,
        elem_size=layout.elem_size if layout else None,
    )


def _writes(ctx: FileContext, d: _Decl, body: Node) -> list[Node]:
    out: list[Node] = []
    if d.kind == "map":
        for _, caps in run_query("prealloc-map-writes", _MAP_WRITES, body):
            obj, w = first(caps, "obj"), first(caps, "w")
            if obj is not None and w is not None and text(obj) == d.name:
                left = child(w, "left")
                # m[k] = v where m is the map itself (not m[k][j] = v on an inner map).
                targets = named(left) if left is not None else named(w)
                if any(t.type == "index_expression" and (o := child(t, "operand")) is not None
                       and o.id == obj.id for t in targets):
                    out.append(w)
        return out
    for _, caps in run_query("prealloc-appends", _APPENDS, body):
        lhs, fn, args, w = first(caps, "lhs"), first(caps, "fn"), first(caps, "args"), first(caps, "w")
        if lhs is None or fn is None or args is None or w is None or text(lhs) != d.name:
            continue
        if text(fn) != "append":
            continue
        argv = named(args)
        if len(argv) != 2 or text(argv[0]) != d.name or argv[1].type == "variadic_argument":
            return []  # appends several elements (or a spread) per iteration
        out.append(w)
    return out


def _updates_existing(write: Node) -> bool:
    if write.type in ("inc_statement", "dec_statement"):
        return True
    op = child(write, "operator")
    if op is not None and text(op) != "=":
        return True
    right = child(write, "right")
    # m[k] = append(m[k], v): a grouping, many values per key.
    return right is not None and "append(" in text(right)


def _reassigned(ctx: FileContext, d: _Decl, body: Node, writes: list[Node]) -> bool:
    """Whether the loop re-declares, reassigns or resets the variable (s = s[:0], m = nil...)."""
    write_ids = {w.id for w in writes}
    for n in gotree.walk(body):
        if n.id in write_ids:
            continue
        t = n.type
        if t in ("assignment_statement", "short_var_declaration"):
            left = child(n, "left")
            if left is not None and any(x.type == "identifier" and text(x) == d.name for x in named(left)):
                return True
        elif t == "var_spec":
            if any(text(x) == d.name for x in n.children_by_field_name("name")):
                return True
        elif t == "range_clause":
            left = child(n, "left")
            if left is not None and any(text(x) == d.name for x in named(left)):
                return True
    return False


def _fix(ctx: FileContext, d: _Decl, loop: Node, between: list[Node], bound: str,
         trip: loops.TripCount, confidence: Confidence) -> Fix:
    type_text = text(d.type_node)
    new = f"make({type_text}, {bound})" if d.kind == "map" else f"make({type_text}, 0, {bound})"
    edit = ctx.edit(d.value, new) if d.value is not None else ctx.edit(d.stmt, f"{d.name} := {new}")
    description = f"use {new}"
    reason = _unsafe_reason(ctx, d, loop, between, trip, confidence)
    return Fix(description, (edit,), safe=not reason, unsafe_reason=reason)


def _unsafe_reason(ctx: FileContext, d: _Decl, loop: Node, between: list[Node],
                   trip: loops.TripCount, confidence: Confidence) -> str:
    if confidence is not Confidence.HIGH:
        return "the bound is only an upper bound here"
    if d.value is None:
        return "turns a nil slice into an empty one when the loop runs zero times"
    header = trip.header
    if header is None or not loops.is_pure(header, ctx.resolver(loop)):
        return "the bound has side effects"
    resolver = ctx.resolver(loop)
    names = {text(n) for n in gotree.walk(header) if n.type == "identifier"} - {"len", "cap"}
    for n in gotree.walk(header):
        if n.type != "identifier" or text(n) not in names:
            continue
        at_loop = resolver.decl_of(n)
        at_decl = resolver.scope.lookup(text(n), d.stmt)
        if at_loop is not None and (at_decl is None or at_decl.visible_from != at_loop.visible_from):
            return f"{text(n)} is declared after {d.name}"
    for stmt in between:
        if loops.assigned_in(stmt, names):
            return "the bound changes between the declaration and the loop"
    if any(n.type == "selector_expression" for n in gotree.walk(header)) and any(
        s.type not in ("short_var_declaration", "var_declaration", "assignment_statement",
                       "expression_statement", "inc_statement", "dec_statement", "comment")
        for s in between
    ):
        return "control flow between the declaration and the loop may guard the bound's evaluation"
    return ""
