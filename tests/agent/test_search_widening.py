"""The built-in policy widens when its first ring of candidates is spent (issue 15 item 4): lines
further down the suspiciousness list, the functions the suspicious code calls, and second edits
at one line. Each test is a fault the first ring cannot reach, checked with widening on (found,
by the stage that should find it) and off (the search runs dry without it); the budget report
counts what was tried.

The sandbox is replaced by running the edited source in-process (as tests/agent/test_search.py
does); templates, localization objects and the repository map are the real ones.
"""
from __future__ import annotations

import random

from ouro.agent.localize import Localization, Suspicious
from ouro.agent.policies.builtin import BuiltinPolicy, TemplateSettings
from ouro.agent.repomap import build_repomap
from ouro.agent.search import SearchConfig, TreeSearch, budget_report
from ouro.agent.state import Observation, SearchContext


def _evaluate(check):
    """An evaluate function from `check(namespace) -> (target_ok, others_ok, failure text)`."""

    def evaluate(node):
        ns = {}
        try:
            exec(compile(node.files.get("m.py", node_base[0]), "m.py", "exec"), ns)
            ok, others, text = check(ns)
        except Exception as e:  # an edit that breaks the module
            return Observation(status="broke", target=1, failing={"t": repr(e)})
        status = "plausible" if ok and others else ("regression" if ok else "failed")
        return Observation(status=status, target=1, fixed=int(ok), failing={} if ok else {"t": text},
                           tests_passed=1 if others else 0, regressions=0 if others else 1)

    node_base: list[str] = []
    return evaluate, node_base


def _search(src, loc, check, widen=True, rmap=None, templates=None, budget=120):
    evaluate, base = _evaluate(check)
    base.append(src)
    ctx = SearchContext(base_files={"m.py": src}, target_tests=["test_m.py::test_it"], localization=loc,
                        repomap=rmap, rng=random.Random(0))
    ok, _, text = check(_namespace(src))
    assert not ok, "the buggy source must fail its check"
    search = TreeSearch(BuiltinPolicy(templates=templates, widen=widen), evaluate, ctx,
                        SearchConfig(budget=budget, max_plausible=1), Observation(status="failed", target=1,
                                                                                   failing={"t": text}))
    return search.run()


def _namespace(src):
    ns = {}
    exec(compile(src, "m.py", "exec"), ns)
    return ns


def _stage(result):
    node = result.nodes[result.plausible[0]]
    return (node.edits[-1].get("meta") or {}).get("stage", "first")


# -- more lines: the fault is ranked below the lines the first ring covers -------------------
FAR = "def area(w, h):\n    unit = 'm2'\n    label = unit.upper()\n    return w * h * 2\n"


def _area_check(ns):
    got = ns["area"](2, 3)
    return got == 6, ns["area"](0, 5) == 0, f"assert {got} == 6"


def test_more_lines_reaches_a_fault_ranked_below_the_first_ring():
    loc = Localization(lines=[Suspicious("m.py", 2, 1.0), Suspicious("m.py", 3, 0.9), Suspicious("m.py", 4, 0.5)],
                       functions=[("area", "m.py", 1.0)])
    narrow = TemplateSettings(lines_root=2)
    found = _search(FAR, loc, _area_check, templates=narrow)
    assert found.plausible and _stage(found) == "more_lines"
    assert "return w * h" in found.nodes[found.plausible[0]].files["m.py"]
    dry = _search(FAR, loc, _area_check, templates=narrow, widen=False)
    assert not dry.plausible and dry.stopped == "exhausted"


# -- callees: only the caller is suspicious; the fault is in the function it calls ------------
CALLEE = "def scale(x):\n    return x * 2\n\n\ndef total(xs):\n    return sum(scale(x) for x in xs)\n"


def _total_check(ns):
    got = ns["total"]([1, 2])
    return got == 9, ns["total"]([]) == 0, f"assert {got} == 9"


def test_callees_reach_a_fault_in_a_function_the_suspicious_code_calls(tmp_path):
    (tmp_path / "m.py").write_text(CALLEE)
    rmap = build_repomap(tmp_path, ["m.py"])
    loc = Localization(lines=[Suspicious("m.py", 6, 1.0, function="total")], functions=[("total", "m.py", 1.0)])
    found = _search(CALLEE, loc, _total_check, rmap=rmap)
    assert found.plausible and _stage(found) == "callees"
    assert "return x * 3" in found.nodes[found.plausible[0]].files["m.py"]
    assert not _search(CALLEE, loc, _total_check, rmap=rmap, widen=False).plausible


# -- second order: two edits at one line, neither of which changes the failure alone ----------
BOTH = "def inside(x, y):\n    return x < 5 and y != 5\n"


def _inside_check(ns):
    got = ns["inside"](5, 5)
    return got is True, ns["inside"](9, 5) is False and ns["inside"](1, 1) is False, f"assert {got} is True"


def test_second_order_edits_combine_two_edits_at_one_line():
    loc = Localization(lines=[Suspicious("m.py", 2, 1.0, function="inside")], functions=[("inside", "m.py", 1.0)])
    found = _search(BOTH, loc, _inside_check, budget=200)
    assert found.plausible and _stage(found) == "second_order"
    fixed = found.nodes[found.plausible[0]]
    assert "x <= 5" in fixed.files["m.py"] and "!=" not in fixed.files["m.py"]   # both comparisons changed
    assert "a second edit, on:" in fixed.edits[-1]["description"]
    assert not _search(BOTH, loc, _inside_check, widen=False, budget=200).plausible

    report = budget_report([n.to_dict() for n in found.nodes.values()])
    assert report["candidates"] == found.validated
    assert report["by_stage"]["second_order"] >= 1 and report["by_stage"]["first"] >= 1
    assert sum(report["by_template"].values()) == report["candidates"] == sum(report["by_depth"].values())
    assert report["by_location"]["m.py:2"] == report["candidates"]
