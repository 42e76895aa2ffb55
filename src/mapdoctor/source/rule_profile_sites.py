"""Lint and the profile agree: every line a CPU profile blames gets a finding, or a reason.

A CPU profile blames a line for map growth (``m[k] = v`` under growth frames), slice growth
(``append`` or a ``strings.Builder``/``bytes.Buffer`` write under ``growslice``) or sync.Map
churn (a ``Store``/``LoadOrStore``/``Swap`` of new keys). The syntactic rules (MD001, MD002,
MD004) only see the patterns they know: a counted loop right after the ``make``. Here each
blamed line is read in its file and the fix site is looked for wherever it is:

* the map's ``make(...)``: a local declaration a few lines above (used in between or not), a
  package variable, or, for a struct field, the ``field: make(...)`` / ``x.field = make(...)``
  in any function of the package (a constructor);
* the slice's declaration, or the builder's (where ``Grow`` belongs);
* the sync.Map's ``Store`` call itself.

When none applies, the reason is recorded (the map is a parameter, made in another package,
the growth is inside a library call...), so that no blamed site goes unexplained.
"""

from __future__ import annotations

from collections.abc import Iterator

from mapdoctor.source import gotree
from mapdoctor.source.context import FileContext
from mapdoctor.source.findings import Confidence, Finding, ProfileSite
from mapdoctor.source.gosizes import map_layout
from mapdoctor.source.gotree import Node, child, named, text
from mapdoctor.source.profile_match import BlamedSite

_STATEMENTS = frozenset({"assignment_statement", "inc_statement", "dec_statement", "expression_statement",
                         "short_var_declaration", "var_declaration", "return_statement", "send_statement"})
_BUFFER_TYPES = ("strings.Builder", "bytes.Buffer")
_BUFFER_WRITES = ("Write", "WriteString", "WriteByte", "WriteRune")
_SYNC_STORES = ("Store", "LoadOrStore", "Swap", "LoadAndDelete", "CompareAndSwap")
_RULE_FOR = {"map_growth": "MD001", "slice_growth": "MD002", "sync_map": "MD004"}


def outcome(site: BlamedSite, file: str, *, finding: Finding | None = None, reason: str = "") -> ProfileSite:
    return ProfileSite(site.kind, file, site.line, site.function, site.share,
                       finding.rule if finding else "", finding.file if finding else "",
                       finding.line if finding else 0, reason)


def explain(files: list[FileContext], sites: list[tuple[FileContext, BlamedSite]]) -> list[ProfileSite]:
    """Findings for (or reasons about) each blamed site of one package's files."""
    out: list[ProfileSite] = []
    for ctx, site in sites:
        covered = next((f for c in files for f in c.findings
                        if f.file == ctx.display and f.rule == _RULE_FOR[site.kind]
                        and (site.line in f.cost_lines or f.span.line <= site.line <= f.span.end_line)), None)
        if covered is not None:
            out.append(outcome(site, ctx.display, finding=covered))
            continue
        stmt = _statement_at(ctx, site.line)
        if stmt is None:
            out.append(outcome(site, ctx.display, reason=f"line {site.line} holds no statement in this source "
                                                        "(the file differs from the profiled build?)"))
            continue
        handler = {"map_growth": _map_growth, "slice_growth": _slice_growth, "sync_map": _sync_map}[site.kind]
        f, reason = handler(ctx, files, site, stmt)
        out.append(outcome(site, ctx.display, finding=f, reason=reason))
    return out


def _statement_at(ctx: FileContext, line: int) -> Node | None:
    """The innermost statement that starts on ``line`` (1-based), else the innermost spanning it."""
    spanning = [n for n in gotree.walk(ctx.root)
                if n.type in _STATEMENTS and n.start_point.row + 1 <= line <= n.end_point.row + 1]
    if not spanning:
        return None
    starting = [n for n in spanning if n.start_point.row + 1 == line] or spanning
    return min(starting, key=lambda n: n.end_byte - n.start_byte)


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


# --- map growth -------------------------------------------------------------------------------

def _map_targets(stmt: Node) -> Iterator[Node]:
    """The maps indexed on the left of an assignment or ++/-- (``m`` of ``m[k] = v``)."""
    if stmt.type == "assignment_statement":
        left = child(stmt, "left")
        targets = named(left) if left is not None else []
    elif stmt.type in ("inc_statement", "dec_statement"):
        targets = named(stmt)[:1]
    else:
        targets = []
    for t in targets:
        t = gotree.unparen(t)
        if t.type == "index_expression":
            operand = child(t, "operand")
            if operand is not None:
                yield gotree.unparen(operand)


def _map_growth(ctx: FileContext, files: list[FileContext], site: BlamedSite,
                stmt: Node) -> tuple[Finding | None, str]:
    targets = list(_map_targets(stmt))
    if not targets:
        return None, (f"line {site.line} inserts into no map directly (the growth happens in a call it makes, "
                      f"{site.function}): nothing to size here")
    target = targets[0]
    makes, why = _make_sites(ctx, files, target, "map_type")
    if not makes:
        return None, why
    mctx, make = makes[0]
    name = text(target)
    args = child(make, "arguments")
    hinted = make.type == "call_expression" and args is not None and len(named(args)) > 1
    where = f"{ctx.display}:{site.line}"
    if hinted:
        message = (f"map {name} is made with a size hint here, yet the profile shows it growing where it is "
                   f"filled ({where}, {_pct(site.share)} of CPU in map growth): the hint is smaller than the "
                   f"number of entries it gets")
    else:
        message = (f"map {name} is made without a size hint here and grows where it is filled ({where}, "
                   f"{_pct(site.share)} of CPU in map growth): give make a size hint, the number of entries "
                   f"it will hold")
    type_node = _literal_type(make)
    layout = map_layout(type_node, mctx.pkg) if type_node is not None else None
    f = mctx.add("MD001", make, message, Confidence.MEDIUM, symbol=name,
                 related=[mctx.related(make, "made here")],
                 cost_lines=(site.line,) if mctx is ctx else (),
                 key_size=layout.key_size if layout else None, elem_size=layout.elem_size if layout else None)
    return f, ""


def _literal_type(make: Node) -> Node | None:
    if make.type == "composite_literal":
        return child(make, "type")
    args = child(make, "arguments")
    argv = named(args) if args is not None else []
    return argv[0] if argv else None


def _is_make_of(value: Node, type_kind: str) -> bool:
    v = gotree.unparen(value)
    if v.type == "call_expression":
        fn = child(v, "function")
        args = child(v, "arguments")
        argv = named(args) if args is not None else []
        return fn is not None and text(fn) == "make" and bool(argv) and argv[0].type == type_kind
    if v.type == "composite_literal":
        typ = child(v, "type")
        body = child(v, "body")
        return typ is not None and typ.type == type_kind and (body is None or not named(body))
    return False


def _make_sites(ctx: FileContext, files: list[FileContext], target: Node,
                type_kind: str) -> tuple[list[tuple[FileContext, Node]], str]:
    """Where the map (or slice) ``target`` is made, searching the package; or why not found."""
    what = "map" if type_kind == "map_type" else "slice"
    if target.type == "identifier":
        name = text(target)
        d = ctx.resolver(target).decl_of(target)
        if d is not None:
            if d.node is not None and d.node.type == "parameter_declaration":
                return [], (f"{what} {name} is a parameter: it is made by the caller; size it where the "
                            f"caller makes it")
            if d.value is not None and _is_make_of(d.value, type_kind):
                return [(ctx, gotree.unparen(d.value))], ""
            if d.value is None and type_kind == "slice_type" and d.node is not None and \
                    d.type_node is not None and d.type_node.type == "slice_type":
                return [(ctx, d.node)], ""  # var s []T: a nil slice, grown from nothing
            # Declared without a value (var m map[..]..): look for the assignment that makes it.
            func = gotree.enclosing_function(target)
            found = [(ctx, v) for v in _assigned_values(func, name) if _is_make_of(v, type_kind)] \
                if func is not None else []
            if found:
                return found, ""
            return [], (f"{what} {name} does not come from a make(...) or literal in this function (it is "
                        f"returned by a call or copied from another variable)")
        _typ, value = ctx.pkg.vars.get(name, (None, None))
        if name in ctx.pkg.vars:
            if value is not None and _is_make_of(value, type_kind):
                for c in files:
                    for n in gotree.walk(c.root):
                        if n.id == value.id:
                            return [(c, gotree.unparen(value))], ""
            found = [(c, v) for c in files for v in _assigned_values(c.root, name) if _is_make_of(v, type_kind)]
            if found:
                return found, ""
            return [], f"package variable {name} is never made with make(...) or a literal in this package"
        return [], f"{name} is not declared in this package (made elsewhere)"
    if target.type == "selector_expression":
        fld = child(target, "field")
        if fld is None:
            return [], "unrecognised map expression"
        name = text(fld)
        fields: list[tuple[FileContext, Node]] = []
        for c in files:
            for n in gotree.walk(c.root):
                if n.type == "keyed_element":
                    parts = named(n)
                    if len(parts) == 2 and text(parts[0]).strip() == name:
                        value = parts[1]
                        if value.type == "literal_element" and named(value):
                            value = named(value)[0]
                        if _is_make_of(value, type_kind):
                            fields.append((c, gotree.unparen(value)))
                elif n.type == "assignment_statement":
                    left, right = child(n, "left"), child(n, "right")
                    if left is None or right is None:
                        continue
                    for lhs, rhs in zip(named(left), named(right), strict=False):
                        f = child(lhs, "field") if lhs.type == "selector_expression" else None
                        if f is not None and text(f) == name and _is_make_of(rhs, type_kind):
                            fields.append((c, gotree.unparen(rhs)))
        if fields:
            return fields, ""
        return [], (f"field {name} is never set to a make(...) or literal in this package (made in another "
                    f"package, or copied in)")
    return [], f"the {what} is the result of an expression ({text(target)[:40]}), not a variable made here"


def _assigned_values(scope: Node, name: str) -> Iterator[Node]:
    for n in gotree.walk(scope):
        if n.type in ("assignment_statement", "short_var_declaration"):
            left, right = child(n, "left"), child(n, "right")
            if left is None or right is None:
                continue
            for lhs, rhs in zip(named(left), named(right), strict=False):
                if lhs.type == "identifier" and text(lhs) == name:
                    yield rhs


# --- slice growth -----------------------------------------------------------------------------

def _calls(stmt: Node) -> Iterator[Node]:
    for n in gotree.walk(stmt, into_functions=False):
        if n.type == "call_expression":
            yield n


def _slice_growth(ctx: FileContext, files: list[FileContext], site: BlamedSite,
                  stmt: Node) -> tuple[Finding | None, str]:
    where = f"{ctx.display}:{site.line}"
    for call in _calls(stmt):
        fn = child(call, "function")
        if fn is None:
            continue
        if fn.type == "identifier" and text(fn) == "append":
            args = child(call, "arguments")
            argv = named(args) if args is not None else []
            if not argv:
                continue
            target = gotree.unparen(argv[0])
            makes, why = _make_sites(ctx, files, target, "slice_type")
            if not makes:
                return None, why
            mctx, make = makes[0]
            name = text(target)
            message = (f"slice {name} is made without enough capacity here and grows by append at {where} "
                       f"({_pct(site.share)} of CPU in runtime.growslice): give it its final capacity, "
                       f"make([]T, 0, n)")
            return mctx.add("MD002", make, message, Confidence.MEDIUM, symbol=name,
                            cost_lines=(site.line,) if mctx is ctx else (),
                            related=[mctx.related(make, f"grows at {where}")]), ""
        if fn.type == "selector_expression":
            method = child(fn, "field")
            operand = child(fn, "operand")
            if method is None or operand is None or text(method) not in _BUFFER_WRITES:
                continue
            decl_node, type_text = _buffer_decl(ctx, operand)
            if decl_node is None:
                continue
            name = text(operand)
            message = (f"{type_text} {name} grows by append as it is written ({where}, {_pct(site.share)} of "
                       f"CPU in runtime.growslice): call {name}.Grow(n) with the expected length before "
                       f"writing")
            return ctx.add("MD002", decl_node, message, Confidence.MEDIUM, symbol=name,
                           cost_lines=(site.line,), related=[ctx.related(call, "written here")]), ""
    return None, (f"the growslice at line {site.line} happens inside a call into other code ({site.function}): "
                  f"no append or buffer write of this package to size")


def _buffer_decl(ctx: FileContext, operand: Node) -> tuple[Node | None, str]:
    """The declaration of a local strings.Builder / bytes.Buffer, and its type's name."""
    target = gotree.unparen(operand)
    if target.type != "identifier":
        return None, ""
    d = ctx.resolver(target).decl_of(target)
    if d is None or d.node is None:
        return None, ""
    typ = d.type_node
    spelled = text(typ).lstrip("*") if typ is not None else ""
    if not spelled and d.value is not None:
        v = gotree.unparen(d.value)
        if v.type == "unary_expression":
            inner = child(v, "operand")
            v = inner if inner is not None else v
        if v.type == "composite_literal":
            t = child(v, "type")
            spelled = text(t) if t is not None else ""
        elif v.type == "call_expression":
            spelled = {"new(strings.Builder)": "strings.Builder", "new(bytes.Buffer)": "bytes.Buffer"}.get(
                text(v), "")
    if spelled not in _BUFFER_TYPES:
        return None, ""
    return d.node, spelled


# --- sync.Map ---------------------------------------------------------------------------------

def _sync_map(ctx: FileContext, files: list[FileContext], site: BlamedSite,
              stmt: Node) -> tuple[Finding | None, str]:
    where = f"{ctx.display}:{site.line}"
    for call in _calls(stmt):
        fn = child(call, "function")
        if fn is None or fn.type != "selector_expression":
            continue
        method, recv = child(fn, "field"), child(fn, "operand")
        if method is None or recv is None:
            continue
        if ctx.resolver(call).type_of(recv).kind != "syncmap" and text(method) not in _SYNC_STORES:
            continue
        if text(method) in _SYNC_STORES:
            name = text(recv)
            message = (f"sync.Map {name} keeps getting written here ({where}, {_pct(site.share)} of CPU in "
                       f"sync.Map writes: new keys copy its read map on Go <= 1.23 and allocate hash-trie nodes "
                       f"on Go >= 1.24): sync.Map is built for write-once, read-many keys — a map guarded by a "
                       f"sync.Mutex (sharded if hot) is cheaper here")
            return ctx.add("MD004", call, message, Confidence.MEDIUM, symbol=name), ""
        if text(method) in ("Load", "Range"):
            return None, (f"line {site.line} reads the sync.Map; on Go <= 1.23 reads of keys not yet promoted "
                          f"take its lock: the writes of the same keys are the fix site")
    return None, f"line {site.line} calls no sync.Map method directly (the work is inside {site.function})"
