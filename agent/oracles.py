"""Oracles beyond the visible tests: the doctests of the code under repair and the examples the
issue gives. A candidate that makes the visible tests pass but contradicts one of them is not
plausible ("contradicted": its Observation names the example). Visible tests are often weak
(about one plausible patch in four failed the hidden tests); what the user wrote is the
cheapest stronger check.

Examples are extracted conservatively from the issue text; one that cannot be turned into a
call and an expected literal value is skipped, and the trajectory's "oracles" event lists
what was used and what was skipped, with why:
- stated:  "`parse('1h30m')` should return 5400" (should/must/ought to + return/be/give/equal),
           "`f(x)` returns 3 instead of 4", "`f(x)` gives 3, but should return 4",
           `assert f(x) == 4` / `f(x) == 4` in code, "expected 4, got 3" after a line with one call;
- session: a `>>> call` line whose output line is a literal (or whose comment says "should
           be X"); earlier `>>>` lines are replayed first.
Every name in an example must be a builtin, bound by the session itself, or defined at the top
level of exactly one source module of the repository.

Nothing runs on the host: the examples become a generated test module (ORACLE_FILE) laid into
the candidate's workspace for one run, which the visible suite never sees, and the doctests run
through pytest's doctest runner, both in the sandbox like any test. Which checks are used is
decided on the original code first (one baseline run):
- a stated example with a claimed current value is used only if the code does return that
  value now (the claim confirms the reading); without a claim it is used unless it cannot run
  at all (ImportError, NameError, SyntaxError: a misread example);
- a session line is used only if the original code does NOT produce it: a session that shows
  the current output is a demonstration of the bug, not a statement of what should happen;
- a doctest that passes is used (a patch must keep it passing); one that fails is used only if
  it exercises code the failing tests run (then it shows the bug too), and never when it
  cannot run at all.
Doctests are checked in the modules a candidate edits; examples for every candidate.
"""
from __future__ import annotations

import ast
import builtins
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

from ouro.agent.selfdebug import failure_message
from ouro.sandbox.core.testfiles import is_test_file

ORACLE_FILE = "_ouro_oracles.py"     # not test_*.py: a plain `pytest` never collects it
_CANNOT_RUN = ("ImportError", "ModuleNotFoundError", "NameError", "SyntaxError")

_SPAN = re.compile(r"`([^`\n]+)`")
_SHOULD = re.compile(r"\s*(?:,\s*)?(?:(?:really|also|instead|actually|always|still|then)\s+)?"
                     r"(?:should|must|ought to|is supposed to|is meant to|needs to|has to|to)\s+"
                     r"(?:return|give|be|equal|evaluate to|produce|yield|output)\s+", re.I)
_RETURNS = re.compile(r"\s*(?:currently\s+|now\s+|still\s+)?(?:returns|gives|yields|produces|evaluates to|outputs|is)\s+",
                      re.I)
_INSTEAD = re.compile(r"\s+instead of\s+", re.I)
_BUT_SHOULD = re.compile(r"\s*[,;]?\s*(?:but|while|whereas|when)\s+(?:it\s+|that\s+)?(?:really\s+)?"
                         r"(?:should|must|ought to|is supposed to|needs to)\s+(?:return|give|be|equal|produce)\s+", re.I)
_EXPECTED_GOT = re.compile(r"\bexpected:?\s+", re.I)
_GOT = re.compile(r"\s*[,;]?\s*(?:but\s+)?(?:got|received|returned|it returns|returns)\s*:?\s+", re.I)
_NEGATED = re.compile(r"\bnot\b|n't\b", re.I)
_COMMENT_SHOULD = re.compile(r"#\s*(?:should be|expected|expect|want|wanted|ought to be)\s*:?\s*(.+)$", re.I)


@dataclass
class Example:
    id: str                  # "issue-1"
    text: str                # the line as the user wrote it
    call: str                # a Python expression with a call
    expected: str            # source of a literal
    claimed: str | None = None       # what the user says it returns now
    setup: list[str] = field(default_factory=list)   # statements run before (a session's earlier lines)
    kind: str = "stated"     # stated | session
    imports: list[str] = field(default_factory=list)  # `from mod import name` lines it needs
    paths: list[str] = field(default_factory=list)    # sys.path entries (relative) those imports need

    def describe(self) -> str:
        return f"{self.call} should be {self.expected}"


@dataclass
class Skipped:
    text: str
    why: str


# -- reading the issue -------------------------------------------------------------------------
def _literal(src: str) -> bool:
    try:
        ast.literal_eval(src.strip())
        return True
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return False


def _has_call(src: str) -> bool:
    try:
        tree = ast.parse(src.strip(), mode="eval")
    except SyntaxError:
        return False
    return any(isinstance(n, ast.Call) for n in ast.walk(tree))


def _value_at(text: str, pos: int) -> tuple[str, int] | None:
    """A value written at text[pos:]: a `code span`, or a bare literal token (number, quoted
    string, True/False/None, a bracketed literal). (source, end) or None."""
    m = re.match(r"\s*`([^`\n]+)`", text[pos:])
    if m:
        return m.group(1).strip(), pos + m.end()
    rest = text[pos:]
    lead = len(rest) - len(rest.lstrip())
    rest = rest.lstrip()
    m = re.match(r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?\b|True\b|False\b|None\b|'[^'\n]*'|\"[^\"\n]*\"", rest)
    if m:
        return m.group(0), pos + lead + m.end()
    if rest[:1] in "[({":
        pairs = {"[": "]", "(": ")", "{": "}"}
        depth, quote = 0, None
        for i, ch in enumerate(rest):
            if quote:
                quote = None if ch == quote else quote
            elif ch in "'\"":
                quote = ch
            elif ch in pairs:
                depth += 1
            elif ch in pairs.values():
                depth -= 1
                if depth == 0:
                    return rest[:i + 1], pos + lead + i + 1
    return None


def _stated(line: str) -> list[tuple[str, str, str | None]]:
    """(call, expected, claimed) stated in one line of prose; expected is "" where the line
    says what the call should give in words, not as a value."""
    out = []
    for m in _SPAN.finditer(line):
        call = m.group(1).strip()
        if not _has_call(call):
            continue
        after = line[m.end():]
        s = _SHOULD.match(after)
        if s and not _NEGATED.search(after[:s.end()]):
            v = _value_at(line, m.end() + s.end())
            if v:
                claimed = None
                b = re.match(r"\s*[,;(]?\s*(?:but|not|while|whereas)\s+(?:it\s+)?(?:returns|gives|is|got)\s+",
                             line[v[1]:], re.I)
                if b:
                    c = _value_at(line, v[1] + b.end())
                    claimed = c[0] if c else None
                out.append((call, v[0], claimed))
            else:
                out.append((call, "", None))
            continue
        r = _RETURNS.match(after)
        if r and not _NEGATED.search(after[:r.end()]):
            v = _value_at(line, m.end() + r.end())
            if v:
                i = _INSTEAD.match(line[v[1]:])
                b = _BUT_SHOULD.match(line[v[1]:]) if not i else None
                g = i or b
                if g:
                    e = _value_at(line, v[1] + g.end())
                    if e:
                        out.append((call, e[0], v[0]))
    return out


def _compare(src: str) -> tuple[str, str] | None:
    """`f(x) == 4` or `assert f(x) == 4`: (call, expected)."""
    src = src.strip()
    try:
        node = ast.parse(src).body
    except SyntaxError:
        return None
    if len(node) != 1:
        return None
    node = node[0]
    test = node.test if isinstance(node, ast.Assert) else node.value if isinstance(node, ast.Expr) else None
    if (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq)
            and any(isinstance(n, ast.Call) for n in ast.walk(test.left))):
        right = ast.get_source_segment(src, test.comparators[0])
        if right and _literal(right):
            return ast.get_source_segment(src, test.left), right
    return None


def read_issue(issue: str) -> tuple[list[Example], list[Skipped]]:
    """The examples the issue text states, before any name is resolved."""
    found: list[Example] = []
    skipped: list[Skipped] = []
    seen: set[tuple[str, str]] = set()

    def add(text: str, call: str, expected: str, claimed: str | None = None, setup=None, kind="stated"):
        if not expected:
            skipped.append(Skipped(text.strip(), f"what `{call}` should give is not written as a value"))
            return
        if not _literal(expected):
            skipped.append(Skipped(text.strip(), f"the expected value `{expected}` is not a literal"))
            return
        if claimed is not None and not _literal(claimed):
            claimed = None
        if (call, expected) in seen:
            return
        seen.add((call, expected))
        found.append(Example(id=f"issue-{len(found) + 1}", text=text.strip()[:200], call=call, expected=expected,
                             claimed=claimed, setup=list(setup or []), kind=kind))

    lines = (issue or "").splitlines()
    in_code = False
    session: list[str] = []
    recent_calls: list[tuple[int, list[str]]] = []   # (line number, calls on that line)
    i = 0
    while i < len(lines):
        raw = lines[i]
        stripped = raw.strip()
        if stripped.startswith("```"):
            in_code = not in_code
            session = []
            i += 1
            continue
        if stripped.startswith(">>> "):
            src = stripped[4:]
            j = i + 1
            while j < len(lines) and lines[j].strip().startswith("... "):
                src += "\n" + lines[j].strip()[4:]
                j += 1
            code, _, comment = src.partition("  #") if "\n" not in src else (src, "", "")
            code = code.strip()
            output = []
            while j < len(lines) and lines[j].strip() and not lines[j].strip().startswith((">>>", "```")):
                output.append(lines[j].strip())
                j += 1
            stated = _COMMENT_SHOULD.search("#" + comment) if comment else None
            if _has_call(code) and stated:
                want = _value_at(stated.group(1), 0)
                add(raw, code, want[0] if want else stated.group(1).strip(),
                    " ".join(output) if output else None, session, "stated")
            elif _has_call(code) and output and not _is_statement(code):
                out = " ".join(output)
                if _literal(out):
                    add(raw, code, out, None, session, "session")
                elif not out.startswith("Traceback"):
                    skipped.append(Skipped(stripped, f"the output `{out[:60]}` is not a literal"))
            session = session + [code]
            if _has_call(code):
                recent_calls.append((i, [code]))
            i = j
            continue
        session = session if in_code else []
        text = stripped
        if in_code:
            cmp_ = _compare(text) if "#" not in text else None
            if cmp_:
                add(raw, cmp_[0], cmp_[1])
            calls = [text.split("  #")[0].strip()] if _has_call(text.split("  #")[0]) else []
        else:
            for call, expected, claimed in _stated(text):
                add(raw, call, expected, claimed)
            for m in _SPAN.finditer(text):
                cmp_ = _compare(m.group(1))
                if cmp_:
                    add(raw, cmp_[0], cmp_[1])
            calls = [m.group(1).strip() for m in _SPAN.finditer(text) if _has_call(m.group(1))]
        eg = _EXPECTED_GOT.search(text)
        if eg:
            e = _value_at(text, eg.end())
            g = _GOT.match(text[e[1]:]) if e else None
            c = _value_at(text, e[1] + g.end()) if g else None
            before = [m.group(1).strip() for m in _SPAN.finditer(text[:eg.start()]) if _has_call(m.group(1))]
            near = [cs for n, cs in recent_calls if i - n <= 6]
            candidates = before or (near[-1] if near else [])
            if e and c and len(candidates) == 1:
                add(raw, candidates[0], e[0], c[0])
            elif e and c:
                skipped.append(Skipped(stripped, "no single call this `expected ..., got ...` is about"))
        if calls:
            recent_calls.append((i, calls))
        i += 1
    return found, skipped


def _is_statement(code: str) -> bool:
    try:
        ast.parse(code, mode="eval")
        return False
    except SyntaxError:
        return True


# -- names -----------------------------------------------------------------------------------
def module_of(path: str, root: Path) -> tuple[str, str]:
    """(sys.path entry relative to root, dotted module name) under which `path` imports."""
    parts = Path(path).with_suffix("").parts
    top = len(parts) - 1
    while top > 0 and (root.joinpath(*parts[:top]) / "__init__.py").is_file():
        top -= 1
    if top < len(parts) - 1 and not (root.joinpath(*parts[:top + 1]) / "__init__.py").is_file():
        top += 1
    mod = [p for p in parts[top:] if p != "__init__"] or list(parts[-1:])
    return "/".join(parts[:top]) or ".", ".".join(mod)


Place = tuple[str, str, bool]   # (sys.path entry, module, whether the name is the module itself)


def top_level_names(root: Path, source_files: list[str]) -> dict[str, list[Place]]:
    """name -> where it can be imported from: what each source module defines at its top
    level, and each top-level module or package itself."""
    out: dict[str, list[Place]] = {}
    for f in source_files:
        if is_test_file(f) or not f.endswith(".py") or f == ORACLE_FILE:
            continue
        try:
            tree = ast.parse((root / f).read_text(encoding="utf-8", errors="replace"))
        except (OSError, SyntaxError, ValueError):
            continue
        entry, module = module_of(f, root)
        names = set()
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(node.name)
            elif isinstance(node, ast.Assign):
                names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        places = [(n, (entry, module, False)) for n in names]
        places.append((module.split(".")[0], (entry, module.split(".")[0], True)))
        for n, place in places:
            if place not in out.setdefault(n, []):
                out[n].append(place)
    return out


def resolve(example: Example, names: dict[str, list[Place]]) -> str | None:
    """Fill example.imports; None, or why the example cannot be run."""
    bound: set[str] = set(dir(builtins))
    imports: list[str] = []
    for stmt in [*example.setup, example.call]:
        try:
            tree = ast.parse(stmt)
        except SyntaxError:
            return f"`{stmt[:60]}` is not Python"
        for node in ast.walk(tree):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id not in bound:
                places = names.get(node.id, [])
                if len(places) != 1:
                    return (f"`{node.id}` is not defined in this repository" if not places
                            else f"`{node.id}` is defined in several modules")
                entry, module, whole = places[0]
                imports.append(f"import {module}" if whole else f"from {module} import {node.id}")
                example.paths.append(entry)
                bound.add(node.id)
        for node in ast.walk(tree):   # what the statement binds is known to the lines after it
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                bound.add(node.id)
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                bound.update((a.asname or a.name).split(".")[0] for a in node.names)
            elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                bound.add(node.name)
    example.imports = list(dict.fromkeys(imports))
    return None


# -- the generated module ----------------------------------------------------------------------
_HEADER = '''"""Generated by ouro (agent/oracles.py): the examples of the issue as checks."""
import math
import os
import sys

_here = os.path.dirname(os.path.abspath(__file__))
for _p in {paths!r}:
    _p = os.path.normpath(os.path.join(_here, _p))
    if _p not in sys.path:
        sys.path.insert(0, _p)


def _same(got, want):
    if isinstance(want, float) and isinstance(got, (int, float)) and not isinstance(got, bool):
        return math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-12)
    return type(got) is not bool and got == want if type(want) is not bool else got is want
'''


def test_name(example: Example, claim: bool = False) -> str:
    return "test_" + example.id.replace("-", "_") + ("_claim" if claim else "")


def module_source(examples: list[Example], paths: list[str], claims: bool) -> str:
    """The test module: one test per example (and, for the baseline, one per claim)."""
    out = [_HEADER.format(paths=sorted(set(paths) - {"."}))]
    for ex in examples:
        for claim in ([False, True] if claims and ex.claimed is not None else [False]):
            want = ex.claimed if claim else ex.expected
            body = [*ex.imports, *[ln for s in ex.setup for ln in s.splitlines()]]
            body.append(f"_ouro_got = ({ex.call})")
            body.append(f"assert _same(_ouro_got, {want}), '%s: %s returned %r, expected %s' % "
                        f"({ex.id!r}, {ex.call!r}, _ouro_got, {want!r})")
            out.append(f"\n\ndef {test_name(ex, claim)}():\n" + "\n".join("    " + ln for ln in body) + "\n")
    return "".join(out)


# -- the oracles of one repair ----------------------------------------------------------------
@dataclass
class Oracles:
    examples: list[Example] = field(default_factory=list)       # used
    doctests: dict[str, list[str]] = field(default_factory=dict)  # module file -> used doctest node ids
    skipped: list[Skipped] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)               # sys.path entries the examples need
    seconds: float = 0.0                                          # what the used checks took at baseline

    def to_dict(self) -> dict:
        return {"examples": [asdict(e) for e in self.examples], "doctests": self.doctests,
                "skipped": [asdict(s) for s in self.skipped], "paths": self.paths, "seconds": self.seconds}

    @classmethod
    def from_dict(cls, d: dict) -> "Oracles":
        return cls(examples=[Example(**e) for e in d.get("examples", [])], doctests=dict(d.get("doctests", {})),
                   skipped=[Skipped(**s) for s in d.get("skipped", [])], paths=list(d.get("paths", [])),
                   seconds=float(d.get("seconds", 0.0)))

    def summary(self) -> dict:
        """For the trajectory: what is checked and what was left out, with why."""
        return {"examples": [{"id": e.id, "check": e.describe(), "kind": e.kind, "text": e.text} for e in self.examples],
                "doctests": {f: ids for f, ids in self.doctests.items()},
                "skipped": [asdict(s) for s in self.skipped]}

    def invocation(self, files: dict[str, str]) -> tuple[dict[str, str], list[str]] | None:
        """(extra files, pytest arguments) that check a candidate changing `files`; None when
        nothing applies to it."""
        modules = sorted(f for f in files if self.doctests.get(f))
        if not modules and not self.examples:
            return None
        extra = {ORACLE_FILE: module_source(self.examples, self.paths, claims=False)} if self.examples else {}
        args = (["--doctest-modules", *modules] if modules else []) + ([ORACLE_FILE] if self.examples else [])
        return extra, args

    def contradicted(self, run, files: dict[str, str]) -> dict[str, str]:
        """check -> what happened, for every used check this candidate's run did not pass."""
        out: dict[str, str] = {}
        for ex in self.examples:
            nodeid = f"{ORACLE_FILE}::{test_name(ex)}"
            if run.outcome(nodeid) != "passed":
                o = run.outcomes.get(nodeid)
                got = failure_message(o.longrepr).split(" | ")[0] if o else "no result"
                got = re.sub(r"^AssertionError: " + re.escape(ex.id) + ": ", "", got)
                out[f"issue example {ex.id.split('-')[1]}"] = got if ex.call in got else f"{ex.describe()}: {got}"
        for f in sorted(files):
            for nodeid in self.doctests.get(f, []):
                if run.outcome(nodeid) != "passed":
                    o = run.outcomes.get(nodeid)
                    out[f"doctest {nodeid.split('::')[-1]}"] = _doctest_failure(o.longrepr if o else "no result")
        return out


def _doctest_failure(longrepr: str) -> str:
    """The gist of a doctest failure: the example, what it expected, what it got."""
    text = longrepr or ""
    exp = re.search(r"^Expected:\n\s+(.+)$", text, re.M)
    # pytest lists the docstring up to the failing example: the last `>>>` line is it
    shown = re.findall(r"^\d+\s+>>> (.+)$", text[:exp.start()] if exp else text, re.M)
    src = shown[-1].strip() if shown else ""
    got = re.search(r"^Got:\n\s+(.+)$", text, re.M)
    exc = re.search(r"UNEXPECTED EXCEPTION: (.+)$", text, re.M)
    if exp and got:
        return f"{src}: expected {exp.group(1).strip()}, got {got.group(1).strip()}"
    if exc:
        return f"{src}: raised {exc.group(1).strip()[:120]}"
    return failure_message(text) or "failed"


def _cannot_run(longrepr: str) -> str | None:
    for name in _CANNOT_RUN:
        if re.search(rf"\b{name}\b", longrepr or ""):
            return name
    return None


RunChecks = Callable[[dict[str, str], list[str]], object]   # (extra files, pytest args) -> TestRun


def prepare(issue: str, root: Path, source_files: list[str], run_checks: RunChecks,
            covered_by_targets: dict[str, set[int]], definitions) -> Oracles:
    """The oracles of this repair, decided on the original code (see the module doc).

    run_checks runs pytest in the sandbox with the given extra files laid into the original
    workspace; covered_by_targets: file -> lines the failing tests ran; definitions: the repo
    map's, to find a doctest's function."""
    root = Path(root)
    candidates, skipped = read_issue(issue)
    names = top_level_names(root, source_files)
    examples = []
    for ex in candidates:
        why = resolve(ex, names)
        if why:
            skipped.append(Skipped(ex.text, why))
        else:
            examples.append(ex)
    doctest_files = []
    for f in source_files:
        if f.endswith(".py") and not is_test_file(f) and f != ORACLE_FILE:
            try:
                if ">>>" in (root / f).read_text(encoding="utf-8", errors="replace"):
                    doctest_files.append(f)
            except OSError:
                pass
    oracles = Oracles(skipped=skipped, paths=sorted({p for ex in examples for p in ex.paths}))
    if not examples and not doctest_files:
        return oracles
    extra = {ORACLE_FILE: module_source(examples, oracles.paths, claims=True)} if examples else {}
    args = (["--doctest-modules", *doctest_files] if doctest_files else []) + ([ORACLE_FILE] if examples else [])
    run = run_checks(extra, args)
    if not run.collected and doctest_files and examples:
        # pytest could not take the doctest option here (a project that turns the plugin off)
        skipped.append(Skipped(", ".join(doctest_files), "pytest could not run doctests in this project"))
        doctest_files = []
        run = run_checks(extra, [ORACLE_FILE])
    spent = 0.0
    for ex in examples:
        o = run.outcomes.get(f"{ORACLE_FILE}::{test_name(ex)}")
        outcome = o.outcome if o else "error"
        why = _cannot_run(o.longrepr) if o and outcome != "passed" else None
        if o is None:
            skipped.append(Skipped(ex.text, "it did not run on the original code"))
        elif why and getattr(o, "reason", "") != "timeout":
            skipped.append(Skipped(ex.text, f"it cannot run on the original code ({why}): read wrongly?"))
        elif ex.kind == "session" and outcome == "passed":
            skipped.append(Skipped(ex.text, "the original code gives this output: it shows the bug, not the fix"))
        elif ex.claimed is not None and run.outcome(f"{ORACLE_FILE}::{test_name(ex, claim=True)}") != "passed":
            skipped.append(Skipped(ex.text, f"the original code does not return {ex.claimed}, as the issue says it "
                                            "does: read wrongly?"))
        else:
            oracles.examples.append(ex)
            spent += o.duration_s
    for f in doctest_files:
        items = [n for n in run.outcomes if n.startswith(f + "::")]
        if not items:
            bad = run.outcomes.get(f)
            skipped.append(Skipped(f, "its doctests cannot be collected on the original code" if bad
                                   else "no doctest found"))
            continue
        used = []
        for n in items:
            o = run.outcomes[n]
            label = f"doctest {n.split('::')[-1]}"
            if o.outcome == "passed":
                used.append(n)
            elif _cannot_run(o.longrepr) and o.reason != "timeout":
                skipped.append(Skipped(label, f"it cannot run on the original code ({_cannot_run(o.longrepr)})"))
            elif _runs_failing_code(n, f, covered_by_targets, definitions):
                used.append(n)
            else:
                skipped.append(Skipped(label, "it fails on the original code, in code the failing tests do not run"))
            if n in used:
                spent += o.duration_s
        if used:
            oracles.doctests[f] = used
    oracles.seconds = spent
    return oracles


def _runs_failing_code(nodeid: str, file: str, covered: dict[str, set[int]], definitions) -> bool:
    """Whether a doctest's function contains lines the failing tests ran."""
    qual = nodeid.split("::")[-1]
    lines = covered.get(file, set())
    for d in definitions:
        if d.file == file and d.kind != "class" and qual.endswith("." + d.qualname):
            return any(d.start_line <= ln <= d.end_line for ln in lines)
    return False
