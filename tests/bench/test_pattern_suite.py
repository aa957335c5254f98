"""bench/suites/patterns, the ten small repositories written for issue 15's fix-pattern families:
each is a well-formed task that fails on its bug and passes with its fix (the same checks as the
bundled repositories')."""
from __future__ import annotations

from pathlib import Path

import pytest

PATTERN_SUITE = sorted(p.parent for p in (Path(__file__).resolve().parents[2] / "bench" / "suites" / "patterns").glob("*/task.toml"))


def test_the_pattern_suite_is_well_formed():
    from test_repos_wellformed import REQUIRED_KEYS, SOURCE_REFERENCE, _changed_paths, _load_task

    assert 6 <= len(PATTERN_SUITE) <= 10
    for task_dir in PATTERN_SUITE:
        task = _load_task(task_dir)
        assert task["id"] == task_dir.name and all(isinstance(task.get(k), t) for k, t in REQUIRED_KEYS.items())
        issue = (task_dir / "ISSUE.md").read_text()
        assert "solution" not in issue.lower() and not SOURCE_REFERENCE.search(issue.replace("app.py", "")), task_dir.name
        diff = (task_dir / "solution.diff").read_text()
        changed = [ln for ln in diff.splitlines() if ln.startswith(("+", "-")) and not ln.startswith(("+++", "---"))]
        assert len(_changed_paths(diff)) == 1 and len(changed) <= 2, task_dir.name   # a one-line bug


@pytest.mark.slow
@pytest.mark.parametrize("task_dir", PATTERN_SUITE, ids=[d.name for d in PATTERN_SUITE])
def test_each_pattern_task_fails_on_its_bug_and_passes_with_its_fix(task_dir, tmp_path):
    import shutil

    from test_repos_wellformed import _apply, _load_task, _run

    task = _load_task(task_dir)
    work = tmp_path / "repo"
    shutil.copytree(task_dir / "repo", work, ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"))
    shutil.copytree(task_dir / task["hidden_tests"], work, dirs_exist_ok=True)
    assert _run(task["test_cmd"], work, 120).returncode == 1
    assert _run(task["hidden_test_cmd"], work, 120).returncode == 1
    _apply(task_dir / "solution.diff", work)
    assert _run(task["test_cmd"], work, 120).returncode == 0
    assert _run(task["hidden_test_cmd"], work, 120).returncode == 0
