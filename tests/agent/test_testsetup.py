"""The test command and the project's test set-up, read without running anything: option values
stay attached, unittest and nose commands become pytest arguments, the tests an issue names are
found by node id or by file and name together, src/ layouts and unittest suites are detected."""
from __future__ import annotations

import pytest
from repair_helpers import write

from ouro.agent.testing import named_tests, parse_test_cmd, split_pytest_args
from ouro.agent.testsetup import detect, project_modules
from ouro.sandbox.core.errors import BadInput


@pytest.mark.parametrize("cmd, options, paths", [
    ("python -m pytest -q -o pythonpath=src tests", ["-q", "-o", "pythonpath=src"], ["tests"]),
    ("pytest -k 'parse and not slow' --deselect tests/a.py::test_x tests/b.py",
     ["-k", "parse and not slow", "--deselect", "tests/a.py::test_x"], ["tests/b.py"]),
    ("pytest -p no:warnings --cov src -kfoo --tb=short -x tests", ["-p", "no:warnings", "--cov", "src", "-kfoo",
                                                                  "--tb=short", "-x"], ["tests"]),
    ("python3 -m pytest --ignore tests/slow -m 'not net' -W error::DeprecationWarning",
     ["--ignore", "tests/slow", "-m", "not net", "-W", "error::DeprecationWarning"], []),
])
def test_option_values_stay_attached(cmd, options, paths):
    c = parse_test_cmd(cmd)
    assert c.options() == options and c.paths() == paths
    assert split_pytest_args(c.pytest_args) == (options, paths)


@pytest.mark.parametrize("cmd, args", [
    ("python -m unittest", ["-o", "python_files=test*.py", "."]),
    ("python -m unittest discover -s tests -p '*_check.py'", ["-o", "python_files=*_check.py", "tests"]),
    ("python3 -m unittest discover tests", ["-o", "python_files=test*.py", "tests"]),
    ("python -m unittest tests.test_parse.ParserTest.test_empty tests.test_lex",
     ["-o", "python_files=test*.py *_test.py", "tests/test_parse.py::ParserTest::test_empty", "tests/test_lex.py"]),
    ("nosetests tests", ["-o", "python_files=test*.py *_test.py *_tests.py", "tests"]),
    ("python -m nose", ["-o", "python_files=test*.py *_test.py *_tests.py"]),
])
def test_unittest_and_nose_commands_run_under_pytest(cmd, args):
    assert parse_test_cmd(cmd).pytest_args == args


@pytest.mark.parametrize("cmd", ["make test", "tox -e py38", "python setup.py test", "pytest 'unclosed"])
def test_other_commands_are_bad_input(cmd):
    with pytest.raises(BadInput):
        parse_test_cmd(cmd)


def test_pythonpath_options_move_to_the_environment():
    cmd, dirs = parse_test_cmd("python -m pytest -q -o pythonpath='src lib' --override-ini=pythonpath=. -o "
                               "xfail_strict=true tests").take_pythonpath()
    assert dirs == ["src", "lib", "."]
    assert cmd.pytest_args == ["-q", "-o", "xfail_strict=true", "tests"]


NODES = ["tests/test_parse.py::test_empty", "tests/test_lex.py::test_empty", "tests/test_lex.py::TestLexer::test_tabs",
         "tests/test_lex.py::test_number[1-2]", "tests/test_lex.py::test_number[3-4]"]


@pytest.mark.parametrize("issue, expected", [
    ("`tests/test_parse.py::test_empty` fails since 2.0", ["tests/test_parse.py::test_empty"]),
    ("test_lex.py::test_empty fails", ["tests/test_lex.py::test_empty"]),
    ("running test_lex.py::TestLexer::test_tabs gives a wrong column", ["tests/test_lex.py::TestLexer::test_tabs"]),
    ("tests/test_lex.py::test_number[1-2] is off by one", ["tests/test_lex.py::test_number[1-2]"]),
    ("tests/test_lex.py::test_number fails for every input", ["tests/test_lex.py::test_number[1-2]",
                                                              "tests/test_lex.py::test_number[3-4]"]),
    ("In test_parse.py, test_empty fails on an empty string", ["tests/test_parse.py::test_empty"]),
    ("FAIL: test_tabs (tests.test_lex.TestLexer)", ["tests/test_lex.py::TestLexer::test_tabs"]),
    # a bare name names nothing: test_empty is in two files
    ("test_empty fails", []),
    ("the parser crashes on empty input", []),
])
def test_named_tests_by_node_id_or_file_and_name(issue, expected):
    assert named_tests(issue, NODES) == expected


def test_src_layout_and_pythonpath(tmp_path):
    repo = write(tmp_path / "a", {"src/widgets/__init__.py": "", "src/widgets/core.py": "", "tests/test_core.py": ""})
    setup = detect(repo)
    assert setup.pythonpath == ["src"] and setup.env("/workspace") == {"PYTHONPATH": "/workspace/src"}
    assert setup.modules == {"widgets", "tests"}
    assert detect(repo, pythonpath=["lib"], also=["."]).env("/ws") == {"PYTHONPATH": "/ws/lib:/ws"}
    flat = write(tmp_path / "b", {"widgets/__init__.py": "", "tests/test_core.py": ""})
    assert detect(flat).pythonpath == [] and detect(flat).env("/workspace") == {}


@pytest.mark.parametrize("config", [
    {"setup.py": "from setuptools import setup\nsetup(name='x', package_dir={'': 'lib'}, packages=['x'])\n"},
    {"setup.cfg": "[options]\npackage_dir =\n    =lib\npackages = find:\n"},
    {"pyproject.toml": "[tool.setuptools]\npackage-dir = {\"\" = \"lib\"}\n"},
    {"pyproject.toml": "[tool.setuptools.packages.find]\nwhere = [\"lib\"]\n"},
])
def test_the_package_folder_the_packaging_names(tmp_path, config):
    # ansible keeps its package in lib/: setup.py says so with package_dir={'': 'lib'}
    repo = write(tmp_path / "a", {"lib/x/__init__.py": "", "test/test_x.py": "", **config})
    assert detect(repo).pythonpath == ["lib"]


def test_unittest_suite_files_are_found_unless_the_project_says(tmp_path):
    files = {"calc.py": "", "tests.py": "import unittest\n\n\nclass CalcTest(unittest.TestCase):\n    pass\n"}
    repo = write(tmp_path / "a", files)
    assert detect(repo).pytest_options() == ["-o", "python_files=test*.py *_test.py *_tests.py"]
    configured = write(tmp_path / "b", {**files, "setup.cfg": "[tool:pytest]\npython_files = check_*.py\n"})
    assert detect(configured).pytest_options() == []
    plain = write(tmp_path / "c", {"calc.py": "", "tests/test_calc.py": "def test_x():\n    pass\n",
                                    "testing.py": "HELPER = 1\n"})
    assert detect(plain).pytest_options() == []   # nothing beyond pytest's defaults holds tests


def test_project_modules():
    assert project_modules(["src/pkg/a.py", "tool.py", "tests/test_x.py", "docs/conf.py", "2bad.py"]) == \
        {"pkg", "tool", "tests", "docs"}


def test_the_setup_is_read_without_following_links_or_special_files(tmp_path):
    """A tree from `git archive` keeps its links: a test file that is a link to /dev/zero, a
    FIFO in a config file's place, a pyproject.toml that is a link out of the repository."""
    import os
    import subprocess
    import sys

    outside = write(tmp_path / "outside", {"pyproject.toml": "[tool.setuptools]\npackage-dir = {'' = 'lib'}\n"})
    repo = write(tmp_path / "r", {"lib/pkg/__init__.py": "", "test_ok.py": "def test_a():\n    pass\n"})
    os.symlink("/dev/zero", repo / "tests.py")          # a unittest-style name: searched for tests
    os.symlink(outside / "pyproject.toml", repo / "pyproject.toml")
    os.mkfifo(repo / "setup.cfg")
    os.mkfifo(repo / "pytest.ini")
    os.symlink(outside, repo / "linked")                 # a directory link: not entered
    code = ("import json, resource, sys; resource.setrlimit(resource.RLIMIT_AS, (1 << 31, 1 << 31))\n"
            "from ouro.agent.testsetup import detect, project_files\n"
            f"s = detect({str(repo)!r}); print(json.dumps([s.pythonpath, s.python_files, project_files({str(repo)!r})]))")
    r = subprocess.run([sys.executable, "-P", "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr[-2000:]
    pythonpath, python_files, files = __import__("json").loads(r.stdout)
    assert pythonpath == [] and python_files == []       # nothing read through the link or the FIFOs
    assert files == ["lib/pkg/__init__.py", "test_ok.py"]


def test_a_setuptools_scm_version_file_is_generated_in_ouros_copy(tmp_path):
    # black 2020: setup.py's use_scm_version writes _black_version.py at install time, and
    # black.py imports it; a developer has it after `pip install -e .`, ouro's copy has not
    black = write(tmp_path / "black", {
        "setup.py": "setup(use_scm_version={\n    'write_to': '_black_version.py',\n"
                    "    'write_to_template': 'version = \"{version}\"\\n',\n})\n",
        "black.py": "from _black_version import version\n"})
    setup = detect(black)
    assert setup.generated == {"_black_version.py": 'version = "0.0.0"\n'}
    assert setup.write_generated(black) == {"_black_version.py": b'version = "0.0.0"\n'}
    assert detect(black).generated == {}   # present now: nothing to generate, nothing overwritten
    modern = write(tmp_path / "modern", {"pyproject.toml": '[tool.setuptools_scm]\nversion_file = "src/m/_v.py"\n'})
    assert "__version__" in detect(modern).generated["src/m/_v.py"]
    outside = write(tmp_path / "outside", {"pyproject.toml": '[tool.setuptools_scm]\nwrite_to = "../evil.py"\n'})
    assert detect(outside).generated == {}   # never a path out of the repository
