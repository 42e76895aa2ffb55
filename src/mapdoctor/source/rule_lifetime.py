"""MD005 (a long-lived map that only ever shrinks by delete) and MD006 (a map re-made per
iteration where clear would reuse it)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from mapdoctor.source import gotree, loops
from mapdoctor.source.context import FileContext, file_query, first
from mapdoctor.source.findings import Confidence
from mapdoctor.source.gotree import Node, child, named, text

_DELETES_CLEARS = """
(call_expression function: (identifier) @fn (#any-of? @fn "delete" "clear")
  arguments: (argument_list . (_) @obj)) @call
"""

_ASSIGNS = "(assignment_statement left: (expression_list) @left) @assign"

_MAKES_IN_LOOPS = """
(short_var_declaration
  left: (expression_list . (identifier) @name .)
  right: (expression_list . [
    (call_expression function: (identifier) @fn (#eq? @fn "make") arguments: (argument_list . (map_type) @type))
    (composite_literal type: (map_type) @type body: (literal_value) @body)
  ] @value .)) @decl
(assignment_statement
  left: (expression_list . (identifier) @name .)
  right: (expression_list . [
    (call_expression function: (identifier) @fn (#eq? @fn "make") arguments: (argument_list . (map_type) @type))
    (composite_literal type: (map_type) @type body: (literal_value) @body)
  ] @value .)) @decl
"""

DELETES_CLEARS = file_query("lifetime-delete-clear", _DELETES_CLEARS)
ASSIGNS = file_query("lifetime-assigns", _ASSIGNS)
MAKES_IN_LOOPS = file_query("lifetime-makes", _MAKES_IN_LOOPS)

#: Functions that build a value for the first time: assigning a map there is initialisation.
_CONSTRUCTOR_PREFIXES = ("New", "new", "init", "Init", "make", "Make", "build", "Build")


@dataclass(slots=True)
class _LongLived:
    name: str
    decl: Node
    ctx: FileContext
    kind: str  # "package-level variable" | "struct field"
    deletes: list[tuple[FileContext, Node]] = field(default_factory=list)
    released: bool = False


def check_package(files: list[FileContext]) -> None:
    """MD005 across the files of one package."""
    if not files:
        return
    pkg = files[0].pkg
    pkg_maps: dict[str, _LongLived] = {}
    field_maps: dict[str, _LongLived] = {}
    for f in files:
        for decl in named(f.root):
            if decl.type == "var_declaration":
                for spec in gotree.walk(decl):
                    if spec.type != "var_spec":
                        continue
                    for n in spec.children_by_field_name("name"):
                        name = text(n)
                        typ, value = pkg.vars.get(name, (None, None))
                        if _is_map(f, typ, value):
                            pkg_maps[name] = _LongLived(name, spec, f, "package-level variable")
            elif decl.type == "type_declaration":
                for fd in gotree.walk(decl):
                    if fd.type == "field_declaration" and pkg.kind_of(child(fd, "type")).kind == "map":
                        for n in fd.children_by_field_name("name"):
                            field_maps.setdefault(text(n), _LongLived(text(n), fd, f, "struct field"))
    if not pkg_maps and not field_maps:
        return
    for f in files:
        _scan_uses(f, pkg_maps, field_maps)
    for lived in (*pkg_maps.values(), *field_maps.values()):
        if not lived.deletes or lived.released:
            continue
        first_del_ctx, first_del = lived.deletes[0]
        where = f"{first_del_ctx.display}:{first_del.start_point.row + 1}"
        message = (f"{lived.kind} map {lived.name} has entries deleted ({where}) but is never replaced "
                   f"or cleared: a Go map never gives back the memory of its peak size, so it stays "
                   f"as large as it ever was; copy the live entries into a new map from time to time")
        related = [c.related(n, "deleted here") for c, n in lived.deletes[:3] if c is lived.ctx]
        lived.ctx.add("MD005", lived.decl, message, Confidence.MEDIUM, symbol=lived.name, related=related)


def _is_map(f: FileContext, typ: Node | None, value: Node | None) -> bool:
    if typ is not None:
        return f.pkg.kind_of(typ).kind == "map"
    if value is not None:
        return f.resolver(value).type_of(value).kind == "map"
    return False


def _target(f: FileContext, obj: Node, pkg_maps: dict[str, _LongLived],
            field_maps: dict[str, _LongLived]) -> _LongLived | None:
    obj = gotree.unparen(obj)
    if obj.type == "identifier":
        lived = pkg_maps.get(text(obj))
        if lived is not None and not f.resolver(obj).is_local(obj):
            return lived
    elif obj.type == "selector_expression":
        fld = child(obj, "field")
        if fld is not None:
            return field_maps.get(text(fld))
    return None


def _scan_uses(f: FileContext, pkg_maps: dict[str, _LongLived], field_maps: dict[str, _LongLived]) -> None:
    for caps in f.matches(DELETES_CLEARS):
        call, fn, obj = first(caps, "call"), first(caps, "fn"), first(caps, "obj")
        if call is None or fn is None or obj is None:
            continue
        lived = _target(f, obj, pkg_maps, field_maps)
        if lived is None:
            continue
        if text(fn) == "clear" or _is_range_delete_all(call, obj):
            lived.released = True
        elif not _on_error_path(call):
            # A delete that only undoes a failed insert does not make the map shrink in use.
            lived.deletes.append((f, call))
    for caps in f.matches(ASSIGNS):
        assign, left = first(caps, "assign"), first(caps, "left")
        if assign is None or left is None:
            continue
        op = child(assign, "operator")
        if op is None or text(op) != "=":
            continue
        func = gotree.enclosing_function(assign)
        fname = child(func, "name") if func is not None and func.type != "func_literal" else None
        if fname is not None and text(fname).startswith(_CONSTRUCTOR_PREFIXES):
            continue
        for target in named(left):
            lived = _target(f, target, pkg_maps, field_maps)
            if lived is not None:
                lived.released = True


def _on_error_path(call: Node) -> bool:
    """Whether ``call`` runs only when something failed: inside an ``if`` whose condition tests an
    error (``err != nil``) or whose branch returns a non-nil error."""
    func = gotree.enclosing_function(call)
    n = gotree.parent(call)
    while n is not None and (func is None or n.id != func.id):
        up = gotree.parent(n)
        if n.type == "block" and up is not None and up.type == "if_statement":
            cond = child(up, "condition")
            if cond is not None and re.search(r"\berr\w*\s*!=\s*nil\b", text(cond)):
                return True
            if _returns_error(n, func):
                return True
        n = gotree.parent(n)
    return False


def _returns_error(block: Node, func: Node | None) -> bool:
    """The block ends in ``return ..., X`` with X not nil, in a function whose last result is error."""
    if func is None:
        return False
    result = child(func, "result")
    if result is None or not text(result).rstrip(")").rstrip().endswith("error"):
        return False
    stmts = gotree.statements(block)
    if not stmts or stmts[-1].type != "return_statement":
        return False
    values = named(stmts[-1])
    last = named(values[-1]) if values and values[-1].type == "expression_list" else values
    return bool(last) and text(last[-1]) != "nil"


def _is_range_delete_all(call: Node, obj: Node) -> bool:
    """``for k := range m { delete(m, k) }``: compiled to a clear of the map."""
    loop = loops.innermost_loop(call)
    args = child(call, "arguments")
    if loop is None or args is None:
        return False
    clause = next((c for c in named(loop) if c.type == "range_clause"), None)
    if clause is None:
        return False
    right, left = child(clause, "right"), child(clause, "left")
    argv = named(args)
    return (right is not None and left is not None and len(argv) == 2 and text(right) == text(obj)
            and bool(named(left)) and text(named(left)[0]) == text(argv[1]))


def check_remade(ctx: FileContext) -> None:
    """MD006 in one file."""
    for caps in ctx.matches(MAKES_IN_LOOPS):
        decl, name_node, value, type_node = (first(caps, "decl"), first(caps, "name"), first(caps, "value"),
                                             first(caps, "type"))
        if decl is None or name_node is None or value is None or type_node is None:
            continue
        if decl.type == "assignment_statement":
            op = child(decl, "operator")
            if op is None or text(op) != "=":
                continue
        body_node = child(value, "body")
        if body_node is not None and named(body_node):
            continue  # a literal with entries: a fresh value by design
        loop = loops.innermost_loop(decl)
        if loop is None:
            continue
        body = child(loop, "body")
        if body is None or not gotree.contains(body, decl):
            continue
        name = text(name_node)
        uses = _uses_in(ctx, body, name, decl)
        if uses is None:
            continue
        args = child(value, "arguments")
        hinted = value.type == "call_expression" and args is not None and len(named(args)) > 1
        reuse = f"clear({name})" if (ctx.go_version or (1, 21)) >= (1, 21) else \
            f"for k := range {name} {{ delete({name}, k) }}"
        message = (f"map {name} is made anew in every iteration of the loop at line "
                   f"{loop.start_point.row + 1}, so each iteration "
                   f"{'allocates' if hinted else 'grows'} a new one: make it once before the loop "
                   f"and {reuse} at the start of each iteration to reuse its storage")
        ctx.add("MD006", value, message, Confidence.LOW if hinted else Confidence.MEDIUM, symbol=name,
                related=[ctx.related(loop, "the loop")], cost_lines=tuple(u.start_point.row + 1 for u in uses))


def _redeclared_value(stmt: Node, name: str) -> list[Node] | None:
    """The values of ``stmt`` if it declares ``name`` anew (the rest of its block sees the new
    one), else None."""
    if stmt.type == "short_var_declaration":
        left = child(stmt, "left")
        if left is not None and any(n.type == "identifier" and text(n) == name for n in named(left)):
            right = child(stmt, "right")
            return [right] if right is not None else []
    elif stmt.type == "var_declaration":
        specs = [c for c in named(stmt) if c.type == "var_spec"]
        if any(text(nm) == name for sp in specs for nm in sp.children_by_field_name("name")):
            return [v for sp in specs for v in [child(sp, "value")] if v is not None]
    return None


def _visible(body: Node, name: str, decl: Node) -> Iterator[Node]:
    """The nodes of ``body`` where ``name`` may still mean ``decl``'s variable: after a nested
    redeclaration the rest of that block is skipped, so nested loops that each declare the
    same name are each walked once, not once per enclosing level."""
    stack: list[Iterator[Node]] = [iter((body,))]
    while stack:
        n = next(stack[-1], None)
        if n is None:
            stack.pop()
            continue
        yield n
        if n.id != decl.id:
            values = _redeclared_value(n, name)
            up = gotree.parent(n)
            if values is not None and up is not None and up.type in ("statement_list", "block"):
                stack.pop()
                stack.append(iter(values))
                continue
        stack.append(iter(n.children))


def _uses_in(ctx: FileContext, body: Node, name: str, decl: Node) -> list[Node] | None:
    """Statements using the map inside the loop body, or None if the map may outlive the
    iteration (stored, passed on, returned, captured)."""
    resolver = ctx.resolver(decl)
    decl_at = decl.end_byte
    uses: list[Node] = []
    for n in _visible(body, name, decl):
        if n.type != "identifier" or text(n) != name or n.start_byte < decl_at:
            continue
        d = resolver.decl_of(n)
        if decl.type == "short_var_declaration" and (d is None or d.node is None or d.node.id != decl.id):
            continue
        if gotree.enclosing_function(n) != gotree.enclosing_function(decl):
            return None  # captured by a closure
        parent = gotree.parent(n)
        if parent is None:
            return None
        pt = parent.type
        if pt == "index_expression" and child(parent, "operand") == n:
            uses.append(parent)
            continue
        if pt == "range_clause" and child(parent, "right") == n:
            uses.append(parent)
            continue
        if pt == "argument_list":
            call = gotree.parent(parent)
            fn = child(call, "function") if call is not None else None
            if fn is not None and text(fn) in ("len", "delete", "clear"):
                uses.append(parent)
                continue
        grand = gotree.parent(parent)
        if pt == "expression_list" and grand is not None and grand.id == decl.id:
            continue
        return None
    return uses
