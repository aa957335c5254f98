"""Fault localization: rank suspicious lines and functions.

Three signals, combined because each alone misleads in a known way:
- Spectrum (Ochiai) from per-test line coverage: lines run by failing tests and rarely by
  passing ones. Blind when one test covers everything, or when coverage is unavailable.
- Traceback frames of the failing tests: the crash site and its callers in the project's code.
  Points at where the error surfaced, which is often downstream of the fault.
- The tree-sitter repo map: functions the failing tests and the issue text mention by name,
  and the functions enclosing the crash frames (the fault is often earlier in the same function).

How much each signal counts is a `LocalizationWeights` the repair takes (RepairConfig.localization,
`--search-config`'s [localization] table, or a scaffold rewrite's LOCALIZATION): the mix is part
of the scaffolding ouro may retune, the signals themselves are not.
"""
from __future__ import annotations

import ast
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

from ouro.agent.repomap import RepoMap
from ouro.sandbox.core.testfiles import is_test_file

_FRAME_RE = re.compile(r'^(?:\s*File "([^"]+\.py)", line (\d+)|([^\s:"]+\.py):(\d+):)', re.M)
_IDENT_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]{2,}")


@dataclass(frozen=True)
class LocalizationWeights:
    """How the signals mix into one suspiciousness score per line (the defaults are ouro's own)."""

    spectrum: float = 1.0          # x the line's Ochiai score
    traceback: float = 0.6         # the deepest project frame of a failing test's traceback
    traceback_decay: float = 0.7   # each caller further up the traceback counts this much less
    frame_function: float = 0.25   # every statement of a function on a traceback (x its frame's decay)
    test_mention: float = 0.15     # every statement of a function a failing test names
    issue_mention: float = 0.1     # every statement of a function the issue names


@dataclass
class Suspicious:
    file: str
    line: int
    score: float
    function: str = ""
    reasons: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"file": self.file, "line": self.line, "score": round(self.score, 4),
                "function": self.function, "reasons": self.reasons}


@dataclass
class Localization:
    lines: list[Suspicious]
    functions: list[tuple[str, str, float]]  # (qualname, file, best line score)

    def to_dict(self) -> dict:
        return {"lines": [s.to_dict() for s in self.lines],
                "functions": [{"function": f, "file": p, "score": round(s, 4)} for f, p, s in self.functions]}


def traceback_frames(longrepr: str, known_files: set[str]) -> list[tuple[str, int]]:
    """(file, line) frames in a failure text, mapped onto repository-relative paths, in order."""
    out = []
    for m in _FRAME_RE.finditer(longrepr or ""):
        path = m.group(1) or m.group(3)
        line = int(m.group(2) or m.group(4))
        rel = _match_file(path, known_files)
        if rel and (rel, line) not in out:
            out.append((rel, line))
    return out


def _match_file(path: str, known: set[str]) -> str | None:
    path = path.replace("\\", "/")
    if path in known:
        return path
    for k in known:  # absolute in-sandbox paths: /workspace/pkg/mod.py -> pkg/mod.py
        if path.endswith("/" + k):
            return k
    return None


TIMEOUT_MARK = "ouro.TestTimeout"   # how a test stopped at its per-test timeout fails (sandbox/guest/deadline.py)


def _loop_lines(root: Path, file: str, line: int) -> list[int]:
    """The statement lines of the innermost loop around `line` (header included), or []."""
    try:
        tree = ast.parse((Path(root) / file).read_text(encoding="utf-8", errors="replace"))
    except (OSError, SyntaxError, ValueError):
        return []
    best = None
    for node in ast.walk(tree):
        if isinstance(node, (ast.While, ast.For, ast.AsyncFor)) and node.lineno <= line <= (node.end_lineno or 0):
            if best is None or node.lineno >= best.lineno:
                best = node
    if best is None:
        return []
    return sorted({n.lineno for n in ast.walk(best) if isinstance(n, ast.stmt)})


def statement_lines(source: str, start: int = 1, end: int = 10**9) -> list[int]:
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    lines = {n.lineno for n in ast.walk(tree) if isinstance(n, ast.stmt) and start <= n.lineno <= end}
    return sorted(lines)


def ochiai(failed_cov: int, passed_cov: int, total_failed: int) -> float:
    if failed_cov == 0 or total_failed == 0:
        return 0.0
    return failed_cov / math.sqrt(total_failed * (failed_cov + passed_cov))


def localize(
    root: Path,
    source_files: list[str],
    failing: dict[str, str],
    passing: list[str],
    coverage: dict[str, dict[str, list[int]]] | None,
    rmap: RepoMap,
    issue: str = "",
    limit: int = 160,   # the policy tries the top 40 first and widens to the rest (policies.builtin._widen)
    weights: LocalizationWeights | None = None,
) -> Localization:
    """Rank lines of the non-test `source_files` (repository-relative).

    failing: nodeid -> failure text; passing: nodeids; coverage: nodeid -> {file: [lines]}.
    """
    w8 = weights or LocalizationWeights()
    root = Path(root)
    src_set = {f for f in source_files if not is_test_file(f)}
    scores: dict[tuple[str, int], float] = {}
    reasons: dict[tuple[str, int], list[str]] = {}

    def add(key, value, why):
        if key[0] not in src_set or value <= 0:
            return
        scores[key] = scores.get(key, 0.0) + value
        reasons.setdefault(key, [])
        if why not in reasons[key]:
            reasons[key].append(why)

    # 1. spectrum
    if coverage:
        fcount: dict[tuple[str, int], int] = {}
        pcount: dict[tuple[str, int], int] = {}
        passing_set = set(passing)
        failing_cov = [t for t in failing if t in coverage]
        for test, files in coverage.items():
            bucket = fcount if test in failing else pcount if test in passing_set else None
            if bucket is None:
                continue
            for f, lines in files.items():
                for ln in lines:
                    bucket[(f, ln)] = bucket.get((f, ln), 0) + 1
        for key, ef in fcount.items():
            add(key, w8.spectrum * ochiai(ef, pcount.get(key, 0), max(1, len(failing_cov))), "spectrum")

    # 2. traceback frames: the deepest project frame first, its callers less. A test stopped
    # at its timeout was interrupted wherever its loop happened to be: the whole innermost
    # loop around that line is the suspect (its condition, and what should make it progress)
    frame_functions: dict[str, float] = {}
    for text in failing.values():
        frames = [fr for fr in traceback_frames(text, src_set | set(source_files)) if fr[0] in src_set]
        hung = TIMEOUT_MARK in (text or "")
        for depth, fr in enumerate(reversed(frames)):
            w = w8.traceback_decay ** depth
            lines = _loop_lines(root, *fr) if hung and depth == 0 else []
            for ln in lines or [fr[1]]:
                add((fr[0], ln), w8.traceback * w, "timeout loop" if lines else "traceback")
            d = rmap.enclosing(*fr)
            if d is not None:
                frame_functions[d.qualname + "@" + d.file] = max(frame_functions.get(d.qualname + "@" + d.file, 0), w)

    # 3. symbols: what the failing tests and the issue mention by name
    mentioned: dict[str, float] = {}
    test_idents = set()
    for nodeid in failing:
        test_file = nodeid.split("::")[0]
        test_func = nodeid.split("::")[-1].split("[")[0]
        for d in rmap.named(test_func):
            if d.file == test_file:
                try:
                    lines = (root / d.file).read_text(encoding="utf-8", errors="replace").splitlines()
                except OSError:
                    continue
                body = "\n".join(lines[d.start_line - 1:d.end_line])
                test_idents |= set(_IDENT_RE.findall(body))
    issue_idents = set(_IDENT_RE.findall(issue or ""))
    for d in rmap.definitions:
        if d.file not in src_set:
            continue
        key = d.qualname + "@" + d.file
        if d.name in test_idents:
            mentioned[key] = mentioned.get(key, 0) + w8.test_mention
        if d.name in issue_idents:
            mentioned[key] = mentioned.get(key, 0) + w8.issue_mention

    # Functions from frames and mentions contribute to all their statement lines: the fault
    # is often a few lines before the crash, in a line coverage may not separate.
    sources: dict[str, str] = {}
    for d in rmap.definitions:
        key = d.qualname + "@" + d.file
        bonus = w8.frame_function * frame_functions.get(key, 0.0) + mentioned.get(key, 0.0)
        if bonus <= 0 or d.kind == "class":
            continue
        if d.file not in sources:
            try:
                sources[d.file] = (root / d.file).read_text(encoding="utf-8", errors="replace")
            except OSError:
                sources[d.file] = ""
        covered_by_failing = None
        if coverage:
            covered_by_failing = {ln for t in failing for ln in coverage.get(t, {}).get(d.file, [])}
        for ln in statement_lines(sources[d.file], d.start_line, d.end_line):
            if covered_by_failing is not None and covered_by_failing and ln not in covered_by_failing and ln != d.start_line:
                continue  # coverage says the failing tests never ran this line
            add((d.file, ln), bonus, "frame function" if key in frame_functions else "mentioned")

    ranked = sorted(scores.items(), key=lambda kv: (-round(kv[1], 9), kv[0][0], kv[0][1]))
    out: list[Suspicious] = []
    for (f, ln), s in ranked[:limit]:
        d = rmap.enclosing(f, ln)
        out.append(Suspicious(file=f, line=ln, score=s, function=d.qualname if d else "", reasons=reasons[(f, ln)]))
    funcs: dict[tuple[str, str], float] = {}
    for s in out:
        k = (s.function or "<module>", s.file)
        funcs[k] = max(funcs.get(k, 0.0), s.score)
    functions = sorted(((q, f, s) for (q, f), s in funcs.items()), key=lambda x: (-x[2], x[1], x[0]))
    return Localization(lines=out, functions=functions)


def issue_file_scores(issue: str, files: list[str], rmap: RepoMap) -> dict[str, float]:
    """How strongly an issue points at each file, before any test has failed (a policy writing
    a reproduction test reads the files in this order): a file the issue names (its path, its
    file name, its dotted module) most; then the files that define what the issue names (a
    name defined in few files counts more than a common one), and, less, the files that use
    it. 0 for a file the issue says nothing about."""
    issue = issue or ""
    idents = set(_IDENT_RE.findall(issue))
    defined: dict[str, set[str]] = {}
    for d in rmap.definitions:
        if d.name in idents:
            defined.setdefault(d.name, set()).add(d.file)
    used: dict[str, set[str]] = {name: {f for f, _ in rmap.references.get(name, [])} for name in defined}
    scores = {}
    for f in files:
        stem = f[:-3] if f.endswith(".py") else f
        module = stem.replace("/", ".")
        if module.endswith(".__init__"):
            module = module[:-len(".__init__")]
        base = f.rsplit("/", 1)[-1]
        named = (f in issue or (base != "__init__.py" and re.search(r"(?<![\w.])" + re.escape(base) + r"\b", issue))
                 or ("." in module and re.search(r"(?<![\w.])" + re.escape(module) + r"\b", issue)))
        score = 3.0 if named else 0.0
        for name, where in defined.items():
            if f in where:
                score += 1.0 / len(where)
            elif f in used[name]:
                score += 0.3 / (len(where) + len(used[name]))
        scores[f] = score
    return scores
