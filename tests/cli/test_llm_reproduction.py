"""Strict SWE-bench setting with a language-model policy: every visible test passes, so the
model first writes a test that reproduces the issue (Agentless-style). Driven end to end:
`ouro repair` -> litellm -> HTTP -> `ouro llm replay`, validation in a bubblewrap sandbox.

The scripted model's first test passes on the buggy code and is rejected, with the reason sent
back; its second fails for the issue's reason and becomes the repair's target; the fix it then
proposes passes it, and the instance's own hidden FAIL_TO_PASS tests judge that fix correct."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("litellm")

from ouro.agent.llm.replay import ReplayServer

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "swebench"

pytestmark = [pytest.mark.bwrap, pytest.mark.slow, pytest.mark.usefixtures("bwrap_available")]

PASSING_TEST = """```python
from slugkit import slugify


def test_short_words_fit():
    assert slugify("a b", max_length=10) == "a-b"
```"""
FAILING_TEST = """```python
from slugkit import slugify


def test_a_slug_may_be_exactly_max_length():
    assert slugify("the quick brown", max_length=15) == "the-quick-brown"
```"""
SCRIPT = {
    "roles": {
        "reproduce": [
            {"when": "^(?!.*Attempt 1 \\(rejected\\))", "content": PASSING_TEST},
            {"when": "Attempt 1 \\(rejected\\).*passes on the current code", "content": FAILING_TEST},
        ],
        "agent": [
            {"tool_calls": [{"name": "replace_string", "arguments": {
                "path": "src/slugkit/slug.py", "old": "if len(candidate) >= max_length:",
                "new": "if len(candidate) > max_length:"}}]},
            {"tool_calls": [{"name": "finish", "arguments": {
                "explanation": "A slug may reach max_length; only a longer one must stop."}}]},
        ],
        "value": [{"content": "Explanation: keeps a slug of exactly max_length, as the issue asks.\nScore: 90"}],
    },
    "default": [],
}


def test_the_model_writes_a_reproduction_test_first_then_repairs(tmp_path):
    suite = subprocess.run([sys.executable, str(FIXTURES / "build.py"), str(tmp_path / "swe")], capture_output=True,
                           text=True, check=True).stdout.strip()
    inst = next(d for d in map(json.loads, Path(suite).read_text().splitlines()) if d["repo"] == "slugkit")
    (tmp_path / "script.json").write_text(json.dumps(SCRIPT))
    (tmp_path / "issue.md").write_text(inst["problem_statement"])
    with ReplayServer(tmp_path / "script.json") as srv:
        proc = subprocess.run(
            [sys.executable, "-m", "ouro.agent.cli", "--home", str(tmp_path / "home"), "repair",
             str(tmp_path / "swe" / "slugkit"), "--issue-file", str(tmp_path / "issue.md"), "--test-cmd",
             inst["test_cmd"], "--policy", "litellm:openai/gpt-4o", "--api-base", srv.base_url, "--backend", "bwrap",
             "--json", "--max-plausible", "1"],
            capture_output=True, text=True, timeout=600, env={**os.environ, "NO_COLOR": "1"})
        roles = [r.role for r in srv.requests]
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout)
    assert out["status"] == "plausible" and "+        if len(candidate) > max_length:" in out["patch"]
    assert "test_ouro_reproduction" not in out["patch"]          # the reproduction test is not part of the fix
    assert roles[:2] == ["reproduce", "reproduce"]
    events = [json.loads(ln) for ln in (Path(out["run_dir"]) / "trajectory.jsonl").read_text().splitlines()]
    tries = [e for e in events if e["kind"] == "reproduction_test"]
    assert "passes on the current code" in tries[0]["rejected"] and "test_short_words_fit" in tries[0]["code"]
    assert tries[1]["target"] == ["tests/test_ouro_reproduction.py::test_a_slug_may_be_exactly_max_length"]
    rep = next(e for e in events if e["kind"] == "reproduce")
    assert rep["target"] == tries[1]["target"]
    # the instance's own hidden tests (its FAIL_TO_PASS) judge the model's fix correct
    from ouro.agent.bench.judge import judge_patch
    from ouro.agent.bench.suite import load_suite
    from ouro.sandbox.policy import load_policy

    task = next(t for t in load_suite(suite).tasks if t.id == inst["instance_id"])
    verdict = judge_patch(task, out["patch"], policy=load_policy(None).with_backend("bwrap"), timeout=120)
    assert verdict.fixed, verdict.detail
