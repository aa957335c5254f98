"""The judge: the real fix passes the hidden tests in a fresh sandbox; a wrong patch, a patch
that does not apply and a patch that forges success by exiting early are all not fixed."""
import shutil
from pathlib import Path

import pytest

from ouro.agent.bench.judge import judge_patch
from ouro.agent.bench.suite import load_suite
from ouro.sandbox.policy import load_policy

REPOS = Path(__file__).resolve().parents[2] / "repos"


def _backend() -> tuple[str, bool]:
    from ouro.sandbox.bwrap_backend import bwrap_available

    return ("bwrap", False) if shutil.which("bwrap") and not bwrap_available() else ("local", True)


@pytest.fixture(scope="module")
def task():
    return next(t for t in load_suite(REPOS).tasks if t.id == "cfgparse")


@pytest.fixture(scope="module")
def judge():
    backend, unsafe = _backend()
    policy = load_policy(None).with_backend(backend)
    return lambda task, patch: judge_patch(task, patch, policy=policy, unsafe_local=unsafe, timeout=120)


def test_solution_is_fixed(task, judge):
    v = judge(task, (REPOS / "cfgparse" / "solution.diff").read_text())
    assert v.fixed and v.applied, v.detail
    assert v.outcomes and set(v.outcomes.values()) == {"passed"}


def test_wrong_patch_is_not_fixed(task, judge):
    # strips the comment marker but keeps the whitespace before it: visible tests may pass, hidden do not
    wrong = (REPOS / "cfgparse" / "solution.diff").read_text().replace("+            return value[:i].rstrip()",
                                                                          "+            return value[:i]")
    v = judge(task, wrong)
    assert v.applied and not v.fixed
    assert "hidden tests fail" in v.detail


def test_patch_that_does_not_apply(task, judge):
    v = judge(task, "--- a/nope.py\n+++ b/nope.py\n@@ -1 +1 @@\n-a\n+b\n")
    assert not v.applied and not v.fixed and "does not apply" in v.detail


def test_forged_success_is_not_fixed(task, judge):
    # a conftest that exits with status 0 before any test reports must not count as passing
    forged = ("diff --git a/conftest.py b/conftest.py\nnew file mode 100644\n--- /dev/null\n+++ b/conftest.py\n"
              "@@ -0,0 +1,3 @@\n+import os\n+print('8 passed')\n+os._exit(0)\n")
    v = judge(task, forged)
    assert v.applied and not v.fixed, v.detail


def test_swebench_instance_judged_on_fail_to_pass_and_pass_to_pass(tmp_path, judge):
    import difflib
    import json
    import subprocess

    from ouro.agent.bench.suite import load_suite

    repo = tmp_path / "calc"
    (repo / "tests").mkdir(parents=True)
    (repo / "calc.py").write_text("def add(a, b):\n    return a - b\n\n\ndef neg(a):\n    return -a\n")
    (repo / "tests" / "test_neg.py").write_text("from calc import neg\n\n\ndef test_neg():\n    assert neg(2) == -2\n")
    (repo / "pyproject.toml").write_text('[tool.pytest.ini_options]\npythonpath = ["."]\n')
    git = lambda *a: subprocess.run(["git", *a], cwd=repo, check=True, capture_output=True, text=True).stdout.strip()
    git("init", "-q")
    git("add", ".")
    git("-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "base")
    test_patch = ("diff --git a/tests/test_add.py b/tests/test_add.py\nnew file mode 100644\n--- /dev/null\n"
                  "+++ b/tests/test_add.py\n@@ -0,0 +1,5 @@\n+from calc import add\n+\n+\n+def test_add():\n"
                  "+    assert add(2, 3) == 5\n")
    inst = {"instance_id": "calc-1", "repo": "calc", "base_commit": git("rev-parse", "HEAD"),
            "problem_statement": "add subtracts", "FAIL_TO_PASS": '["tests/test_add.py::test_add"]',
            "PASS_TO_PASS": '["tests/test_neg.py::test_neg"]', "test_patch": test_patch}
    (tmp_path / "i.jsonl").write_text(json.dumps(inst) + "\n")
    task = load_suite(tmp_path / "i.jsonl").tasks[0]
    original = (repo / "calc.py").read_text()
    diff = lambda new: "".join(difflib.unified_diff(original.splitlines(True), new.splitlines(True), "a/calc.py", "b/calc.py"))
    fix = diff(original.replace("a - b", "a + b"))
    v = judge(task, fix)
    assert v.fixed, v.detail
    assert v.outcomes == {"tests/test_add.py::test_add": "passed", "tests/test_neg.py::test_neg": "passed"}
    # fixes add but breaks neg: a PASS_TO_PASS test fails
    v = judge(task, diff(original.replace("a - b", "a + b").replace("-a\n", "a\n")))
    assert not v.fixed and "tests/test_neg.py::test_neg (failed)" in v.detail
