"""The failure classifier on real failure texts: each file under tests/fixtures/failures/ is what
ouro's runner recorded for one small project (tests/fixtures/failures/capture.py makes them: the
sandbox's Python 3.11, and Python 3.8 for the env_py38_ ones). The prefix of its name says what
it must be classified as."""
from __future__ import annotations

from pathlib import Path

import pytest

from ouro.agent.failures import BEHAVIOUR, ENVIRONMENT, classify, classify_all, error_line, summary

TEXTS = Path(__file__).resolve().parents[1] / "fixtures" / "failures"
# the modules capture.py's projects have
PROJECT = {"lib", "legacy", "typed", "typed2", "matcher", "dump", "app", "items", "tree", "check", "api", "registry",
           "mypkg", "srcpkg", "retry"}


def text(name: str) -> str:
    return (TEXTS / f"{name}.txt").read_text()


# Every fixture, by name: the error the classifier must name, and (environment) words of its reason.
EXPECTED = {
    "beh_assert_value": ("AssertionError: assert 5 == 6", ""),
    "beh_assert_tb_no": ("AssertionError: assert 5 == 6", ""),             # --tb=no in addopts
    "beh_did_not_raise": ("DID NOT RAISE", ""),
    "beh_key_error": ("KeyError: 'first'", ""),
    "beh_missing_attribute_in_project": ("module 'lib' has no attribute 'mean'", ""),
    "beh_missing_name_in_project": ("cannot import name 'median' from 'lib'", ""),
    "beh_none_attribute": ("'NoneType' object has no attribute 'upper'", ""),
    "beh_project_raises": ("ValueError: empty input", ""),
    "beh_unittest": ("AssertionError: 2 != 3", ""),
    # the project's own classes named like pytest's (sanic's Config, scrapy's Item, black's Node)
    "beh_project_config_attr": ("'Config' object has no attribute 'RESPONSE_TIMEOUT'", ""),
    "beh_test_config_attr": ("'Config' object has no attribute 'KEEP_ALIVE'", ""),
    "beh_project_item_attr": ("'Item' object has no attribute 'fields'", ""),
    "beh_project_node_attr": ("'Node' object has no attribute 'value'", ""),
    # the environment's words, raised by the project's own code when it runs
    "beh_ast_parse_syntax": ("SyntaxError: '(' was never closed", ""),
    "beh_project_futurewarning": ("FutureWarning: fetch() without a timeout", ""),
    "beh_py38_type_not_subscriptable": ("TypeError: 'type' object is not subscriptable", ""),
    "beh_circular_import": ("from partially initialized module 'mypkg.a'", ""),
    "beh_project_import_module": ("No module named 'mypkg.backends.memory_backend'", ""),
    # an assertion whose diff reads like an exception: the assertion is the failure
    "beh_connection_error_in_diff": ("AssertionError: assert 'attempt 0 of", ""),
    "beh_bare_error_in_diff": ("AssertionError: assert 'attempt 0 of", ""),
    # a test module that does not import because the project lacks a name: behaviour
    "beh_collection_missing_name": ("cannot import name 'median' from 'lib'", ""),
    "env_collections_attribute": ("module 'collections' has no attribute 'MutableMapping'", "'collections'"),
    "env_collections_import": ("ImportError: cannot import name 'Iterable' from 'collections'", "'collections'"),
    "env_conftest_import": ("No module named 'responses_not_installed'", "not installed"),
    "env_exit_127": ("CalledProcessError: Command 'go build ./...' returned non-zero exit status 127", "127"),
    "env_fixture_not_found": ("fixture 'mocker' not found", "fixture"),
    "env_inspect_getargspec": ("AttributeError: module 'inspect' has no attribute 'getargspec'", "'inspect'"),
    "env_library_deprecation": ("DeprecationWarning", "deprecation"),
    "env_missing_executable": ("FileNotFoundError: [Errno 2] No such file or directory: 'git'", "executable: git"),
    "env_missing_module_collect": ("No module named 'yaml_not_installed'", "not installed"),
    "env_missing_module_in_test": ("ModuleNotFoundError: No module named 'mock'", "not installed"),
    "env_no_network": ("gaierror", "no network"),
    "env_not_installed_distribution": ("PackageNotFoundError: No package metadata was found for ourolib", "distribution"),
    "env_project_package_off_path": ("No module named 'srcpkg'", "import path"),
    "env_pytest_api_removed": ("'Function' object has no attribute 'get_marker'", "pytest's API"),
    "env_pytest_config_warn_removed": ("'Config' object has no attribute 'warn'", "pytest's API"),
    "env_py38_builtin_generic": ("TypeError: 'type' object is not subscriptable", "newer Python"),
    "env_py38_generic_at_collection": ("TypeError: 'type' object is not subscriptable", "newer Python"),
    "env_py38_match_statement": ("SyntaxError: invalid syntax", "does not parse"),
    "env_py38_stdlib_name": ("cannot import name 'lcm' from 'math'", "'math'"),
    "env_py38_union_operator": ("unsupported operand type(s) for |", "newer Python"),
    # behaviour alone; classify_all decides when most tests of a run fail with it (below)
    "many_beh_json_encoder": ("TypeError: Object of type set is not JSON serializable", ""),
    "many_env_conftest_typeerror": ("simplefilter() got an unexpected keyword argument 'module'", ""),
}
CASES = sorted(p.stem for p in TEXTS.glob("*.txt"))


def test_every_fixture_is_used():
    # each file is in EXPECTED by name, and each name there has its file
    assert set(CASES) == set(EXPECTED), (set(CASES) ^ set(EXPECTED))
    assert all(c.split("_")[0] in ("env", "beh", "many") for c in CASES)


@pytest.mark.parametrize("case", CASES)
def test_each_real_failure_is_classified_as_named(case):
    f = classify(text(case), PROJECT)
    expected = ENVIRONMENT if case.startswith("env_") else BEHAVIOUR
    assert f.kind == expected, (f, text(case)[-600:])
    assert (f.reason != "") == (expected == ENVIRONMENT)
    assert f.error and "\n" not in f.error
    error, reason = EXPECTED[case]
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


def test_pytests_generic_names_are_pytests_api_only_outside_the_projects_code():
    # 'Config' raised in a conftest (pytest's own Config, an API pytest 4 removed): environment;
    # the project's Config, raised in its code or in its test: behaviour
    assert classify(text("env_pytest_config_warn_removed"), PROJECT).environment
    for case in ("beh_project_config_attr", "beh_test_config_attr", "beh_project_item_attr", "beh_project_node_attr"):
        assert classify(text(case), PROJECT).kind == BEHAVIOUR, case
    # a name only pytest has is its API wherever it was asked for
    t = text("beh_project_node_attr").replace("'Node' object", "'SubRequest' object")
    assert "pytest's API" in classify(t, PROJECT).reason


def test_the_same_words_are_the_environments_at_import_and_the_projects_when_its_code_runs():
    # 'type' object is not subscriptable: a module's annotations on import (Python 3.8), or at
    # collection of the test module; the project's own subscript of a class when it runs
    assert classify(text("env_py38_builtin_generic"), PROJECT).environment
    assert classify(text("env_py38_generic_at_collection"), PROJECT).environment
    assert classify(text("beh_py38_type_not_subscriptable"), PROJECT).kind == BEHAVIOUR
    # SyntaxError: a module that does not parse on import; the project's ast.parse of its input
    assert classify(text("env_py38_match_statement"), PROJECT).environment
    assert classify(text("beh_ast_parse_syntax"), PROJECT).kind == BEHAVIOUR
    # a warning turned into an error: raised in the standard library from a test, or the project's own
    assert classify(text("env_library_deprecation"), PROJECT).environment
    assert classify(text("beh_project_futurewarning"), PROJECT).kind == BEHAVIOUR
    # a module that is not there: not installed, the project's package off the import path, or a
    # module of the project's package its own import_module asks for
    assert classify(text("env_missing_module_in_test"), PROJECT).environment
    assert "import path" in classify(text("env_project_package_off_path"), PROJECT).reason
    assert classify(text("beh_project_import_module"), PROJECT).kind == BEHAVIOUR
    assert classify(text("beh_project_import_module"), {"other"}).environment   # not the project's: not installed
    # a circular import among the project's modules is its own
    assert classify(text("beh_circular_import"), PROJECT).kind == BEHAVIOUR


def test_pytests_last_line_names_the_error_not_a_diff_line():
    # the diff of an assertion has context lines "ConnectionError: Failed to establish a new
    # connection" and "Error": the failure is the AssertionError of pytest's last line
    for case in ("beh_connection_error_in_diff", "beh_bare_error_in_diff"):
        exc, message = error_line(text(case))
        assert exc == "AssertionError" and message.startswith("assert 'attempt 0 of"), (exc, message)
        assert classify(text(case), PROJECT).kind == BEHAVIOUR
    # a bare ending ("Error") is no exception line; a bare "Exception" is one
    assert error_line("Traceback (most recent call last):\n  File \"x.py\", line 1\nError\n") == ("", "Error")
    assert error_line("Traceback (most recent call last):\n  File \"x.py\", line 1\nException\n")[0] == "Exception"


def test_collection_errors_are_classified_as_module_failures():
    # node ids without "::" are modules that failed to collect: their import raised
    runs = classify_all({"tests/test_case.py": text("beh_collection_missing_name"),
                         "tests/test_other.py": text("env_missing_module_collect"),
                         "tests/test_gen.py": text("env_py38_generic_at_collection"),
                         "tests/test_x.py::test_it": text("beh_assert_value")}, tests=1, project_modules=PROJECT)
    assert runs["tests/test_case.py"].kind == BEHAVIOUR
    assert runs["tests/test_other.py"].environment and runs["tests/test_gen.py"].environment
    assert runs["tests/test_x.py::test_it"].kind == BEHAVIOUR
    # the same TypeError text, from the project's code when it runs, is behaviour; as a
    # module's collection error it is the import's, so the environment's
    t = text("beh_py38_type_not_subscriptable")
    assert classify(t, PROJECT).kind == BEHAVIOUR and classify(t, PROJECT, collecting=True).environment
