"""Self-supervised bug data: inject bugs into correct code with the repair templates.

The repair templates are (mostly) their own inverses: swapping `<` for `<=` injects a bug
that swapping back repairs. So for a correct function C we apply one template at one line to
get a buggy B, then generate every candidate repair of B in that function (with simulated fault
localization noise) and label the candidate whose result is exactly C. Each such group of
candidates, one correct, is one listwise training example for the ranker (BugLab's idea,
with ouro's own templates).

Behaviour check: an injection is kept only if it changes the compiled code, and, for
functions that take plain numbers and call nothing outside the builtins, only if it changes
the function's outputs on generated inputs (checked in a forked child with a time limit).
"""
from __future__ import annotations

import ast
import hashlib
import json
import os
import random
import signal
import sysconfig
from dataclasses import dataclass
from pathlib import Path

MAX_GROUP = 64
# No one kind of fix may be more than this share of the data. Templates are drawn by their
# real-bug prior, but an extra statement can be injected at almost every line and undone
# almost always, so without a cap nearly half the bugs would be duplicated statements.
MAX_SHARE = 0.15


@dataclass
class DataStats:
    """What one data build read, injected, kept and dropped (and why), for its report."""

    files: int = 0            # source files read
    functions: int = 0        # functions considered
    injected: int = 0
    kept: int = 0             # groups made (a bug and its candidate fixes)
    no_inverse: int = 0       # dropped: no candidate undoes the injected bug
    same_behaviour: int = 0   # dropped: the "bug" changed neither the syntax tree nor the outputs
    duplicates: int = 0       # dropped: a group already in the data
    over_share: int = 0       # dropped: that kind of fix already holds MAX_SHARE of the data


def default_corpus() -> list[Path]:
    """The standard library (less its tests, idlelib and lib2to3) and the installed packages.

    The stdlib walk skips any site-packages below it: those files come from the purelib walk.
    Files named like tests are skipped in both."""
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    purelib = Path(sysconfig.get_paths()["purelib"])
    skip_in_stdlib = {"test", "tests", "idlelib", "lib2to3", "site-packages"}
    files = []
    for root in (stdlib, purelib):
        for p in root.rglob("*.py"):
            if root == stdlib and skip_in_stdlib & set(p.parts):
                continue
            if "test" in p.name:
                continue
            files.append(p)
    return sorted(files)


def _functions(tree: ast.AST) -> list[ast.FunctionDef]:
    return [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and 3 <= n.end_lineno - n.lineno <= 40]


# The builtins a checked function may use, and the only ones its namespace has: pure ones. The
# corpus may be any directory (`ouro learn data --corpus`), so its functions run on the host
# with no way to reach a file, a process or an import (no attribute access either, see below).
PURE_BUILTINS = ("abs", "all", "any", "bool", "divmod", "enumerate", "float", "int", "len", "list", "max", "min",
                 "pow", "range", "reversed", "round", "sorted", "str", "sum", "tuple", "zip", "dict", "set",
                 "isinstance", "ArithmeticError", "Exception", "IndexError", "KeyError", "TypeError", "ValueError",
                 "ZeroDivisionError", "OverflowError", "StopIteration", "True", "False", "None")


def _numeric_pure(fn: ast.FunctionDef) -> bool:
    """A top-level-style function of plain positional args that uses only its args and pure builtins."""
    args = [a.arg for a in fn.args.args]
    if not args or fn.args.vararg or fn.args.kwarg or fn.args.kwonlyargs or fn.decorator_list:
        return False
    assigned = set(args) | {n.id for n in ast.walk(fn) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    for n in ast.walk(fn):
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load) and n.id not in assigned and n.id not in PURE_BUILTINS:
            return False
        if isinstance(n, (ast.Attribute, ast.Import, ast.ImportFrom, ast.Global, ast.Nonlocal, ast.Yield, ast.Await)):
            return False
    return True


def _outputs(src: str, name: str, inputs: list[tuple]) -> list[str] | None:
    """Run fn on inputs in a forked child (1 s limit); None when it cannot be checked."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: never returns
        os.close(r)
        try:
            import builtins
            import resource

            signal.alarm(1)
            resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
            ns: dict = {"__builtins__": {b: getattr(builtins, b) for b in PURE_BUILTINS if hasattr(builtins, b)}}
            exec(compile(src, "<inject>", "exec"), ns)
            res = []
            for args in inputs:
                try:
                    res.append(repr(ns[name](*args))[:200])
                except Exception as e:  # noqa: BLE001 - an exception is an observable behaviour
                    res.append(f"raise {type(e).__name__}")
            os.write(w, json.dumps(res).encode())
        finally:
            os._exit(0)
    os.close(w)
    data = b""
    while chunk := os.read(r, 65536):
        data += chunk
    os.close(r)
    os.waitpid(pid, 0)
    try:
        return json.loads(data)
    except json.JSONDecodeError:
        return None


def behaviour_changed(correct_fn: str, buggy_fn: str, name: str, nargs: int, rng: random.Random) -> bool | None:
    inputs = [tuple(rng.choice([0, 1, 2, 3, -1, 5, 10, rng.randint(-50, 50)]) for _ in range(nargs)) for _ in range(24)]
    a, b = _outputs(correct_fn, name, inputs), _outputs(buggy_fn, name, inputs)
    if a is None or b is None:
        return None
    return a != b


def _split_of(key: str) -> str:
    """The split of a function, from its code alone: the same corpus gives the same split wherever it
    lies on disk, and copies of one function never straddle two splits."""
    h = int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) % 100
    return "train" if h < 80 else ("val" if h < 90 else "test")


def make_groups(path: str, source: str, rng: random.Random, stats: DataStats, per_function: int = 2) -> list[dict]:
    """Groups for the functions of one file. Each function is cut out and dedented first:
    templates then walk a 40-line snippet instead of a 5,000-line module."""
    import textwrap

    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return []
    from ouro.improvers.learn.signals import signatures

    sigs = signatures([source])  # the module's own defs: what a call in the function may resolve to
    groups = []
    for fn in _functions(tree):
        stats.functions += 1
        segment = ast.get_source_segment(source, fn)
        if not segment:
            continue
        snippet = textwrap.dedent(segment) + "\n"
        try:
            fn_tree = ast.parse(snippet)
        except SyntaxError:
            continue
        groups.extend(_groups_for_function(f"{path}::{fn.name}", snippet, fn_tree.body[0], rng, stats, per_function,
                                           sigs))
    return groups


def _groups_for_function(key: str, source: str, fn: ast.FunctionDef, rng: random.Random, stats: DataStats,
                         per_function: int, sigs: dict) -> list[dict]:
    from ouro.agent.templates import PRIORS, generate, variant_counts
    from ouro.improvers.learn.signals import FileSignals

    groups = []
    body_lines = list(range(fn.lineno, fn.end_lineno + 1))  # the def line too: defaults are edited there
    pure = _numeric_pure(fn)
    source_dump = ast.dump(ast.parse(source))
    for _ in range(per_function):
        line = rng.choice(body_lines)
        injections = generate("f.py", source, [line])
        if not injections:
            continue
        # Pick the template first, weighted by how often real bugs are of its kind, then one of its
        # variants: picking among all variants would make most bugs a wrong variable or an extra
        # statement (those templates have the most variants), and the ranker would learn that.
        by_template: dict[str, list] = {}
        for c in injections:
            by_template.setdefault(c.template, []).append(c)
        names = sorted(by_template)
        chosen_template = rng.choices(names, weights=[PRIORS.get(n, 0.3) for n in names])[0]
        inj = rng.choice(by_template[chosen_template])
        stats.injected += 1
        buggy = inj.new_source
        buggy_tree = ast.parse(buggy)
        if ast.dump(buggy_tree) == source_dump:
            stats.same_behaviour += 1
            continue
        if pure and behaviour_changed(source, buggy, fn.name, len(fn.args.args), rng) is False:
            stats.same_behaviour += 1
            continue
        # Candidates at every line of the function, not only near the bug: at repair time most
        # candidates sit on lines that are not faulty, and the ranker must learn to tell an edit
        # that restores natural code from one that breaks it. Simulated fault localization,
        # as noisy as spectrum ranking on real bugs (the faulty line is the top line only about
        # half the time): the true line and its neighbours tend to score higher than the rest,
        # and scores are relative to the best line, as the policy sees them.
        # (The lines of the buggy function: an inserted or deleted statement moves its end.)
        buggy_fn = buggy_tree.body[0]
        fn_lines = list(range(buggy_fn.lineno, buggy_fn.end_lineno + 1))
        raw = {n: max(0.01, rng.uniform(0.3, 1.0) if n == line else rng.uniform(0.2, 0.9) if abs(n - line) <= 2
                      else rng.uniform(0.0, 0.8)) for n in fn_lines}
        top = max(raw.values())
        fl = {n: v / top for n, v in raw.items()}
        ranked = sorted(fn_lines, key=lambda n: -fl[n])
        cands = generate("f.py", buggy, fn_lines)
        pos = [c for c in cands if c.new_source == source]
        if not pos:
            stats.no_inverse += 1
            continue
        variants = variant_counts(cands)   # the heuristic spreads a template's prior over its variants
        neg = [c for c in cands if c.new_source != source]
        rng.shuffle(neg)
        chosen = pos[:1] + neg[: MAX_GROUP - 1]
        rng.shuffle(chosen)
        signals = FileSignals(buggy, sigs)
        buggy_lines = signals.lines
        groups.append({
            "id": hashlib.sha256(buggy.encode()).hexdigest()[:16],
            "function": key, "line": line, "injected": inj.template,
            "split_key": hashlib.sha256(source.encode()).hexdigest(),
            "candidates": [{
                "template": c.template, "before": c.before, "after": c.after,
                "context": buggy_lines[c.line - 1].strip() if 0 < c.line <= len(buggy_lines) else "",
                "fl": round(fl.get(c.line, 0.0), 4),
                "fl_rank": ranked.index(c.line) if c.line in ranked else len(ranked),
                "signals": signals(c.line, c.before, c.after),
                "variants": variants[(c.file, c.line, c.template)], "weight": c.weight,
                "label": c.new_source == source,
            } for c in chosen],
        })
        stats.kept += 1
    return groups


def build_dataset(out_dir: str | Path, *, corpus: list[Path] | None = None, max_groups: int = 6000, seed: int = 0,
                  progress=None) -> tuple[dict[str, int], DataStats]:
    """Write train/val/test JSON lines (split by function, so no function leaks across splits)."""
    from ouro.sandbox.core.files import atomic_write_text

    rng = random.Random(seed)
    files = list(corpus if corpus is not None else default_corpus())
    rng.shuffle(files)
    stats = DataStats()
    seen: set[str] = set()
    per_fix: dict[str, int] = {}
    splits: dict[str, list[str]] = {"train": [], "val": [], "test": []}
    total = 0
    for path in files:
        if total >= max_groups:
            break
        try:
            source = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        if len(source) > 200_000:
            continue
        stats.files += 1
        for g in make_groups(str(path), source, rng, stats):
            if g["id"] in seen:
                stats.duplicates += 1
                continue
            fix = next(c["template"] for c in g["candidates"] if c["label"])
            if per_fix.get(fix, 0) >= max(20, MAX_SHARE * max_groups):
                stats.over_share += 1
                continue
            per_fix[fix] = per_fix.get(fix, 0) + 1
            seen.add(g["id"])
            splits[_split_of(g["split_key"])].append(json.dumps(g))
            total += 1
        if progress:
            progress(total, max_groups)
    out = Path(out_dir)
    for name, rows in splits.items():
        atomic_write_text(out / f"{name}.jsonl", "".join(r + "\n" for r in rows))
    return {k: len(v) for k, v in splits.items()}, stats
