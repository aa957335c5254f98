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
import builtins
import functools
import hashlib
import re
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


# Template priors: how likely each kind of fix is before looking at the code, from how often it
# occurs among real bug fixes. The built-in policy multiplies them with location scores and
# spreads each over the variants it offers at a line (spread_prior); a learned ranker replaces them.
#
# The studies, and the figures taken from each (checked against the published data):
#  [TSSB] Richter & Wehrheim 2022, "TSSB-3M: Mining single statement bugs at massive scale"
#         (Python; counts in the dataset's README, of the ~1.44M fixes that match a pattern):
#         Change Identifier Used 237K (16.4%), Change Binary Operand 174K (12.1%), Same Function
#         More Args 150K (10.4%), Wrong Function Name 134K (9.3%), Add Function Around Expression
#         117K (8.1%), Change Attribute Used 104K (7.2%), Change Numeric Literal 97K (6.7%), More
#         Specific If 68K (4.7%), Add Method Call 60K (4.2%), Add Elements To Iterable 57K (4.0%),
#         Change Boolean Literal 37K (2.6%), Change Binary Operator 29K (2.0%), Less Specific If 22K
#         (1.5%), Change Unary Operator 15K (1.0%), Same Function Swap Args 8K (0.6%), Change
#         Constant Type 6K (0.4%).
#  [MSS]  Karampatsis & Sutton 2020, "How often do single-statement bugs occur? The ManySStuBs4J
#         dataset" (Java, 1000 projects, 63,923 pattern matches): Change Identifier Used 22,668
#         (35%), Wrong Function Name 10,179 (16%), Change Numeric Literal 5,447 (8.5%), Less
#         Specific If 2,813 (4.4%), More Specific If 2,381 (3.7%), Change Binary Operator 2,241
#         (3.5%), Change Boolean Literal 1,842 (2.9%), Change Operand 807 (1.3%), Swap Args 612 (1.0%).
#  [D4J]  Sobreira et al. 2018, "Dissection of a bug dataset: anatomy of 395 patches from
#         Defects4J" (counted from the study's defects4j-bugs.json; all 395 patches / the 137 of
#         one or two lines): wrong variable reference 10.6% / 16.8%, logic expression expanded
#         12.2% / 15.3%, initialization fixed 11.1% / 13.9%, copy/paste 12.2% / 6.6%, missing null
#         check 14.4% / 8.0%, arithmetic expression changed 8.1% / 8.8%, wraps with a method call
#         3.5% / 5.8%, unwraps from a method call 1.5% / 2.2%, conditional block with return added
#         19.5% / 0.7%, swapped call arguments 0.3%.
#  [PAN]  Pan, Kim & Whitehead 2009, "Toward an understanding of bug fix patterns" (7 Java
#         projects): a call with different actual parameters (MC-DAP) 14.9-25.5% of fix hunks, an
#         if condition changed (IF-CC) 5.6-18.6%, an assignment expression changed (AS-CE) 6.0-14.2%.
# Not used: the per-pattern shares of Campos & Maia 2017, BugsInPy (Widyasari et al. 2020) and
# PyPIBugs (Allamanis et al. 2021), which could not be checked here.
#
# The new families' priors follow one rule, anchored where the two Python-relevant small-fix
# figures agree: a wrong variable is 16-17% of small fixes (TSSB, D4J small) and has prior 0.6;
# a family's prior is 0.6 + 0.1 * log2(share / 16%), i.e. 0.5 at 8%, 0.4 at 4%, 0.3 at 2%,
# averaging the studies that measure it. The classic operator and bound templates keep their
# older, higher priors: SStuB mining puts a changed operator at only 2-3.5% of fixes, but the
# bugs a failing test exposes are boundary-heavy; lowering them is measured separately.
PRIORS: dict[str, float] = {
    "compare_swap": 1.0, "bound_off_by_one": 0.85, "constant_off_by_one": 0.8, "slice_bounds": 0.85,
    "index_off_by_one": 0.7, "bool_swap": 0.8, "arith_swap": 0.75, "negate_condition": 0.75,
    "remove_condition": 0.5, "wrong_variable": 0.6, "swap_arguments": 0.55, "swap_operands": 0.5,
    "missing_return": 0.6, "misplaced_return": 0.5, "wrong_constant": 0.6, "delete_statement": 0.35,
    "insert_statement": 0.3, "method_call": 0.55, "wrong_default": 0.5, "unary_remove": 0.5,
    "wrong_attribute": 0.55,
    # rarer kinds of bug, and assignments are everywhere: tried after the others at the same line
    "assign_update": 0.3, "break_continue": 0.45,
    # issue 15's families, by the rule above:
    # Add Function Around Expression + Add Method Call 12.3% [TSSB] -> 0.56; wraps-with method 5.8% [D4J small] -> 0.45
    "wrap_call": 0.5,
    # unwraps-from method call 2.2% of small patches [D4J] -> 0.31
    "unwrap_call": 0.3,
    # More + Less Specific If 6.2% [TSSB] -> 0.46, 8.1% [MSS] -> 0.5; logic expression expanded 15.3% [D4J small] -> 0.59
    "add_guard": 0.5,
    # a conditional block with return: 19.5% of Defects4J patches, but in 1 of its 137 small ones -> 0.3
    "guard_return": 0.3,
    # Add Elements To Iterable + Change Constant Type 4.4% [TSSB] -> 0.41; initialization fixed 13.9% [D4J small] -> 0.58
    "literal_shape": 0.45,
    # an if condition changed, 5.6-18.6% [PAN]; operator and constant both: a part of it, ~4% -> 0.4
    "compare_constant": 0.4,
    # arithmetic changed in an argument: arithmetic expression changed 8.8% [D4J small] -> 0.51, within MC-DAP [PAN]
    "argument_off_by_one": 0.45,
    # no study isolates these: placed as 2% families (a part of Change Binary Operand / MC-DAP and
    # of Change Boolean Literal + Change Identifier Used respectively)
    "slice_argument": 0.3, "literal_to_name": 0.3,
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
        ast.Pow: "**", ast.BitAnd: "&", ast.BitOr: "|", ast.BitXor: "^", ast.LShift: "<<", ast.RShift: ">>"}
# for an augmented assignment the same swaps apply to the "op=" token (`|=` -> `&=`, `-=` -> `+=`);
# the bit operators are set algebra as often as bit twiddling (`seen |= new`, `common &= other`)
_BIN_SWAPS = {"+": ["-"], "-": ["+"], "*": ["/", "//", "+"], "/": ["//", "*"], "//": ["/", "%"],
              "%": ["//"], "**": ["*"], "&": ["|", "^"], "|": ["&", "^"], "^": ["|", "&"], "<<": [">>"],
              ">>": ["<<"]}


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
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, (ast.Add, ast.Sub)) and _int_const(expr.right):
        return expr.left, (" + " if isinstance(expr.op, ast.Add) else " - ") + str(expr.right.value)
    return None


def _moved_offsets(ctx: _Ctx, elts: list[ast.AST]) -> Iterator[Edit]:
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
                text = ctx.src.seg(off[0]) if k == i else f"{_wrap(ctx.src.seg(y))}{off[1]}" if k == j else ctx.src.seg(z)
                pieces.append(text)
            # the separators between the elements are kept as they were
            out = pieces[0]
            for k in range(1, len(elts)):
                out += ctx.src.get(ctx.src.span(elts[k - 1])[1], ctx.src.span(elts[k])[0]) + pieces[k]
            yield (start, end, out, 2.0)


def t_argument_off_by_one(node: ast.Call, ctx: _Ctx) -> Iterator[Edit]:
    """A call's argument off by one, each argument on its own (`get(i + 1)`, `move(x, y - 1)`),
    and an offset on the wrong argument (`cell(r, c - 1)` -> `cell(r - 1, c)`): Pan et al.'s
    commonest fix pattern is a call with different actual parameter values (MC-DAP). Only
    arguments that hold numbers (loop counters, lengths, arithmetic), and not for calls whose
    arguments are not numbers one shifts (`range` has bound_off_by_one; `len(x + 1)`...)."""
    f = node.func
    name = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ""
    if name in _NOT_SHIFTED or any(isinstance(a, ast.Starred) for a in node.args):
        return
    numeric = _numeric_names(ctx, node)
    for a in node.args[:4]:
        if _numeric_expr(a, numeric):
            for edit in _plus_minus(ctx, a):
                yield (*edit[:3], 0.7)
    yield from _moved_offsets(ctx, node.args)


_NOT_SHIFTED = {"range", "len", "print", "isinstance", "issubclass", "str", "repr", "type", "getattr", "setattr",
                "hasattr", "format", "join", "append", "extend", "add", "update", "sorted", "list", "set", "dict",
                "tuple", "zip", "enumerate", "map", "filter", "open", "startswith", "endswith", "split", "encode",
                "decode", "write", "log", "debug", "info", "warning", "error", "exception", "bool", "id", "hash"}


def _numeric_names(ctx: _Ctx, node: ast.AST) -> set[str]:
    """Names in node's function that hold numbers: loop counters over range(), names assigned an
    int literal, a len(), or arithmetic with an int; names updated with `+=`/`-=` an int."""
    fn = ctx.function_of(node)
    key = ("numeric", id(fn))
    if key not in ctx.scope_cache:
        out: set[str] = set()
        for sub in ast.walk(fn if fn is not None else ctx.tree):
            if isinstance(sub, (ast.For, ast.comprehension)) and isinstance(sub.iter, ast.Call) and \
                    getattr(sub.iter.func, "id", "") in ("range", "enumerate"):
                t = sub.target
                names = [t] if isinstance(t, ast.Name) else list(t.elts[:1]) if isinstance(t, ast.Tuple) else []
                out |= {x.id for x in names if isinstance(x, ast.Name)}
            elif isinstance(sub, ast.Assign) and _numeric_expr(sub.value, set()):
                out |= {t.id for t in sub.targets if isinstance(t, ast.Name)}
            elif isinstance(sub, ast.AugAssign) and isinstance(sub.target, ast.Name) and _int_const(sub.value):
                out.add(sub.target.id)
        ctx.scope_cache[key] = out
    return ctx.scope_cache[key]


def _numeric_expr(expr: ast.AST, numeric: set[str]) -> bool:
    if isinstance(expr, ast.Name):
        return expr.id in numeric
    if isinstance(expr, ast.Constant):
        return type(expr.value) is int
    if isinstance(expr, ast.Call):
        return getattr(expr.func, "id", "") in ("len", "int", "abs", "round", "min", "max", "sum", "ord")
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, (ast.Add, ast.Sub, ast.Mult, ast.FloorDiv, ast.Mod)):
        return (_int_const(expr.left) or _int_const(expr.right) or _numeric_expr(expr.left, numeric)
                or _numeric_expr(expr.right, numeric))
    if isinstance(expr, ast.UnaryOp) and isinstance(expr.op, ast.USub):
        return _numeric_expr(expr.operand, numeric)
    return False


def t_slice_bounds(node: ast.Subscript, ctx: _Ctx) -> Iterator[Edit]:
    sl = node.slice
    if not isinstance(sl, ast.Slice):
        return
    for bound in (sl.lower, sl.upper):
        if bound is None:
            continue
        s, e = ctx.src.span(bound)
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
    """A variable used where another was meant (ManySStuBs' and TSSB-3M's commonest pattern,
    "Change Identifier Used"). Names that look alike come first (`total` for `total_count`, a
    typo, a shared word), then names unpacked together or adjacent parameters, then the long tail
    of every other variable in scope. A name defined nowhere (a `NameError`: a leftover of a
    rename) is replaced by the most similar defined names only, and strongly."""
    if not isinstance(node.ctx, ast.Load):
        return
    scope = _scope_names(ctx, node)
    s, e = ctx.src.span(node)
    if node.id not in scope:
        defined = _defined_names(ctx)
        if defined is None or node.id in defined:
            return  # globals, builtins and imported names are not "a variable in scope"
        # the name exists nowhere: whatever it was renamed to is spelled like it
        pool = [n for n in [*scope, *sorted(defined - _BUILTIN_NAMES)] if n not in ("self", "cls")]
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


_BUILTIN_NAMES = frozenset(dir(builtins)) | {"__file__", "__name__", "__doc__", "__spec__", "__path__",
                                               "__builtins__", "__loader__", "__package__", "__annotations__"}


def _words(name: str) -> set[str]:
    return {w for w in re.split(r"_+|(?<=[a-z0-9])(?=[A-Z])", name.lower()) if len(w) > 1}


def _edit_distance(a: str, b: str) -> int:
    """Damerau-Levenshtein (optimal string alignment): a swapped pair of letters is one typo."""
    d = [[i + j if i * j == 0 else 0 for j in range(len(b) + 1)] for i in range(len(a) + 1)]
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] != b[j - 1]))
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
    return d[len(a)][len(b)]


@functools.lru_cache(maxsize=65536)
def name_similarity(a: str, b: str) -> float:
    """How alike two identifiers look, as a weight that orders a family's variants: 1.3 when one
    is a typo of the other (edit distance 1, or 2 for long names), a prefix of it, or contained
    in it (`total` / `total_count`); 1.15 when they share a word (`row_idx` / `row_count`) or
    start alike; 1.0 otherwise. Identifier mix-ups cluster on look-alike names (Karampatsis &
    Sutton 2020 name similar names as a cause of Change Identifier Used). Mild on purpose: a
    function that has both `line` and `lineno` uses each on purpose far more often than it
    confuses them, and every use of either would otherwise come first."""
    if a == b:
        return 1.0
    la, lb = a.lower(), b.lower()
    short = min(len(la), len(lb))
    if short >= 3 and (la.startswith(lb) or lb.startswith(la) or la in lb or lb in la):
        return 1.3
    if short >= 3 and len(la) + len(lb) < 40:
        d = _edit_distance(la, lb)
        if d == 1 or (d == 2 and short >= 6):
            return 1.3
    if _words(a) & _words(b) or (short >= 3 and la[:3] == lb[:3]):
        return 1.15
    return 1.0


def _defined_names(ctx: _Ctx) -> set[str] | None:
    """Every name the module binds anywhere (assignments, parameters, imports, definitions,
    loop and `with`/`except` targets, globals) plus the builtins; None when a `*` import makes
    that unknowable. A name outside this set raises NameError when it runs."""
    if "defined" not in ctx.scope_cache:
        names: set[str] | None = set(_BUILTIN_NAMES)
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


def _attribute_users(ctx: _Ctx, node: ast.AST, attr: str) -> list[str]:
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
    if isinstance(node.value, ast.Name) and node.value.id in _imported_names(ctx):
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


def _imported_names(ctx: _Ctx) -> set[str]:
    if "imported" not in ctx.scope_cache:
        ctx.scope_cache["imported"] = {a.asname or a.name.split(".")[0] for n in ast.walk(ctx.tree)
                                       if isinstance(n, (ast.Import, ast.ImportFrom)) for a in n.names}
    return ctx.scope_cache["imported"]


def _class_fields(ctx: _Ctx) -> dict[str, dict[str, None]]:
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


def _seen_fields(ctx: _Ctx) -> dict[str, list[str]]:
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


def t_swap_arguments(node: ast.AST, ctx: _Ctx) -> Iterator[Edit]:
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


def t_swap_operands(node: ast.AST, ctx: _Ctx) -> Iterator[Edit]:
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
    yield (sa, eb, _wrap(ctx.src.seg(b)) + ctx.src.get(ea, sb) + _wrap(ctx.src.seg(a)), weight)


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


def _branches(ctx: _Ctx, node: ast.AST) -> tuple[list[list[ast.stmt]], list[ast.stmt] | None]:
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


def _norm(ctx: _Ctx, stmt: ast.stmt) -> str:
    return " ".join(ctx.src.seg(stmt).split())


def _idle_counters(ctx: _Ctx, fn: ast.AST) -> list[str]:
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
                    if _is_reset(sub.value):
                        reset.setdefault(t.id, None)
        elif isinstance(sub, ast.AugAssign) and isinstance(sub.target, ast.Name):
            updated.add(sub.target.id)
        elif isinstance(sub, ast.Call) and isinstance(sub.func, ast.Attribute) and isinstance(sub.func.value, ast.Name):
            if sub.func.attr in ("append", "add", "extend", "update", "insert", "appendleft", "setdefault"):
                updated.add(sub.func.value.id)
        elif isinstance(sub, (ast.For, ast.comprehension)) and isinstance(sub.target, ast.Name):
            updated.add(sub.target.id)
    return [n for n in reset if stores.get(n) == 1 and n not in updated]


def _sibling_copies(node: ast.AST, ctx: _Ctx) -> Iterator[Edit]:
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


def _at_block_end(ctx: _Ctx, block: list[ast.stmt], text: str) -> Edit:
    """Insert a statement at the end of a block, before the `return`/`break`/`continue`/`raise`
    that ends it (a statement after a jump never runs)."""
    last = block[-1]
    indent = ctx.src.indent_of(block[0].lineno)
    if isinstance(last, (ast.Return, ast.Break, ast.Continue, ast.Raise)):
        at = ctx.src.line_starts[last.lineno - 1]
        return (at, at, f"{indent}{text}\n")
    at = ctx.src.span(last)[1]
    return (at, at, f"\n{indent}{text}")


def _missing_loop_step(node: ast.While, ctx: _Ctx) -> Iterator[Edit]:
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


# ---------------------------------------------------------------------------------------------
# Fix patterns the bug-fix studies find often and the classic templates above miss (issue 15).
# Each is general (nothing here knows a repository), ranks its own variants (what the code
# around it makes likelier first) and offers few of them, since every candidate costs a
# sandbox validation.

def _fn_calls(ctx: _Ctx) -> tuple[dict, dict]:
    """What the module calls, for wrap_call: (function name -> {enclosing function: argument
    texts} for calls of one positional argument, and the module's own functions of one
    parameter; method name -> {enclosing function: receiver texts} for zero-argument method calls
    whose result is used, i.e. that return a value)."""
    if "calls" in ctx.scope_cache:
        return ctx.scope_cache["calls"]
    funcs: dict[str, dict[str, set]] = {}
    methods: dict[str, dict[str, set]] = {}
    for sub in ast.walk(ctx.tree):
        if isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef)) and isinstance(ctx.parents.get(sub), ast.Module):
            a = sub.args
            if len(a.posonlyargs) + len(a.args) - len(a.defaults) == 1 and not a.kwonlyargs:
                funcs.setdefault(sub.name, {})
        if not isinstance(sub, ast.Call) or sub.keywords:
            continue
        owner = getattr(ctx.function_of(sub), "name", "")
        if isinstance(sub.func, ast.Name) and len(sub.args) == 1 and not isinstance(sub.args[0], ast.Starred):
            funcs.setdefault(sub.func.id, {}).setdefault(owner, set()).add(ctx.src.seg(sub.args[0]))
        elif isinstance(sub.func, ast.Attribute) and not sub.args and not isinstance(ctx.parents.get(sub), ast.Expr):
            methods.setdefault(sub.func.attr, {}).setdefault(owner, set()).add(ctx.src.seg(sub.func.value))
    ctx.scope_cache["calls"] = (funcs, methods)
    return funcs, methods


def _wrap_weight(uses: dict[str, set], text: str, here: str) -> float:
    """How likely a wrapper is for `text` in function `here`, from where the module uses it."""
    if text in uses.get(here, ()):
        return 1.2    # this very expression, wrapped elsewhere in the same function
    if any(text in texts for texts in uses.values()):
        return 0.8
    root = re.match(r"[A-Za-z_]\w*", text)
    if root and any(re.match(rf"{root.group()}\b", t) for texts in uses.values() for t in texts):
        return 0.7    # applied to the same variable in another form (`w.strip().lower()` for `w`)
    return 0.6 if here in uses else 0.45


def _role_wrappers(node: ast.AST, ctx: _Ctx) -> list[tuple[str, float]]:
    """Builtin conversions that fit what the value is used for: a key looked up or compared with
    text is normalized (`.lower()`, `.strip()`, `str()`, `int()`); a number compared or computed
    with is measured or converted (`len()`, `int()`, `float()`, `abs()`); what a loop walks is
    ordered or copied (`sorted()`, `list()`, `reversed()`)."""
    parent = ctx.parents.get(node)
    if isinstance(parent, ast.Compare):
        ops = parent.ops
        others = [parent.left, *parent.comparators]
        if (any(isinstance(o, (ast.In, ast.NotIn)) for o in ops) and node is parent.left) or any(
                isinstance(x, (ast.Constant, ast.JoinedStr)) and isinstance(getattr(x, "value", ""), str) for x in others):
            return [("{}.lower()", 0.4), ("{}.strip()", 0.35), ("str({})", 0.3), ("int({})", 0.3)]
        if any(isinstance(o, (ast.Lt, ast.LtE, ast.Gt, ast.GtE)) for o in ops):
            return [("len({})", 0.4), ("int({})", 0.35), ("float({})", 0.3), ("abs({})", 0.3)]
    if isinstance(parent, ast.Subscript) and parent.slice is node:
        return [("{}.lower()", 0.35), ("int({})", 0.35), ("str({})", 0.3)]
    if isinstance(parent, (ast.BinOp, ast.AugAssign)) or isinstance(parent, ast.UnaryOp) and isinstance(parent.op, ast.USub):
        return [("len({})", 0.4), ("int({})", 0.35), ("float({})", 0.3), ("abs({})", 0.3)]
    if isinstance(parent, (ast.For, ast.comprehension)) and parent.iter is node:
        return [("sorted({})", 0.4), ("list({})", 0.3), ("reversed({})", 0.3)]
    return [("len({})", 0.35), ("str({})", 0.3), ("int({})", 0.3), ("list({})", 0.3)]


def _wrappable(node: ast.AST, ctx: _Ctx) -> bool:
    """A value read in an expression (not a callee, not the object of `.x` or `[i]`, not a
    target, not a whole expression statement, not inside an f-string)."""
    if not isinstance(node, (ast.Name, ast.Attribute, ast.Subscript)) or not isinstance(
            getattr(node, "ctx", ast.Load()), ast.Load):
        return False
    parent = ctx.parents.get(node)
    if parent is None or isinstance(parent, ast.Expr):
        return False
    if any(isinstance(a, (ast.Raise, ast.Assert, ast.JoinedStr, ast.FormattedValue)) for a in ctx.ancestors(node)):
        return False   # an exception's message, an f-string's pieces: not values the code computes with
    if isinstance(parent, ast.Call) and parent.func is node:
        return False
    if isinstance(parent, (ast.Attribute, ast.Subscript)) and parent.value is node:
        return False
    if isinstance(node, ast.Name) and (node.id in _imported_names(ctx) or node.id in _BUILTIN_NAMES or node.id in (
            "self", "cls") or node.id in _module_defs(ctx)):
        return False
    return True


def _constructs(node: ast.Call, ctx: _Ctx) -> bool:
    """A call of a class (defined here, or named like one): an object built, not a value converted."""
    f = node.func
    name = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ""
    return name[:1].isupper() or name in _module_classes(ctx)


def _module_classes(ctx: _Ctx) -> set[str]:
    if "classes" not in ctx.scope_cache:
        ctx.scope_cache["classes"] = {n.name for n in ast.walk(ctx.tree) if isinstance(n, ast.ClassDef)}
    return ctx.scope_cache["classes"]


def _module_defs(ctx: _Ctx) -> set[str]:
    if "defs" not in ctx.scope_cache:
        ctx.scope_cache["defs"] = {n.name for n in ast.walk(ctx.tree)
                                   if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
    return ctx.scope_cache["defs"]


def t_wrap_call(node: ast.AST, ctx: _Ctx) -> Iterator[Edit]:
    """A value that needed a call around it: `len(items)` for `items`, `int(text)`,
    `word.lower()` for `word` (TSSB-3M: "Add Function Around Expression" 8% and "Add Method
    Call" 4% of Python single-statement bugs). The wrappers are the functions and value-returning
    methods the module itself uses, first those it applies to this very expression elsewhere,
    then those used in the same function, then a few builtins."""
    if not _wrappable(node, ctx):
        return
    text = ctx.src.seg(node)
    if "\n" in text or len(text) > 60:
        return
    funcs, methods = _fn_calls(ctx)
    here = getattr(ctx.function_of(node), "name", "")
    out: dict[str, float] = {}
    for name, uses in funcs.items():
        if name != here and name not in _NEVER_WRAP:
            out[f"{name}({text})"] = _wrap_weight(uses, text, here)
    for name, uses in methods.items():
        out.setdefault(f"{_wrap(text)}.{name}()", _wrap_weight(uses, text, here))
    role: dict[str, float] = {}
    for pattern, w in _role_wrappers(node, ctx):
        role.setdefault(pattern.format(_wrap(text) if pattern.startswith("{}") else text), w)
    parent = ctx.parents.get(node)
    if isinstance(parent, ast.Call) and isinstance(parent.func, ast.Name):
        not_nested = lambda k: not k.startswith(parent.func.id + "(")   # not int(int(x))
        out = {k: w for k, w in out.items() if not_nested(k)}
        role = {k: w for k, w in role.items() if not_nested(k)}
    # up to two of the five variants are what the value's use suggests (`key.lower()` for a key
    # compared with text), whatever the module's own functions are: a module with many helpers
    # otherwise crowds them out (luigi's `table in stdout` needed `table.lower()`)
    picked = dict(sorted(out.items(), key=lambda kv: -kv[1])[:3])
    for k, w in sorted(role.items(), key=lambda kv: -kv[1]):
        if len(picked) >= 5 or w < 0.35:   # the strong suggestions only: str()/int() do not push helpers out
            break
        picked.setdefault(k, w)
    for k, w in sorted(out.items(), key=lambda kv: -kv[1]):
        if len(picked) >= 5:
            break
        picked.setdefault(k, w)
    out = picked
    # the same expression again on this line (`x if x > 0 else -x`): weaker variants
    seen = ctx.scope_cache.setdefault(("wrapped", node.lineno), set())
    again = text in seen
    seen.add(text)
    s, e = ctx.src.span(node)
    for new, w in sorted(out.items(), key=lambda kv: -kv[1])[:5]:
        yield (s, e, new, w * (0.7 if again else 1.0))


# calls that do not convert a value (output, introspection, iteration helpers that change its shape)
_NEVER_WRAP = {"print", "isinstance", "type", "id", "hash", "iter", "next", "super", "vars", "dir", "repr",
               "callable", "delattr", "input", "open", "exit", "quit", "setattr", "hasattr", "getattr", "range",
               "enumerate", "zip", "cls", "locals", "globals", "compile", "eval", "exec"}


def t_unwrap_call(node: ast.Call, ctx: _Ctx) -> Iterator[Edit]:
    """A call that should not be there: `len(xs)` where `xs` was meant, `int(x)` that
    truncates, `name.strip()` that loses significant spaces (Defects4J: "unwraps-from method
    call", 1.5% of patches). One variant per call: its argument, or its receiver."""
    parent = ctx.parents.get(node)
    if isinstance(parent, (ast.Expr, ast.Raise)) or node.keywords or _constructs(node, ctx):
        return
    f = node.func
    s, e = ctx.src.span(node)
    if isinstance(f, ast.Name) and len(node.args) == 1 and not isinstance(node.args[0], ast.Starred):
        if f.id == getattr(ctx.function_of(node), "name", None) or f.id in _NEVER_WRAP:
            return
        yield (s, e, _wrap(ctx.src.seg(node.args[0])) if isinstance(parent, (ast.Attribute, ast.Subscript, ast.BinOp)) else ctx.src.seg(node.args[0]))
    elif isinstance(f, ast.Attribute) and not node.args:
        yield (s, e, ctx.src.seg(f.value))


_BOOLISH = re.compile(r"^(is|has|have|can|should|was|were|found|ok|done|valid|seen|matched|changed|any|all|exists)(_|$)|(_ok|_found|_done|_seen|_valid)$")


def t_literal_to_name(node: ast.Constant, ctx: _Ctx) -> Iterator[Edit]:
    """A constant where a variable or a condition already computed was meant: `return False`
    for `return found`, `return 0` for `return count`, `return True` for `return n > 0`.
    Booleans: the function's boolean variables (assigned True/False, or named like one), then
    the comparisons it makes; numbers: its numeric variables. Only returned values and whole
    call arguments, where a literal most often stands for a result."""
    fn = ctx.function_of(node)
    parent = ctx.parents.get(node)
    if fn is None or not (isinstance(parent, (ast.Return, ast.keyword))
                          or isinstance(parent, ast.Call) and node in parent.args):
        return
    v = node.value
    s, e = ctx.src.span(node)
    if isinstance(v, bool):
        names: dict[str, float] = {}
        for sub in ast.walk(fn):
            if isinstance(sub, ast.Assign) and isinstance(sub.value, ast.Constant) and isinstance(sub.value.value, bool):
                for t in sub.targets:
                    if isinstance(t, ast.Name):
                        names[t.id] = 1.5
        for n in _scope_names(ctx, node):
            if _BOOLISH.search(n.lower()):
                names.setdefault(n, 1.2)
        # a flag the function computes but never tests nor returns was computed to be returned
        decides = {x.id for sub in ast.walk(fn) if isinstance(sub, (ast.If, ast.While, ast.IfExp, ast.Return, ast.Assert))
                   for x in ast.walk(sub.test if hasattr(sub, "test") else sub) if isinstance(x, ast.Name)}
        for n, w in names.items():
            yield (s, e, n, w * (2.0 if n not in decides else 1.0))
        if names:
            return
        compares = []
        for sub in ast.walk(fn):
            if isinstance(sub, ast.Compare) and sub.lineno < node.lineno and sub.end_lineno == sub.lineno:
                text = ctx.src.seg(sub)
                if len(text) <= 40:
                    compares.append((node.lineno - sub.lineno, text))
        for _, text in sorted(set(compares))[:3]:   # the nearest before this line
            yield (s, e, text, 0.8)
    elif isinstance(v, (int, float)):
        numeric = _numeric_names(ctx, node)
        for n in [x for x in _scope_names(ctx, node) if x in numeric][:6]:
            yield (s, e, n, 1.0)


def _logic_operand(ctx: _Ctx, expr: ast.AST, op: str) -> str:
    """expr's text as an operand of `and`/`or`: parenthesized where precedence would regroup it."""
    text = ctx.src.seg(expr)
    if isinstance(expr, (ast.IfExp, ast.Lambda, ast.NamedExpr)) or (
            op == "and" and isinstance(expr, ast.BoolOp) and isinstance(expr.op, ast.Or)):
        return f"({text})"
    return text


def _guard_subjects(ctx: _Ctx, expr: ast.AST) -> list[tuple[str, str]]:
    """(text, kind) of what a condition may need a guard for, in order: objects it indexes
    ("index": `stack` in `stack[-1]`), objects whose attribute it reads ("attr": `node` in
    `node.left`), and the plain variables it reads ("name")."""
    out: dict[str, str] = {}
    for sub in ast.walk(expr):
        if isinstance(sub, ast.Subscript) and isinstance(sub.value, (ast.Name, ast.Attribute)):
            out.setdefault(ctx.src.seg(sub.value), "index")
        elif isinstance(sub, ast.Attribute) and isinstance(sub.value, ast.Name) and sub.value.id not in ("self", "cls"):
            parent = ctx.parents.get(sub)
            if not (isinstance(parent, ast.Call) and parent.func is sub) and sub.value.id not in _imported_names(ctx):
                out.setdefault(sub.value.id, "attr")
    for sub in ast.walk(expr):
        if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Load) and sub.id not in _BUILTIN_NAMES and \
                sub.id not in ("self", "cls") and sub.id not in _imported_names(ctx) and sub.id not in _module_defs(ctx):
            parent = ctx.parents.get(sub)
            if not (isinstance(parent, ast.Call) and parent.func is sub):
                out.setdefault(sub.id, "name")
    return list(out.items())


def _none_checked(ctx: _Ctx, node: ast.AST) -> set[str]:
    """Names the function compares with None or gives a None default: may be None."""
    fn = ctx.function_of(node) if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) else node
    out: set[str] = set()
    if fn is None:
        return out
    if ("none", id(fn)) in ctx.scope_cache:
        return ctx.scope_cache[("none", id(fn))]
    ctx.scope_cache[("none", id(fn))] = out
    a = fn.args
    positional = [*a.posonlyargs, *a.args]
    for p, d in [*zip(positional[len(positional) - len(a.defaults):], a.defaults), *zip(a.kwonlyargs, a.kw_defaults)]:
        if isinstance(d, ast.Constant) and d.value is None:
            out.add(p.arg)
    for sub in ast.walk(fn):
        if isinstance(sub, ast.Compare) and any(isinstance(c, ast.Constant) and c.value is None for c in sub.comparators):
            out.add(ctx.src.seg(sub.left))
    return out


def t_add_guard(node: ast.AST, ctx: _Ctx) -> Iterator[Edit]:
    """A condition missing a case (ManySStuBs4J: More and Less Specific If, 3.7% and 4.4% of
    single-statement fixes; TSSB-3M 4.7% and 1.5%; Defects4J: missing null checks in 14% of
    patches). A guard that protects an access goes first, where it short-circuits: emptiness
    for what the condition indexes (`if not stack or stack[-1] != c`, `while stack and ...`),
    None for what it reads an attribute of or may be None (`if node is None or node.x`). A
    flag the condition ignores is added at the end (`if ready and strict`, `... or not strict`):
    boolean parameters and variables of the function that the condition does not read."""
    test = node.test
    may_be_none = _none_checked(ctx, node)
    s, e = ctx.src.span(test)
    t_and, t_or = _logic_operand(ctx, test, "and"), _logic_operand(ctx, test, "or")
    # what the condition already checks needs no second check
    checked_none = {ctx.src.seg(c.left) for c in ast.walk(test) if isinstance(c, ast.Compare)
                    and any(isinstance(x, ast.Constant) and x.value is None for x in c.comparators)}
    checked_empty = {ctx.src.seg(x) for x in ast.walk(test) if isinstance(x, (ast.Name, ast.Attribute)) and (
        isinstance(ctx.parents.get(x), (ast.BoolOp, ast.If, ast.While, ast.IfExp))
        or isinstance(ctx.parents.get(x), ast.UnaryOp) and isinstance(ctx.parents[x].op, ast.Not)
        or isinstance(ctx.parents.get(x), ast.Call) and getattr(ctx.parents[x].func, "id", "") == "len")}
    out = []
    read = set()
    for text, kind in _guard_subjects(ctx, test):
        read.add(text)
        if text in checked_none or text in checked_empty:
            continue
        none_w = 1.4 if text in may_be_none else 0.7
        if kind == "index":
            out += [(f"not {text} or {t_or}", 1.3), (f"{text} and {t_and}", 1.3)]
        elif kind == "attr":
            out += [(f"{text} is None or {t_or}", none_w), (f"{text} is not None and {t_and}", none_w),
                    (f"not {text} or {t_or}", 0.6), (f"{text} and {t_and}", 0.6)]
        elif text in may_be_none:
            out += [(f"{text} is None or {t_or}", 1.0), (f"{text} is not None and {t_and}", 1.0)]
    for flag in _flags(ctx, node):
        if flag not in read:
            out += [(f"{t_and} and {flag}", 1.0), (f"{t_or} or not {flag}", 0.8),
                    (f"{t_and} and not {flag}", 0.7), (f"{t_or} or {flag}", 0.7)]
    for new, w in out[:12]:
        yield (s, e, new, w)


def _flags(ctx: _Ctx, node: ast.AST) -> list[str]:
    """The function's boolean variables: parameters with a True/False default, names assigned
    True/False, names that read like a predicate (`is_open`, `found`)."""
    fn = ctx.function_of(node)
    if fn is None:
        return []
    key = ("flags", id(fn))
    if key not in ctx.scope_cache:
        out: dict[str, None] = {}
        a = fn.args
        positional = [*a.posonlyargs, *a.args]
        for p, d in [*zip(positional[len(positional) - len(a.defaults):], a.defaults), *zip(a.kwonlyargs, a.kw_defaults)]:
            if isinstance(d, ast.Constant) and isinstance(d.value, bool):
                out.setdefault(p.arg, None)
        for sub in ast.walk(fn):
            if isinstance(sub, ast.Assign) and isinstance(sub.value, ast.Constant) and isinstance(sub.value.value, bool):
                out.update(dict.fromkeys(t.id for t in sub.targets if isinstance(t, ast.Name)))
        for n in _compute_scope(fn):
            if _BOOLISH.search(n.lower()):
                out.setdefault(n, None)
        ctx.scope_cache[key] = list(out)[:4]
    return ctx.scope_cache[key]


def _returned_values(ctx: _Ctx, fn: ast.AST) -> list[str] | None:
    """What fn returns as a plain value (constants, empty containers, names), in order; None
    when it never returns a value."""
    out: dict[str, None] = {}
    any_value = False
    for sub in ast.walk(fn):
        if isinstance(sub, ast.Return) and ctx.function_of(sub) is fn and sub.value is not None:
            any_value = True
            v = sub.value
            if isinstance(v, ast.Constant) or (isinstance(v, (ast.List, ast.Tuple, ast.Dict, ast.Set)) and _is_reset(v)):
                out.setdefault(ctx.src.seg(v), None)
    return list(out) if any_value else None


def t_guard_return(node: ast.stmt, ctx: _Ctx) -> Iterator[Edit]:
    """An early exit for a case the code does not handle: `if not items: return 0` before
    `items[0]`, `if node is None: return` before `node.left`, `if not line: continue` in a loop
    (Defects4J: a conditional block with a return added in 19.5% of patches, rarely alone).
    The exit value is one the function already returns."""
    if not isinstance(node, (ast.Assign, ast.AugAssign, ast.Expr, ast.Return, ast.If)):
        return
    fn = ctx.function_of(node)
    if fn is None or node.lineno == fn.lineno:
        return
    subjects = [(t, k) for t, k in _guard_subjects(ctx, node.test if isinstance(node, ast.If) else node)
                if k != "name"][:2]
    if not subjects:
        return
    values = _returned_values(ctx, fn)
    exits = ["return"] if values is None else [f"return {v}" for v in (values[:2] or ["None"])]
    in_loop = any(isinstance(a, (ast.For, ast.While)) for a in ctx.ancestors(node))
    if in_loop:
        exits.append("continue")
    indent = ctx.src.indent_of(node.lineno)
    unit = _indent_unit(ctx, fn)
    at = ctx.src.line_starts[node.lineno - 1]
    may_be_none = _none_checked(ctx, node)
    for text, kind in subjects:
        for cond, w in ((f"not {text}", 1.2 if kind == "index" else 0.8),
                        (f"{text} is None", 1.2 if kind == "attr" or text in may_be_none else 0.5)):
            for i, ex in enumerate(exits):
                yield (at, at, f"{indent}if {cond}:\n{indent}{unit}{ex}\n", w * (1.0 if i == 0 else 0.7))


def _indent_unit(ctx: _Ctx, fn: ast.AST) -> str:
    body = ctx.src.indent_of(fn.body[0].lineno)
    own = ctx.src.indent_of(fn.lineno)
    return body[len(own):] if body.startswith(own) and len(body) > len(own) else "    "


def _appended_to(ctx: _Ctx, node: ast.AST) -> bool:
    """node is the value assigned to a name the function uses as a worklist or accumulator."""
    parent = ctx.parents.get(node)
    if not (isinstance(parent, ast.Assign) and len(parent.targets) == 1 and isinstance(parent.targets[0], ast.Name)):
        return False
    name = parent.targets[0].id
    fn = ctx.function_of(node)
    for sub in ast.walk(fn if fn is not None else ctx.tree):
        if (isinstance(sub, ast.Call) and isinstance(sub.func, ast.Attribute) and isinstance(sub.func.value, ast.Name)
                and sub.func.value.id == name and sub.func.attr in ("append", "pop", "popleft", "add", "extend", "insert")):
            return True
        if isinstance(sub, ast.While) and any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(sub.test)):
            return True
    return False


def t_literal_shape(node: ast.AST, ctx: _Ctx) -> Iterator[Edit]:
    """A starting value of the wrong shape: `queue = []` for `queue = [start]`, `[x]` for `[]`,
    `''` for None and back, `0.0` for `1.0` (TSSB-3M: "Add Elements To Iterable" 4% and
    "Change Constant Type" 0.4%; Defects4J: an initialization fixed in 11% of patches).
    Singletons are built from the function's parameters, first for a worklist (a name that is
    later popped or appended to)."""
    parent = ctx.parents.get(node)
    if not isinstance(parent, (ast.Assign, ast.Return, ast.AnnAssign, ast.keyword)) and not (
            isinstance(parent, ast.Call) and node in parent.args):
        return
    s, e = ctx.src.span(node)
    if isinstance(node, ast.Constant):
        v = node.value
        if v == "" and isinstance(v, str):
            yield (s, e, "None")
        elif v is None:
            yield (s, e, "''", 0.8)
            if _appended_to(ctx, node):
                yield (s, e, "[]")
        elif isinstance(v, float) and v in (0.0, 1.0):
            yield (s, e, "1.0" if v == 0.0 else "0.0")
        return
    empty = _is_reset(node) and not isinstance(node, ast.Constant)
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)) and len(node.elts) == 1 and not isinstance(node.elts[0], ast.Starred):
        yield (s, e, "()" if isinstance(node, ast.Tuple) else "set()" if isinstance(node, ast.Set) else "[]", 0.8)
    elif empty and not isinstance(node, ast.Dict) and not (isinstance(node, ast.Call) and getattr(node.func, "id", "") == "dict"):
        fn = ctx.function_of(node)
        if fn is None:
            return
        a = fn.args
        params = [p.arg for p in [*a.posonlyargs, *a.args, *a.kwonlyargs] if p.arg not in ("self", "cls")]
        w = 1.2 if _appended_to(ctx, node) else 0.5
        maker = ctx.src.seg(node.func) if isinstance(node, ast.Call) else ""
        for p in params[:3]:
            if isinstance(node, ast.Set) or maker == "set":
                one = f"{{{p}}}"
            elif isinstance(node, ast.Tuple) or maker == "tuple":
                one = f"({p},)"
            elif maker in ("", "list"):
                one = f"[{p}]"
            else:
                one = f"{maker}([{p}])"   # deque() -> deque([start])
            yield (s, e, one, w)
        if isinstance(parent, ast.Return):
            yield (s, e, "None", 0.5)


def t_slice_argument(node: ast.Name, ctx: _Ctx) -> Iterator[Edit]:
    """A sequence passed on whole where its rest was meant: `walk(rest)` -> `walk(rest[1:])`, and
    the recursion that never shrinks its input (a RecursionError). Only names the function
    treats as sequences (indexes, slices, measures or iterates them); first in recursive calls."""
    parent = ctx.parents.get(node)
    if not isinstance(node.ctx, ast.Load) or not isinstance(parent, ast.Call) or node not in parent.args:
        return
    fn = ctx.function_of(node)
    if fn is None or not _is_sequence(ctx, fn, node.id):
        return
    callee = parent.func.id if isinstance(parent.func, ast.Name) else parent.func.attr if isinstance(parent.func, ast.Attribute) else ""
    recursive = callee == fn.name
    s, e = ctx.src.span(node)
    yield (s, e, f"{node.id}[1:]", 1.5 if recursive else 0.6)
    yield (s, e, f"{node.id}[:-1]", 1.0 if recursive else 0.4)


def _is_sequence(ctx: _Ctx, fn: ast.AST, name: str) -> bool:
    key = ("sequences", id(fn))
    if key not in ctx.scope_cache:
        seqs: set[str] = set()
        for sub in ast.walk(fn):
            if isinstance(sub, ast.Subscript) and isinstance(sub.value, ast.Name):
                seqs.add(sub.value.id)
            elif isinstance(sub, ast.Call) and getattr(sub.func, "id", "") == "len" and sub.args and isinstance(sub.args[0], ast.Name):
                seqs.add(sub.args[0].id)
            elif isinstance(sub, (ast.For, ast.comprehension)) and isinstance(sub.iter, ast.Name):
                seqs.add(sub.iter.id)
        ctx.scope_cache[key] = seqs
    return name in ctx.scope_cache[key]


def t_compare_constant(node: ast.Compare, ctx: _Ctx) -> Iterator[Edit]:
    """An equality with a constant that should be an order, the constant moved with it:
    `n == 1` -> `n <= 0` or `n <= 1`, `while n != 0` -> `while n > 0`: base cases and stop
    conditions that miss the inputs below them and recurse or loop forever (Pan et al.: an if
    condition changed, IF-CC, in 5.6-18.6% of fixes). When the function counts the compared
    name down (calls itself with `n - 1`, `n -= 1`), the `<=` forms come first; counted up, the
    `>=` forms. Variants that mean the same on integers are offered once (`n < 1` is `n <= 0`)."""
    if len(node.ops) != 1:
        return
    op = _CMP.get(type(node.ops[0]))
    right = node.comparators[0]
    neg = isinstance(right, ast.UnaryOp) and isinstance(right.op, ast.USub) and _int_const(right.operand)
    if op not in ("==", "!=") or not (_int_const(right) or neg):
        return
    c = -right.operand.value if neg else right.value
    if op == "==":
        variants = [("<=", c), ("<=", c - 1), (">=", c), (">=", c + 1)]
    else:
        variants = [(">", c), ("<", c)]
    direction = _counting(ctx, node, ctx.src.seg(node.left))
    s = ctx.src.span(node.left)[1]
    e = ctx.src.span(node)[1]
    gap = ctx.src.get(s, ctx.src.span(right)[0])
    lead = gap[:len(gap) - len(gap.lstrip())]
    for o, k in variants:
        down = o.startswith("<") if op == "==" else o == ">"
        w = 1.0 if direction == 0 else 1.3 if (direction < 0) == down else 0.6
        yield (s, e, f"{lead}{o} {k}", w)


def _counting(ctx: _Ctx, node: ast.AST, text: str) -> int:
    """-1 when the function counts `text` down (recurses on `text - k`, `text -= k`), +1 up, 0 unknown."""
    fn = ctx.function_of(node)
    if fn is None:
        return 0
    for sub in ast.walk(fn):
        arith = None
        if isinstance(sub, ast.Call) and getattr(sub.func, "id", getattr(sub.func, "attr", None)) == fn.name:
            arith = [a for a in sub.args if isinstance(a, ast.BinOp) and ctx.src.seg(a.left) == text]
        elif isinstance(sub, ast.AugAssign) and ctx.src.seg(sub.target) == text:
            return -1 if isinstance(sub.op, ast.Sub) else 1 if isinstance(sub.op, ast.Add) else 0
        if arith:
            return -1 if isinstance(arith[0].op, ast.Sub) else 1 if isinstance(arith[0].op, ast.Add) else 0
    return 0


# node types several templates look at
_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)
_BRANCHES = (ast.If, ast.While, ast.IfExp)

# template name -> (node types, function)
TEMPLATES: dict[str, tuple[tuple[type, ...], Callable]] = {
    "compare_swap": ((ast.Compare, ast.BoolOp), t_compare_swap),
    "arith_swap": ((ast.BinOp, ast.AugAssign), t_arith_swap),
    "bool_swap": ((ast.BoolOp,), t_bool_swap),
    "negate_condition": ((*_BRANCHES, ast.Assert), t_negate_condition),
    "remove_condition": ((ast.BoolOp, ast.If), t_remove_condition),
    "constant_off_by_one": ((ast.Constant,), t_constant_off_by_one),
    "bound_off_by_one": ((ast.Compare, ast.Call), t_bound_off_by_one),
    "index_off_by_one": ((ast.Subscript,), t_index_off_by_one),
    "slice_bounds": ((ast.Subscript,), t_slice_bounds),
    "wrong_variable": ((ast.Name,), t_wrong_variable),
    "wrong_attribute": ((ast.Attribute,), t_wrong_attribute),
    "swap_arguments": ((ast.Call, ast.Subscript), t_swap_arguments),
    "swap_operands": ((ast.BinOp, ast.Compare), t_swap_operands),
    "missing_return": (_FUNCTIONS, t_missing_return),
    "misplaced_return": ((ast.For, ast.While), t_misplaced_return),
    "wrong_constant": ((ast.Constant,), t_wrong_constant),
    "delete_statement": ((ast.stmt,), t_delete_statement),
    "insert_statement": ((ast.stmt,), t_insert_statement),
    "method_call": ((ast.Call,), t_method_call),
    "wrong_default": (_FUNCTIONS, t_wrong_default),
    "unary_remove": ((ast.UnaryOp,), t_unary_remove),
    "assign_update": ((ast.Assign, ast.AugAssign), t_assign_update),
    "break_continue": ((ast.Break, ast.Continue), t_break_continue),
    # issue 15's fix patterns (after the classic templates: an edit both offer keeps its old name)
    "argument_off_by_one": ((ast.Call,), t_argument_off_by_one),
    "compare_constant": ((ast.Compare,), t_compare_constant),
    "add_guard": (_BRANCHES, t_add_guard),
    "guard_return": ((ast.stmt,), t_guard_return),
    "wrap_call": ((ast.Name, ast.Attribute, ast.Subscript), t_wrap_call),
    "unwrap_call": ((ast.Call,), t_unwrap_call),
    "literal_shape": ((ast.Constant, ast.List, ast.Tuple, ast.Set, ast.Dict, ast.Call), t_literal_shape),
    "literal_to_name": ((ast.Constant,), t_literal_to_name),
    "slice_argument": ((ast.Name,), t_slice_argument),
}


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
