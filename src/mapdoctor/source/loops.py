"""Loops: is the trip count known before the loop starts, and can the body skip or leave early?"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from mapdoctor.source import gotree
from mapdoctor.source.gotree import Node, child, named, text
from mapdoctor.source.scope import Resolver

#: Statements whose unlabeled ``break`` targets themselves rather than an enclosing loop.
_BREAK_TARGETS = frozenset({"for_statement", "expression_switch_statement", "type_switch_statement",
                            "select_statement"})
#: Where a statement runs only under a condition.
_CONDITIONAL = frozenset({"if_statement", "expression_switch_statement", "type_switch_statement",
                          "select_statement", "expression_case", "type_case", "default_case",
                          "communication_case"})


@dataclass(frozen=True, slots=True)
class TripCount:
    """What is known about how many times a loop runs.

    ``bound`` is a Go expression for the count (or an upper bound of it), valid before the loop;
    ``known`` is False for loops whose count cannot be known before they start (channels, func
    iterators, while-style loops) and None when the ranged expression's type could not be
    resolved.
    """

    bound: str | None
    known: bool | None
    what: str  # a few words for messages: "range over a slice", "range over a func iterator"...
    header: Node | None = None  # the expression the bound is derived from


def trip_count(loop: Node, resolver: Resolver) -> TripCount:
    clause = next((c for c in named(loop) if c.type in ("range_clause", "for_clause")), None)
    if clause is None:
        return TripCount(None, False, "loop without a counted header")
    if clause.type == "range_clause":
        return _range_count(clause, resolver)
    return _counted(loop, clause, resolver)


def _range_count(clause: Node, resolver: Resolver) -> TripCount:
    right = child(clause, "right")
    if right is None:
        return TripCount(None, False, "range")
    expr = gotree.unparen(right)
    if expr.type == "int_literal":
        return TripCount(text(expr), True, "range over an integer", expr)
    typ = resolver.type_of(expr)
    pure = is_pure(expr, resolver)
    if typ.kind in ("slice", "array", "map", "string"):
        what = f"range over {'an' if typ.kind == 'array' else 'a'} {typ.kind}"
        return TripCount(f"len({text(expr)})" if pure else None, True, what, expr)
    if typ.kind == "int":
        return TripCount(text(expr) if pure else None, True, "range over an integer", expr)
    if typ.kind == "func":
        return TripCount(None, False, "range over a func iterator", expr)
    if typ.kind == "chan":
        return TripCount(None, False, "range over a channel", expr)
    if typ.kind == "ptr":
        return TripCount(f"len({text(expr)})" if pure else None, None, "range over a pointer", expr)
    if expr.type == "call_expression":
        return TripCount(None, None, "range over a call's result", expr)
    return TripCount(f"len({text(expr)})" if pure else None, None,
                     f"range over {text(expr)} (type not resolved)", expr)


def _counted(loop: Node, clause: Node, resolver: Resolver) -> TripCount:
    init, cond, update = child(clause, "initializer"), child(clause, "condition"), child(clause, "update")
    unknown = TripCount(None, False, "counted loop with an unknown bound")
    if init is None or cond is None or update is None:
        return unknown
    var, start = _init_var(init)
    if var is None or start is None:
        return unknown
    if not _is_increment(update, var):
        return unknown
    cond = gotree.unparen(cond)
    if cond.type != "binary_expression":
        return unknown
    left, op, right = child(cond, "left"), child(cond, "operator"), child(cond, "right")
    if left is None or op is None or right is None:
        return unknown
    o = text(op)
    if text(left) == var and o in ("<", "<="):
        limit, inclusive = right, o == "<="
    elif text(right) == var and o in (">", ">="):
        limit, inclusive = left, o == ">="
    else:
        return unknown
    body = child(loop, "body")
    if not is_pure(limit, resolver) or body is None:
        return unknown
    if assigned_in(body, {var} | identifiers(limit)):
        return TripCount(None, False, "counted loop whose bound or counter changes in the body")
    lim = text(gotree.unparen(limit))
    if limit.type == "binary_expression":
        lim = f"({lim})"
    offset = start - (1 if inclusive else 0)
    if offset == 0:
        bound = lim
    elif offset < 0:
        bound = f"{lim}+{-offset}"
    else:
        bound = f"{lim}-{offset}"
    if gotree.unparen(limit).type == "int_literal":
        with contextlib.suppress(ValueError):
            bound = str(max(0, int(text(limit), 0) - offset))
    return TripCount(bound, True, "counted loop", limit)


def _init_var(init: Node) -> tuple[str | None, int | None]:
    if init.type not in ("short_var_declaration", "assignment_statement"):
        return None, None
    left, right = child(init, "left"), child(init, "right")
    if left is None or right is None or left.named_child_count != 1 or right.named_child_count != 1:
        return None, None
    var, value = named(left)[0], gotree.unparen(named(right)[0])
    if var.type != "identifier":
        return None, None
    if value.type == "call_expression":  # int64(0): a conversion of a literal
        args = child(value, "arguments")
        inner = named(args) if args is not None else []
        if len(inner) != 1:
            return None, None
        value = inner[0]
    if value.type != "int_literal":
        return None, None
    try:
        return text(var), int(text(value).replace("_", ""), 0)
    except ValueError:
        return None, None


def _is_increment(update: Node, var: str) -> bool:
    if update.type == "inc_statement":
        ops = named(update)
        return len(ops) == 1 and text(ops[0]) == var
    if update.type == "assignment_statement":
        left, op, right = child(update, "left"), child(update, "operator"), child(update, "right")
        if left is None or op is None or right is None or text(left) != var:
            return False
        if text(op) == "+=":
            return text(right) == "1"
        if text(op) == "=":
            r = "".join(text(right).split())
            return r in (f"{var}+1", f"1+{var}")
    return False


def identifiers(expr: Node) -> set[str]:
    return {text(n) for n in gotree.walk(expr) if n.type == "identifier"}


def is_pure(expr: Node, resolver: Resolver | None = None, depth: int = 0) -> bool:
    """An expression that can be evaluated earlier without side effects: identifiers,
    field selections, constants, ``len``/``cap`` of those and + - * of those."""
    if depth > 16:
        return False
    e = gotree.unparen(expr)
    t = e.type
    if t in ("identifier", "int_literal", "interpreted_string_literal", "raw_string_literal"):
        return True
    if t == "selector_expression":
        operand = child(e, "operand")
        return operand is not None and is_pure(operand, resolver, depth + 1)
    if t == "call_expression":
        fn, args = child(e, "function"), child(e, "arguments")
        if fn is None or args is None or fn.type != "identifier" or text(fn) not in ("len", "cap"):
            return False
        if resolver is not None and resolver.is_local(fn):
            return False  # a local function shadowing the builtin
        inner = named(args)
        return len(inner) == 1 and is_pure(inner[0], resolver, depth + 1)
    if t == "binary_expression":
        op, left, right = child(e, "operator"), child(e, "left"), child(e, "right")
        return (op is not None and text(op) in ("+", "-", "*") and left is not None and right is not None
                and is_pure(left, resolver, depth + 1) and is_pure(right, resolver, depth + 1))
    return False


def assigned_in(region: Node, names: set[str]) -> bool:
    """Whether any of ``names`` is assigned, incremented or re-declared inside ``region``."""
    for n in gotree.walk(region):
        t = n.type
        if t in ("assignment_statement", "short_var_declaration"):
            left = child(n, "left")
            if left is not None and any(text(x) in names for x in named(left)):
                return True
        elif t in ("inc_statement", "dec_statement"):
            if any(text(x) in names for x in named(n)):
                return True
        elif t == "range_clause":
            left = child(n, "left")
            if left is not None and any(text(x) in names for x in named(left)):
                return True
    return False


@dataclass(frozen=True, slots=True)
class Exits:
    """Statements in a loop body that skip the rest of an iteration or leave the loop."""

    skips: list[Node]  # continue
    leaves: list[Node]  # break, return, goto

    @property
    def any(self) -> bool:
        return bool(self.skips or self.leaves)

    def describe(self) -> str:
        kinds = sorted({n.type.removesuffix("_statement") for n in (*self.skips, *self.leaves)})
        return "/".join(kinds)


def exits(loop: Node) -> Exits:
    body = child(loop, "body")
    skips: list[Node] = []
    leaves: list[Node] = []
    if body is None:
        return Exits(skips, leaves)
    own_labels = {text(lbl) for n in gotree.walk(body, into_functions=False)
                  if n.type == "labeled_statement" for lbl in [child(n, "label")] if lbl is not None}
    for n in gotree.walk(body, into_functions=False):
        t = n.type
        if t == "return_statement" or t == "goto_statement":
            leaves.append(n)
        elif t in ("break_statement", "continue_statement"):
            label = next((c for c in named(n) if c.type == "label_name"), None)
            if label is not None:
                if text(label) not in own_labels:
                    (leaves if t == "break_statement" else skips).append(n)
                continue
            targets = _BREAK_TARGETS if t == "break_statement" else frozenset({"for_statement"})
            target = gotree.enclosing(n, targets | gotree.FUNCTION_TYPES)
            if target is not None and target.id == loop.id:
                (leaves if t == "break_statement" else skips).append(n)
    return Exits(skips, leaves)


def innermost_loop(node: Node) -> Node | None:
    """The closest enclosing for statement within the same function."""
    return gotree.innermost_loop(node)


def is_conditional(node: Node, loop: Node) -> bool:
    """Whether ``node`` runs only under a condition inside ``loop``'s body."""
    p = gotree.parent(node)
    while p is not None and p.id != loop.id:
        if p.type in _CONDITIONAL:
            return True
        p = gotree.parent(p)
    return False
