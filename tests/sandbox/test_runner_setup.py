"""The in-sandbox runner keeps its records and its coverage whatever the project's pytest set-up
says: addopts that stop a run early, need the cache, start a second coverage or move tests to
other processes are neutralised; a module that does not import is one error record and the rest
runs; a conftest that does not import is recorded with its real exception.

Runs in bubblewrap (the sandbox's own Python and pytest), cold and through the warm worker."""
from __future__ import annotations

from pathlib import Path

import pytest
from repair_helpers import write

from ouro.sandbox.backends import open_sandbox
from ouro.sandbox.policy import load_policy
from ouro.sandbox.testrun import WarmWorker, run_tests_cold

pytestmark = [pytest.mark.bwrap, pytest.mark.usefixtures("bwrap_available")]

PROJECT = {
    "calc.py": "def inc(x):\n    return x + 1\n\n\ndef dec(x):\n    return x - 1\n",
    "tests/test_calc.py": ("from calc import dec, inc\n\n\n"
                           "def test_inc():\n    assert inc(1) == 2\n\n\n"
                           "def test_dec():\n    assert dec(3) == 1\n\n\n"
                           "def test_inc_again():\n    assert inc(5) == 6\n"),
}
BAD_ADDOPTS = "--cov calc --cov-report term -x --lf --sw -p no:cacheprovider --doctest-modules -n 2 --maxfail=1"


def _open(repo: Path, tmp_path: Path):
    return open_sandbox(load_policy().with_backend("bwrap"), "repair", workspace=repo, home=tmp_path / "home")


def test_addopts_that_break_records_and_coverage_are_neutralised(tmp_path):
    repo = write(tmp_path / "repo", {**PROJECT, "pytest.ini": f"[pytest]\naddopts = {BAD_ADDOPTS}\n"})
    with _open(repo, tmp_path) as sb:
        run = run_tests_cold(sb, ["-q"], 60, coverage=True)
        # -x / --maxfail would have stopped after test_dec; every test is reported
        assert run.complete, run.problem + run.exec.stderr[-800:]
        assert run.outcome("tests/test_calc.py::test_dec") == "failed"
        assert run.outcome("tests/test_calc.py::test_inc_again") == "passed"
        # --cov neither broke the command line nor emptied ouro's per-test coverage
        assert 6 in run.coverage["tests/test_calc.py::test_dec"]["calc.py"]
        assert 6 not in run.coverage["tests/test_calc.py::test_inc"].get("calc.py", [])
        with WarmWorker(sb) as worker:   # the warm worker reads the same addopts
            warm = worker.run({}, ["-q", "tests/test_calc.py::test_dec", "tests/test_calc.py::test_inc"], 60)
        assert warm.complete, warm.problem
        assert warm.failed == {"tests/test_calc.py::test_dec"}
        assert warm.passed == {"tests/test_calc.py::test_inc"}


def test_a_module_that_does_not_import_is_one_error_and_the_rest_runs(tmp_path):
    repo = write(tmp_path / "repo", {**PROJECT, "tests/test_yaml.py": "import yaml_not_installed\n"})
    with _open(repo, tmp_path) as sb:
        run = run_tests_cold(sb, ["-q"], 60, coverage=True)
    assert run.complete, run.problem
    assert run.outcome("tests/test_yaml.py") == "error"
    assert "No module named 'yaml_not_installed'" in run.outcomes["tests/test_yaml.py"].longrepr
    assert len(run.collected) == 3 and run.outcome("tests/test_calc.py::test_inc") == "passed"


def test_a_conftest_that_does_not_import_is_recorded_with_its_exception(tmp_path):
    repo = write(tmp_path / "repo", {**PROJECT, "tests/conftest.py": "import mock_not_installed\n"})
    with _open(repo, tmp_path) as sb:
        run = run_tests_cold(sb, ["-q"], 60)
    assert not run.complete and run.exit_status == 4 and not run.collected
    text = run.outcomes["tests/conftest.py"].longrepr
    assert run.outcome("tests/conftest.py") == "error"
    assert "ModuleNotFoundError: No module named 'mock_not_installed'" in text
