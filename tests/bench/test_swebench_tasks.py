"""SWE-bench done right, on the SWE-bench-shaped instances bundled under tests/fixtures/swebench
(src/ layouts, one relying on detection, one on its test command's `-o pythonpath=src`):

- the judge honours each instance's test command and environment: the gold patch is fixed, a
  patch that does not fix it is not (the judge can say no);
- `ouro bench --visible-tests` applies the test patch before the repair: the built-in policy
  reproduces the FAIL_TO_PASS tests and repairs them;
- the strict setting gives only the problem statement: the built-in policy says in one line
  that it has no failing test.
Real sandboxes (bubblewrap) throughout."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ouro.agent.bench.judge import judge_patch
from ouro.agent.bench.suite import load_suite
from ouro.sandbox.policy import load_policy

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "swebench"

pytestmark = [pytest.mark.bwrap, pytest.mark.usefixtures("bwrap_available")]


@pytest.fixture(scope="module")
def suite_file(tmp_path_factory) -> Path:
    out = subprocess.run([sys.executable, str(FIXTURES / "build.py"), str(tmp_path_factory.mktemp("swe"))],
                         capture_output=True, text=True, check=True)
    return Path(out.stdout.strip())


@pytest.fixture(scope="module")
def instances(suite_file) -> dict[str, dict]:
    return {d["instance_id"]: d for d in map(json.loads, suite_file.read_text().splitlines())}


def test_the_bundled_instances_are_src_layouts_with_two_ways_to_import(instances):
    assert len(instances) >= 2
    for inst in instances.values():
        repo = FIXTURES / inst["repo"] / "repo"
        assert (repo / "src").is_dir() and not (repo / "pytest.ini").exists()
        assert "pythonpath" not in (repo / "pyproject.toml").read_text()   # only the sandbox set-up makes it import
    cmds = sorted(i["test_cmd"] for i in instances.values())
    assert any("pythonpath=src" in c for c in cmds) and any("pythonpath" not in c for c in cmds)


def test_gold_patch_judges_fixed_and_a_non_fix_does_not(suite_file, instances, tmp_path):
    suite = load_suite(suite_file)
    assert not suite.errors and len(suite.tasks) == len(instances)
    policy = load_policy(None).with_backend("bwrap")
    for task in suite.tasks:
        gold = instances[task.id]["patch"]
        v = judge_patch(task, gold, policy=policy, timeout=120)
        assert v.fixed, (task.id, v.detail, v.outcomes)
        assert set(v.outcomes) >= {*task.fail_to_pass, *task.pass_to_pass}
        # a patch that applies and changes nothing the tests see: judged not fixed
        nofix = _comment_patch(task)
        v = judge_patch(task, nofix, policy=policy, timeout=120)
        assert v.applied and not v.fixed, (task.id, v.detail)
        assert all(v.outcomes[t] == "failed" for t in task.fail_to_pass), v.outcomes


def _comment_patch(task) -> str:
    """A patch that changes nothing the tests see: a comment added at the end of the package's __init__."""
    init = next((task.repo / "src").glob("*/__init__.py"))
    rel = init.relative_to(task.repo).as_posix()
    lines = init.read_text().splitlines()
    n = len(lines)
    return f"diff --git a/{rel} b/{rel}\n--- a/{rel}\n+++ b/{rel}\n@@ -{n} +{n},2 @@\n {lines[-1]}\n+# a comment\n"


def ouro_bench(suite_file: Path, home: Path, *extra: str) -> tuple[subprocess.CompletedProcess, dict]:
    r = subprocess.run([sys.executable, "-m", "ouro.agent.cli", "--home", str(home), "bench", str(suite_file),
                        "--backend", "bwrap", "--json", *extra], capture_output=True, text=True, timeout=900, cwd=ROOT)
    return r, json.loads(r.stdout) if r.stdout.strip().startswith("{") else {}


def test_visible_tests_reproduce_the_failing_tests_and_the_builtin_policy_repairs(suite_file, instances, tmp_path):
    r, doc = ouro_bench(suite_file, tmp_path / "home", "--visible-tests", "--budget", "80")
    assert r.returncode == 0, r.stderr[-2000:]
    assert doc["visible_tests"] is True
    rows = {t["task_id"]: t for t in doc["tasks"]}
    assert set(rows) == set(instances)
    for iid, row in rows.items():
        events = [json.loads(ln) for ln in (Path(row["run_dir"]) / "trajectory.jsonl").read_text().splitlines()]
        rep = next(e for e in events if e["kind"] == "reproduce")
        assert sorted(rep["target"]) == sorted(instances[iid]["FAIL_TO_PASS"]), rep
        assert row["status"] == "fixed", row
        assert row["judge"]["fixed"] and "tests/" not in "".join(
            ln for ln in row["patch"].splitlines() if ln.startswith("+++"))   # the test patch is not the agent's


def test_strict_setting_the_builtin_policy_says_it_has_no_failing_test(suite_file, instances, tmp_path):
    r, doc = ouro_bench(suite_file, tmp_path / "home")
    assert r.returncode == 0, r.stderr[-2000:]
    for row in doc["tasks"]:
        assert row["status"] == "not_found" and row["repair_status"] == "not_reproduced", row
        assert row["problem"].startswith("could not reproduce: all 6 tests pass; the built-in policy repairs from "
                                         "a failing test"), row
        assert "\n" not in row["problem"]
