"""Every bundled task under repos/ is a fair repair problem.

For each task: task.toml has the keys docs/task-suite.md promises, ISSUE.md
reads like a bug report (it does not give away the fix or point at a source
line), the visible tests fail on the buggy repository, the hidden tests fail
too, and after applying the reference solution.diff both pass. The test suites
are run with the host interpreter in temporary copies (no sandbox), so the
checked-in repositories are never touched.
"""
from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

REPOS = Path(__file__).resolve().parents[2] / "repos"
TASK_DIRS = sorted(p.parent for p in REPOS.glob("*/task.toml"))
REQUIRED_KEYS = {"id": str, "description": str, "test_cmd": str, "hidden_tests": str,
                 "hidden_test_cmd": str, "timeout_s": int}
# A pointer into the code ("parser.py:42", "line 17 of lexer.py") would hand the agent the fault.
SOURCE_REFERENCE = re.compile(r"\w+\.py\b|\bline \d+\b", re.IGNORECASE)


def _load_task(task_dir: Path) -> dict:
    with open(task_dir / "task.toml", "rb") as fh:
        return tomllib.load(fh)["task"]


def _run(cmd: str, cwd: Path, timeout: int) -> subprocess.CompletedProcess:
    argv = shlex.split(cmd)
    if argv[0] == "python":  # task commands name "python": here that is the host venv's
        argv[0] = sys.executable
    argv += ["-p", "no:cacheprovider"]
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("PYTHONPATH", None)
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)


def _apply(diff: Path, cwd: Path) -> None:
    # git apply works outside a git repository, and refuses a diff that does not apply cleanly.
    done = subprocess.run(["git", "apply", "--whitespace=nowarn", str(diff)], cwd=cwd,
                          capture_output=True, text=True)
    assert done.returncode == 0, f"solution.diff does not apply: {done.stderr}"


def _changed_paths(diff_text: str) -> list[str]:
    return [line[6:].split("\t")[0] for line in diff_text.splitlines()
            if line.startswith("+++ b/")]


def test_suite_has_enough_varied_tasks():
    assert len(TASK_DIRS) >= 12
    with_deps = [d.name for d in TASK_DIRS if (d / "repo" / "requirements.txt").exists()]
    assert len(with_deps) == 1, with_deps
    two_file_or_two_hunk = [d.name for d in TASK_DIRS
                            if (d / "solution.diff").read_text().count("\n@@ ") >= 2]
    assert len(two_file_or_two_hunk) >= 2, two_file_or_two_hunk


@pytest.mark.parametrize("task_dir", TASK_DIRS, ids=[d.name for d in TASK_DIRS])
def test_task_files_are_well_formed(task_dir: Path):
    task = _load_task(task_dir)
    for key, kind in REQUIRED_KEYS.items():
        assert isinstance(task.get(key), kind), f"task.toml: [task] {key} missing or not {kind.__name__}"
    assert task["id"] == task_dir.name
    budget = task.get("budget", {})
    assert isinstance(budget.get("candidates", 150), int)

    issue = (task_dir / "ISSUE.md").read_text()
    assert len(issue.split()) >= 30, "ISSUE.md is too short to be a bug report"
    assert "solution" not in issue.lower()
    assert not SOURCE_REFERENCE.search(issue), SOURCE_REFERENCE.search(issue).group(0)

    repo = task_dir / "repo"
    package_files = [p for p in repo.rglob("*.py")
                     if "tests" not in p.relative_to(repo).parts[:1]]
    assert (repo / "pyproject.toml").exists()
    assert 3 <= len([p for p in package_files if p.name != "__init__.py"]) <= 6
    code_lines = sum(len(p.read_text().splitlines()) for p in package_files)
    assert 150 <= code_lines <= 600, f"{code_lines} lines of package code"
    assert list((repo / "tests").glob("test_*.py")), "no visible tests"
    hidden = task_dir / task["hidden_tests"]
    assert list(hidden.rglob("test_*.py")), "no hidden tests"
    diff_text = (task_dir / "solution.diff").read_text()
    assert _changed_paths(diff_text), "solution.diff changes nothing"
    assert not any("test" in Path(p).name for p in _changed_paths(diff_text)), \
        "the reference fix must not edit tests"



# Four pytest sessions per task: about a second of CPU each, minutes on a busy 2-core machine.
@pytest.mark.slow
@pytest.mark.parametrize("task_dir", TASK_DIRS, ids=[d.name for d in TASK_DIRS])
def test_bug_fails_and_reference_fix_passes(task_dir: Path, tmp_path: Path):
    task = _load_task(task_dir)
    repo = task_dir / "repo"
    hidden = task_dir / task["hidden_tests"]
    work = tmp_path / "repo"
    shutil.copytree(repo, work, ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"))
    timeout = task["timeout_s"]

    visible = _run(task["test_cmd"], work, timeout)
    assert visible.returncode == 1, f"visible tests should fail on the bug:\n{visible.stdout[-2000:]}"
    assert re.search(r"\d+ failed", visible.stdout)

    shutil.copytree(hidden, work, dirs_exist_ok=True)
    judged = _run(task["hidden_test_cmd"], work, timeout)
    assert judged.returncode == 1, f"hidden tests should fail on the bug:\n{judged.stdout[-2000:]}"
    assert re.search(r"\d+ failed", judged.stdout)

    _apply(task_dir / "solution.diff", work)
    visible = _run(task["test_cmd"], work, timeout)
    assert visible.returncode == 0, f"visible tests fail after the fix:\n{visible.stdout[-2000:]}"
    judged = _run(task["hidden_test_cmd"], work, timeout)
    assert judged.returncode == 0, f"hidden tests fail after the fix:\n{judged.stdout[-2000:]}"
