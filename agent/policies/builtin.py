"""The built-in policy: repair templates at the highest-ranked locations, no model, no network.

Order of proposals for a node = localization score of the line (normalized to the best line)
x the template's score x the variant's own weight (Candidate.weight) x what the failing tests
suggest (evidence_boosts) x whether the issue names what the edit touches (issue_boost) x what
the self-debug chain says about that location (agent.selfdebug.LocationStats.weight). The
template's score is its prior frequency (agent.templates.PRIORS) unless a learned `ranker` is
given. Which templates are tried, at how many lines, and how many variants of one template at
one line, is a `TemplateSettings` (part of the scaffolding a rewrite may retune).

The ranker hook (agent.policies.base.Ranker: the learned model of improvers.learn, or a
rewritten ordering from improvers.scaffold) returns one score in [0, 1] per candidate (the
probability that it is the fix), given a RankContext; it is called once per batch of
candidates a node generates.
"""
from __future__ import annotations

import re
import zlib
from dataclasses import dataclass

from ouro.agent.policies.base import Policy, RankContext, Ranker
from ouro.agent.selfdebug import expected_actual
from ouro.agent.state import Proposal
from ouro.agent.templates import TEMPLATES, Candidate, generate, parses, spread_prior, variant_counts
from ouro.sandbox.core.schema import checked


def _known_templates(names) -> bool | str:
    if names is None:
        return True
    if not names:
        return "must name at least one template (leave it out for all)"
    unknown = [n for n in names if n not in TEMPLATES]
    return f"unknown template {unknown[0]!r} (known: {', '.join(TEMPLATES)})" if unknown else True


@dataclass(frozen=True)
class TemplateSettings:
    """Which repair templates the built-in policy tries, and their limits."""

    enabled: tuple[str, ...] | None = checked(None, check=_known_templates)   # None: every template
    lines_root: int = checked(40, check=lambda v: 1 <= v <= 500, problem="must be 1 to 500")    # suspicious lines at the root
    lines_child: int = checked(25, check=lambda v: 1 <= v <= 500, problem="must be 1 to 500")   # ... below a partial fix
    max_variants: int = checked(0, check=lambda v: v >= 0, problem="must be 0 (no cap) or more")  # of one template at one line


_OFF_BY_ONE = ("constant_off_by_one", "bound_off_by_one", "index_off_by_one", "slice_bounds")


def evidence_boosts(messages: list[str]) -> dict[str, float]:
    """Template multipliers read from how the tests fail (what a developer infers at a glance):
    a None where a value was expected suggests a missing return; numbers that differ by one,
    an off-by-one; the right number with the wrong sign, operands swapped; an IndexError, a
    bound; a boolean the wrong way round, a condition."""
    boost: dict[str, float] = {}

    def up(names, factor):
        for n in names:
            boost[n] = max(boost.get(n, 1.0), factor)

    for msg in messages:
        if re.search(r"NoneType|\bNone\b", msg):
            up(["missing_return"], 3.0)
            up(["misplaced_return"], 1.5)
        if "NoneType" in msg or "ZeroDivisionError" in msg:   # a case the code does not guard against
            up(["add_guard", "guard_return"], 1.5)
        if "IndexError" in msg or "out of range" in msg:
            up([*_OFF_BY_ONE], 1.5)
            up(["add_guard", "guard_return"], 1.5)
        if "TypeError" in msg and "argument" in msg:
            up(["swap_arguments", "wrong_default"], 1.5)
        if "NameError" in msg:   # a name defined nowhere: a rename's leftover or a typo
            up(["wrong_variable"], 2.0)
        if "AttributeError" in msg:
            up(["wrong_attribute", "method_call"], 1.5)
        if "RecursionError" in msg or "maximum recursion" in msg:   # a recursion that does not shrink or stop
            up(["slice_argument", "compare_constant", "argument_off_by_one"], 1.5)
        if "TypeError" in msg and re.search(r"not supported between|unsupported operand|can only concatenate|"
                                            r"must be str|object is not (subscriptable|iterable|callable)", msg):
            up(["wrap_call", "unwrap_call"], 1.5)   # a value of the wrong type: converted or measured
        ea = expected_actual(msg)
        numbers = _numbers(ea) if ea else None
        if numbers:
            expected, actual = numbers
            if abs(expected - actual) == 1:
                up([*_OFF_BY_ONE, "compare_swap"], 1.5)
            if expected == -actual != 0:   # `b - a` for `a - b`
                up(["swap_operands", "swap_arguments", "arith_swap", "unary_remove"], 1.5)
        if (ea and {ea[0], ea[1]} == {"True", "False"}) or _WRONG_TRUTH.search(msg):
            up(["negate_condition", "compare_swap", "bool_swap", "wrong_constant", "remove_condition"], 1.3)
    return boost


def _numbers(pair: tuple[str, str]) -> tuple[float, float] | None:
    try:
        return float(pair[0]), float(pair[1])
    except ValueError:
        return None


# a predicate that answered the wrong way: `assert not True`, `assert False` (pytest), `False is
# not true` (unittest's assertTrue)
_WRONG_TRUTH = re.compile(r"\bassert not True\b|\bassert False\b|\bassert (True|False) is (True|False)\b"
                          r"|\b(True|False) is not (true|false)\b", re.I)


_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _issue_words(issue: str) -> tuple[set[str], set[str]]:
    """(identifiers the issue quotes in backticks, all its words), lowercased."""
    code = set()
    for span in re.findall(r"`([^`]+)`", issue or ""):
        code |= {w.lower() for w in _IDENT.findall(span)}
    return code, {w.lower() for w in _IDENT.findall(issue or "")}


def issue_boost(c: Candidate, words: tuple[set[str], set[str]]) -> float:
    """An edit of something the issue names (`break_long_words=False`) is likelier the fix."""
    code, plain = words
    idents = {w.lower() for w in _IDENT.findall(c.before + " " + c.context)} - {
        "self", "return", "none", "true", "false", "not", "and", "or", "in", "is", "def", "if", "for", "while"}
    if idents & code and any(len(w) > 3 for w in idents & code):
        return 1.6
    if any(len(w) > 3 and all(part in plain for part in w.split("_") if part) and "_" in w for w in idents):
        return 1.3   # every part of a compound name appears in the issue's words
    return 1.0


def _ranked_lines(loc, base_files: dict, start: int, stop: int) -> tuple[dict[str, list[int]], dict]:
    """Localization ranks start..stop that the policy may edit: (file -> lines, (file, line) ->
    suspiciousness relative to the run's best line)."""
    by_file: dict[str, list[int]] = {}
    scores: dict[tuple[str, int], float] = {}
    if loc is None:
        return by_file, scores
    best = max((s.score for s in loc.lines), default=1.0) or 1.0
    for s in loc.lines[start:stop]:
        if s.file in base_files:
            scores[(s.file, s.line)] = s.score / best
            by_file.setdefault(s.file, []).append(s.line)
    return by_file, scores


def _variant(c: Candidate) -> str:
    return f"{c.template}:{' '.join(c.before.split())[:40]}"


class BuiltinPolicy(Policy):
    name = "builtin"

    def __init__(self, ranker: Ranker | None = None, templates: TemplateSettings | None = None, widen: bool = True):
        self.ranker = ranker
        self.templates = templates or TemplateSettings()
        self._on_exec = None
        # node id -> pending [score, tiebreak, candidate]
        self.queues: dict[int, list[tuple[float, float, Candidate]]] = {}
        self._loc_score: dict[tuple[str, int], float] = {}
        self._top_root: float | None = None
        self._relocalized: dict[tuple[str, ...], object] = {}
        self._tie_salt: float | None = None
        self.widen = widen
        self._stage = 0                               # the next widening stage (_widen)
        self._stage_of: dict[int, str] = {}           # id(candidate) -> its widening stage
        self._first_of: dict[int, str] = {}           # id(second-order candidate) -> its first edit

    @property
    def on_exec(self):
        return self._on_exec

    @on_exec.setter
    def on_exec(self, fn) -> None:
        # a ranker with a sandbox of its own is audited where the repair's executions are
        self._on_exec = fn
        if hasattr(self.ranker, "on_exec"):
            self.ranker.on_exec = fn

    def close(self) -> None:
        if hasattr(self.ranker, "close"):
            self.ranker.close()

    # -- candidate generation -------------------------------------------------------------
    def _localization(self, node, ctx):
        """The root's localization, or for a state that fixed some of the failing tests, one
        recomputed for the tests that still fail: the second fault is where *they* point."""
        obs = node.observation
        relocalize = ctx.relocalize
        if node.id == 0 or obs is None or relocalize is None or not obs.failing or len(obs.failing) >= len(ctx.target_tests):
            return ctx.localization
        key = tuple(sorted(obs.failing))
        if key not in self._relocalized:
            self._relocalized[key] = relocalize(list(key))
        return self._relocalized[key]

    def _lines(self, node, ctx, limit: int) -> tuple[dict[str, list[int]], dict[tuple[str, int], float]]:
        by_file, scores = _ranked_lines(self._localization(node, ctx), ctx.base_files, 0, limit)
        if node.id == 0:
            self._loc_score.update(scores)
        return by_file, scores

    def candidates(self, node, ctx) -> tuple[list[Candidate], dict[tuple[str, int], float]]:
        """The node's candidates before any ordering (unparsed), and the suspiciousness of their
        lines relative to the best: what this policy would choose from at the node (also what
        improvers.learn.experience reads a finished run's root against)."""
        t = self.templates
        lines, loc_score = self._lines(node, ctx, t.lines_root if node.id == 0 else t.lines_child)
        return self._generate(node, ctx, lines, loc_score), loc_score

    def _generate(self, node, ctx, lines: dict[str, list[int]], loc_score: dict) -> list[Candidate]:
        """Every enabled template at the given lines of the node's files, the best file first."""
        t = self.templates
        cands: list[Candidate] = []
        for path in sorted(lines, key=lambda p: -max(loc_score.get((p, ln), 0.0) for ln in lines[p])):
            src = ctx.source(node, path)
            if src is None:
                continue
            # enabled templates in agent.templates' own order, so their order in a setting changes nothing
            names = [n for n in TEMPLATES if n in t.enabled] if t.enabled else None
            cands.extend(generate(path, src, lines[path], templates=names, check=False))  # parsed when chosen
        if t.max_variants:
            kept: dict[tuple[str, int, str], int] = {}
            capped = []
            for c in cands:   # the first variants a template generates at a line are kept
                k = (c.file, c.line, c.template)
                kept[k] = kept.get(k, 0) + 1
                if kept[k] <= t.max_variants:
                    capped.append(c)
            cands = capped
        return cands

    # -- widening: the root's first-order neighbourhood is spent ---------------------------
    def _widen(self, node, ctx) -> list[tuple[float, float, Candidate]]:
        """The next ring of candidates at the root once the first is spent, one stage per call
        (an empty list: every stage is spent). Without it the search ends "exhausted" with
        budget left whenever the fault sits below the top lines or needs two edits:
          more_lines    the next lines down the suspiciousness list (3 x lines_root more);
          callees       the functions the most suspicious functions and the failing tests
                        call, which a crash before coverage or a missing spectrum hides;
          second_order  a second edit at a top line, on top of a first edit there that ran
                        without breaking anything (`a < b` -> `a <= b + 1`); partial fixes are
                        combined across lines by the search itself (TreeSearch._merge_proposals).
        Each stage's candidates are scored like the first ring's, times a discount."""
        stages = (("more_lines", self._more_lines, 1.0), ("callees", self._callee_lines, 0.3),
                  ("second_order", None, 0.5))
        while self._stage < len(stages):
            name, pick, discount = stages[self._stage]
            self._stage += 1
            if pick is None:
                cands, loc_score = self._second_order(node, ctx)
            else:
                lines, loc_score = pick(ctx)
                cands = self._generate(node, ctx, lines, loc_score)
            built = self._score(node, ctx, cands, {k: v * discount for k, v in loc_score.items()})
            for _, _, c in built:
                self._stage_of[id(c)] = name
            if built:
                return built
        return []

    def _more_lines(self, ctx) -> tuple[dict[str, list[int]], dict]:
        n = self.templates.lines_root
        return _ranked_lines(ctx.localization, ctx.base_files, n, 4 * n)

    def _callee_lines(self, ctx) -> tuple[dict[str, list[int]], dict]:
        """Body lines of the functions called from the five most suspicious functions and from
        the failing tests (by the repository map's references), not already tried."""
        rmap, loc = ctx.repomap, ctx.localization
        if rmap is None or loc is None:
            return {}, {}
        tried = {(s.file, s.line) for s in loc.lines[:4 * self.templates.lines_root]}
        callers = []
        for qualname, file, score in loc.functions[:5]:
            callers += [(d, score) for d in rmap.definitions if d.file == file and d.qualname == qualname]
        for test in ctx.target_tests:
            path, _, rest = test.partition("::")
            name = rest.rsplit("::", 1)[-1].split("[")[0]
            callers += [(d, 0.5) for d in rmap.definitions if d.file == path and d.name == name]
        lines: dict[str, list[int]] = {}
        scores = {}
        for caller, weight in callers:
            called = {name for name, refs in rmap.references.items()
                      if any(f == caller.file and caller.start_line <= ln <= caller.end_line for f, ln in refs)}
            for d in sorted((d for name in called for d in rmap.named(name)),
                            key=lambda d: (d.file, d.start_line)):
                if d.kind == "class" or d.file not in ctx.base_files or d == caller:
                    continue
                for ln in range(d.start_line + 1, d.end_line + 1):
                    if (d.file, ln) not in tried and (d.file, ln) not in scores:
                        scores[(d.file, ln)] = weight
                        lines.setdefault(d.file, []).append(ln)
        return lines, scores

    def _second_order(self, node, ctx) -> tuple[list[Candidate], dict]:
        """Second edits at the top lines, each on a first edit there that ran (validated,
        not broken, not plausible), the best valued first edits first."""
        _, top = _ranked_lines(ctx.localization, ctx.base_files, 0, 10)
        firsts = []
        for n in ctx.nodes.values():
            e = n.edits[-1] if n.edits else {}
            obs = n.observation
            if (n.parent == 0 and obs is not None and not obs.plausible
                    and obs.status not in ("broke", "timeout", "rejected", "contradicted")
                    and (e.get("file"), e.get("line")) in top and len(n.files) == 1):
                firsts.append(n)
        firsts.sort(key=lambda n: (-n.value, n.id))
        cands: list[Candidate] = []
        for first in firsts[:12]:
            e = first.edits[-1]
            path, line = e["file"], e["line"]
            for c in self._generate(first, ctx, {path: [line]}, top):
                cands.append(c)
                self._first_of[id(c)] = e.get("description", "")
        return cands, top

    def _score(self, node, ctx, cands: list[Candidate], loc_score: dict) -> list[tuple[float, float, Candidate]]:
        evidence = evidence_boosts(list(node.observation.failing.values()) if node.observation else [])
        issue_words = _issue_words(ctx.issue)
        if self.ranker is not None and cands:
            context = RankContext(issue=ctx.issue, base_files=ctx.base_files, node_files=node.files,
                                  target_tests=ctx.target_tests, localization=ctx.localization)
            model_scores = list(self.ranker(cands, context))
        else:
            variants = variant_counts(cands)
            model_scores = [spread_prior(c.template, variants[(c.file, c.line, c.template)]) for c in cands]
        if self._tie_salt is None:
            self._tie_salt = ctx.rng.random()
        out = []
        for c, m in zip(cands, model_scores):
            # a learned ranker that already weighs suspiciousness is not multiplied by it twice
            loc = 1.0 if self.ranker is not None and self.ranker.includes_localization else loc_score.get((c.file, c.line), 0.1)
            score = loc * float(m) * evidence.get(c.template, 1.0) * c.weight
            score *= issue_boost(c, issue_words)
            # ties broken by the seed and the edit itself, not by its place in the list: a different
            # --seed explores a different order, and a template added or removed does not reshuffle
            # the ties among the others' candidates
            tie = zlib.crc32(f"{self._tie_salt}|{c.file}|{c.line}|{c.template}|{c.before}|{c.after}".encode()) / 2 ** 32
            out.append((score, tie, c))
        return out

    def _build(self, node, ctx) -> list[tuple[float, float, Candidate]]:
        cands, loc_score = self.candidates(node, ctx)
        return self._score(node, ctx, cands, loc_score)

    # -- the Policy protocol --------------------------------------------------------------
    def propose(self, node, ctx, k: int = 1) -> list[Proposal]:
        if node.id not in self.queues:
            self.queues[node.id] = self._build(node, ctx)
            if node.id == 0:
                self._top_root = max((s for s, _, _ in self.queues[0]), default=0.0) or 1.0
        queue = self.queues[node.id]
        out: list[Proposal] = []
        while len(out) < k:
            if not queue and node.id == 0 and self.widen:
                queue.extend(self._widen(node, ctx))
            if not queue:
                break
            # the chain changes after every validation, so the order is recomputed each time
            best_i, best_key = -1, None
            for i, (score, tie, c) in enumerate(queue):
                key = (score * ctx.chain.stats(c.file, c.line).weight(_variant(c)), tie)
                if best_key is None or key > best_key:
                    best_i, best_key = i, key
            score, _, c = queue.pop(best_i)
            stage = self._stage_of.pop(id(c), "first")
            first = self._first_of.pop(id(c), None)
            if not parses(c.new_source):
                continue  # every proposal parses; checked here because most are never chosen
            files = dict(node.files)
            files[c.file] = c.new_source
            if files[c.file] == ctx.base_files.get(c.file):
                del files[c.file]  # this edit undoes the parent's: back to the original file
            meta = {"function": c.function, "variant": _variant(c)} | ({"stage": stage} if stage != "first" else {})
            description = f"{c.description} (a second edit, on: {first})" if first else c.description
            out.append(Proposal(files=files, description=description, template=c.template, file=c.file,
                                line=c.line, score=best_key[0], meta=meta))
        return out

    def value_estimate(self, node, ctx) -> float:
        if node.id == 0:
            queue = self.queues.get(0)
            if queue is None:
                return 0.6
            if not queue:
                return 0.0
            top = max(s * ctx.chain.stats(c.file, c.line).weight(_variant(c)) for s, _, c in queue)
            return 0.3 + 0.4 * min(1.0, top / (self._top_root or 1.0))
        # a patch whose edits sit on highly ranked lines is more likely right
        scores = [self._loc_score.get((e.get("file"), e.get("line")), 0.1) for e in node.edits]
        return sum(scores) / len(scores) if scores else 0.0

    # observe() does nothing: the chain in ctx is all the memory this policy needs
