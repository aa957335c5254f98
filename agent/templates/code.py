"""What every repair template works with: the candidate it makes, a byte-offset view of the
source, the context of one file (its tree, parents, scopes), and the analyses of names and
numbers that several templates share."""
from __future__ import annotations

import ast
import builtins
import functools
import hashlib
import re
from dataclasses import dataclass, field
from typing import Iterator


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


class Source:
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
class Context:
    src: Source
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


def parenthesized(text: str) -> str:
    """Parenthesize unless the text is a plain name, call, attribute or literal."""
    try:
        node = ast.parse(text, mode="eval").body
    except SyntaxError:
        return f"({text})"
    if isinstance(node, (ast.Name, ast.Call, ast.Attribute, ast.Constant, ast.Subscript)):
        return text
    return f"({text})"


def between(ctx: Context, a: ast.AST, b: ast.AST) -> tuple[int, int]:
    return ctx.src.span(a)[1], ctx.src.span(b)[0]


def swap_token(ctx: Context, start: int, end: int, old: str, new: str) -> Edit | None:
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
# What several templates ask of the code around a node: its operators, numbers and names.

COMPARE_OPS = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==", ast.NotEq: "!=",
               ast.Is: "is", ast.IsNot: "is not", ast.In: "in", ast.NotIn: "not in"}


def int_const(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and type(node.value) is int


def numeric_names(ctx: Context, node: ast.AST) -> set[str]:
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
            elif isinstance(sub, ast.Assign) and numeric_expr(sub.value, set()):
                out |= {t.id for t in sub.targets if isinstance(t, ast.Name)}
            elif isinstance(sub, ast.AugAssign) and isinstance(sub.target, ast.Name) and int_const(sub.value):
                out.add(sub.target.id)
        ctx.scope_cache[key] = out
    return ctx.scope_cache[key]


def numeric_expr(expr: ast.AST, numeric: set[str]) -> bool:
    if isinstance(expr, ast.Name):
        return expr.id in numeric
    if isinstance(expr, ast.Constant):
        return type(expr.value) is int
    if isinstance(expr, ast.Call):
        return getattr(expr.func, "id", "") in ("len", "int", "abs", "round", "min", "max", "sum", "ord")
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, (ast.Add, ast.Sub, ast.Mult, ast.FloorDiv, ast.Mod)):
        return (int_const(expr.left) or int_const(expr.right) or numeric_expr(expr.left, numeric)
                or numeric_expr(expr.right, numeric))
    if isinstance(expr, ast.UnaryOp) and isinstance(expr.op, ast.USub):
        return numeric_expr(expr.operand, numeric)
    return False


def scope_names(ctx: Context, node: ast.AST) -> list[str]:
    """Variables visible at node: the enclosing function's parameters and assigned names."""
    fn = ctx.function_of(node)
    if id(fn) not in ctx.scope_cache:
        ctx.scope_cache[id(fn)] = compute_scope(fn)
    return ctx.scope_cache[id(fn)]


def compute_scope(fn) -> list[str]:
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


BUILTIN_NAMES = frozenset(dir(builtins)) | {"__file__", "__name__", "__doc__", "__spec__", "__path__",
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


def imported_names(ctx: Context) -> set[str]:
    if "imported" not in ctx.scope_cache:
        ctx.scope_cache["imported"] = {a.asname or a.name.split(".")[0] for n in ast.walk(ctx.tree)
                                       if isinstance(n, (ast.Import, ast.ImportFrom)) for a in n.names}
    return ctx.scope_cache["imported"]


def is_reset(value: ast.AST) -> bool:
    """`0`, `-1`, `[]`, `{}`, `set()`: a value one starts from, not one to accumulate."""
    if isinstance(value, ast.UnaryOp):
        value = value.operand
    if isinstance(value, ast.Constant):
        return True
    if isinstance(value, (ast.List, ast.Dict, ast.Set, ast.Tuple)):
        return not (getattr(value, "elts", None) or getattr(value, "keys", None))
    return isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and not value.args and not value.keywords
