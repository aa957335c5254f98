"""What counts as a test file: one rule for what a repair may edit, what the static scan
reports as a test edit, and what is kept apart as the tests of a repository.

A path is a test file when its name is a test module or pytest's configuration (test_*.py,
*_test.py, tests.py and test.py as unittest and Django name them, conftest.py, pytest.ini,
tox.ini, noxfile.py), or when it sits under a test folder
(tests/, test/, testing/, hidden_tests/). Nothing else: a module named evaluator.py in a
calculator is the code under repair (the static scan once counted it a test file and rejected
every edit to it, while the repair went on proposing them).
"""
from __future__ import annotations

from pathlib import PurePosixPath

TEST_CONFIG_NAMES = ("conftest.py", "pytest.ini", "tox.ini", "noxfile.py")
TEST_MODULE_NAMES = ("tests.py", "test.py")
TEST_FOLDERS = ("tests", "test", "testing", "hidden_tests")


def is_test_file(path: str) -> bool:
    """Is this (repository-relative) path a test or pytest's configuration?"""
    p = PurePosixPath(str(path).replace("\\", "/"))
    name = p.name
    if (name in TEST_CONFIG_NAMES or name in TEST_MODULE_NAMES or name.startswith("test_")
            or name.endswith(("_test.py", "_tests.py"))):
        return True
    return any(part in TEST_FOLDERS for part in p.parts[:-1])
