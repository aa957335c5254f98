"""Oracles beyond the visible tests (agent/oracles.py): the doctests of the code under repair
and the examples of the issue. Reading examples is checked on text; deciding which to use runs
them on the original code in a real sandbox; and on two small repositories whose visible tests
let a wrong patch through, a real repair picks the wrong patch without the oracle and the right
one with it."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from ouro.agent.oracles import ORACLE_FILE, Example, module_source, read_issue, resolve, top_level_names

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "oracles"


def stated(text: str) -> list[tuple[str, str, str | None]]:
    return [(e.call, e.expected, e.claimed) for e in read_issue(text)[0]]


@pytest.mark.parametrize("text, want", [
    ("`parse('1h30m')` should return 5400, but it returns 3600.", [("parse('1h30m')", "5400", "3600")]),
    ("`parse('1h30m')` returns 3600 instead of 5400", [("parse('1h30m')", "5400", "3600")]),
    ("`fmt(90)` gives `'1m 30s'`, but should return `'1m30s'`", [("fmt(90)", "'1m30s'", "'1m 30s'")]),
    ("I'd expect `clamp(15, 0, 10)` to be 10.", [("clamp(15, 0, 10)", "10", None)]),
    ("`assert clamp(15, 0, 10) == 10` fails", [("clamp(15, 0, 10)", "10", None)]),
    ("```python\nassert clamp(15, 0, 10) == 10\n```", [("clamp(15, 0, 10)", "10", None)]),
    ("Calling `slug('A B')` I expected 'a-b', got 'A-B'", [("slug('A B')", "'a-b'", "'A-B'")]),
    ("```\nslug('A B')\n```\nExpected: `'a-b'` but got: `'A-B'`", [("slug('A B')", "'a-b'", "'A-B'")]),
    (">>> parse('1h30m')  # should be 5400\n3600", [("parse('1h30m')", "5400", "3600")]),
    # not examples: negated, no value, no call, an arrow (which side is which?), a plain "gives"
    ("`clamp(15, 0, 10)` should not return 0", []),
    ("`f(x)` should return a list of ints", []),
    ("The result should be 5400.", []),
    ("`parse('1h30m')` -> 5400", []),
    ("`evaluate('total - spent')` gives `-70`.", []),
])
def test_reading_examples_from_an_issue(text, want):
    assert stated(text) == want


def test_a_session_replays_its_earlier_lines_and_skips_what_is_not_a_value():
    examples, skipped = read_issue("```\n>>> from calc import evaluate\n>>> x = evaluate('1')\n>>> evaluate('10 - 4')\n"
                                   "-6\n>>> evaluate('2 ** 70')\nBig(...)\n>>> evaluate('1/0')\nTraceback (most recent "
                                   "call last):\nZeroDivisionError\n```")
    assert [(e.kind, e.call, e.expected, e.setup) for e in examples] == [
        ("session", "evaluate('10 - 4')", "-6", ["from calc import evaluate", "x = evaluate('1')"])]
    assert [s.why for s in skipped] == ["the output `Big(...)` is not a literal"]
    why = [s.why for s in read_issue("`f(x)` should return a list")[1]]
    assert why == ["what `f(x)` should give is not written as a value"]


def test_names_resolve_to_one_module_or_the_example_is_skipped(tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "conv.py").write_text("def to_f(c):\n    return c\n\nSCALE = 2\n")
    (tmp_path / "pkg" / "other.py").write_text("def twice(x):\n    return x\n")
    (tmp_path / "dup.py").write_text("def twice(x):\n    return x\n")
    names = top_level_names(tmp_path, ["pkg/__init__.py", "pkg/conv.py", "pkg/other.py", "dup.py"])
    ok = Example(id="issue-1", text="", call="to_f(SCALE) + len([pkg.conv])", expected="2")
    assert resolve(ok, names) is None
    assert ok.imports == ["from pkg.conv import to_f", "from pkg.conv import SCALE", "import pkg"]
    assert resolve(Example(id="issue-2", text="", call="nosuch(1)", expected="2"), names) == \
        "`nosuch` is not defined in this repository"
    assert resolve(Example(id="issue-3", text="", call="twice(1)", expected="1"), names) == \
        "`twice` is defined in several modules"
    session = Example(id="issue-4", text="", call="y + to_f(1)", expected="2", setup=["y = to_f(1)"])
    assert resolve(session, names) is None and session.imports == ["from pkg.conv import to_f"]
    # the generated module runs: a check passes on a right value and names the example otherwise
    src = module_source([ok], ["."], claims=False)
    (tmp_path / ORACLE_FILE).write_text(src)
    compile(src, ORACLE_FILE, "exec")
    assert "def test_issue_1():" in src and "'issue-1'" in src


@pytest.mark.bwrap
def test_which_examples_are_used_is_decided_on_the_original_code(tmp_path, bwrap_available):
    """A session that shows today's (buggy) output, a claim the code does not bear out and a
    name the repository lacks are skipped; a stated value and a session line the code does not
    produce are used. Run in the sandbox, never on the host."""
    from ouro.agent.oracles import prepare
    from ouro.agent.repomap import build_repomap
    from ouro.sandbox.backends import open_sandbox
    from ouro.sandbox.policy import load_policy
    from ouro.sandbox.testrun import WarmWorker

    repo = shutil.copytree(FIXTURES / "issue_fahrenheit", tmp_path / "repo")
    issue = ("`to_fahrenheit(100)` should return 212, and `to_fahrenheit(0)` returns 0 instead of 32.\n"
             "`to_kelvin(0)` should return 273.15\n"
             "```\n>>> from units import to_fahrenheit\n>>> to_fahrenheit(0)\n-32.0\n>>> to_fahrenheit(10)\n50.0\n```\n")
    files = [str(p.relative_to(repo)) for p in repo.rglob("*.py")]
    policy = load_policy().with_backend("bwrap")
    with open_sandbox(policy, "repair", workspace=repo, home=tmp_path / "home") as sb, WarmWorker(sb) as worker:
        def run_checks(extra, args):
            return worker.run({p: t.encode() for p, t in extra.items()}, ["-q", *args], 60, test_timeout=5)

        oracles = prepare(issue, repo, files, run_checks, {}, build_repomap(repo, files).definitions)
    used = {(e.call, e.expected) for e in oracles.examples}
    assert used == {("to_fahrenheit(100)", "212"), ("to_fahrenheit(10)", "50.0")}
    why = {s.text.strip()[:40]: s.why for s in oracles.skipped}
    assert any("does not return 0" in w for w in why.values())           # the claim is not what the code does
    assert any("`to_kelvin` is not defined" in w for w in why.values())
    assert any("shows the bug" in w for w in why.values())              # >>> to_fahrenheit(0) / -32.0
    assert not (repo / ORACLE_FILE).exists()                              # laid in for the run only


def _repair(fixture: str, tmp_path: Path, oracles: bool):
    from ouro.agent.repair import RepairConfig, run_repair

    repo = shutil.copytree(FIXTURES / fixture, tmp_path / f"{fixture}-{oracles}")
    issue = (repo / "ISSUE.md").read_text()
    out = run_repair(RepairConfig(repo=repo, issue=issue, backend="bwrap", home=tmp_path / "home", budget=80,
                                  oracles=oracles))
    events = [json.loads(line) for line in (Path(out.run_dir) / "trajectory.jsonl").read_text().splitlines()]
    return out, events


# (fixture, the wrong plausible patch the visible tests allow, the right one, what the oracle says)
CASES = {
    "doctest": ("doctest_leap", "+    return year % 4 == 0 and (year % 400 != 0 or year % 100 == 0)\n",
                "+    return year % 4 == 0 and (year % 400 == 0 or year % 100 != 0)\n",
                ("doctest calendarx.years.is_leap", "is_leap(1900): expected False, got True")),
    "issue example": ("issue_fahrenheit", "+    return 32 - (celsius * 9 / 5)\n", "+    return celsius * 9 / 5 + 32\n",
                      ("issue example 2", "to_fahrenheit(100) returned -148.0, expected 212")),
}


@pytest.mark.bwrap
@pytest.mark.parametrize("case", sorted(CASES))
def test_an_oracle_turns_the_wrong_plausible_patch_into_the_right_one(case, tmp_path, bwrap_available):
    fixture, wrong, right, (check, message) = CASES[case]
    without, _ = _repair(fixture, tmp_path, oracles=False)
    assert without.status == "plausible" and wrong in without.patch       # the visible tests let it through
    out, events = _repair(fixture, tmp_path, oracles=True)
    assert out.status == "plausible" and right in out.patch, out.patch
    used = next(e for e in events if e["kind"] == "oracles")
    assert used["examples"] or used["doctests"]
    contradicted = [e for e in events if e["kind"] == "validation" and e["status"] == "contradicted"]
    assert any(e["contradicts"].get(check) == message for e in contradicted), [e["contradicts"] for e in contradicted]
    # the wrong patch was validated and refused, not just never reached
    wrong_nodes = {e["node"] for e in events if e["kind"] == "validation" and e["status"] == "contradicted"}
    assert wrong_nodes and all(e["status"] != "plausible" for e in events
                               if e["kind"] == "validation" and e["node"] in wrong_nodes)
