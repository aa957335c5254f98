"""Repair templates, localization and the repo map, on real source (no sandbox needed)."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from ouro.agent.localize import localize, ochiai, traceback_frames
from ouro.agent.repomap import build_repomap
from ouro.agent.templates import TEMPLATES, generate

SRC = '''import math


class Window:
    def __init__(self, size=3, strict=False):
        self.size = size
        self.strict = strict
        self.items = []

    def push(self, x):
        self.items.append(x)
        if len(self.items) > self.size and not self.strict:
            self.items.pop(0)
        return self.items[-1]

    def mean(self, lo, hi):
        part = self.items[lo:hi]
        total = 0
        for i in range(len(part)):
            total += part[i] * 2 - 1
        return total / max(len(part), 1) if part or self.strict else -math.inf


def first_over(xs, limit):
    for x in xs:
        if x >= limit:
            return x
    return None
'''


def test_at_least_15_templates_each_produce_parseable_distinct_candidates():
    lines = list(range(1, SRC.count("\n") + 2))
    cands = generate("w.py", SRC, lines)
    used = {c.template for c in cands}
    assert len(TEMPLATES) >= 15
    assert len(used) >= 15, sorted(set(TEMPLATES) - used)
    for c in cands:
        ast.parse(c.new_source)           # every candidate parses
        assert c.new_source != SRC
    assert len({c.new_source for c in cands}) == len(cands)   # deduplicated


def _has(cands, template, before, after):
    return any(c.template == template and c.before.strip() == before and c.after.strip() == after for c in cands)


def test_templates_make_the_expected_classic_edits():
    c = generate("w.py", SRC, list(range(1, 30)))
    assert _has(c, "compare_swap", ">", ">=")
    assert _has(c, "bool_swap", "and", "or")
    assert _has(c, "constant_off_by_one", "0", "1")
    assert _has(c, "slice_bounds", "hi", "hi + 1")
    assert _has(c, "index_off_by_one", "i", "i + 1")
    assert _has(c, "arith_swap", "*", "/")
    assert _has(c, "wrong_constant", "False", "True")
    assert _has(c, "wrong_default", "3", "None")
    assert _has(c, "method_call", "self.items.append", "self.items.extend")
    assert _has(c, "unary_remove", "-math.inf", "math.inf")
    assert any(c.template == "swap_arguments" and "hi" in c.before for c in generate("w.py", SRC.replace("[lo:hi]", "[slice(lo, hi)]"), [17]))
    assert any(c.template == "delete_statement" and "pop(0)" in c.before for c in c)
    assert any(c.template == "wrong_variable" and c.before == "lo" and c.after == "hi" for c in c)


def test_comparisons_of_one_test_are_also_swapped_together():
    src = "def overlaps(a, b):\n    return a.start <= b.end and b.start <= a.end\n"
    c = [x for x in generate("o.py", src, [2]) if x.template == "compare_swap"]
    assert any(x.after == "a.start < b.end and b.start < a.end" for x in c)
    assert any(x.before == "<=" and x.after == "<" for x in c)   # one at a time, still
    inside = "def inside(x, lo, hi):\n    return x >= lo and x <= hi\n"
    assert any(x.after == "x > lo and x < hi" for x in generate("i.py", inside, [2]) if x.template == "compare_swap")
    half_open = "def inside(x, lo, hi):\n    return x >= lo and x < hi\n"   # deliberate: left alone
    assert not any(" and " in x.after for x in generate("i.py", half_open, [2]) if x.template == "compare_swap")


def test_likelier_variants_weigh_more():
    # an inclusive/exclusive bound before a comparison the wrong way round, and a method's own
    # `self` replaced by another variable last: equal scores were broken at random, and a MinStack
    # whose fix was `x < mins[-1]` -> `x <= mins[-1]` got `>` first, which had no effect and sank
    # the location before `<=` was tried
    src = "class S:\n    def push(self, x):\n        if x < self.low:\n            self.low = x\n"
    c = generate("s.py", src, [3])
    weight = {(x.template, x.before, x.after): x.weight for x in c}
    assert weight[("compare_swap", "<", "<=")] > weight[("compare_swap", "<", ">")]
    assert weight[("compare_swap", "<", "<=")] == 1.0
    assert weight[("wrong_variable", "self", "x")] < 1.0


def test_accumulation_and_loop_exit_edits():
    src = ("def last_total(xs):\n    t = 0\n    for x in xs:\n        if x is None:\n            break\n"
           "        t = x\n    else:\n        t = t * 2\n    n = 0\n    n += 1\n    m = len(xs)\n    return t\n")
    c = generate("t.py", src, list(range(1, 13)))
    assert _has(c, "assign_update", "=", "+=") and _has(c, "break_continue", "break", "continue")
    assert _has(c, "assign_update", "+=", "=")
    updates = {x.line for x in c if x.template == "assign_update" and x.after == "+="}
    # only t = x: not the resets (t = 0, n = 0), not the loop's else: clause, not outside a loop
    assert updates == {6}


def test_missing_and_misplaced_return():
    src = "def f(xs):\n    out = []\n    for x in xs:\n        out.append(x)\n        return out\n\n\ndef g(a):\n    b = a * 2\n"
    c = generate("m.py", src, [4, 5, 9])
    moved = [x for x in c if x.template == "misplaced_return"]
    assert moved and "    for x in xs:\n        out.append(x)\n    return out" in moved[0].new_source
    assert any(x.template == "missing_return" and x.new_source.rstrip().endswith("return b") for x in c)


def test_unparseable_source_gives_no_candidates():
    assert generate("bad.py", "def f(:\n  pass\n", [1]) == []


def test_ochiai_formula():
    assert ochiai(2, 0, 2) == 1.0
    assert ochiai(0, 5, 2) == 0.0
    assert abs(ochiai(1, 3, 1) - 0.5) < 1e-9


def test_traceback_frames_map_to_repo_files():
    text = ('pkg/core.py:12: in run\n    x = helper()\n/workspace/pkg/util.py:4: in helper\n    raise ValueError\n'
            'E   ValueError\n  File "/workspace/pkg/core.py", line 30, in other\n')
    assert traceback_frames(text, {"pkg/core.py", "pkg/util.py"}) == [("pkg/core.py", 12), ("pkg/util.py", 4), ("pkg/core.py", 30)]


def test_localize_combines_spectrum_frames_and_symbols(tmp_path: Path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "tests").mkdir()
    (tmp_path / "pkg" / "calc.py").write_text(
        "def add(a, b):\n    return a + b\n\n\ndef sub(a, b):\n    c = b\n    return a - c + 0\n\n\ndef unused():\n    return 1\n")
    (tmp_path / "tests" / "test_calc.py").write_text(
        "from pkg.calc import add, sub\n\ndef test_add():\n    assert add(1, 2) == 3\n\ndef test_sub():\n    assert sub(5, 3) == 2\n")
    files = ["pkg/calc.py", "tests/test_calc.py"]
    rmap = build_repomap(tmp_path, files)
    assert {d.qualname for d in rmap.definitions} >= {"add", "sub", "unused", "test_add"}
    cov = {"tests/test_calc.py::test_add": {"pkg/calc.py": [1, 2, 5, 10]},
           "tests/test_calc.py::test_sub": {"pkg/calc.py": [1, 5, 6, 7, 10]}}
    failing = {"tests/test_calc.py::test_sub": "tests/test_calc.py:7: in test_sub\n    assert sub(5, 3) == 2\nE   assert 8 == 2"}
    loc = localize(tmp_path, files, failing, ["tests/test_calc.py::test_add"], cov, rmap, issue="sub() is wrong")
    top = [(s.file, s.line) for s in loc.lines[:2]]
    assert ("pkg/calc.py", 6) in top and ("pkg/calc.py", 7) in top
    assert loc.functions[0][0] == "sub"
    assert all(not s.file.startswith("tests/") for s in loc.lines)
    assert ("pkg/calc.py", 11) not in [(s.file, s.line) for s in loc.lines]   # never run by the failing test

    # the mix is a LocalizationWeights: the defaults are the call above, and each signal's weight counts
    from ouro.agent.localize import LocalizationWeights

    same = localize(tmp_path, files, failing, ["tests/test_calc.py::test_add"], cov, rmap, issue="sub() is wrong",
                    weights=LocalizationWeights())
    assert [s.to_dict() for s in same.lines] == [s.to_dict() for s in loc.lines]
    no_spectrum = localize(tmp_path, files, failing, ["tests/test_calc.py::test_add"], cov, rmap,
                           issue="sub() is wrong", weights=LocalizationWeights(spectrum=0.0))
    assert all("spectrum" not in s.reasons for s in no_spectrum.lines)
    scores = {(s.file, s.line): s.score for s in loc.lines}
    doubled = localize(tmp_path, files, failing, ["tests/test_calc.py::test_add"], cov, rmap, issue="sub() is wrong",
                       weights=LocalizationWeights(issue_mention=0.2))
    assert doubled.lines[0].score == pytest.approx(scores[(doubled.lines[0].file, doubled.lines[0].line)] + 0.1)


def test_template_settings_choose_the_templates_and_cap_their_variants():
    import random

    from ouro.agent.localize import Localization, Suspicious
    from ouro.agent.policies.builtin import BuiltinPolicy, TemplateSettings
    from ouro.agent.state import Node, SearchContext
    from ouro.sandbox.core.errors import BadInput
    from ouro.sandbox.core.schema import from_table

    src = "def pick(a, b, c, d):\n    if a < b:\n        return c + d\n    return d\n"

    def cands(settings):
        ctx = SearchContext(base_files={"m.py": src}, target_tests=["t"], rng=random.Random(0),
                            localization=Localization([Suspicious("m.py", n, 1.0) for n in (2, 3, 4)], []))
        root = Node(id=0, parent=None, depth=0, files={}, edits=[], observation=None)
        return BuiltinPolicy(templates=settings).candidates(root, ctx)[0]

    every = cands(TemplateSettings())
    assert len({c.template for c in every}) > 3
    only = cands(TemplateSettings(enabled=("compare_swap", "arith_swap")))
    assert {c.template for c in only} == {"compare_swap", "arith_swap"}
    assert only == [c for c in every if c.template in ("compare_swap", "arith_swap")]   # the same, in the same order
    capped = cands(TemplateSettings(max_variants=1))
    per_line = {}
    for c in capped:
        per_line[(c.line, c.template)] = per_line.get((c.line, c.template), 0) + 1
    assert set(per_line.values()) == {1} and len(capped) < len(every)
    assert len(cands(TemplateSettings(lines_root=1))) < len(every)          # only the first suspicious line
    with pytest.raises(BadInput, match="unknown template 'nope'"):
        from_table(TemplateSettings, {"enabled": ["nope"]}, "templates")


def test_failure_messages_steer_the_templates():
    # the messages as the search sees them: failure_message() of pytest's and unittest's reports
    from ouro.agent.policies.builtin import evidence_boosts
    from ouro.agent.selfdebug import expected_actual, failure_message

    def boosts(longrepr):
        return evidence_boosts([failure_message(longrepr)])

    unittest_off_by_one = "    def test_x(self):\n>       self.assertEqual(s.min(), 1)\nE       AssertionError: 2 != 1\n"
    assert expected_actual(failure_message(unittest_off_by_one)) == ("1", "2")
    assert boosts(unittest_off_by_one)["constant_off_by_one"] > 1
    sign = "E       AssertionError: assert -6 == 6\nE        +  where -6 = evaluate('10 - 4')\n"
    assert boosts(sign)["swap_operands"] > 1 and "constant_off_by_one" not in boosts(sign)
    for wrong_truth in ("E       AssertionError: assert not True\nE        +  where True = f(1)\n",
                        "E       AssertionError: False is not true\n"):
        assert boosts(wrong_truth)["negate_condition"] > 1
    assert expected_actual("ValueError: 2 != 1") is None   # only assertions are read as expected/actual
    assert expected_actual("AssertionError: Lists differ: [1, 2] != [1, 3] : ids") == ("[1, 3]", "[1, 2]")
