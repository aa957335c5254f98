"""The reproduce step on real runs (ouro's runner in bubblewrap): a test module that does not
import because of the project's bug is a target, and a candidate that fixes the bug makes it
pass; a module that does not import for an environment reason is left out and named.

Each project is small and real: the runner collects it, the classifier reads what the runner
recorded, and the Validator judges candidates through the warm worker."""
from __future__ import annotations

from pathlib import Path

import pytest
from repair_helpers import write

from ouro.agent.testing import NothingFails, ReproduceError, Validator, parse_test_cmd, reproduce
from ouro.sandbox.backends import open_sandbox
from ouro.sandbox.policy import load_policy
from ouro.sandbox.testrun import WarmWorker, run_tests_cold

pytestmark = [pytest.mark.bwrap, pytest.mark.usefixtures("bwrap_available")]

STATS = "def mean(xs):\n    return sum(xs) / len(xs)\n"
FIXED = STATS + "\n\ndef median(xs):\n    xs = sorted(xs)\n    return xs[len(xs) // 2]\n"
WRONG = STATS + "\n\ndef median(xs):\n    return xs[0]\n"
PROJECT = {
    "pytest.ini": "[pytest]\npythonpath = .\n",
    "stats.py": STATS,
    "tests/test_mean.py": "from stats import mean\n\n\ndef test_mean():\n    assert mean([1, 2, 3]) == 2\n",
    # the issue's test: imports what the project lacks, so the module does not collect
    "tests/test_median.py": ("from stats import median\n\n\ndef test_odd():\n    assert median([3, 1, 2]) == 2\n\n\n"
                             "def test_one():\n    assert median([5]) == 5\n"),
}


def _reproduce(sb, issue=""):
    run = lambda args, t, cov: run_tests_cold(sb, args, t, coverage=cov)  # noqa: E731
    return reproduce(run, parse_test_cmd(None), 60, issue, project_modules=frozenset({"stats", "tests"}),
                     root=sb.workspace)


def _open(repo: Path, tmp_path: Path):
    return open_sandbox(load_policy().with_backend("bwrap"), "repair", workspace=repo, home=tmp_path / "home")


def test_a_module_the_bug_keeps_from_importing_is_the_target_and_a_fix_makes_it_pass(tmp_path):
    repo = write(tmp_path / "repo", PROJECT)
    with _open(repo, tmp_path) as sb:
        base = _reproduce(sb)   # before: "all 1 tests pass", exit 3, the module left out
        assert base.target == ["tests/test_median.py"], base
        assert "cannot import name 'median' from 'stats'" in base.failing["tests/test_median.py"]
        assert base.skipped_modules == {} and base.passing == ["tests/test_mean.py::test_mean"]
        with WarmWorker(sb) as worker:
            validate = Validator(run_candidate=worker.run, cmd=parse_test_cmd(None), baseline=base, timeout=60)
            unchanged = validate({})
            assert unchanged.status == "failed" and "median" in unchanged.failing["tests/test_median.py"]
            wrong = validate({"stats.py": WRONG})   # imports now, but a test in it fails
            assert wrong.status == "failed" and "assert 3 == 2" in wrong.failing["tests/test_median.py"]
            fixed = validate({"stats.py": FIXED})
            assert fixed.status == "plausible", fixed
            assert fixed.tests_passed == 3 and fixed.regressions == 0


def test_the_issue_naming_a_test_in_a_module_that_does_not_import_names_the_module(tmp_path):
    repo = write(tmp_path / "repo", {**PROJECT, "tests/test_other.py": "from stats import mode\n\n\n"
                                                                        "def test_mode():\n    assert mode([1, 1]) == 1\n"})
    with _open(repo, tmp_path) as sb:
        base = _reproduce(sb, issue="tests/test_median.py::test_odd fails: median is missing")
    assert base.target == ["tests/test_median.py"]
    assert set(base.failing) == {"tests/test_median.py", "tests/test_other.py"}


def test_a_module_that_does_not_import_for_an_environment_reason_is_left_out_and_named(tmp_path):
    yaml = {"tests/test_yaml.py": "import yaml_not_installed\n\n\ndef test_y():\n    pass\n"}
    with _open(write(tmp_path / "passes", {**PROJECT, "stats.py": FIXED, **yaml}), tmp_path) as sb:
        with pytest.raises(NothingFails) as e:
            _reproduce(sb)
    assert "all 3 tests pass" in str(e.value) and "tests/test_yaml.py" in str(e.value)
    assert "No module named 'yaml_not_installed'" in e.value.skipped["tests/test_yaml.py"]
    # with a behaviour failure elsewhere, that failure is the target and the module is recorded
    with _open(write(tmp_path / "fails", {**PROJECT, "stats.py": WRONG, **yaml}), tmp_path) as sb:
        base = _reproduce(sb)
    assert base.target == ["tests/test_median.py::test_odd"]
    assert list(base.skipped_modules) == ["tests/test_yaml.py"]


def test_only_environment_collection_errors_and_nothing_collected_is_exit_6(tmp_path):
    repo = write(tmp_path / "repo", {"pytest.ini": "[pytest]\npythonpath = .\n", "stats.py": STATS,
                                     "tests/test_a.py": "import yaml_not_installed\n\n\ndef test_a():\n    pass\n"})
    with _open(repo, tmp_path) as sb:
        with pytest.raises(ReproduceError) as e:
            _reproduce(sb)
    assert e.value.exit_code == 6 and "an environment problem: a module that is not installed" in str(e.value)


def test_an_internal_error_before_any_test_has_a_result_is_an_environment_problem(tmp_path):
    # a plugin outside the project breaks pytest itself after collection: no test ran, so none
    # of them is a target (ouro's recorder on pytest 3.3 once did this, unseen)
    plugin = "def pytest_runtest_protocol(item, nextitem):\n    raise RuntimeError('a plugin broke')\n"
    conftest = ("import os, sys\nos.makedirs('/tmp/plugins', exist_ok=True)\n"
                f"open('/tmp/plugins/brokenplug.py', 'w').write({plugin!r})\n"
                "sys.path.insert(0, '/tmp/plugins')\npytest_plugins = ['brokenplug']\n")
    repo = write(tmp_path / "repo", {**PROJECT, "tests/test_median.py": "def test_x():\n    assert False\n",
                                     "conftest.py": conftest})
    with _open(repo, tmp_path) as sb:
        with pytest.raises(ReproduceError) as e:
            _reproduce(sb)
    assert e.value.exit_code == 3, e.value
    assert "pytest stopped with an internal error (RuntimeError: a plugin broke)" in str(e.value)


def test_an_internal_error_in_the_projects_own_hooks_is_not_called_the_environment(tmp_path):
    # the project's conftest is in the traceback: the project is pytest-shaped, or its hook has the bug
    repo = write(tmp_path / "repo", {**PROJECT, "tests/test_median.py": "def test_x():\n    assert False\n",
                                     "conftest.py": ("def pytest_runtest_protocol(item, nextitem):\n"
                                                     "    raise RuntimeError('the project broke')\n")})
    with _open(repo, tmp_path) as sb:
        baseline = _reproduce(sb)
    # as before: the tests without a result are what the repair must make pass
    assert "tests/test_median.py::test_x" in baseline.target
