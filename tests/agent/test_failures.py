"""The failure classifier on real failure texts: each file under tests/fixtures/failures/ is what
ouro's runner recorded for one small project (tests/fixtures/failures/capture.py makes them: the
sandbox's Python 3.11, and Python 3.8 for the env_py38_ ones). The prefix of its name says what
it must be classified as."""
from __future__ import annotations

from pathlib import Path

import pytest

from ouro.agent.failures import BEHAVIOUR, ENVIRONMENT, classify, classify_all, error_line, summary

TEXTS = Path(__file__).resolve().parents[1] / "fixtures" / "failures"
PROJECT = {"lib", "legacy", "typed", "typed2", "matcher", "dump"}   # the modules capture.py's projects have


def text(name: str) -> str:
    return (TEXTS / f"{name}.txt").read_text()


CASES = sorted(p.stem for p in TEXTS.glob("*.txt"))


def test_every_fixture_is_used():
    assert len(CASES) >= 24 and all(c.split("_")[0] in ("env", "beh", "many") for c in CASES)


@pytest.mark.parametrize("case", CASES)
def test_each_real_failure_is_classified_as_named(case):
    f = classify(text(case), PROJECT)
    expected = ENVIRONMENT if case.startswith("env_") else BEHAVIOUR
    assert f.kind == expected, (f, text(case)[-600:])
    assert (f.reason != "") == (expected == ENVIRONMENT)
    assert f.error and "\n" not in f.error


@pytest.mark.parametrize("case, error, reason", [
    ("env_missing_module_in_test", "ModuleNotFoundError: No module named 'mock'", "not installed"),
    ("env_collections_import", "ImportError: cannot import name 'Iterable' from 'collections'", "'collections'"),
    ("env_inspect_getargspec", "AttributeError: module 'inspect' has no attribute 'getargspec'", "'inspect'"),
    ("env_missing_executable", "FileNotFoundError: [Errno 2] No such file or directory: 'git'", "executable: git"),
    ("env_exit_127", "CalledProcessError: Command 'go build ./...' returned non-zero exit status 127", "127"),
    ("env_fixture_not_found", "fixture 'mocker' not found", "fixture"),
    ("env_pytest_api_removed", "'Function' object has no attribute 'get_marker'", "pytest's API"),
    ("env_no_network", "gaierror", "no network"),
    ("env_not_installed_distribution", "PackageNotFoundError: No package metadata was found for ourolib", "distribution"),
    ("env_conftest_import", "No module named 'responses_not_installed'", "not installed"),
    ("env_py38_builtin_generic", "TypeError: 'type' object is not subscriptable", "newer Python"),
    ("env_py38_match_statement", "SyntaxError: invalid syntax", "does not parse"),
    ("env_py38_stdlib_name", "cannot import name 'lcm' from 'math'", "'math'"),
])
def test_environment_failures_name_the_error_and_why(case, error, reason):
    f = classify(text(case), PROJECT)
    assert error in f.error and reason in f.reason, f


def test_the_project_missing_a_name_is_behaviour_wherever_it_is():
    # the same words as a removed standard-library name, but the module is the project's own
    assert classify(text("beh_missing_name_in_project"), PROJECT).kind == BEHAVIOUR
    assert classify(text("beh_missing_attribute_in_project"), PROJECT).kind == BEHAVIOUR
    # its path says so even when the caller does not know the project's modules
    assert classify(text("beh_missing_name_in_project")).kind == BEHAVIOUR
    # and a module that is not the project's is the environment's
    assert classify(text("beh_missing_attribute_in_project"), {"other"}).kind == ENVIRONMENT


def test_where_is_the_innermost_frame():
    assert classify(text("beh_key_error"), PROJECT).where == "lib.py:36"
    assert classify(text("beh_project_raises"), PROJECT).where == "lib.py:31"
    assert classify(text("env_missing_executable")).where.endswith("subprocess.py:1901")


def test_a_chained_exception_is_judged_by_the_last_one():
    assert error_line(text("env_not_installed_distribution"))[0] == "importlib.metadata.PackageNotFoundError"


def test_the_same_error_raised_outside_the_project_in_most_tests_is_the_environments():
    t = text("many_env_conftest_typeerror")   # a conftest fixture every test uses, against this Python's API
    assert classify(t, PROJECT).kind == BEHAVIOUR
    many = classify_all({f"tests/test_{i}.py::test_it": t for i in range(4)}, tests=5, project_modules=PROJECT)
    assert {f.kind for f in many.values()} == {ENVIRONMENT}
    assert "the same error in 4 of 5 tests" in next(iter(many.values())).reason
    few = classify_all({f"tests/test_{i}.py::test_it": t for i in range(2)}, tests=5, project_modules=PROJECT)
    assert {f.kind for f in few.values()} == {BEHAVIOUR}   # two of five is not most


def test_the_same_error_through_the_projects_code_stays_behaviour():
    # one bug every test reaches (the project's to_json): raised in the standard library, but
    # through the project's own module
    t = text("many_beh_json_encoder")
    many = classify_all({f"tests/test_{i}.py::test_it": t for i in range(5)}, tests=5, project_modules=PROJECT)
    assert {f.kind for f in many.values()} == {BEHAVIOUR}
    asserts = classify_all({f"t{i}": text("beh_assert_value") for i in range(5)}, tests=5, project_modules=PROJECT)
    assert {f.kind for f in asserts.values()} == {BEHAVIOUR}


def test_summary_names_the_commonest_environment_error():
    failures = classify_all({"a": text("env_inspect_getargspec"), "b": text("env_inspect_getargspec"),
                             "c": text("env_missing_module_in_test"), "d": text("beh_assert_value")},
                            tests=4, project_modules=PROJECT)
    s = summary(failures)
    assert s.startswith("AttributeError: module 'inspect' has no attribute 'getargspec' (a name that this version of "
                        "'inspect' does not have), in 2 tests; and 1 other, e.g. ModuleNotFoundError: No module named 'mock'")
    assert summary({"d": failures["d"]}) == ""
