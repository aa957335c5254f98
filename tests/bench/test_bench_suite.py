"""Loading task suites: task.toml directories and SWE-bench JSON lines; broken entries are
named with their problem while the good ones load."""
import json
import subprocess
from pathlib import Path

import pytest

from ouro.sandbox.core.errors import BadInput
from ouro.agent.bench.suite import load_suite

REPOS = Path(__file__).resolve().parents[2] / "repos"


def make_task(root: Path, name: str, toml: str, *, hidden=True) -> Path:
    d = root / name
    (d / "repo" / "pkg").mkdir(parents=True)
    (d / "repo" / "pkg" / "__init__.py").write_text("def add(a, b):\n    return a - b\n")
    (d / "ISSUE.md").write_text(f"{name}: add subtracts\n")
    if hidden:
        (d / "hidden" / "tests_hidden").mkdir(parents=True)
        (d / "hidden" / "tests_hidden" / "test_h.py").write_text("from pkg import add\n\ndef test_add():\n    assert add(2, 3) == 5\n")
    (d / "task.toml").write_text(toml)
    return d


GOOD = """[task]
id = "{id}"
test_cmd = "python -m pytest -q"
hidden_tests = "hidden"
hidden_test_cmd = "python -m pytest -q tests_hidden"
timeout_s = 60
[task.budget]
candidates = 20
"""


def git_repo(path: Path) -> str:
    path.mkdir(parents=True)
    (path / "calc.py").write_text("def add(a, b):\n    return a - b\n")
    run = lambda *a: subprocess.run(["git", *a], cwd=path, check=True, capture_output=True, text=True)
    run("init", "-q")
    run("add", ".")
    run("-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "base")
    return run("rev-parse", "HEAD").stdout.strip()


def test_bundled_suite_loads_cleanly():
    suite = load_suite(REPOS)
    assert suite.tasks and not suite.errors, suite.errors
    for t in suite.tasks:
        assert t.issue.strip() and t.hidden_tests and t.hidden_test_cmd


def test_malformed_task_toml_is_named_and_others_load(tmp_path):
    make_task(tmp_path, "good", GOOD.format(id="good"))
    make_task(tmp_path, "broken", "[task\nid = 'broken'\n")
    make_task(tmp_path, "badtimeout", GOOD.format(id="badtimeout").replace("timeout_s = 60", "timeout_s = -5"))
    make_task(tmp_path, "nohidden", GOOD.format(id="nohidden"), hidden=False)
    suite = load_suite(tmp_path)
    assert [t.id for t in suite.tasks] == ["good"]
    problems = {e.id: e.problem for e in suite.errors}
    assert set(problems) == {"broken", "badtimeout", "nohidden"}
    assert "not valid TOML" in problems["broken"] and "broken" in problems["broken"]
    assert "timeout_s: must be a positive number" in problems["badtimeout"]
    assert "hidden tests folder hidden/ is missing" in problems["nohidden"]
    good = suite.tasks[0]
    assert good.budget == 20 and good.hidden_tests == ("tests_hidden/test_h.py",)


def test_jsonl_instances_good_and_bad(tmp_path):
    base = git_repo(tmp_path / "calc")
    good = {"instance_id": "calc-1", "repo": "calc", "base_commit": base, "problem_statement": "add subtracts",
            "FAIL_TO_PASS": json.dumps(["tests/test_calc.py::test_add"]), "PASS_TO_PASS": "[]",
            "test_patch": "diff --git a/tests/test_calc.py b/tests/test_calc.py\n"}
    lines = [json.dumps(good), "{not json", json.dumps({**good, "instance_id": "calc-2", "base_commit": "0" * 40}),
             json.dumps({**good, "instance_id": "calc-3", "FAIL_TO_PASS": 7})]
    (tmp_path / "suite.jsonl").write_text("\n".join(lines) + "\n")
    suite = load_suite(tmp_path / "suite.jsonl")
    assert [t.id for t in suite.tasks] == ["calc-1"]
    t = suite.tasks[0]
    assert t.fail_to_pass == ("tests/test_calc.py::test_add",) and t.base_commit == base
    problems = {e.id: e.problem for e in suite.errors}
    assert "not valid JSON" in problems["suite.jsonl:2"]
    assert "base_commit 0000000000000000000000000000000000000000 is not in calc" in problems["calc-2"]
    assert "FAIL_TO_PASS must be a list" in problems["calc-3"]
    # the agent sees the tree of the base commit, without history
    repo = t.materialize(tmp_path / "work")
    assert (repo / "calc.py").read_text().startswith("def add") and not (repo / ".git").exists()


def test_missing_or_empty_suite_is_bad_input(tmp_path):
    with pytest.raises(BadInput, match="does not exist"):
        load_suite(tmp_path / "nope")
    with pytest.raises(BadInput, match="has no tasks"):
        load_suite(tmp_path)


def test_bench_cli_bad_input_is_one_line_exit_2(tmp_path, capsys):
    from ouro.agent.cli import main

    home = ["--home", str(tmp_path / "h")]
    cases = [
        (["bench", str(tmp_path / "nope")], "does not exist"),
        (["bench", str(REPOS), "--workers", "-1"], "--workers must be 0 or more"),
        (["bench", str(REPOS), "--budget", "0"], "--budget must be positive"),
        (["bench", str(REPOS), "--backend", "local"], "pass --unsafe-local"),
        (["bench", str(REPOS), "--ray", "not-an-address"], "expected 'auto', 'local', HOST:PORT"),
        (["bench", str(REPOS), "--task", "no-such-task"], "no task named no-such-task"),
    ]
    for argv, message in cases:
        assert main([*home, *argv]) == 2, argv
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("ouro: error:") and message in err[0], (argv, err)
