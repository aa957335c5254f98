"""The classic repair templates, from the mutation families of GenProg/PraPR/TBar and the Python
bug studies (PyPIBugs, ManySStuBs): operator swaps, off-by-one, negated or dropped conditions,
wrong variable or attribute, swapped arguments, missing or misplaced return, wrong constant,
statement deletion/insertion, changed call, wrong default.

Each takes (node, ctx) and yields edits (start byte, end byte, replacement[, weight]);
registry.TEMPLATES says which node types it applies to."""
from __future__ import annotations

import ast
from typing import Iterator

from ouro.agent.templates.code import (between, BUILTIN_NAMES, COMPARE_OPS, Context, Edit, imported_names,
                                       int_const, is_reset, name_similarity, numeric_expr, numeric_names,
                                       parenthesized, scope_names, swap_token)


_CMP_SWAPS = {"<": ["<=", ">"], "<=": ["<", ">="], ">": [">=", "<"], ">=": [">", "<="], "==": ["!="],
              "!=": ["=="], "is": ["is not"], "is not": ["is"], "in": ["not in"], "not in": ["in"]}
_FLIPPED = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}
_BIN = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//", ast.Mod: "%",
        ast.Pow: "**", ast.BitAnd: "&", ast.BitOr: "|", ast.BitXor: "^", ast.LShift: "<<", ast.RShift: ">>"}
# for an augmented assignment the same swaps apply to the "op=" token (`|=` -> `&=`, `-=` -> `+=`);
# the bit operators are set algebra as often as bit twiddling (`seen |= new`, `common &= other`)
_BIN_SWAPS = {"+": ["-"], "-": ["+"], "*": ["/", "//", "+"], "/": ["//", "*"], "//": ["/", "%"],
              "%": ["//"], "**": ["*"], "&": ["|", "^"], "|": ["&", "^"], "^": ["|", "&"], "<<": [">>"],
              ">>": ["<<"]}


def t_compare_swap(node: ast.AST, ctx: Context) -> Iterator[Edit]:
    if isinstance(node, ast.BoolOp):
        yield from _compare_swap_together(node, ctx)
        return
    operands = [node.left, *node.comparators]
    for i, op in enumerate(node.ops):
        old = COMPARE_OPS.get(type(op))
        s, e = between(ctx, operands[i], operands[i + 1])
        for new in _CMP_SWAPS.get(old, []):
            edit = swap_token(ctx, s, e, old, new)
            if edit:
                # a bound that should (not) be inclusive is a far commoner bug than a comparison
                # the wrong way round; try `<` -> `<=` before `<` -> `>`
                yield (*edit, 0.5) if new == _FLIPPED.get(old) else edit


_STRICTNESS = {"<": "<=", "<=": "<", ">": ">=", ">=": ">"}


def _compare_swap_together(node: ast.BoolOp, ctx: Context) -> Iterator[Edit]:
    """`lo <= x and x <= hi` → `lo < x and x < hi`, `x >= lo and x <= hi` → `x > lo and x < hi`:
    a wrong idea of whether bounds are inclusive is usually applied to every comparison of the
    test, and toggling one at a time fixes none. Only when all are equally strict (`x >= lo and
    x < hi` is a half-open range on purpose)."""
    compares = [v for v in node.values if isinstance(v, ast.Compare) and len(v.ops) == 1]
    ops = [COMPARE_OPS.get(type(c.ops[0])) for c in compares]
    if len(compares) < 2 or not all(op in _STRICTNESS for op in ops) or len({op in ("<", ">") for op in ops}) != 1:
        return
    edits = [swap_token(ctx, *between(ctx, c.left, c.comparators[0]), op, _STRICTNESS[op]) for c, op in zip(compares, ops)]
    if not all(edits):
        return
    start, end = ctx.src.span(node)
    text = ctx.src.data[start:end]
    for s, e, repl in sorted(edits, reverse=True):   # right to left keeps the offsets valid
        text = text[:s - start] + repl.encode() + text[e - start:]
    yield (start, end, text.decode(), 0.8)


def t_arith_swap(node: ast.AST, ctx: Context) -> Iterator[Edit]:
    if isinstance(node, ast.BinOp):
        a, b = node.left, node.right
        suffix = ""
    else:  # AugAssign: the token is "op="
        a, b = node.target, node.value
        suffix = "="
    old = _BIN.get(type(node.op))
    if not old:
        return
    s, e = between(ctx, a, b)
    for new in _BIN_SWAPS.get(old, []):
        edit = swap_token(ctx, s, e, old + suffix, new + suffix)
        if edit:
            yield edit


def t_bool_swap(node: ast.BoolOp, ctx: Context) -> Iterator[Edit]:
    old, new = ("and", "or") if isinstance(node.op, ast.And) else ("or", "and")
    for a, b in zip(node.values, node.values[1:]):
        s, e = between(ctx, a, b)
        edit = swap_token(ctx, s, e, old, new)
        if edit:
            yield edit


def t_negate_condition(node: ast.AST, ctx: Context) -> Iterator[Edit]:
    test = node.test
    s, e = ctx.src.span(test)
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        yield (s, e, ctx.src.seg(test.operand))
    elif isinstance(test, ast.Compare) and len(test.ops) == 1:
        return  # compare_swap already proposes the negated operator, more readably
    else:
        yield (s, e, f"not {parenthesized(ctx.src.seg(test))}")


def t_remove_condition(node: ast.AST, ctx: Context) -> Iterator[Edit]:
    if isinstance(node, ast.BoolOp):
        op = " and " if isinstance(node.op, ast.And) else " or "
        for i in range(len(node.values)):
            rest = [ctx.src.seg(v) for j, v in enumerate(node.values) if j != i]
            s, e = ctx.src.span(node)
            yield (s, e, op.join(rest) if len(rest) > 1 else rest[0])
    elif isinstance(node, ast.If):
        s, e = ctx.src.span(node.test)
        yield (s, e, "True")   # the guarded code always runs
        if not node.orelse:
            yield (s, e, "False")  # the guarded code never runs


def t_constant_off_by_one(node: ast.Constant, ctx: Context) -> Iterator[Edit]:
    if int_const(node):
        s, e = ctx.src.span(node)
        yield (s, e, str(node.value + 1))
        yield (s, e, str(node.value - 1) if node.value - 1 >= 0 else f"({node.value - 1})")


def _plus_minus(ctx: Context, expr: ast.AST) -> Iterator[Edit]:
    if isinstance(expr, (ast.Constant, ast.JoinedStr, ast.List, ast.Dict, ast.Set, ast.Tuple, ast.Compare, ast.BoolOp)):
        return  # literals: constant_off_by_one covers numbers; nothing else takes "+ 1"
    if isinstance(expr, ast.UnaryOp) and int_const(expr.operand):
        return
    s, e = ctx.src.span(expr)
    text = parenthesized(ctx.src.seg(expr))
    # x + 1 written as "x - 1"'s undo: when expr already is "y - 1"/"y + 1", drop the term.
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, (ast.Add, ast.Sub)) and int_const(expr.right) and expr.right.value == 1:
        yield (s, e, ctx.src.seg(expr.left))
    yield (s, e, f"{text} + 1")
    yield (s, e, f"{text} - 1")


def t_bound_off_by_one(node: ast.AST, ctx: Context) -> Iterator[Edit]:
    if isinstance(node, ast.Compare):
        if not all(isinstance(op, (ast.Lt, ast.LtE, ast.Gt, ast.GtE)) for op in node.ops):
            return  # a bound is compared with an ordering; `kind != "end"` has no off-by-one
        for operand in [node.left, *node.comparators]:
            yield from _plus_minus(ctx, operand)
    elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "range":
        for arg in node.args[:2]:
            yield from _plus_minus(ctx, arg)
        if len(node.args) == 1:  # range(n) -> range(1, n + 1) style shifts
            s, e = ctx.src.span(node.args[0])
            yield (s, s, "1, ")


def t_index_off_by_one(node: ast.Subscript, ctx: Context) -> Iterator[Edit]:
    """`xs[i + 1]` for `xs[i]`; in a tuple subscript each element on its own (`grid[r - 1, c]`),
    and an offset that sits on the wrong element (`grid[r, c - 1]` -> `grid[r - 1, c]`)."""
    if isinstance(node.slice, ast.Tuple):
        elts = [x for x in node.slice.elts if not isinstance(x, ast.Slice)]
        # where one coordinate already carries an offset, the likelier slip is which one it is on
        moved = list(_moved_offsets(ctx, node.slice.elts))
        for x in elts:
            for edit in _plus_minus(ctx, x):
                yield (*edit[:3], 0.7 if moved else 1.0)
        yield from moved
    elif not isinstance(node.slice, ast.Slice):
        yield from _plus_minus(ctx, node.slice)


def _offset(expr: ast.AST) -> tuple[ast.AST, str] | None:
    """`x + k` / `x - k` with an int constant k -> (x, " + k"), else None."""
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, (ast.Add, ast.Sub)) and int_const(expr.right):
        return expr.left, (" + " if isinstance(expr.op, ast.Add) else " - ") + str(expr.right.value)
    return None


def _moved_offsets(ctx: Context, elts: list[ast.AST]) -> Iterator[Edit]:
    """The `± k` of one element moved onto another (neighbour cells, pixel grids, call
    arguments written in the wrong order of coordinates): one edit over the whole span."""
    if len(elts) < 2 or any(isinstance(x, (ast.Starred, ast.Slice)) for x in elts):
        return
    start, end = ctx.src.span(elts[0])[0], ctx.src.span(elts[-1])[1]
    for i, x in enumerate(elts):
        off = _offset(x)
        if off is None:
            continue
        for j, y in enumerate(elts):
            if j == i or _offset(y) is not None or isinstance(y, (ast.Constant, ast.JoinedStr)):
                continue
            pieces = []
            for k, z in enumerate(elts):
                text = ctx.src.seg(off[0]) if k == i else f"{parenthesized(ctx.src.seg(y))}{off[1]}" if k == j else ctx.src.seg(z)
                pieces.append(text)
            # the separators between the elements are kept as they were
            out = pieces[0]
            for k in range(1, len(elts)):
                out += ctx.src.get(ctx.src.span(elts[k - 1])[1], ctx.src.span(elts[k])[0]) + pieces[k]
            yield (start, end, out, 2.0)


def t_argument_off_by_one(node: ast.Call, ctx: Context) -> Iterator[Edit]:
    """A call's argument off by one, each argument on its own (`get(i + 1)`, `move(x, y - 1)`),
    and an offset on the wrong argument (`cell(r, c - 1)` -> `cell(r - 1, c)`): Pan et al.'s
    commonest fix pattern is a call with different actual parameter values (MC-DAP). Only
    arguments that hold numbers (loop counters, lengths, arithmetic), and not for calls whose
    arguments are not numbers one shifts (`range` has bound_off_by_one; `len(x + 1)`...)."""
    f = node.func
    name = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ""
    if name in _NOT_SHIFTED or any(isinstance(a, ast.Starred) for a in node.args):
        return
    numeric = numeric_names(ctx, node)
    for a in node.args[:4]:
        if numeric_expr(a, numeric):
            for edit in _plus_minus(ctx, a):
                yield (*edit[:3], 0.7)
    yield from _moved_offsets(ctx, node.args)


_NOT_SHIFTED = {"range", "len", "print", "isinstance", "issubclass", "str", "repr", "type", "getattr", "setattr",
                "hasattr", "format", "join", "append", "extend", "add", "update", "sorted", "list", "set", "dict",
                "tuple", "zip", "enumerate", "map", "filter", "open", "startswith", "endswith", "split", "encode",
                "decode", "write", "log", "debug", "info", "warning", "error", "exception", "bool", "id", "hash"}


def t_slice_bounds(node: ast.Subscript, ctx: Context) -> Iterator[Edit]:
    sl = node.slice
    if not isinstance(sl, ast.Slice):
        return
    for bound in (sl.lower, sl.upper):
        if bound is None:
            continue
        s, e = ctx.src.span(bound)
        if int_const(bound):
            yield (s, e, str(bound.value + 1))
            if bound.value - 1 != 0 or bound is sl.upper:
                yield (s, e, str(bound.value - 1))
            else:
                yield (s, e, "")
        else:
            yield from _plus_minus(ctx, bound)
        yield (s, e, "")  # drop the bound
    if sl.upper is None and sl.lower is not None:
        # x[i:] -> x[i:-1]: the end was forgotten
        s, e = ctx.src.span(node)
        if ctx.src.get(e - 2, e) == ":]":
            yield (e - 1, e - 1, "-1")


def t_wrong_variable(node: ast.Name, ctx: Context) -> Iterator[Edit]:
    """A variable used where another was meant (ManySStuBs' and TSSB-3M's commonest pattern,
    "Change Identifier Used"). Names that look alike come first (`total` for `total_count`, a
    typo, a shared word), then names unpacked together or adjacent parameters, then the long tail
    of every other variable in scope. A name defined nowhere (a `NameError`: a leftover of a
    rename) is replaced by the most similar defined names only, and strongly."""
    if not isinstance(node.ctx, ast.Load):
        return
    scope = scope_names(ctx, node)
    s, e = ctx.src.span(node)
    if node.id not in scope:
        defined = _defined_names(ctx)
        if defined is None or node.id in defined:
            return  # globals, builtins and imported names are not "a variable in scope"
        # the name exists nowhere: whatever it was renamed to is spelled like it
        pool = [n for n in [*scope, *sorted(defined - BUILTIN_NAMES)] if n not in ("self", "cls")]
        for other in sorted(dict.fromkeys(pool), key=lambda o: -name_similarity(node.id, o))[:8]:
            yield (s, e, other, 2.5 if name_similarity(node.id, other) > 1.2 else 1.2)
        return
    parent = ctx.parents.get(node)
    if isinstance(parent, ast.Attribute) and parent.value is node:
        # `a.start` for `b.start` ("Same Function Change Caller"): names that are used with this
        # attribute elsewhere in the function come first, `self` included, which the loop below
        # never offers (a method's `other.x` written for `self.x`)
        for other in _attribute_users(ctx, node, parent.attr):
            if other != node.id:
                yield (s, e, other, 1.1)
    siblings = _siblings(ctx, node).get(node.id, {})
    # `self.x == self.x` for `self.x == other.x` happens, but rarely next to the other mix-ups
    own = 0.3 if node.id in ("self", "cls") else 1.0
    for other in scope:
        if other != node.id and other not in ("self", "cls"):
            # names unpacked together (`rows, cols = shape`) are the classic mix-up
            yield (s, e, other, own * siblings.get(other, 1.0) * name_similarity(node.id, other))


def _defined_names(ctx: Context) -> set[str] | None:
    """Every name the module binds anywhere (assignments, parameters, imports, definitions,
    loop and `with`/`except` targets, globals) plus the builtins; None when a `*` import makes
    that unknowable. A name outside this set raises NameError when it runs."""
    if "defined" not in ctx.scope_cache:
        names: set[str] | None = set(BUILTIN_NAMES)
        for n in ast.walk(ctx.tree):
            if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load):
                names.add(n.id)
            elif isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(n.name)
            elif isinstance(n, ast.arg):
                names.add(n.arg)
            elif isinstance(n, ast.alias):
                if n.name == "*":
                    names = None
                    break
                names.add(n.asname or n.name.split(".")[0])
            elif isinstance(n, (ast.Global, ast.Nonlocal)):
                names.update(n.names)
            elif isinstance(n, ast.ExceptHandler) and n.name:
                names.add(n.name)
            elif type(n).__name__ in ("MatchAs", "MatchStar") and getattr(n, "name", None):
                names.add(n.name)
            elif type(n).__name__ == "MatchMapping" and getattr(n, "rest", None):
                names.add(n.rest)
        ctx.scope_cache["defined"] = names
    return ctx.scope_cache["defined"]


def _attribute_users(ctx: Context, node: ast.AST, attr: str) -> list[str]:
    """Names that appear as `NAME.attr` in the function around node, in order of appearance,
    and `self` in a method of a class that has the field."""
    fn = ctx.function_of(node)
    key = ("attr_users", id(fn))
    if key not in ctx.scope_cache:
        users: dict[str, dict[str, None]] = {}
        for sub in ast.walk(fn if fn is not None else ctx.tree):
            if isinstance(sub, ast.Attribute) and isinstance(sub.value, ast.Name):
                users.setdefault(sub.attr, {}).setdefault(sub.value.id, None)
        ctx.scope_cache[key] = users
    out = dict(ctx.scope_cache[key].get(attr, {}))
    cls = ctx.parents.get(fn) if fn is not None else None
    if isinstance(cls, ast.ClassDef) and attr in _class_fields(ctx).get(cls.name, {}) and fn.args.args \
            and fn.args.args[0].arg == "self":
        out.setdefault("self", None)
    return list(out)


def _siblings(ctx: Context, node: ast.AST) -> dict[str, dict[str, float]]:
    """name -> {other name: weight}: unpacked together (3.0), adjacent parameters (1.5)."""
    fn = ctx.function_of(node)
    key = ("siblings", id(fn))
    if key not in ctx.scope_cache:
        groups: dict[str, dict[str, float]] = {}
        for sub in ast.walk(fn if fn is not None else ctx.tree):
            targets = []
            if isinstance(sub, ast.Assign):
                targets = sub.targets
            elif isinstance(sub, (ast.For, ast.comprehension)):
                targets = [sub.target]
            for t in targets:
                if isinstance(t, ast.Tuple):
                    names = {x.id for x in t.elts if isinstance(x, ast.Name)}
                    for n in names:
                        for other in names - {n}:
                            groups.setdefault(n, {})[other] = 3.0
        if fn is not None:
            params = [p.arg for p in fn.args.args if p.arg not in ("self", "cls")]
            for a, b in zip(params, params[1:]):
                groups.setdefault(a, {}).setdefault(b, 1.5)
                groups.setdefault(b, {}).setdefault(a, 1.5)
        ctx.scope_cache[key] = groups
    return ctx.scope_cache[key]


def t_wrong_attribute(node: ast.Attribute, ctx: Context) -> Iterator[Edit]:
    """`obj.a` for `obj.b`: the wrong field (TSSB-3M's "Change Attribute Used", 7% of Python
    single-statement bugs). The other fields come from the object's class when the module
    defines a class with this field (its `self.x` assignments, class-level and dataclass
    fields, properties, namedtuple fields: `edge.src` -> `edge.dst`), else from what the
    same object is seen with elsewhere in the module. Look-alike fields first. (`a.start` ->
    `b.start`, the same field of another object, is wrong_variable's edit of `a`.)"""
    if isinstance(node.ctx, ast.Store) or not isinstance(node.value, (ast.Name, ast.Attribute)):
        return
    if isinstance(ctx.parents.get(node), ast.Call) and ctx.parents[node].func is node:
        return  # method calls: method_call handles those
    base = ctx.src.seg(node.value)
    if isinstance(node.value, ast.Name) and node.value.id in imported_names(ctx):
        return  # `math.pi`: a module's attribute is not a field one confuses with another
    fields = _class_fields(ctx)
    if isinstance(node.value, ast.Name) and node.value.id == "self":
        cls = node
        while cls in ctx.parents and not isinstance(cls, ast.ClassDef):
            cls = ctx.parents[cls]
        if not isinstance(cls, ast.ClassDef):
            return
        pool = list(fields.get(cls.name, {}))
    else:
        pool = [a for fs in fields.values() if node.attr in fs for a in fs]
        if not pool:   # a class the module does not define: fields this object is seen with
            pool = _seen_fields(ctx).get(base, [])
    seen_here = set(_seen_fields(ctx).get(base, []))
    s, e = ctx.src.span(node)
    out = []
    for a in dict.fromkeys(pool):
        if a != node.attr:
            out.append((s, e, f"{base}.{a}", name_similarity(a, node.attr) * (1.2 if a in seen_here else 1.0)))
    yield from sorted(out, key=lambda x: -x[3])[:12]


def _class_fields(ctx: Context) -> dict[str, dict[str, None]]:
    """class name -> its data attributes, in order: what its methods assign to `self.x`, its
    class-level and dataclass fields, its properties; and the fields of namedtuples
    (`Edge = namedtuple("Edge", "src dst")`)."""
    if "fields" in ctx.scope_cache:
        return ctx.scope_cache["fields"]
    out: dict[str, dict[str, None]] = {}
    for cls in ast.walk(ctx.tree):
        if isinstance(cls, ast.ClassDef):
            fs = out.setdefault(cls.name, {})
            for stmt in cls.body:
                targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target] if isinstance(stmt, ast.AnnAssign) else []
                for t in targets:
                    if isinstance(t, ast.Name) and not t.id.startswith("__"):
                        fs.setdefault(t.id, None)
                if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)) and any(
                        isinstance(d, ast.Name) and d.id in ("property", "cached_property") for d in stmt.decorator_list):
                    fs.setdefault(stmt.name, None)
            for sub in ast.walk(cls):
                if (isinstance(sub, ast.Attribute) and isinstance(sub.value, ast.Name) and sub.value.id == "self"
                        and isinstance(sub.ctx, ast.Store)):
                    fs.setdefault(sub.attr, None)
        elif (isinstance(cls, ast.Assign) and len(cls.targets) == 1 and isinstance(cls.targets[0], ast.Name)
              and isinstance(cls.value, ast.Call) and len(cls.value.args) >= 2
              and getattr(cls.value.func, "id", getattr(cls.value.func, "attr", "")) == "namedtuple"):
            spec = cls.value.args[1]
            names: list[str] = []
            if isinstance(spec, ast.Constant) and isinstance(spec.value, str):
                names = spec.value.replace(",", " ").split()
            elif isinstance(spec, (ast.List, ast.Tuple)):
                names = [x.value for x in spec.elts if isinstance(x, ast.Constant) and isinstance(x.value, str)]
            out[cls.targets[0].id] = dict.fromkeys(names)
    ctx.scope_cache["fields"] = out
    return out


def _seen_fields(ctx: Context) -> dict[str, list[str]]:
    """source text of an object (`edge`, `self.head`) -> the attributes (not methods) it is
    seen with anywhere in the module."""
    if "seen_fields" not in ctx.scope_cache:
        out: dict[str, dict[str, None]] = {}
        for sub in ast.walk(ctx.tree):
            if isinstance(sub, ast.Attribute) and isinstance(sub.value, (ast.Name, ast.Attribute)):
                parent = ctx.parents.get(sub)
                if isinstance(parent, ast.Call) and parent.func is sub:
                    continue
                out.setdefault(ctx.src.seg(sub.value), {}).setdefault(sub.attr, None)
        ctx.scope_cache["seen_fields"] = {k: list(v) for k, v in out.items()}
    return ctx.scope_cache["seen_fields"]


def t_swap_arguments(node: ast.AST, ctx: Context) -> Iterator[Edit]:
    """Two arguments of a call, or two elements of a tuple subscript (`grid[c, r]` for
    `grid[r, c]`), in each other's place. Neighbours first: a swap of distant arguments is rarer."""
    if isinstance(node, ast.Subscript):
        if not isinstance(node.slice, ast.Tuple):
            return
        args = node.slice.elts
    else:
        args = node.args
    if any(isinstance(a, (ast.Starred, ast.Slice)) for a in args):
        return
    for i in range(len(args)):
        for j in range(i + 1, len(args)):
            a, b = args[i], args[j]
            sa, ea = ctx.src.span(a)
            sb, eb = ctx.src.span(b)
            mid = ctx.src.get(ea, sb)
            yield (sa, eb, ctx.src.seg(b) + mid + ctx.src.seg(a), 1.0 if j == i + 1 else 0.6)


# operators whose operands do not commute in general; `+` does not on strings and sequences
_NONCOMMUTING = (ast.Sub, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow, ast.LShift, ast.RShift, ast.MatMult)


def t_swap_operands(node: ast.AST, ctx: Context) -> Iterator[Edit]:
    """`b - a` for `a - b`, `s + prefix` for `prefix + s`, `key in d` the wrong way round: the
    operands of an operator that does not commute, in the wrong order. `+` is swapped only
    when an operand may be a string or a sequence (on numbers the swap changes nothing); it is
    weighed by how sure that is."""
    weight = 1.0
    if isinstance(node, ast.BinOp) and isinstance(node.op, _NONCOMMUTING):
        a, b = node.left, node.right
    elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        a, b = node.left, node.right
        if _numeric_literal(a) or _numeric_literal(b):
            return
        weight = 1.0 if _sequence_like(a) or _sequence_like(b) else 0.3
    elif isinstance(node, ast.Compare) and len(node.ops) == 1 and isinstance(node.ops[0], (ast.In, ast.NotIn)):
        a, b = node.left, node.comparators[0]
    else:
        return
    sa, ea = ctx.src.span(a)
    sb, eb = ctx.src.span(b)
    yield (sa, eb, parenthesized(ctx.src.seg(b)) + ctx.src.get(ea, sb) + parenthesized(ctx.src.seg(a)), weight)


def _numeric_literal(node: ast.AST) -> bool:
    if isinstance(node, ast.UnaryOp):
        node = node.operand
    return isinstance(node, ast.Constant) and isinstance(node.value, (int, float, complex)) and not isinstance(node.value, bool)


def _sequence_like(node: ast.AST) -> bool:
    """A string, list or tuple for sure: a literal, an f-string, a display, a comprehension, a
    call of str/list/tuple/repr/format/join, or `+` of one of those."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, (str, bytes))
    if isinstance(node, (ast.JoinedStr, ast.List, ast.Tuple, ast.ListComp)):
        return True
    if isinstance(node, ast.Call):
        f = node.func
        name = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ""
        return name in ("str", "list", "tuple", "repr", "format", "join", "sorted", "upper", "lower", "strip",
                        "rstrip", "lstrip", "replace", "capitalize", "title")
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Mod, ast.Mult)):
        return _sequence_like(node.left) or (isinstance(node.op, ast.Add) and _sequence_like(node.right))
    return False


def _body_indent(ctx: Context, stmts: list[ast.stmt]) -> str:
    return ctx.src.indent_of(stmts[0].lineno)


def t_missing_return(node: ast.AST, ctx: Context) -> Iterator[Edit]:
    """A function that computes a value and falls off the end: return a variable it assigned."""
    if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return
    last = node.body[-1]
    if isinstance(last, (ast.Return, ast.Raise)):
        return
    indent = _body_indent(ctx, node.body)
    end = ctx.src.span(last)[1]
    names = [n for n in scope_names(ctx, node.body[0]) if n not in ("self", "cls")]
    for name in reversed(names[-6:]):
        yield (end, end, f"\n{indent}return {name}")
    for sub in ast.walk(node):  # `return` without a value
        if isinstance(sub, ast.Return) and sub.value is None:
            s, e = ctx.src.span(sub)
            for name in reversed(names[-4:]):
                yield (s, e, f"return {name}")


def t_misplaced_return(node: ast.AST, ctx: Context) -> Iterator[Edit]:
    """A return inside a loop body that belongs after the loop (returns after one iteration)."""
    if not isinstance(node, (ast.For, ast.While)):
        return
    last = node.body[-1]
    if not isinstance(last, ast.Return) or len(node.body) < 2:
        return
    if node.orelse:
        return
    s, e = ctx.src.span(last)
    line_start = ctx.src.line_starts[last.lineno - 1]
    # the return is the loop's last line: re-indent it to the loop's level, i.e. after the loop
    yield (line_start, e, ctx.src.indent_of(node.lineno) + ctx.src.seg(last))


def t_wrong_constant(node: ast.Constant, ctx: Context) -> Iterator[Edit]:
    s, e = ctx.src.span(node)
    v = node.value
    if isinstance(v, bool):
        yield (s, e, str(not v))
    elif v is None:
        yield (s, e, "0")
    elif isinstance(v, (int, float)) and not isinstance(v, bool):
        fn = ctx.function_of(node)
        scope = fn if fn is not None else ctx.tree
        seen = {repr(v)}
        for sub in ast.walk(scope):  # another constant of the same type used nearby
            if isinstance(sub, ast.Constant) and type(sub.value) is type(v) and repr(sub.value) not in seen:
                seen.add(repr(sub.value))
                yield (s, e, repr(sub.value))
        if v != 0:
            yield (s, e, "0")
    elif isinstance(v, str) and len(v) <= 3 and ctx.src.seg(node)[:1] in "'\"":
        fn = ctx.function_of(node)
        seen = {v}
        for sub in ast.walk(fn if fn is not None else ctx.tree):
            if isinstance(sub, ast.Constant) and isinstance(sub.value, str) and len(sub.value) <= 3 and sub.value not in seen:
                seen.add(sub.value)
                yield (s, e, repr(sub.value))


def _simple_stmt(node: ast.AST) -> bool:
    return isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Expr, ast.Return, ast.Raise,
                             ast.Break, ast.Continue, ast.Delete, ast.Assert))


def t_delete_statement(node: ast.stmt, ctx: Context) -> Iterator[Edit]:
    if not _simple_stmt(node) or isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
        return
    parent = ctx.parents.get(node)
    block = None
    for fld in ("body", "orelse", "finalbody"):
        if parent is not None and node in getattr(parent, fld, []):
            block = getattr(parent, fld)
    s, e = ctx.src.span(node)
    if block is not None and len(block) == 1:
        yield (s, e, "pass", 0.4 if isinstance(node, (ast.Raise, ast.Assert)) else 1.0)
    else:
        line_start = ctx.src.line_starts[node.lineno - 1]
        after = ctx.src.data[e:e + 1]
        i = block.index(node) if block is not None else -1
        # a statement repeated right after itself is the copy-paste bug par excellence
        dup = i > 0 and ctx.src.seg(block[i - 1]).split("#")[0].strip() == ctx.src.seg(node).split("#")[0].strip()
        # deleting a check makes its tests pass and is rarely the fix (overfitting): less likely
        weight = 4.0 if dup else 0.4 if isinstance(node, (ast.Raise, ast.Assert)) else 1.0
        yield (line_start, e + (1 if after == b"\n" else 0), "", weight)


def t_insert_statement(node: ast.stmt, ctx: Context) -> Iterator[Edit]:
    """A missing statement, copied from where the code already has it (Defects4J's copy/paste
    pattern: 12% of its patches). In order of how telling the source is: bookkeeping a sibling
    branch does and this one does not (`removed += 1` in the branch that lacks it, copied, or
    adapted from `added += 1` to a counter that is set up and never updated); a while loop's
    missing step (`i += 1`: the loop never ends); the nearest simple statements of the function,
    before or after this one."""
    fn = ctx.function_of(node)
    if fn is None:
        return
    if isinstance(node, ast.While):
        yield from _missing_loop_step(node, ctx)
        return
    yield from _sibling_copies(node, ctx)
    if not _simple_stmt(node):
        return
    indent = ctx.src.indent_of(node.lineno)
    line_start = ctx.src.line_starts[node.lineno - 1]
    for sub in ast.walk(fn):
        if sub is node or not isinstance(sub, (ast.Assign, ast.AugAssign, ast.Expr)) or abs(sub.lineno - node.lineno) > 8:
            continue
        if sub.end_lineno != sub.lineno or isinstance(getattr(sub, "value", None), ast.Constant):
            continue
        text = ctx.src.seg(sub)
        near = max(0.5, 1.0 - 0.08 * (abs(sub.lineno - node.lineno) - 1))   # the nearest first
        yield (line_start, line_start, f"{indent}{text}\n", near)
        end = ctx.src.span(node)[1]
        if isinstance(node, (ast.Assign, ast.AugAssign, ast.Expr)):
            yield (end, end, f"\n{indent}{text}", near)


def _branches(ctx: Context, node: ast.AST) -> tuple[list[list[ast.stmt]], list[ast.stmt] | None]:
    """(the branches of the if/elif/else chain around node, the branch node sits in); for an
    `if` statement itself, its own chain and no branch of its own."""
    if isinstance(node, ast.If):
        top, mine = node, None
    else:
        parent = ctx.parents.get(node)
        if not isinstance(parent, ast.If):
            return [], None
        top, mine = parent, parent.body if node in parent.body else parent.orelse
    while isinstance(ctx.parents.get(top), ast.If) and ctx.parents[top].orelse == [top]:
        top = ctx.parents[top]   # up an elif chain to its first `if`
    out, cur = [], top
    while True:
        out.append(cur.body)
        if len(cur.orelse) == 1 and isinstance(cur.orelse[0], ast.If):
            cur = cur.orelse[0]
            continue
        if cur.orelse:
            out.append(cur.orelse)
        break
    return out, mine


def _norm(ctx: Context, stmt: ast.stmt) -> str:
    return " ".join(ctx.src.seg(stmt).split())


def _idle_counters(ctx: Context, fn: ast.AST) -> list[str]:
    """Names the function sets to a starting value (`removed = 0`, `skipped = []`) and never
    updates or reassigns: set up for bookkeeping that never happens."""
    stores: dict[str, int] = {}
    reset: dict[str, None] = {}
    updated: set[str] = set()
    for sub in ast.walk(fn):
        if isinstance(sub, ast.Assign):
            for t in sub.targets:
                if isinstance(t, ast.Name):
                    stores[t.id] = stores.get(t.id, 0) + 1
                    if is_reset(sub.value):
                        reset.setdefault(t.id, None)
        elif isinstance(sub, ast.AugAssign) and isinstance(sub.target, ast.Name):
            updated.add(sub.target.id)
        elif isinstance(sub, ast.Call) and isinstance(sub.func, ast.Attribute) and isinstance(sub.func.value, ast.Name):
            if sub.func.attr in ("append", "add", "extend", "update", "insert", "appendleft", "setdefault"):
                updated.add(sub.func.value.id)
        elif isinstance(sub, (ast.For, ast.comprehension)) and isinstance(sub.target, ast.Name):
            updated.add(sub.target.id)
    return [n for n in reset if stores.get(n) == 1 and n not in updated]


def _sibling_copies(node: ast.AST, ctx: Context) -> Iterator[Edit]:
    """What another branch of the same if/elif/else chain does and node's branch does not:
    copied to the end of the branch (before its `return`/`break`/`continue`), or adapted to an
    idle counter (`added += 1` -> `removed += 1`)."""
    branches, mine = _branches(ctx, node)
    if len(branches) < 2:
        return
    fn = ctx.function_of(node)
    if ("idle", id(fn)) not in ctx.scope_cache:
        ctx.scope_cache[("idle", id(fn))] = _idle_counters(ctx, fn) if fn is not None else []
    idle = ctx.scope_cache[("idle", id(fn))]
    for target in ([mine] if mine is not None else branches):
        have = {_norm(ctx, st) for st in target}
        for other in branches:
            if other is target:
                continue
            for st in other[:8]:
                if st.end_lineno != st.lineno or not isinstance(st, (ast.AugAssign, ast.Assign, ast.Expr)):
                    continue
                if isinstance(st, ast.Expr) and not isinstance(st.value, ast.Call):
                    continue
                text = ctx.src.seg(st)
                if _norm(ctx, st) in have:
                    continue
                yield (*_at_block_end(ctx, target, text), 1.6)
                if isinstance(st, ast.AugAssign) and isinstance(st.target, ast.Name):
                    rest = ctx.src.get(ctx.src.span(st.target)[1], ctx.src.span(st)[1])
                    for name in idle:
                        if name != st.target.id:
                            yield (*_at_block_end(ctx, target, name + rest), 2.0)


def _at_block_end(ctx: Context, block: list[ast.stmt], text: str) -> Edit:
    """Insert a statement at the end of a block, before the `return`/`break`/`continue`/`raise`
    that ends it (a statement after a jump never runs)."""
    last = block[-1]
    indent = ctx.src.indent_of(block[0].lineno)
    if isinstance(last, (ast.Return, ast.Break, ast.Continue, ast.Raise)):
        at = ctx.src.line_starts[last.lineno - 1]
        return (at, at, f"{indent}{text}\n")
    at = ctx.src.span(last)[1]
    return (at, at, f"\n{indent}{text}")


def _missing_loop_step(node: ast.While, ctx: Context) -> Iterator[Edit]:
    """`while i < n:` whose body never changes i: the step is missing (`i += 1`, or `i -= 1`
    for a countdown), at the end of the body."""
    test = node.test
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], (ast.Lt, ast.LtE, ast.Gt, ast.GtE))):
        return
    assigned = {n.id for st in node.body for n in ast.walk(st) if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load)}
    assigned |= {n.target.id for st in node.body for n in ast.walk(st) if isinstance(n, ast.AugAssign) and isinstance(n.target, ast.Name)}
    up = isinstance(test.ops[0], (ast.Lt, ast.LtE))
    for side, rising in ((test.left, up), (test.comparators[0], not up)):
        if isinstance(side, ast.Name) and side.id not in assigned:
            yield (*_at_block_end(ctx, node.body, f"{side.id} += 1"), 1.6 if rising else 0.5)
            yield (*_at_block_end(ctx, node.body, f"{side.id} -= 1"), 0.5 if rising else 1.6)


_METHOD_CONFUSIONS = [
    ("append", "extend"), ("remove", "discard"), ("pop", "popleft"), ("lower", "upper"), ("strip", "rstrip"),
    ("strip", "lstrip"), ("startswith", "endswith"), ("find", "rfind"), ("index", "rindex"), ("split", "rsplit"),
    ("keys", "values"), ("values", "items"), ("get", "setdefault"), ("min", "max"), ("any", "all"),
    ("sorted", "reversed"), ("floor", "ceil"), ("int", "round"), ("isdigit", "isalpha"), ("update", "add"),
    ("insert", "append"), ("sort", "reverse"), ("issubset", "issuperset"), ("union", "intersection"),
    ("difference", "symmetric_difference"), ("replace", "translate"), ("join", "split"),
]
_CONFUSE: dict[str, list[str]] = {}
for _a, _b in _METHOD_CONFUSIONS:
    _CONFUSE.setdefault(_a, []).append(_b)
    _CONFUSE.setdefault(_b, []).append(_a)


def t_method_call(node: ast.Call, ctx: Context) -> Iterator[Edit]:
    f = node.func
    if isinstance(f, ast.Attribute):
        s, e = ctx.src.span(f)
        base = ctx.src.get(s, ctx.src.span(f.value)[1])
        for other in _CONFUSE.get(f.attr, []):
            yield (s, e, f"{base}.{other}")
        # other methods the same object receiver calls elsewhere in the file, same arity
        if isinstance(f.value, ast.Name):
            seen = {f.attr, *_CONFUSE.get(f.attr, [])}
            for sub in ast.walk(ctx.tree):
                if (isinstance(sub, ast.Call) and isinstance(sub.func, ast.Attribute) and isinstance(sub.func.value, ast.Name)
                        and sub.func.value.id == f.value.id and sub.func.attr not in seen and len(sub.args) == len(node.args)):
                    seen.add(sub.func.attr)
                    yield (s, e, f"{base}.{sub.func.attr}")
    elif isinstance(f, ast.Name):
        s, e = ctx.src.span(f)
        for other in _CONFUSE.get(f.id, []):
            yield (s, e, other)


def t_wrong_default(node: ast.AST, ctx: Context) -> Iterator[Edit]:
    if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return
    a = node.args
    positional = [*a.posonlyargs, *a.args]
    pairs = list(zip(positional[len(positional) - len(a.defaults):], a.defaults))
    pairs += [(p, d) for p, d in zip(a.kwonlyargs, a.kw_defaults) if d is not None]
    for param, d in pairs:
        if isinstance(d, ast.Constant):
            s, e = ctx.src.span(d)
            v = d.value
            if isinstance(v, bool):
                # a flag has one alternative; the parameter's name is what an issue would mention
                yield (s, e, str(not v), 2.0, param.arg)
            elif isinstance(v, int):
                yield (s, e, str(v + 1))
                yield (s, e, str(v - 1))
                yield (s, e, "None")
            elif v is None:
                yield (s, e, "0")
                yield (s, e, "True")
            elif isinstance(v, (float, str)):
                yield (s, e, "None")


def t_assign_update(node: ast.AST, ctx: Context) -> Iterator[Edit]:
    """`total = x` in a loop's body where `total += x` was meant, and the reverse (`count += 1`
    where the count should restart). Not the other way for resets (`n = 0`), nor outside a
    loop's body, where an update is rarely what was meant."""
    if isinstance(node, ast.AugAssign):
        if isinstance(node.op, (ast.Add, ast.Sub)):
            s, e = between(ctx, node.target, node.value)
            yield swap_token(ctx, s, e, "+=" if isinstance(node.op, ast.Add) else "-=", "=")
        return
    inner, in_body = node, False
    for parent in ctx.ancestors(node):
        if isinstance(parent, (ast.For, ast.AsyncFor, ast.While)):
            in_body = inner in parent.body   # the else: clause runs once
            break
        inner = parent
    if (not in_body or len(node.targets) != 1 or not isinstance(node.targets[0], (ast.Name, ast.Attribute, ast.Subscript))
            or is_reset(node.value)):
        return
    s, e = between(ctx, node.targets[0], node.value)
    yield swap_token(ctx, s, e, "=", "+=")


def t_break_continue(node: ast.AST, ctx: Context) -> Iterator[Edit]:
    s, e = ctx.src.span(node)
    yield (s, e, "continue" if isinstance(node, ast.Break) else "break")


def t_unary_remove(node: ast.UnaryOp, ctx: Context) -> Iterator[Edit]:
    if isinstance(node.op, (ast.USub, ast.Invert)):
        s, e = ctx.src.span(node)
        yield (s, e, ctx.src.seg(node.operand))
