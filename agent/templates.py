"""Repair templates from the program-repair literature, applied at `ast` positions.

Each template looks at the syntax nodes on one suspicious line of one file and proposes
source-level rewrites of a node's exact span (byte offsets from `ast` positions), so the rest
of the file keeps its formatting and comments. Every candidate is re-parsed and dropped if it
does not parse; identical results are deduplicated. The templates follow the mutation
families of GenProg/PraPR/TBar and the Python bug studies (PyPIBugs, ManySStuBs): operator
swaps, off-by-one, negated or dropped conditions, wrong variable, swapped arguments, missing
or misplaced return, wrong constant, statement deletion/insertion, changed call, wrong default.
"""
from __future__ import annotations

import ast
import bisect
import hashlib
from dataclasses import dataclass, field
from typing import Callable, Iterator


@dataclass(frozen=True)
class Candidate:
    """One edit of one file: the whole new text plus what changed, for the explanation."""

    file: str          # workspace-relative path
    line: int          # 1-based line the edit is anchored to
    template: str
    before: str        # the replaced source span
    after: str         # its replacement
    new_source: str    # the full new text of the file
    function: str = ""  # enclosing function, when known
    weight: float = 1.0  # the template's own confidence in this variant (1 = no opinion)
    context: str = ""    # the source line where the edit starts (what the policy may match the issue against)

    @property
    def key(self) -> str:
        return hashlib.sha256(f"{self.file}\0{self.new_source}".encode()).hexdigest()[:16]

    @property
    def description(self) -> str:
        where = f"{self.file}:{self.line}" + (f" in {self.function}()" if self.function else "")
        before = " ".join(self.before.split())[:80]
        after = " ".join(self.after.split())[:80]
        if not before:
            return f"{self.template}: inserted `{after}` at {where}"
        if not after:
            return f"{self.template}: deleted `{before}` at {where}"
        return f"{self.template}: `{before}` -> `{after}` at {where}"


# Template priors: how often each bug family occurs in the Python/Java bug studies, roughly.
# The built-in policy multiplies them with location scores; a learned ranker replaces them.
PRIORS: dict[str, float] = {
    "compare_swap": 1.0, "bound_off_by_one": 0.85, "constant_off_by_one": 0.8, "slice_bounds": 0.85,
    "index_off_by_one": 0.7, "bool_swap": 0.8, "arith_swap": 0.75, "negate_condition": 0.75,
    "remove_condition": 0.5, "wrong_variable": 0.6, "swap_arguments": 0.55, "swap_operands": 0.5,
    "missing_return": 0.6, "misplaced_return": 0.5, "wrong_constant": 0.6, "delete_statement": 0.35,
    "insert_statement": 0.3, "method_call": 0.55, "wrong_default": 0.5, "unary_remove": 0.5,
}


class _Source:
    """Byte-offset view of a source file (ast columns are UTF-8 byte offsets)."""

    def __init__(self, text: str):
        self.text = text
        self.data = text.encode()
        self.line_starts = [0]
        for i, b in enumerate(self.data):
            if b == 0x0A:
                self.line_starts.append(i + 1)

    def offset(self, lineno: int, col: int) -> int:
        return self.line_starts[lineno - 1] + col

    def span(self, node: ast.AST) -> tuple[int, int]:
        return (self.offset(node.lineno, node.col_offset), self.offset(node.end_lineno, node.end_col_offset))

    def get(self, start: int, end: int) -> str:
        return self.data[start:end].decode()

    def seg(self, node: ast.AST) -> str:
        return self.get(*self.span(node))

    def replace(self, start: int, end: int, new: str) -> str:
        return (self.data[:start] + new.encode() + self.data[end:]).decode()

    def line_text(self, lineno: int) -> str:
        end = self.line_starts[lineno] if lineno < len(self.line_starts) else len(self.data)
        return self.data[self.line_starts[lineno - 1]:end].decode()

    def indent_of(self, lineno: int) -> str:
        line = self.line_text(lineno)
        return line[: len(line) - len(line.lstrip())]


@dataclass
class _Ctx:
    src: _Source
    tree: ast.Module
    parents: dict[ast.AST, ast.AST]
    functions: list[ast.AST] = field(default_factory=list)
    scope_cache: dict = field(default_factory=dict)

    def ancestors(self, node: ast.AST) -> Iterator[ast.AST]:
        """The nodes enclosing this one, innermost first, up to (not past) its function."""
        while node in self.parents:
            node = self.parents[node]
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                return
            yield node

    def function_of(self, node: ast.AST) -> ast.AST | None:
        while node in self.parents:
            node = self.parents[node]
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                return node
        return None


Edit = tuple  # (start byte, end byte, replacement[, weight]): weight > 1 marks a likelier variant


def _wrap(text: str) -> str:
    """Parenthesize unless the text is a plain name, call, attribute or literal."""
    try:
        node = ast.parse(text, mode="eval").body
    except SyntaxError:
        return f"({text})"
    if isinstance(node, (ast.Name, ast.Call, ast.Attribute, ast.Constant, ast.Subscript)):
        return text
    return f"({text})"


def _between(ctx: _Ctx, a: ast.AST, b: ast.AST) -> tuple[int, int]:
    return ctx.src.span(a)[1], ctx.src.span(b)[0]


def _swap_token(ctx: _Ctx, start: int, end: int, old: str, new: str) -> Edit | None:
    """Replace the operator token `old` found between two operands (skipping parentheses)."""
    gap = ctx.src.get(start, end)
    # Word operators need word boundaries; look for the exact token with surrounding spaces.
    idx = gap.find(f" {old} ") + 1 if old.isalpha() or " " in old else gap.find(old)
    if old.isalpha() or " " in old:
        if idx == 0:
            return None
    elif idx < 0:
        return None
    s = start + len(gap[:idx].encode())
    return (s, s + len(old.encode()), new)


# ---------------------------------------------------------------------------------------------
# The templates. Each takes (node, ctx) and yields edits; registration below says which
# node types it applies to.

_CMP = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==", ast.NotEq: "!=",
        ast.Is: "is", ast.IsNot: "is not", ast.In: "in", ast.NotIn: "not in"}
_CMP_SWAPS = {"<": ["<=", ">"], "<=": ["<", ">="], ">": [">=", "<"], ">=": [">", "<="], "==": ["!="],
              "!=": ["=="], "is": ["is not"], "is not": ["is"], "in": ["not in"], "not in": ["in"]}
_FLIPPED = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}
_BIN = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//", ast.Mod: "%",
        ast.Pow: "**", ast.BitAnd: "&", ast.BitOr: "|"}
_BIN_SWAPS = {"+": ["-"], "-": ["+"], "*": ["/", "//", "+"], "/": ["//", "*"], "//": ["/", "%"],
              "%": ["//"], "**": ["*"], "&": ["|"], "|": ["&"]}


def t_compare_swap(node: ast.AST, ctx: _Ctx) -> Iterator[Edit]:
    if isinstance(node, ast.BoolOp):
        yield from _compare_swap_together(node, ctx)
        return
    operands = [node.left, *node.comparators]
    for i, op in enumerate(node.ops):
        old = _CMP.get(type(op))
        s, e = _between(ctx, operands[i], operands[i + 1])
        for new in _CMP_SWAPS.get(old, []):
            edit = _swap_token(ctx, s, e, old, new)
            if edit:
                # a bound that should (not) be inclusive is a far commoner bug than a comparison
                # the wrong way round; try `<` -> `<=` before `<` -> `>`
                yield (*edit, 0.5) if new == _FLIPPED.get(old) else edit


_STRICTNESS = {"<": "<=", "<=": "<", ">": ">=", ">=": ">"}


def _compare_swap_together(node: ast.BoolOp, ctx: _Ctx) -> Iterator[Edit]:
    """`lo <= x and x <= hi` → `lo < x and x < hi`, `x >= lo and x <= hi` → `x > lo and x < hi`:
    a wrong idea of whether bounds are inclusive is usually applied to every comparison of the
    test, and toggling one at a time fixes none. Only when all are equally strict (`x >= lo and
    x < hi` is a half-open range on purpose)."""
    compares = [v for v in node.values if isinstance(v, ast.Compare) and len(v.ops) == 1]
    ops = [_CMP.get(type(c.ops[0])) for c in compares]
    if len(compares) < 2 or not all(op in _STRICTNESS for op in ops) or len({op in ("<", ">") for op in ops}) != 1:
        return
    edits = [_swap_token(ctx, *_between(ctx, c.left, c.comparators[0]), op, _STRICTNESS[op]) for c, op in zip(compares, ops)]
    if not all(edits):
        return
    start, end = ctx.src.span(node)
    text = ctx.src.data[start:end]
    for s, e, repl in sorted(edits, reverse=True):   # right to left keeps the offsets valid
        text = text[:s - start] + repl.encode() + text[e - start:]
    yield (start, end, text.decode(), 0.8)


def t_arith_swap(node: ast.AST, ctx: _Ctx) -> Iterator[Edit]:
    if isinstance(node, ast.BinOp):
        a, b = node.left, node.right
        suffix = ""
    else:  # AugAssign: the token is "op="
        a, b = node.target, node.value
        suffix = "="
    old = _BIN.get(type(node.op))
    if not old:
        return
    s, e = _between(ctx, a, b)
    for new in _BIN_SWAPS.get(old, []):
        edit = _swap_token(ctx, s, e, old + suffix, new + suffix)
        if edit:
            yield edit


def t_bool_swap(node: ast.BoolOp, ctx: _Ctx) -> Iterator[Edit]:
    old, new = ("and", "or") if isinstance(node.op, ast.And) else ("or", "and")
    for a, b in zip(node.values, node.values[1:]):
        s, e = _between(ctx, a, b)
        edit = _swap_token(ctx, s, e, old, new)
        if edit:
            yield edit


def t_negate_condition(node: ast.AST, ctx: _Ctx) -> Iterator[Edit]:
    test = node.test
    s, e = ctx.src.span(test)
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        yield (s, e, ctx.src.seg(test.operand))
    elif isinstance(test, ast.Compare) and len(test.ops) == 1:
        return  # compare_swap already proposes the negated operator, more readably
    else:
        yield (s, e, f"not {_wrap(ctx.src.seg(test))}")


def t_remove_condition(node: ast.AST, ctx: _Ctx) -> Iterator[Edit]:
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


def _int_const(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and type(node.value) is int


def t_constant_off_by_one(node: ast.Constant, ctx: _Ctx) -> Iterator[Edit]:
    if _int_const(node):
        s, e = ctx.src.span(node)
        yield (s, e, str(node.value + 1))
        yield (s, e, str(node.value - 1) if node.value - 1 >= 0 else f"({node.value - 1})")


def _plus_minus(ctx: _Ctx, expr: ast.AST) -> Iterator[Edit]:
    if isinstance(expr, (ast.Constant, ast.JoinedStr, ast.List, ast.Dict, ast.Set, ast.Tuple, ast.Compare, ast.BoolOp)):
        return  # literals: constant_off_by_one covers numbers; nothing else takes "+ 1"
    if isinstance(expr, ast.UnaryOp) and _int_const(expr.operand):
        return
    s, e = ctx.src.span(expr)
    text = _wrap(ctx.src.seg(expr))
    # x + 1 written as "x - 1"'s undo: when expr already is "y - 1"/"y + 1", drop the term.
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, (ast.Add, ast.Sub)) and _int_const(expr.right) and expr.right.value == 1:
        yield (s, e, ctx.src.seg(expr.left))
    yield (s, e, f"{text} + 1")
    yield (s, e, f"{text} - 1")


def t_bound_off_by_one(node: ast.AST, ctx: _Ctx) -> Iterator[Edit]:
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


def t_index_off_by_one(node: ast.Subscript, ctx: _Ctx) -> Iterator[Edit]:
    if not isinstance(node.slice, (ast.Slice, ast.Tuple)):
        yield from _plus_minus(ctx, node.slice)


def t_slice_bounds(node: ast.Subscript, ctx: _Ctx) -> Iterator[Edit]:
    sl = node.slice
    if not isinstance(sl, ast.Slice):
        return
    for bound in (sl.lower, sl.upper):
        if bound is None:
            continue
        s, e = ctx.src.span(bound)
        text = ctx.src.seg(bound)
        if _int_const(bound):
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


def _scope_names(ctx: _Ctx, node: ast.AST) -> list[str]:
    """Variables visible at node: the enclosing function's parameters and assigned names."""
    fn = ctx.function_of(node)
    if id(fn) not in ctx.scope_cache:
        ctx.scope_cache[id(fn)] = _compute_scope(fn)
    return ctx.scope_cache[id(fn)]


def _compute_scope(fn) -> list[str]:
    names: list[str] = []
    if fn is not None:
        a = fn.args
        names += [p.arg for p in [*a.posonlyargs, *a.args, *a.kwonlyargs]]
        names += [x.arg for x in (a.vararg, a.kwarg) if x]
        for sub in ast.walk(fn):
            if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store):
                names.append(sub.id)
    seen: dict[str, None] = {}
    for n in names:
        seen.setdefault(n, None)
    return list(seen)


def t_wrong_variable(node: ast.Name, ctx: _Ctx) -> Iterator[Edit]:
    if not isinstance(node.ctx, ast.Load):
        return
    scope = _scope_names(ctx, node)
    if node.id not in scope:
        return  # globals, builtins and imported names are not "a variable in scope"
    s, e = ctx.src.span(node)
    siblings = _siblings(ctx, node).get(node.id, {})
    # `self.x == self.x` for `self.x == other.x` happens, but rarely next to the other mix-ups
    own = 0.3 if node.id in ("self", "cls") else 1.0
    for other in scope:
        if other != node.id and other not in ("self", "cls"):
            # names unpacked together (`rows, cols = shape`) are the classic mix-up
            yield (s, e, other, own * siblings.get(other, 1.0))


def _siblings(ctx: _Ctx, node: ast.AST) -> dict[str, dict[str, float]]:
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


def t_wrong_attribute(node: ast.Attribute, ctx: _Ctx) -> Iterator[Edit]:
    """self.a -> self.b among the attributes the same class touches (wrong field)."""
    if not (isinstance(node.value, ast.Name) and node.value.id == "self") or isinstance(node.ctx, ast.Store):
        return
    if isinstance(ctx.parents.get(node), ast.Call) and ctx.parents[node].func is node:
        return  # method calls: method_call handles those
    cls = node
    while cls in ctx.parents and not isinstance(cls, ast.ClassDef):
        cls = ctx.parents[cls]
    if not isinstance(cls, ast.ClassDef):
        return
    attrs: dict[str, None] = {}
    for sub in ast.walk(cls):
        if isinstance(sub, ast.Attribute) and isinstance(sub.value, ast.Name) and sub.value.id == "self" and isinstance(sub.ctx, ast.Store):
            attrs.setdefault(sub.attr, None)
    s, e = ctx.src.span(node)
    for a in attrs:
        if a != node.attr:
            yield (s, e, f"self.{a}")


def t_swap_arguments(node: ast.Call, ctx: _Ctx) -> Iterator[Edit]:
    args = [a for a in node.args if not isinstance(a, ast.Starred)]
    if len(args) != len(node.args):
        return
    for a, b in zip(args, args[1:]):
        sa, ea = ctx.src.span(a)
        sb, eb = ctx.src.span(b)
        mid = ctx.src.get(ea, sb)
        yield (sa, eb, ctx.src.seg(b) + mid + ctx.src.seg(a))


def t_swap_operands(node: ast.AST, ctx: _Ctx) -> Iterator[Edit]:
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Sub, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow)):
        a, b = node.left, node.right
    elif isinstance(node, ast.Compare) and len(node.ops) == 1 and isinstance(node.ops[0], (ast.In, ast.NotIn)):
        a, b = node.left, node.comparators[0]
    else:
        return
    sa, ea = ctx.src.span(a)
    sb, eb = ctx.src.span(b)
    yield (sa, eb, _wrap(ctx.src.seg(b)) + ctx.src.get(ea, sb) + _wrap(ctx.src.seg(a)))


def _body_indent(ctx: _Ctx, stmts: list[ast.stmt]) -> str:
    return ctx.src.indent_of(stmts[0].lineno)


def t_missing_return(node: ast.AST, ctx: _Ctx) -> Iterator[Edit]:
    """A function that computes a value and falls off the end: return a variable it assigned."""
    if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return
    last = node.body[-1]
    if isinstance(last, (ast.Return, ast.Raise)):
        return
    indent = _body_indent(ctx, node.body)
    end = ctx.src.span(last)[1]
    names = [n for n in _scope_names(ctx, node.body[0]) if n not in ("self", "cls")]
    for name in reversed(names[-6:]):
        yield (end, end, f"\n{indent}return {name}")
    for sub in ast.walk(node):  # `return` without a value
        if isinstance(sub, ast.Return) and sub.value is None:
            s, e = ctx.src.span(sub)
            for name in reversed(names[-4:]):
                yield (s, e, f"return {name}")


def t_misplaced_return(node: ast.AST, ctx: _Ctx) -> Iterator[Edit]:
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


def t_wrong_constant(node: ast.Constant, ctx: _Ctx) -> Iterator[Edit]:
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


def t_delete_statement(node: ast.stmt, ctx: _Ctx) -> Iterator[Edit]:
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


def t_insert_statement(node: ast.stmt, ctx: _Ctx) -> Iterator[Edit]:
    """Copy a nearby simple statement of the same function before this one (a missed update)."""
    if not _simple_stmt(node):
        return
    fn = ctx.function_of(node)
    if fn is None:
        return
    indent = ctx.src.indent_of(node.lineno)
    line_start = ctx.src.line_starts[node.lineno - 1]
    for sub in ast.walk(fn):
        if sub is node or not isinstance(sub, (ast.Assign, ast.AugAssign, ast.Expr)) or abs(sub.lineno - node.lineno) > 8:
            continue
        if sub.end_lineno != sub.lineno or isinstance(getattr(sub, "value", None), ast.Constant):
            continue
        text = ctx.src.seg(sub)
        yield (line_start, line_start, f"{indent}{text}\n")
        end = ctx.src.span(node)[1]
        if isinstance(node, (ast.Assign, ast.AugAssign, ast.Expr)):
            yield (end, end, f"\n{indent}{text}")


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


def t_method_call(node: ast.Call, ctx: _Ctx) -> Iterator[Edit]:
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
        if f.id in ("len", "sum", "abs", "list", "sorted", "set") and len(node.args) == 1:
            yield (ctx.src.span(node)[0], ctx.src.span(node)[1], ctx.src.seg(node.args[0]))  # call not needed


def t_wrong_default(node: ast.AST, ctx: _Ctx) -> Iterator[Edit]:
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


def _is_reset(value: ast.AST) -> bool:
    """`0`, `-1`, `[]`, `{}`, `set()`: a value one starts from, not one to accumulate."""
    if isinstance(value, ast.UnaryOp):
        value = value.operand
    if isinstance(value, ast.Constant):
        return True
    if isinstance(value, (ast.List, ast.Dict, ast.Set, ast.Tuple)):
        return not (getattr(value, "elts", None) or getattr(value, "keys", None))
    return isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and not value.args and not value.keywords


def t_assign_update(node: ast.AST, ctx: _Ctx) -> Iterator[Edit]:
    """`total = x` in a loop's body where `total += x` was meant, and the reverse (`count += 1`
    where the count should restart). Not the other way for resets (`n = 0`), nor outside a
    loop's body, where an update is rarely what was meant."""
    if isinstance(node, ast.AugAssign):
        if isinstance(node.op, (ast.Add, ast.Sub)):
            s, e = _between(ctx, node.target, node.value)
            yield _swap_token(ctx, s, e, "+=" if isinstance(node.op, ast.Add) else "-=", "=")
        return
    inner, in_body = node, False
    for parent in ctx.ancestors(node):
        if isinstance(parent, (ast.For, ast.AsyncFor, ast.While)):
            in_body = inner in parent.body   # the else: clause runs once
            break
        inner = parent
    if (not in_body or len(node.targets) != 1 or not isinstance(node.targets[0], (ast.Name, ast.Attribute, ast.Subscript))
            or _is_reset(node.value)):
        return
    s, e = _between(ctx, node.targets[0], node.value)
    yield _swap_token(ctx, s, e, "=", "+=")


def t_break_continue(node: ast.AST, ctx: _Ctx) -> Iterator[Edit]:
    s, e = ctx.src.span(node)
    yield (s, e, "continue" if isinstance(node, ast.Break) else "break")


def t_unary_remove(node: ast.UnaryOp, ctx: _Ctx) -> Iterator[Edit]:
    if isinstance(node.op, (ast.USub, ast.Invert)):
        s, e = ctx.src.span(node)
        yield (s, e, ctx.src.seg(node.operand))


# template name -> (node types, function)
TEMPLATES: dict[str, tuple[tuple[type, ...], Callable]] = {
    "compare_swap": ((ast.Compare, ast.BoolOp), t_compare_swap),
    "arith_swap": ((ast.BinOp, ast.AugAssign), t_arith_swap),
    "bool_swap": ((ast.BoolOp,), t_bool_swap),
    "negate_condition": ((ast.If, ast.While, ast.IfExp, ast.Assert), t_negate_condition),
    "remove_condition": ((ast.BoolOp, ast.If), t_remove_condition),
    "constant_off_by_one": ((ast.Constant,), t_constant_off_by_one),
    "bound_off_by_one": ((ast.Compare, ast.Call), t_bound_off_by_one),
    "index_off_by_one": ((ast.Subscript,), t_index_off_by_one),
    "slice_bounds": ((ast.Subscript,), t_slice_bounds),
    "wrong_variable": ((ast.Name,), t_wrong_variable),
    "wrong_attribute": ((ast.Attribute,), t_wrong_attribute),
    "swap_arguments": ((ast.Call,), t_swap_arguments),
    "swap_operands": ((ast.BinOp, ast.Compare), t_swap_operands),
    "missing_return": ((ast.FunctionDef, ast.AsyncFunctionDef), t_missing_return),
    "misplaced_return": ((ast.For, ast.While), t_misplaced_return),
    "wrong_constant": ((ast.Constant,), t_wrong_constant),
    "delete_statement": ((ast.stmt,), t_delete_statement),
    "insert_statement": ((ast.stmt,), t_insert_statement),
    "method_call": ((ast.Call,), t_method_call),
    "wrong_default": ((ast.FunctionDef, ast.AsyncFunctionDef), t_wrong_default),
    "unary_remove": ((ast.UnaryOp,), t_unary_remove),
    "assign_update": ((ast.Assign, ast.AugAssign), t_assign_update),
    "break_continue": ((ast.Break, ast.Continue), t_break_continue),
}
PRIORS.setdefault("wrong_attribute", 0.55)
# rarer kinds of bug, and assignments are everywhere: tried after the others at the same line
PRIORS.setdefault("assign_update", 0.3)
PRIORS.setdefault("break_continue", 0.45)


def spread_prior(template: str, variants: int) -> float:
    """The template's prior shared among the variants it offers at one line (every other variable
    in scope, say), so that one template with many variants does not crowd out the others."""
    return PRIORS.get(template, 0.3) / (1 + 0.15 * (variants - 1))


def variant_counts(cands: list[Candidate]) -> dict[tuple[str, int, str], int]:
    """(file, line, template) -> how many of the candidates it offers there."""
    out: dict[tuple[str, int, str], int] = {}
    for c in cands:
        out[(c.file, c.line, c.template)] = out.get((c.file, c.line, c.template), 0) + 1
    return out


def _parents(tree: ast.AST) -> dict[ast.AST, ast.AST]:
    out = {}
    for node in ast.walk(tree):
        for child in ast.iter_child_nodes(node):
            out[child] = node
    return out


def parses(source: str) -> bool:
    try:
        ast.parse(source)
    except (SyntaxError, ValueError):
        return False
    return True


def generate(path: str, source: str, lines: list[int], templates: list[str] | None = None,
             check: bool = True) -> list[Candidate]:
    """All distinct candidates for the given lines of one file, in (line, template) order.

    check=True drops candidates that do not parse; callers that will try only a few of many
    candidates pass False and call `parses` on the ones they use (parsing is the cost here).
    The function-scoped templates (missing_return, wrong_default, misplaced_return) are tried
    once per function even when several of its lines are suspicious.
    """
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    ctx = _Ctx(_Source(source), tree, _parents(tree))
    names = templates or list(TEMPLATES)
    out: list[Candidate] = []
    seen: set[str] = {source}
    by_line: dict[int, list[ast.AST]] = {}
    wanted = set(lines)
    for n in ast.walk(tree):
        if not hasattr(n, "lineno"):
            continue
        span = range(n.lineno, n.end_lineno + 1) if isinstance(
            n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.For, ast.While)) else (n.lineno,)
        for ln in span:
            if ln in wanted:
                by_line.setdefault(ln, []).append(n)
    done_scoped: set[tuple[str, int]] = set()
    for line in lines:
        at_line = by_line.get(line, [])
        for name in names:
            types, fn = TEMPLATES[name]
            for node in at_line:
                if not isinstance(node, types):
                    continue
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.For, ast.While)) and name in (
                        "missing_return", "wrong_default", "misplaced_return"):
                    if (name, id(node)) in done_scoped:
                        continue
                    done_scoped.add((name, id(node)))
                try:
                    edits = [ed for ed in fn(node, ctx) if ed]
                except (AttributeError, IndexError, ValueError, UnicodeDecodeError):
                    continue  # an odd shape of source this template does not handle
                fn_node = ctx.function_of(node) if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) else node
                for edit in edits:
                    s, e, new = edit[:3]
                    weight = edit[3] if len(edit) > 3 else 1.0
                    context = edit[4] if len(edit) > 4 else ctx.src.line_text(bisect.bisect_right(ctx.src.line_starts, s)).strip()
                    new_source = ctx.src.replace(s, e, new)
                    if new_source in seen:
                        continue
                    seen.add(new_source)
                    if check and not parses(new_source):
                        continue
                    before, after = ctx.src.get(s, e), new
                    out.append(Candidate(file=path, line=line, template=name, before=before, after=after,
                                         new_source=new_source, function=getattr(fn_node, "name", "") or "",
                                         weight=weight, context=context))
    return out
