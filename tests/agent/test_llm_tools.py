"""The model's actions: schemas, parsing (tool calls and the text fallback), and their effects."""
import json

import pytest

from ouro.agent.llm.tools import (TOOL_SCHEMAS, ActionError, CreateFile, Finish, ReplaceString, RunTests,
                             SearchSymbol, ToolEnv, ViewFile, parse_action, parse_text_action)


@pytest.fixture
def repo(tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "mod.py").write_text(
        "class Box:\n    def size(self):\n        return 1\n\n\ndef helper(x):\n    return Box().size() + x\n")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "junk.py").write_text("def helper(): pass\n")
    return tmp_path


def test_every_schema_parses_back_to_its_action():
    names = [s["function"]["name"] for s in TOOL_SCHEMAS]
    assert names == ["view_file", "search_symbol", "search_text", "replace_string", "create_file", "run_tests", "finish"]
    assert parse_action("view_file", {"path": "a.py", "start_line": "3"}) == ViewFile("a.py", 3, None)
    assert parse_action("run_tests", {}) == RunTests()
    assert parse_action("finish", {"explanation": "done"}) == Finish("done")


@pytest.mark.parametrize("name,args,msg", [
    ("delete_repo", {}, "unknown tool"),
    ("replace_string", {"path": "a.py", "old": "x"}, "missing argument 'new'"),
    ("view_file", {"path": "a.py", "start_line": "three"}, "must be an integer"),
    ("create_file", {"path": "a.py", "content": 3}, "must be a string"),
    ("search_symbol", {"symbol": "x", "extra": 1}, "unknown argument"),
])
def test_malformed_actions_are_rejected_with_a_reason(name, args, msg):
    with pytest.raises(ActionError, match=msg):
        parse_action(name, args)


def test_text_fallback_reads_the_first_tool_block():
    text = ('I will fix it.\n```tool\n' + json.dumps({"name": "replace_string", "arguments": {
        "path": "m.py", "old": "a < b", "new": "a <= b"}}) + '\n```\nthen finish')
    assert parse_text_action(text) == ReplaceString("m.py", "a < b", "a <= b")
    assert parse_text_action("no block here") is None
    with pytest.raises(ActionError, match="not JSON"):
        parse_text_action("```tool\n{broken\n```")


def test_view_search_replace_create(repo):
    env = ToolEnv(repo)
    obs = env.execute(ViewFile("pkg/mod.py", 2, 3))
    assert obs.ok and "    2     def size(self):" in obs.text and "helper" not in obs.text.split("\n", 1)[1].split("...")[0]
    sym = env.execute(SearchSymbol("Box.size"))
    assert "pkg/mod.py:2-3" in sym.text
    sym = env.execute(SearchSymbol("helper"))  # the .git copy is not part of the repository
    assert sym.data["hits"] == 1 and "pkg/mod.py:6-7" in sym.text
    hits = env.execute(parse_action("search_text", {"pattern": "Box()"}))
    assert "pkg/mod.py:7:" in hits.text
    obs = env.execute(ReplaceString("pkg/mod.py", "return 1", "return 2"))
    assert obs.ok and obs.edited == "pkg/mod.py" and "return 2" in (repo / "pkg/mod.py").read_text()
    obs = env.execute(ReplaceString("pkg/mod.py", "return", "yield"))  # ambiguous: 2 occurrences
    assert not obs.ok and "occurs 2 times" in obs.text
    obs = env.execute(CreateFile("pkg/new.py", "X = 1\n"))
    assert obs.ok and (repo / "pkg/new.py").read_text() == "X = 1\n"


def test_paths_cannot_leave_the_repository(repo):
    env = ToolEnv(repo)
    for action in (ViewFile("../outside.py"), CreateFile("../../evil.py", "x"), ReplaceString("/etc/passwd", "a", "b")):
        obs = env.execute(action)
        assert not obs.ok and "outside the repository" in obs.text
    assert not (repo.parent / "evil.py").exists()


def test_run_tests_uses_the_callback_or_says_it_is_unavailable(repo):
    assert not ToolEnv(repo).execute(RunTests()).ok
    assert ToolEnv(repo, run_tests=lambda: "1 failed").execute(RunTests()).text == "1 failed"
