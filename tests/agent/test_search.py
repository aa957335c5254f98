"""The tree search itself (agent.search): selection, expansion limits, depth limits,
backpropagation, multi-edit reachability, stopping, and determinism under a seed.

The sandbox is replaced by a pure function from patch state to observation so the search's
own decisions can be checked exactly; the built-in policy tests at the end use the real
templates and localization on real source.
"""
from __future__ import annotations

import random

import pytest

from ouro.agent.state import Proposal
from ouro.agent.policies.base import Policy
from ouro.agent.search import SearchConfig, TreeSearch, node_value
from ouro.agent.state import Node, Observation, SearchContext

EDITS = list("abcdefgh")


class LetterPolicy(Policy):
    """Proposes edits 'a'..'h' in a fixed (seed-shuffled) order; a state is the sorted set of edits."""

    name = "letters"

    def __init__(self, order=None):
        self.order = order or EDITS
        self.queues: dict[int, list[str]] = {}
        self.observed: list[int] = []

    def propose(self, node, ctx, k=1):
        have = set(node.files.get("m.py", "").split("+")) - {""}
        q = self.queues.setdefault(node.id, [e for e in self.order if e not in have])
        out = []
        while q and len(out) < k:
            e = q.pop(0)
            state = "+".join(sorted(have | {e}))
            out.append(Proposal(files={"m.py": state}, description=f"edit {e}", template=e, file="m.py", line=1))
        return out

    def value_estimate(self, node, ctx):
        return 0.5 if node.id == 0 else 0.0

    def observe(self, node, ctx, explanation):
        self.observed.append(node.id)


def two_edit_oracle(calls: list):
    """Two target tests; edit a fixes t1, b fixes t2 (both needed); c changes t1's failure."""

    def evaluate(node: Node) -> Observation:
        calls.append(node.key)
        edits = set(node.files.get("m.py", "").split("+"))
        failing = {}
        if "a" not in edits:
            failing["t1"] = "assert 2 == 1" if "c" in edits else "assert 0 == 1"
        if "b" not in edits:
            failing["t2"] = "assert 0 == 2"
        fixed = 2 - len(failing)
        status = "plausible" if not failing else ("partial" if fixed else "failed")
        return Observation(status=status, target=2, fixed=fixed, failing=failing, tests_passed=fixed + 5,
                           full_suite=not failing)

    return evaluate


def root_obs():
    return Observation(status="failed", target=2, fixed=0, failing={"t1": "assert 0 == 1", "t2": "assert 0 == 2"})


def make(cfg=None, order=None, calls=None):
    calls = [] if calls is None else calls
    policy = LetterPolicy(order)
    ctx = SearchContext(base_files={"m.py": ""}, target_tests=["t1", "t2"])
    return TreeSearch(policy, two_edit_oracle(calls), ctx, cfg or SearchConfig(budget=60), root_obs()), policy, calls


def test_two_edit_patch_is_reachable_and_found():
    search, policy, calls = make(SearchConfig(budget=60, max_plausible=1))
    result = search.run()
    assert result.stopped == "max_plausible"
    best = result.nodes[result.plausible[0]]
    assert best.depth == 2
    assert set(best.files["m.py"].split("+")) == {"a", "b"}
    # every validated state was new: nothing was validated twice
    assert len(calls) == len(set(calls)) == result.validated


def test_partial_nodes_are_selected_before_the_root():
    search, _, _ = make(SearchConfig(budget=2))
    search.run()
    a = search.nodes[1]                 # first child: edit a, fixes t1 (partial)
    assert a.observation.status == "partial"
    assert search.uct(a, search.nodes[0].visits) > search.uct(search.nodes[0], search.nodes[0].visits)
    assert search.select() is a


def test_nodes_without_progress_are_not_expanded():
    search, _, _ = make(SearchConfig(budget=8, max_plausible=99))
    search.run()
    for n in search.nodes.values():
        if n.id and n.observation.failing == search.nodes[n.parent].observation.failing and n.observation.fixed == 0:
            assert not search.expandable(n)
            assert n.children == []


def test_depth_and_children_limits():
    cfg = SearchConfig(budget=200, max_depth=2, max_children=2, max_plausible=99, extra_after_plausible=999)
    search, _, _ = make(cfg)
    result = search.run()
    assert max(n.depth for n in result.nodes.values()) <= 2
    for n in result.nodes.values():
        if n.id:
            assert len(n.children) <= 2
    assert result.stopped == "exhausted"


def test_backpropagation_sums_match_subtrees():
    search, _, _ = make(SearchConfig(budget=25, max_plausible=99, extra_after_plausible=999))
    search.run()
    nodes = search.nodes

    def subtree(n):
        out = [n]
        for c in n.children:
            out += subtree(nodes[c])
        return out

    for n in nodes.values():
        below = [m for m in subtree(n) if m.id != 0]
        expected_visits = len(below) + (1 if n.id == 0 else 0)
        assert n.visits == expected_visits
        assert n.value_sum == pytest.approx(sum(m.value for m in below))


def test_budget_and_max_plausible_stop_the_search():
    search, _, calls = make(SearchConfig(budget=3, max_plausible=99))
    assert search.run().stopped == "budget" and len(calls) == 3
    search, _, _ = make(SearchConfig(budget=500, max_plausible=2, extra_after_plausible=999))
    result = search.run()
    assert result.stopped in ("max_plausible", "exhausted")
    assert len(result.plausible) <= 2


def test_same_state_by_two_paths_is_validated_once():
    search, _, calls = make(SearchConfig(budget=500, max_plausible=99, extra_after_plausible=999))
    search.run()
    assert len(calls) == len(set(calls))


def test_value_function():
    base = root_obs()
    plaus = Observation(status="plausible", target=2, fixed=2)
    half = Observation(status="partial", target=2, fixed=1, failing={"t2": "assert 0 == 2"})
    same = Observation(status="failed", target=2, failing=dict(base.failing))
    broke = Observation(status="broke", target=2, failing={"t1": "x", "t2": "x"})
    regress = Observation(status="regression", target=2, fixed=2, regressions=5, tests_passed=5)
    assert node_value(plaus, base, 0) == 1.0
    assert node_value(half, base, 0) > node_value(same, base, 0)
    assert node_value(broke, base, 1) == 0.0
    assert node_value(regress, base, 0) < node_value(half, base, 0) + 0.3


def test_deterministic_under_a_seed():
    """Same seed, same tree; the shuffled order comes from the seed only."""

    def run(seed):
        order = list(EDITS)
        random.Random(seed).shuffle(order)
        search, _, _ = make(SearchConfig(budget=30, max_plausible=2, seed=seed), order=order)
        return [(n.id, n.parent, n.key) for n in search.run().nodes.values()]

    assert run(1) == run(1)
    assert run(1) != run(2)


# ---------------------------------------------------------------------------------------------
# the built-in policy on real source

SRC = '''def clamp(x, lo, hi):
    if x < lo:
        return lo
    if x > hi:
        return lo
    return x
'''


def _builtin_search(seed=0, budget=40):
    from ouro.agent.localize import Localization, Suspicious
    from ouro.agent.policies.builtin import BuiltinPolicy

    loc = Localization(lines=[Suspicious("m.py", 5, 1.0), Suspicious("m.py", 4, 0.9), Suspicious("m.py", 2, 0.5)],
                       functions=[])
    calls = []

    def evaluate(node):
        calls.append(node.key)
        ns = {}
        exec(compile(node.files.get("m.py", SRC), "m.py", "exec"), ns)
        ok = ns["clamp"](9, 0, 5) == 5
        base_ok = ns["clamp"](-1, 0, 5) == 0 and ns["clamp"](3, 0, 5) == 3
        failing = {} if ok else {"t": f"assert {ns['clamp'](9, 0, 5)} == 5"}
        status = "plausible" if ok and base_ok else ("regression" if ok else "failed")
        return Observation(status=status, target=1, fixed=int(ok), failing=failing, tests_passed=2 if base_ok else 1,
                           regressions=0 if base_ok else 1)

    ctx = SearchContext(base_files={"m.py": SRC}, target_tests=["t"], localization=loc, rng=random.Random(seed))
    search = TreeSearch(BuiltinPolicy(), evaluate, ctx, SearchConfig(budget=budget, max_plausible=1, seed=seed),
                        Observation(status="failed", target=1, failing={"t": "assert 0 == 5"}))
    return search.run(), ctx, calls


def test_builtin_policy_finds_wrong_variable_and_explains_failures():
    result, ctx, calls = _builtin_search()
    assert result.plausible, "the builtin policy should fix `return lo` -> `return hi`"
    fixed = result.nodes[result.plausible[0]].files["m.py"]
    assert "return hi" in fixed.split("if x > hi:")[1]
    # every failed candidate has an explanation entry in the chain
    assert len(ctx.chain.entries) == result.validated - len(result.plausible)
    assert all(e.lesson for e in ctx.chain.entries)


def test_builtin_search_is_deterministic_for_a_seed():
    a = [(n.id, n.key) for n in _builtin_search(seed=3)[0].nodes.values()]
    b = [(n.id, n.key) for n in _builtin_search(seed=3)[0].nodes.values()]
    assert a == b


def test_chain_steers_away_from_locations_without_effect():
    from ouro.agent.selfdebug import Chain, Explanation

    chain = Chain()
    for i in range(4):
        chain.record(Explanation(node_id=i, edit="e", file="m.py", line=7, template=f"t{i}", outcome="no_effect"))
    chain.record(Explanation(node_id=9, edit="e", file="m.py", line=3, template="compare_swap", outcome="changed_failure"))
    assert chain.stats("m.py", 7).weight("x") < 0.5
    assert chain.stats("m.py", 3).weight("bool_swap") > 1.0           # untried template at a live location
    assert chain.stats("m.py", 3).weight("compare_swap") < chain.stats("m.py", 3).weight("bool_swap")


BASE = "p = 0\nq = 0\nr = 0\n"


class RootOnlyPolicy(LetterPolicy):
    """Single-line edits at the root only: a two-edit fix must come from merging two of them."""

    EDITS = [("p = 0", "p = 1"), ("r = 0", "r = 5"), ("q = 0", "q = 1"), ("q = 0", "q = 2")]

    def propose(self, node, ctx, k=1):
        if node.id != 0:
            return []
        q = self.queues.setdefault(0, list(self.EDITS))
        if not q:
            return []
        old, new = q.pop(0)
        return [Proposal(files={"m.py": BASE.replace(old, new)}, description=f"{old} -> {new}", template="t",
                         file="m.py", line=1)]


def test_two_partial_fixes_found_apart_are_merged():
    def evaluate(node):
        text = node.files.get("m.py", BASE)
        failing = {t: "assert 0 == 1" for t, ok in (("t1", "p = 1" in text), ("t2", "q = 1" in text)) if not ok}
        if "r = 5" in text:
            failing = {"t1": "assert 5 == 1", "t2": "assert 0 == 1"}
        fixed = 2 - len(failing)
        return Observation(status="plausible" if not failing else "partial" if fixed else "failed", target=2,
                           fixed=fixed, failing=failing, tests_passed=fixed)

    ctx = SearchContext(base_files={"m.py": BASE}, target_tests=["t1", "t2"])
    search = TreeSearch(RootOnlyPolicy(), evaluate, ctx, SearchConfig(budget=30, max_plausible=1), root_obs())
    result = search.run()
    assert result.plausible, "p = 1 (fixes t1) and q = 1 (fixes t2), merged, make the fix"
    best = result.nodes[result.plausible[0]]
    assert best.edits[-1]["template"] == "merge" and best.depth == 2
    assert best.files["m.py"] == "p = 1\nq = 1\nr = 0\n"


def test_merge_text_combines_disjoint_edits_and_refuses_overlaps():
    from ouro.agent.search import merge_text

    base = "a <= b and c <= d\n"
    assert merge_text(base, "a < b and c <= d\n", "a <= b and c < d\n") == "a < b and c < d\n"
    assert merge_text(base, "a < b and c <= d\n", "a >= b and c <= d\n") is None
