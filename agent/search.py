"""Monte Carlo tree search over patch states, in the manner of SWE-Search (Antoniades et al. 2024).

- A node is a patch state (the files it changed, full text) with its observation (what the
  sandbox said when its tests ran). The root is the unchanged repository.
- Selection: among all expandable nodes, the one with the highest UCT score minus a depth
  penalty (SWE-Search selects over the whole tree, not root-to-leaf, which suits repair:
  single-edit fixes are children of the root, two-edit fixes grandchildren).
- Expansion: the policy proposes the node's next child (its own ordering, steered by the
  self-debug chain). Expansion limits: at most `max_children` per non-root node and
  `max_depth` edits per patch; only states that made progress (fixed a failing test, or
  changed how it fails) are expanded further, since an edit that changes nothing observable
  is no half of a fix.
- Evaluation: the child is validated in the sandbox (cached by state key, so a resumed run
  does not validate it again); value = fraction of originally failing tests now passing,
  plus a bonus for changing the failure, minus a penalty for regressions, plus the policy's
  value estimate.
- Backpropagation: visits and value sums up to the root.
It stops at `max_plausible` plausible patches, at the budget, at the time limit, or when no
node is expandable. Deterministic for a given seed: nothing depends on timing or hash order.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Callable

from ouro.agent.policies.base import Policy
from ouro.agent.selfdebug import explain
from ouro.agent.state import Node, Observation, OutOfTime, Proposal, SearchContext, state_key


@dataclass
class ValueWeights:
    """How a validated state's value is made (node_value), and how the search trades it off."""

    solved: float = 0.35           # x the fraction of originally failing tests that pass now
    progress: float = 0.4          # x the tests fixed beyond the parent's (scaled, capped at 1)
    changed: float = 0.1           # when the failures differ from the parent's
    estimate: float = 0.1          # x the policy's own value estimate
    regression: float = 0.5        # x the share of previously passing tests that fail now
    cap: float = 0.95              # the most a state that is not plausible can be worth
    crowding: float = 0.02         # subtracted from a partial fix's value per child it already has


@dataclass
class SearchConfig:
    budget: int = 300              # most candidate states validated
    time_limit: float = 900.0      # seconds
    max_depth: int = 3             # most edits in one patch
    max_children: int = 25         # children of a non-root node
    exploration: float = 0.15      # UCT constant c (small: hundreds of cheap expansions, not tens)
    depth_penalty: float = 0.1     # subtracted per edit of depth
    max_plausible: int = 3         # stop after this many plausible patches
    extra_after_plausible: int = 30  # and at most this many candidates after the first one
    max_merges: int = 6            # merge proposals offered to a partial fix
    seed: int = 0
    value: ValueWeights = field(default_factory=ValueWeights)


@dataclass
class SearchResult:
    nodes: dict[int, Node]
    plausible: list[int]                 # node ids, in the order found
    validated: int                       # states evaluated (cache hits included)
    first_plausible_at: int | None       # validated count when the first plausible was found
    stopped: str                         # why: max_plausible | budget | time | exhausted

    def tree(self) -> dict:
        return {"nodes": [n.to_dict() for n in self.nodes.values()], "plausible": self.plausible,
                "validated": self.validated, "first_plausible_at": self.first_plausible_at, "stopped": self.stopped}


def merge_text(base: str, a: str, b: str) -> str | None:
    """A character-level three-way merge: both edits of base, or None when they overlap."""
    import difflib

    def changes(new: str) -> list[tuple[int, int, str]]:
        sm = difflib.SequenceMatcher(None, base, new, autojunk=False)
        return [(i1, i2, new[j1:j2]) for tag, i1, i2, j1, j2 in sm.get_opcodes() if tag != "equal"]

    edits = sorted(changes(a) + changes(b))
    for (s1, e1, _), (s2, e2, _) in zip(edits, edits[1:]):
        if s2 <= e1:
            return None  # the same or touching characters changed on both sides: a conflict
    out, pos = [], 0
    for s_, e_, text in edits:
        out.append(base[pos:s_] + text)
        pos = e_
    return "".join(out) + base[pos:]


def merge_states(base: dict[str, str], a: dict[str, str], b: dict[str, str]) -> dict[str, str] | None:
    merged = dict(a)
    for path, text in b.items():
        if path not in merged or merged[path] == text:
            merged[path] = text
            continue
        m = merge_text(base.get(path, ""), merged[path], text)
        if m is None:
            return None
        merged[path] = m
    return merged


def budget_report(nodes: list[dict], top: int = 10) -> dict:
    """How the candidate budget was spent, from the tree's node dicts (Node.to_dict, tree.json):
    candidates per template, per stage of the policy's widening (first-order, more lines,
    callees, second-order), per depth, and at the `top` most tried locations."""
    from collections import Counter

    edits = [(n["depth"], n.get("edit") or {}) for n in nodes if n.get("parent") is not None]
    by = lambda key: dict(Counter(key(d, e) for d, e in edits).most_common())
    locations = Counter(f"{e.get('file')}:{e.get('line')}" for _, e in edits if e.get("file"))
    return {"candidates": len(edits), "by_template": by(lambda d, e: e.get("template") or "?"),
            "by_stage": by(lambda d, e: e.get("stage") or "first"), "by_depth": by(lambda d, e: str(d)),
            "by_location": dict(locations.most_common(top)), "locations": len(locations)}


Evaluate = Callable[[Node], Observation]
OnEvent = Callable[[str, dict], None]


def node_value(obs: Observation, parent_obs: Observation | None, estimate: float,
               w: ValueWeights | None = None) -> float:
    """The value of a validated state in [0, 1]; 1 only for a plausible patch."""
    w = w or ValueWeights()
    if obs.plausible:
        return 1.0
    if obs.status in ("broke", "timeout", "rejected") or obs.target == 0:
        return 0.0
    changed = 1.0 if parent_obs is not None and obs.failing != parent_obs.failing else 0.0
    # progress over the parent earns most: a child that merely keeps its parent's partial fix
    # should pull the parent's mean down, so a dead end stops being selected
    # (scaled: fixing 1 of 7 tests is weaker evidence of half a fix than fixing 2 of 4)
    gained = w.progress * min(1.0, 2 * max(0, obs.fixed - (parent_obs.fixed if parent_obs else 0)) / obs.target)
    regress = min(1.0, obs.regressions / max(1, obs.tests_passed + obs.regressions))
    if obs.status == "contradicted":
        regress = 1.0   # what the user wrote says it is wrong: worth no more than a patch that breaks the suite
    v = w.solved * (obs.fixed / obs.target) + gained + w.changed * changed + w.estimate * estimate - w.regression * regress
    return max(0.0, min(w.cap, v))


class TreeSearch:
    def __init__(self, policy: Policy, evaluate: Evaluate, ctx: SearchContext, cfg: SearchConfig,
                 root_observation: Observation, on_event: OnEvent | None = None):
        self.policy = policy
        self.evaluate = evaluate
        self.ctx = ctx
        self.cfg = cfg
        self.on_event = on_event or (lambda kind, data: None)
        root = Node(id=0, parent=None, depth=0, files={}, edits=[], observation=root_observation, visits=1)
        self.nodes: dict[int, Node] = {0: root}
        ctx.nodes = self.nodes
        self.seen: set[str] = {root.key}
        self.plausible: list[int] = []
        self.validated = 0
        self.first_plausible_at: int | None = None
        self._leaders: dict[tuple, int] = {}
        self._merges_offered: set[int] = set()
        self._pending_merges: dict[int, list[Proposal]] = {}

    # -- selection -----------------------------------------------------------------------
    def expandable(self, n: Node) -> bool:
        if n.exhausted or n.depth >= self.cfg.max_depth:
            return False
        if n.id == 0:
            return True
        obs = n.observation
        if obs is None or obs.plausible or obs.status in ("broke", "timeout", "rejected"):
            return False
        if len(n.children) >= self.cfg.max_children:
            return False
        parent = self.nodes[n.parent]
        progressed = obs.fixed > (parent.observation.fixed if parent.observation else 0) or (
            parent.observation is not None and obs.failing != parent.observation.failing)
        if not progressed:
            return False
        # Observational equivalence: states at the same depth whose tests behave identically
        # (`> 3` -> `>= 3` and `3` -> `2` often do) would be extended the same way; only the
        # first of them is extended, the budget goes elsewhere.
        return self._equivalence_leader(n) == n.id

    def _signature(self, n: Node) -> tuple:
        obs = n.observation
        return (n.depth, obs.fixed, obs.regressions, tuple(sorted(obs.failing.items())))

    def _equivalence_leader(self, n: Node) -> int:
        sig = self._signature(n)
        if sig not in self._leaders:
            self._leaders[sig] = n.id
        return self._leaders[sig]

    def uct(self, n: Node, total: int) -> float:
        # The root's exploitation term is the policy's estimate for its next proposal rather
        # than the mean of its children: most of those are wrong single edits, and the root
        # stays where single-edit fixes come from.
        if n.id == 0:
            exploit = self.policy.value_estimate(n, self.ctx)
        else:
            # A state that made progress stays attractive while it has few children, however
            # poor the first ones are: its second edit may be far down the policy's list.
            exploit = max(n.q, n.value - self.cfg.value.crowding * len(n.children))
        explore = self.cfg.exploration * math.sqrt(math.log(total + 1) / (n.visits + 1))
        return exploit + explore - self.cfg.depth_penalty * n.depth

    def select(self) -> Node | None:
        total = self.nodes[0].visits
        best, best_score = None, -math.inf
        for n in self.nodes.values():  # insertion order = id order: ties go to the older node
            if not self.expandable(n):
                continue
            s = self.uct(n, total)
            if s > best_score + 1e-12:
                best, best_score = n, s
        return best

    # -- expansion, evaluation, backpropagation -------------------------------------------
    def _merge_proposals(self, n: Node) -> list[Proposal]:
        """Combine n with other states that fixed *other* failing tests: two faults found
        separately, each a partial fix, are a full fix together (SWE-Search's tree cannot get
        there by one more edit when the policy ranks the second edit low below a given parent)."""
        obs = n.observation
        if n.id == 0 or obs is None or obs.fixed == 0:
            return []
        fixed_n = set(self.ctx.target_tests) - set(obs.failing)
        scored = []
        for m in self.nodes.values():
            mo = m.observation
            if m.id in (0, n.id) or mo is None or mo.fixed == 0 or mo.status in ("broke", "timeout", "rejected"):
                continue
            # partners that fix tests n does not come first; others may still be the missing
            # half of a test that needs both edits (one comparison of two in an overlap check)
            complementary = bool((set(self.ctx.target_tests) - set(mo.failing)) - fixed_n)
            scored.append((not complementary, -m.value, m.id, m))
        out = []
        for _, _, _, m in sorted(scored, key=lambda x: x[:3]):
            if len(out) >= self.cfg.max_merges:
                break
            files = merge_states(self.ctx.base_files, n.files, m.files)
            if files is None or state_key(files) in self.seen or files == n.files:
                continue
            desc = " + ".join(e.get("description", "") for e in m.edits)
            out.append(Proposal(files=files, description=f"merge with node {m.id}: {desc}", template="merge",
                                file=(m.edits[-1].get("file", "") if m.edits else ""),
                                line=(m.edits[-1].get("line", 0) if m.edits else 0), meta={"merged": m.id}))
        return out

    def _next_proposal(self, n: Node) -> Proposal | None:
        if n.id not in self._merges_offered:
            self._merges_offered.add(n.id)
            self._pending_merges[n.id] = self._merge_proposals(n)
        while self._pending_merges.get(n.id):
            p = self._pending_merges[n.id].pop(0)
            if p.key not in self.seen:
                self.seen.add(p.key)
                return p
        while True:
            props = self.policy.propose(n, self.ctx, 1)
            if not props:
                n.exhausted = True
                return None
            p = props[0]
            if p.key in self.seen:
                continue  # the same state reached by another path: validated once
            self.seen.add(p.key)
            return p

    def backpropagate(self, n: Node, value: float) -> None:
        cur: Node | None = n
        while cur is not None:
            cur.visits += 1
            cur.value_sum += value
            cur = self.nodes[cur.parent] if cur.parent is not None else None

    def step(self) -> Node | None:
        """One iteration: select, expand one child, evaluate it, backpropagate. None: nothing left."""
        while True:
            parent = self.select()
            if parent is None:
                return None
            prop = self._next_proposal(parent)
            if prop is not None:
                break
        child = Node(id=len(self.nodes), parent=parent.id, depth=parent.depth + 1, files=dict(prop.files),
                     edits=[*parent.edits, prop.to_dict()])
        self.nodes[child.id] = child
        parent.children.append(child.id)
        self.on_event("proposal", {"node": child.id, "parent": parent.id, **prop.to_dict()})
        try:
            obs = self.evaluate(child)
        except OutOfTime:
            del self.nodes[child.id]      # never judged: not part of the tree
            parent.children.remove(child.id)
            self.seen.discard(prop.key)
            raise
        child.observation = obs
        self.validated += 1
        estimate = self.policy.value_estimate(child, self.ctx)
        child.value = node_value(obs, parent.observation, estimate, self.cfg.value)
        self.on_event("validation", {"node": child.id, "key": child.key, "cached": obs.cached, **obs.to_dict()})
        self.on_event("value", {"node": child.id, "value": round(child.value, 4), "estimate": round(estimate, 4)})
        self.backpropagate(child, child.value)
        if obs.plausible:
            self.plausible.append(child.id)
            if self.first_plausible_at is None:
                self.first_plausible_at = self.validated
            self.policy.observe(child, self.ctx, None)
        else:
            # the chain tracks variants ("compare_swap:<="), so a second comparison on the same
            # line is not held back by what the first one showed
            e = explain(child.id, prop.description, prop.file, prop.line, prop.meta.get("variant", prop.template),
                        obs, parent.observation)
            self.ctx.chain.record(e)
            self.on_event("explanation", e.to_dict() | {"text": e.render()})
            self.policy.observe(child, self.ctx, e)
        return child

    def run(self, progress: Callable[["TreeSearch"], None] | None = None) -> SearchResult:
        start = time.monotonic()
        stopped = "exhausted"
        while True:
            if len(self.plausible) >= self.cfg.max_plausible:
                stopped = "max_plausible"
                break
            if self.validated >= self.cfg.budget:
                stopped = "budget"
                break
            if self.first_plausible_at is not None and self.validated - self.first_plausible_at >= self.cfg.extra_after_plausible:
                stopped = "enough_after_plausible"
                break
            if time.monotonic() - start > self.cfg.time_limit:
                stopped = "time"
                break
            try:
                if self.step() is None:
                    break
            except OutOfTime:
                stopped = "time"
                break
            if progress:
                progress(self)
        self.on_event("search_end", {"stopped": stopped, "validated": self.validated, "plausible": self.plausible,
                                     "budget": budget_report([n.to_dict() for n in self.nodes.values()])})
        return SearchResult(nodes=self.nodes, plausible=list(self.plausible), validated=self.validated,
                            first_plausible_at=self.first_plausible_at, stopped=stopped)

    def best_value(self) -> float:
        return max((n.value for n in self.nodes.values() if n.id), default=0.0)
