"""The judge: the real fix passes the hidden tests in a fresh sandbox; a wrong patch, a patch
that does not apply and a patch that forges success by exiting early are all not fixed."""
import shutil
from pathlib import Path

import pytest

from agent.judge import judge_patch
from agent.suite import load_suite
from sandbox.policy import load_policy

REPOS = Path(__file__).resolve().parent.parent / "repos"


def _backend() -> tuple[str, bool]:
    from sandbox.bwrap_backend import bwrap_available

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
