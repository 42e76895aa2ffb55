"""Just enough of Go's scopes and types to tell a slice from a channel or a func iterator.

This is not a type checker: it follows declarations inside one package (its files parsed
together) and answers "unknown" as soon as a type comes from another package or from an
expression it does not model. The rules treat "unknown" conservatively.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from dataclasses import dataclass, field

import tree_sitter

from mapdoctor.source import gotree
from mapdoctor.source.gotree import Node, child, named, text

#: How many declarations a type lookup may follow (type T1 T2; type T2 []int ...).
MAX_DEPTH = 12

INT_TYPES = frozenset(
    ["int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64", "uintptr", "byte", "rune"]
)
FLOAT_TYPES = frozenset({"float32", "float64", "complex64", "complex128"})


@dataclass(frozen=True, slots=True)
class GoType:
    """A type as far as the rules care: its kind and, when known, the syntax node spelling it.

    kinds: map slice array string int float bool chan func ptr struct interface syncmap
    mutex named-external unknown.
    """

    kind: str
    node: Node | None = None
    #: the package that spells ``node`` (element types are resolved in it).
    pkg: PackageIndex | None = None
    name: str = ""  # the declared type name for named types of this package

    @property
    def countable(self) -> bool:
        return self.kind in ("map", "slice", "array", "string", "int")


UNKNOWN = GoType("unknown")


@dataclass(slots=True)
class PackageIndex:
    """Package-level declarations of one Go package (one directory, one package name)."""

    types: dict[str, Node] = field(default_factory=dict)
    vars: dict[str, tuple[Node | None, Node | None]] = field(default_factory=dict)  # type, value
    consts: set[str] = field(default_factory=set)
    funcs: dict[str, Node] = field(default_factory=dict)
    methods: dict[tuple[str, str], Node] = field(default_factory=dict)  # (receiver type, name)
    imports: set[str] = field(default_factory=set)

    def add_file(self, root: Node) -> None:
        for decl in named(root):
            t = decl.type
            if t == "type_declaration":
                for spec in named(decl):
                    if spec.type in ("type_spec", "type_alias"):
                        name, typ = child(spec, "name"), child(spec, "type")
                        if name is not None and typ is not None:
                            self.types[text(name)] = typ
            elif t == "var_declaration":
                for spec in _specs(decl, "var_spec"):
                    self._add_var(spec)
            elif t == "const_declaration":
                for spec in _specs(decl, "const_spec"):
                    for n in spec.children_by_field_name("name"):
                        self.consts.add(text(n))
            elif t == "function_declaration":
                name = child(decl, "name")
                if name is not None:
                    self.funcs[text(name)] = decl
            elif t == "method_declaration":
                name, recv = child(decl, "name"), receiver_type_name(decl)
                if name is not None and recv:
                    self.methods[(recv, text(name))] = decl
            elif t == "import_declaration":
                for spec in gotree.walk(decl):
                    if spec.type == "import_spec":
                        alias, path = child(spec, "name"), child(spec, "path")
                        if alias is not None:
                            self.imports.add(text(alias))
                        elif path is not None:
                            self.imports.add(text(path).strip('"`').rsplit("/", 1)[-1])

    def _add_var(self, spec: Node) -> None:
        typ = child(spec, "type")
        values = child(spec, "value")
        vals = named(values) if values is not None else []
        for i, n in enumerate(spec.children_by_field_name("name")):
            v = vals[i] if i < len(vals) and len(vals) == len(spec.children_by_field_name("name")) else None
            self.vars[text(n)] = (typ, v)

    def struct_fields(self, type_name: str) -> dict[str, Node]:
        typ = self.types.get(type_name)
        out: dict[str, Node] = {}
        if typ is None or typ.type != "struct_type":
            return out
        for fd in gotree.walk(typ):
            if fd.type == "field_declaration":
                ft = child(fd, "type")
                if ft is None:
                    continue
                for n in fd.children_by_field_name("name"):
                    out[text(n)] = ft
        return out

    def map_fields(self) -> dict[str, list[tuple[str, Node]]]:
        """Field name -> (struct type name, field type node) for every map-typed struct field."""
        out: dict[str, list[tuple[str, Node]]] = {}
        for tname in self.types:
            for fname, ftype in self.struct_fields(tname).items():
                if self.kind_of(ftype).kind == "map":
                    out.setdefault(fname, []).append((tname, ftype))
        return out

    def kind_of(self, typ: Node | None, depth: int = 0) -> GoType:
        """Classify a type node, following this package's named types."""
        if typ is None or depth > MAX_DEPTH:
            return UNKNOWN
        t = typ.type
        if t == "parenthesized_type":
            inner = named(typ)
            return self.kind_of(inner[0], depth + 1) if inner else UNKNOWN
        simple = {
            "map_type": "map",
            "slice_type": "slice",
            "array_type": "array",
            "implicit_length_array_type": "array",
            "channel_type": "chan",
            "function_type": "func",
            "struct_type": "struct",
            "interface_type": "interface",
        }
        if t == "pointer_type":
            inner = named(typ)
            target = self.kind_of(inner[0], depth + 1) if inner else UNKNOWN
            if target.kind == "syncmap":
                return target
            return GoType("ptr", typ, self, target.name if target.kind == "struct" else "")
        if t in simple:
            return GoType(simple[t], typ, self)
        if t == "generic_type":
            base = child(typ, "type")
            return self.kind_of(base, depth + 1) if base is not None else UNKNOWN
        if t == "qualified_type":
            pkg_node, name_node = child(typ, "package"), child(typ, "name")
            full = f"{text(pkg_node) if pkg_node else ''}.{text(name_node) if name_node else ''}"
            if full == "sync.Map":
                return GoType("syncmap", typ, self)
            if full in ("sync.Mutex", "sync.RWMutex"):
                return GoType("mutex", typ, self)
            if full in ("iter.Seq", "iter.Seq2"):
                return GoType("func", typ, self)
            return GoType("named-external", typ, self)
        if t == "type_identifier":
            name = text(typ)
            if name == "string":
                return GoType("string", typ, self)
            if name in INT_TYPES:
                return GoType("int", typ, self)
            if name in FLOAT_TYPES:
                return GoType("float", typ, self)
            if name == "bool":
                return GoType("bool", typ, self)
            if name in ("error", "any"):
                return GoType("interface", typ, self)
            under = self.types.get(name)
            if under is None:
                return UNKNOWN  # a type parameter or a type of a package we did not parse
            got = self.kind_of(under, depth + 1)
            if got.kind == "struct":
                return GoType("struct", got.node, self, name)
            return got
        return UNKNOWN


def _specs(decl: Node, kind: str) -> list[Node]:
    out: list[Node] = []
    for c in named(decl):
        if c.type == kind:
            out.append(c)
        elif c.type.endswith("_spec_list"):
            out.extend(s for s in named(c) if s.type == kind)
    return out


def receiver_type_name(method: Node) -> str:
    recv = child(method, "receiver")
    if recv is None:
        return ""
    for p in named(recv):
        typ = child(p, "type")
        while typ is not None and typ.type in ("pointer_type", "generic_type", "parenthesized_type"):
            if typ.type == "generic_type":
                typ = child(typ, "type")
            else:
                inner = named(typ)
                typ = inner[0] if inner else None
        if typ is not None and typ.type == "type_identifier":
            return text(typ)
    return ""


@dataclass(frozen=True, slots=True)
class Decl:
    name: str
    visible_from: int  # byte offset where the name comes into scope
    scope_start: int
    scope_end: int
    type_node: Node | None = None
    value: Node | None = None  # an expression whose type is the variable's type
    range_of: Node | None = None  # the range expression, for range-clause variables
    range_slot: int = 0  # 0: key/index, 1: value
    node: Node | None = None  # the declaring statement
    variadic: bool = False  # a ``...T`` parameter: its type is []T


class FunctionScope:
    """Local declarations of one function (closures included), built on first use."""

    def __init__(self, func: Node, pkg: PackageIndex) -> None:
        self.func = func
        self.pkg = pkg
        self._decls: dict[str, list[Decl]] | None = None
        self._sorted: dict[str, list[Decl]] = {}
        self._starts: dict[str, list[int]] = {}

    @property
    def decls(self) -> dict[str, list[Decl]]:
        if self._decls is None:
            self._decls = self._collect()
        return self._decls

    def _collect(self) -> dict[str, list[Decl]]:
        out: dict[str, list[Decl]] = {}

        def add(d: Decl) -> None:
            if d.name != "_":
                out.setdefault(d.name, []).append(d)

        for _, caps in tree_sitter.QueryCursor(_decl_query()).matches(self.func):
            for kind, nodes in caps.items():
                for n in nodes:
                    if kind == "param":
                        self._param(n, add)
                    elif kind == "var":
                        self._var(n, add)
                    elif kind == "svd":
                        self._short_var(n, add)
                    elif kind == "range":
                        self._range(n, add)
        return out

    @staticmethod
    def _param(p: Node, add: Callable[[Decl], None]) -> None:
        plist = gotree.parent(p)
        func = gotree.parent(plist) if plist is not None else None
        if func is None or func.type not in gotree.FUNCTION_TYPES:
            return  # a parameter of a func type, not a declaration
        body = child(func, "body")
        if body is None:
            return
        typ = child(p, "type")
        variadic = p.type == "variadic_parameter_declaration"
        for nm in p.children_by_field_name("name"):
            add(Decl(text(nm), body.start_byte, body.start_byte, body.end_byte,
                     type_node=typ, node=p, variadic=variadic))

    @staticmethod
    def _var(n: Node, add: Callable[[Decl], None]) -> None:
        scope = _scope_of(n)
        typ = child(n, "type")
        values = child(n, "value")
        vals = named(values) if values is not None else []
        names = n.children_by_field_name("name")
        for i, nm in enumerate(names):
            v = vals[i] if len(vals) == len(names) else None
            add(Decl(text(nm), n.end_byte, scope.start_byte, scope.end_byte, type_node=typ, value=v, node=n))

    @staticmethod
    def _short_var(n: Node, add: Callable[[Decl], None]) -> None:
        scope = _scope_of(n)
        left, right = child(n, "left"), child(n, "right")
        lhs = named(left) if left is not None else []
        rhs = named(right) if right is not None else []
        for i, nm in enumerate(lhs):
            if nm.type == "identifier":
                v = rhs[i] if len(rhs) == len(lhs) else None
                add(Decl(text(nm), n.end_byte, scope.start_byte, scope.end_byte, value=v, node=n))

    @staticmethod
    def _range(n: Node, add: Callable[[Decl], None]) -> None:
        loop = gotree.parent(n)
        left, right = child(n, "left"), child(n, "right")
        if loop is None or left is None or right is None or not _declares(n):
            return
        for i, nm in enumerate(named(left)):
            if nm.type == "identifier":
                add(Decl(text(nm), right.end_byte, loop.start_byte, loop.end_byte,
                         range_of=right, range_slot=i, node=n))

    def lookup(self, name: str, at: Node) -> Decl | None:
        # Scopes nest, so the innermost visible declaration is the latest one made visible
        # before ``at`` whose scope holds it: search back from there instead of over every
        # declaration of the name (a name declared at each of 2,000 levels made this quadratic).
        entries = self._sorted.get(name)
        if entries is None:
            entries = sorted(self.decls.get(name, ()), key=lambda d: d.visible_from)
            self._sorted[name] = entries
            self._starts[name] = [d.visible_from for d in entries]
        pos = at.start_byte
        for i in range(bisect.bisect_right(self._starts[name], pos) - 1, -1, -1):
            d = entries[i]
            if d.scope_start <= pos < d.scope_end:
                return d
        return None


_DECL_QUERY: list[tree_sitter.Query] = []


def _decl_query() -> tree_sitter.Query:
    if not _DECL_QUERY:
        _DECL_QUERY.append(gotree.query(
            "(parameter_declaration) @param (variadic_parameter_declaration) @param "
            "(var_spec) @var (short_var_declaration) @svd (range_clause) @range"))
    return _DECL_QUERY[0]


def _declares(range_clause: Node) -> bool:
    """``for k, v := range x`` declares; ``for k, v = range x`` assigns."""
    return any(c.type == ":=" for c in range_clause.children)


def _scope_of(stmt: Node) -> Node:
    """The region where a name declared by ``stmt`` is visible: its block, or the if/for/switch
    statement whose header declares it."""
    p = gotree.parent(stmt)
    while p is not None:
        if p.type in ("block", "for_statement", "if_statement", "expression_switch_statement",
                      "type_switch_statement", "communication_case", "expression_case",
                      "type_case", "default_case", "func_literal", "source_file"):
            return p
        p = gotree.parent(p)
    return stmt


class Resolver:
    """Type questions about expressions of one function."""

    def __init__(self, scope: FunctionScope) -> None:
        self.scope = scope
        self.pkg = scope.pkg

    def decl_of(self, ident: Node) -> Decl | None:
        return self.scope.lookup(text(ident), ident)

    def is_local(self, ident: Node) -> bool:
        return self.decl_of(ident) is not None

    def type_of(self, expr: Node, depth: int = 0) -> GoType:
        if depth > MAX_DEPTH:
            return UNKNOWN
        e = gotree.unparen(expr)
        t = e.type
        if t == "identifier":
            return self._ident_type(e, depth)
        if t in ("interpreted_string_literal", "raw_string_literal"):
            return GoType("string")
        if t in ("int_literal", "rune_literal"):
            return GoType("int")
        if t == "float_literal":
            return GoType("float")
        if t == "func_literal":
            return GoType("func", e)
        if t == "composite_literal":
            return self.pkg.kind_of(child(e, "type"))
        if t == "unary_expression":
            op = child(e, "operator")
            operand = child(e, "operand")
            if operand is None or op is None:
                return UNKNOWN
            if text(op) == "&":
                inner = self.type_of(operand, depth + 1)
                return GoType("ptr", None, self.pkg, inner.name) if inner.kind == "struct" else GoType("ptr")
            if text(op) == "<-":
                ch = self.type_of(operand, depth + 1)
                return self._elem(ch, "value", depth)
            return self.type_of(operand, depth + 1)
        if t == "call_expression":
            return self._call_type(e, depth)
        if t == "selector_expression":
            return self._selector_type(e, depth)
        if t == "index_expression":
            operand = child(e, "operand")
            if operand is None:
                return UNKNOWN
            base = self.type_of(operand, depth + 1)
            if base.kind == "map":
                return self._elem(base, "value", depth)
            if base.kind in ("slice", "array"):
                return self._elem(base, "element", depth)
            if base.kind == "string":
                return GoType("int")
            return UNKNOWN
        if t == "slice_expression":
            operand = child(e, "operand")
            base = self.type_of(operand, depth + 1) if operand is not None else UNKNOWN
            if base.kind == "array":
                return GoType("slice")
            return base if base.kind in ("slice", "string") else UNKNOWN
        if t == "type_assertion_expression":
            return self.pkg.kind_of(child(e, "type"))
        if t == "binary_expression":
            op = child(e, "operator")
            if op is not None and text(op) in ("==", "!=", "<", "<=", ">", ">=", "&&", "||"):
                return GoType("bool")
            left = child(e, "left")
            return self.type_of(left, depth + 1) if left is not None else UNKNOWN
        return UNKNOWN

    def _elem(self, container: GoType, field_name: str, depth: int) -> GoType:
        node = container.node
        pkg = container.pkg or self.pkg
        if node is None:
            return UNKNOWN
        sub = child(node, field_name)
        return pkg.kind_of(sub, depth + 1) if sub is not None else UNKNOWN

    def _ident_type(self, ident: Node, depth: int) -> GoType:
        name = text(ident)
        d = self.scope.lookup(name, ident)
        if d is None:
            if name in self.pkg.vars:
                typ, value = self.pkg.vars[name]
                if typ is not None:
                    return self.pkg.kind_of(typ)
                if value is not None:
                    return self._package_value_type(value, depth)
                return UNKNOWN
            if name in self.pkg.funcs:
                return GoType("func", self.pkg.funcs[name])
            if name in ("true", "false"):
                return GoType("bool")
            return UNKNOWN
        if d.variadic:
            return GoType("slice")
        if d.type_node is not None:
            return self.pkg.kind_of(d.type_node)
        if d.value is not None:
            return self.type_of(d.value, depth + 1)
        if d.range_of is not None:
            over = self.type_of(d.range_of, depth + 1)
            if d.range_slot == 0:
                if over.kind in ("slice", "array", "string", "int"):
                    return GoType("int")
                if over.kind == "map":
                    return self._elem(over, "key", depth)
                if over.kind == "chan":
                    return self._elem(over, "value", depth)
                return UNKNOWN
            if over.kind in ("slice", "array"):
                return self._elem(over, "element", depth)
            if over.kind == "map":
                return self._elem(over, "value", depth)
            if over.kind == "string":
                return GoType("int")
        return UNKNOWN

    def _package_value_type(self, value: Node, depth: int) -> GoType:
        # Package-level initialisers only reference package-level names: resolve with an
        # empty local scope.
        return Resolver(FunctionScope(value, self.pkg)).type_of(value, depth + 1) if depth < MAX_DEPTH \
            else UNKNOWN

    def _call_type(self, call: Node, depth: int) -> GoType:
        fn = child(call, "function")
        args = child(call, "arguments")
        arg_nodes = named(args) if args is not None else []
        if fn is None:
            return UNKNOWN
        fn = gotree.unparen(fn)
        if fn.type == "identifier" and not self.is_local(fn):
            name = text(fn)
            if name == "make" and arg_nodes:
                return self.pkg.kind_of(arg_nodes[0])
            if name == "new" and arg_nodes:
                target = self.pkg.kind_of(arg_nodes[0])
                return GoType("ptr", None, self.pkg, target.name if target.kind == "struct" else "")
            if name in ("len", "cap", "copy"):
                return GoType("int")
            if name == "append" and arg_nodes:
                return self.type_of(arg_nodes[0], depth + 1)
            if name in INT_TYPES:
                return GoType("int")
            if name == "string":
                return GoType("string")
            if name in self.pkg.types:
                return self.pkg.kind_of(self.pkg.types[name], depth + 1)
            decl = self.pkg.funcs.get(name)
            if decl is not None:
                return self._result_type(decl)
            return UNKNOWN
        if fn.type in ("slice_type", "map_type", "array_type", "channel_type", "function_type",
                       "parenthesized_type"):
            return self.pkg.kind_of(fn)  # a conversion
        if fn.type == "selector_expression":
            operand, field_node = child(fn, "operand"), child(fn, "field")
            if operand is None or field_node is None:
                return UNKNOWN
            recv = self.type_of(operand, depth + 1)
            if recv.name:
                decl = self.pkg.methods.get((recv.name, text(field_node)))
                if decl is not None:
                    return self._result_type(decl)
        if fn.type == "func_literal":
            return self._result_type(fn)
        callee = self.type_of(fn, depth + 1)
        if callee.kind == "func" and callee.node is not None and callee.node.type == "function_type":
            return self._result_type(callee.node, callee.pkg)
        return UNKNOWN

    def _result_type(self, func: Node, pkg: PackageIndex | None = None) -> GoType:
        pkg = pkg or self.pkg
        res = child(func, "result")
        if res is None:
            return UNKNOWN
        if res.type == "parameter_list":
            params = named(res)
            if len(params) != 1 or len(params[0].children_by_field_name("name")) > 1:
                return UNKNOWN
            return pkg.kind_of(child(params[0], "type"))
        return pkg.kind_of(res)

    def _selector_type(self, sel: Node, depth: int) -> GoType:
        operand, field_node = child(sel, "operand"), child(sel, "field")
        if operand is None or field_node is None:
            return UNKNOWN
        base = self.type_of(operand, depth + 1)
        if not base.name or base.kind not in ("struct", "ptr"):
            return UNKNOWN
        ftype = self.pkg.struct_fields(base.name).get(text(field_node))
        return self.pkg.kind_of(ftype) if ftype is not None else UNKNOWN
