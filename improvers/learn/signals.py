"""What an edit does to the names around it: consistency signals for the ranker.

Real bugs often leave a trace that a reader spots: a variable assigned and never read (`rows,
cols = self.shape`, then `range(cols)` twice), arguments named like the callee's parameters but
in the wrong order (`BinOp(op, right, left)` for `BinOp(op, left, right)`), one name twice on a
line where two different ones belong. An edit that removes such a trace is likelier the fix,
one that creates it likelier wrong (DeepBugs' name-based idea, measured on the code rather
than learned from embeddings). The signals are only measured here; the ranker learns from
injected bugs how much each is worth.

Names are counted in the enclosing function, cut out as the bug data is mined, so training
and repair time see the same thing. Each function is parsed once; a candidate is not parsed:
an edit changes the counts of the few names it removes or inserts, so each candidate costs
microseconds (the ranker's budget is 5 ms per 64 candidates).
"""
from __future__ import annotations

import ast
import re
import textwrap
from collections import Counter
from typing import Iterable

N_SIGNALS = 6
NONE = (0.0,) * N_SIGNALS

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_CALLED = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\s*\(")
_KEYWORDS = frozenset({
    "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue", "def", "del",
    "elif", "else", "except", "finally", "for", "from", "global", "if", "import", "in", "is", "lambda", "nonlocal",
    "not", "or", "pass", "raise", "return", "try", "while", "with", "yield", "self", "cls"})


def _names(text: str) -> list[str]:
    return [w for w in _IDENT.findall(text) if w not in _KEYWORDS]


def signatures(sources: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """Callable name -> its positional parameter names, from every def and class in the sources
    (a class: its __init__ less self, or its annotated fields, as a dataclass takes them). A name
    defined twice with different parameters is dropped: which one a call means is unknown."""
    found: dict[str, tuple[str, ...] | None] = {}

    def add(name: str, params: tuple[str, ...]):
        found[name] = params if found.get(name, params) == params else None

    for src in sources:
        try:
            tree = ast.parse(src)
        except (SyntaxError, ValueError):
            continue
        for n in ast.walk(tree):
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)):
                params = tuple(a.arg for a in n.args.posonlyargs + n.args.args)
                add(n.name, params[1:] if params[:1] in (("self",), ("cls",)) else params)
            elif isinstance(n, ast.ClassDef):
                init = next((b for b in n.body if isinstance(b, ast.FunctionDef) and b.name == "__init__"), None)
                if init is not None:
                    add(n.name, tuple(a.arg for a in init.args.posonlyargs + init.args.args)[1:])
                else:
                    fields = tuple(b.target.id for b in n.body
                                   if isinstance(b, ast.AnnAssign) and isinstance(b.target, ast.Name))
                    if fields:
                        add(n.name, fields)
    return {k: v for k, v in found.items() if v}


def _parse_line(line: str) -> ast.AST | None:
    """A single source line as a statement; a compound statement's header gets a body."""
    s = line.strip()
    if s.startswith("elif "):
        s = s[2:]
    for attempt in (s, s + " pass"):
        try:
            return ast.parse(attempt)
        except (SyntaxError, ValueError):
            continue
    return None


def _arg_matches(line: str, sigs: dict[str, tuple[str, ...]]) -> int:
    """Positional arguments on the line named like the parameter they fill, less those named
    like another parameter of the same callee."""
    tree = _parse_line(line)
    score = 0
    for n in ast.walk(tree) if tree is not None else ():
        if not isinstance(n, ast.Call):
            continue
        f = n.func
        params = sigs.get(f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else "")
        for i, a in enumerate(n.args if params else ()):
            name = a.id if isinstance(a, ast.Name) else a.attr if isinstance(a, ast.Attribute) else None
            if name is None or i >= len(params):
                continue
            score += 1 if name == params[i] else -1 if name in params else 0
    return score


def _repeats(line: str) -> int:
    return sum(c - 1 for c in Counter(_names(line)).values())


class FileSignals:
    """Signals for edits of one file (the text the edits apply to, and the repository's
    signatures). Call with a candidate's line, removed and inserted text; returns
      - revived: variables the function assigns and never reads that the edit makes it read,
      - killed: variables whose every read the edit removes (now assigned and never read),
      - introduced: names the function did not mention before,
      - gone: names the function no longer mentions,
      - the change in positional arguments matching their parameter's name (signatures), and
      - the change in names repeated on the edited line.
    """

    def __init__(self, source: str, sigs: dict[str, tuple[str, ...]]):
        self.lines = source.splitlines()
        self.sigs = sigs
        self._line_params: dict[int, set[str]] = {}
        self._line_matches: dict[int, int] = {}
        self._line_repeats: dict[int, int] = {}
        try:
            tree = ast.parse(source)
        except (SyntaxError, ValueError):
            tree = None
        # innermost first: a line inside a nested function counts that function's names
        self.spans = sorted(((n.lineno, n.end_lineno) for n in ast.walk(tree)
                             if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))),
                            key=lambda s: s[1] - s[0]) if tree else []
        self._functions: dict[tuple[int, int], _Function | None] = {}

    def _params_called(self, line: int, text: str) -> set[str]:
        """Parameter names of the known callables the line calls: only an edit of one of those
        can change how arguments match (parsing every candidate's line would cost too much)."""
        if line not in self._line_params:
            self._line_params[line] = {p for name in _CALLED.findall(text) for p in self.sigs.get(name, ())}
        return self._line_params[line]

    def _function(self, line: int) -> _Function | None:
        span = next(((a, b) for a, b in self.spans if a <= line <= b), None)
        if span is None:
            return None
        if span not in self._functions:
            self._functions[span] = _Function.of(self.lines[span[0] - 1:span[1]])
        return self._functions[span]

    def __call__(self, line: int, before: str, after: str) -> tuple[float, ...]:
        fn = self._function(line)
        if fn is None:
            return NONE
        removed, inserted = Counter(_names(before)), Counter(_names(after))
        revived = killed = introduced = gone = 0
        for name in removed.keys() | inserted.keys():
            old = fn.mentions[name]
            new = old - removed[name] + inserted[name]
            introduced += old == 0 and new > 0
            gone += old > 0 and new <= 0
            if name in fn.bound:
                reads = fn.reads[name]
                revived += reads == 0 and inserted[name] > removed[name]
                killed += reads > 0 and reads - removed[name] + inserted[name] <= 0
        old_line = self.lines[line - 1] if 0 < line <= len(self.lines) else ""
        new_line = old_line.replace(before.strip(), after.strip(), 1) if before.strip() and "\n" not in before else old_line
        matches = 0
        if new_line != old_line and (removed.keys() | inserted.keys()) & self._params_called(line, old_line):
            if line not in self._line_matches:
                self._line_matches[line] = _arg_matches(old_line, self.sigs)
            matches = _arg_matches(new_line, self.sigs) - self._line_matches[line]
        if line not in self._line_repeats:
            self._line_repeats[line] = _repeats(old_line)
        return (float(revived), float(killed), float(introduced), float(gone), float(matches),
                float(_repeats(new_line) - self._line_repeats[line]))


class _Function:
    """The names of one function: how often each is mentioned (tokens), read (loaded), and which
    ones it binds (parameters other than self/cls, assignment targets; not `_`-prefixed)."""

    def __init__(self, mentions: Counter, reads: Counter, bound: set[str]):
        self.mentions, self.reads, self.bound = mentions, reads, bound

    @classmethod
    def of(cls, lines: list[str]) -> "_Function | None":
        text = textwrap.dedent("\n".join(lines))
        try:
            tree = ast.parse(text)
        except (SyntaxError, ValueError):
            return None
        reads: Counter = Counter()
        bound: set[str] = set()
        for n in ast.walk(tree):
            if isinstance(n, ast.Name):
                if isinstance(n.ctx, ast.Load):
                    reads[n.id] += 1
                else:
                    bound.add(n.id)
            elif isinstance(n, ast.arg):
                bound.add(n.arg)
            elif isinstance(n, (ast.Global, ast.Nonlocal)):
                reads.update(n.names)   # declared to be used elsewhere
        bound = {b for b in bound if not b.startswith("_") and b not in ("self", "cls")}
        return cls(Counter(_names(text)), reads, bound)
