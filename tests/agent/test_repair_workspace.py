"""The workspace (gitpython): the user's repository is copied, never changed, except by --apply,
which adds one branch and one commit and leaves branch, HEAD, index and working files as they were."""
from __future__ import annotations

from pathlib import Path

import pytest

from ouro.sandbox.core.errors import BadInput
from ouro.agent.workspace import Workspace
from repair_helpers import git, snapshot


def make_repo(tmp_path: Path) -> Path:
    repo = tmp_path / "proj"
    (repo / "pkg").mkdir(parents=True)
    (repo / "pkg" / "m.py").write_text("def f(x):\n    return x - 1\n")
    (repo / "notes.txt").write_text("v1\n")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "init")
    return repo


def test_dirty_tree_is_refused_unless_allowed(tmp_path):
    repo = make_repo(tmp_path)
    (repo / "notes.txt").write_text("edited\n")
    with pytest.raises(BadInput, match="uncommitted changes.*--allow-dirty"):
        Workspace.create(repo, tmp_path / "run1")
    ws = Workspace.create(repo, tmp_path / "run2", allow_dirty=True)
    assert (ws.path / "notes.txt").read_text() == "edited\n"   # the copy is what the user sees


def test_plain_directory_becomes_a_git_copy(tmp_path):
    plain = tmp_path / "plain"
    (plain / "__pycache__").mkdir(parents=True)
    (plain / "a.py").write_text("x = 1\n")
    (plain / "__pycache__" / "a.cpython-311.pyc").write_bytes(b"junk")
    before = sorted(p.name for p in plain.rglob("*"))
    ws = Workspace.create(plain, tmp_path / "run")
    assert (ws.path / ".git").is_dir() and ws.files() == ["a.py"]
    assert sorted(p.name for p in plain.rglob("*")) == before   # no .git created in the user's dir
    patch = ws.diff({"a.py": "x = 2\n"})
    assert patch.startswith("diff --git a/a.py b/a.py") and "-x = 1\n+x = 2\n" in patch
    with pytest.raises(BadInput, match="needs a git repository"):
        ws.apply_patch(patch, "r1", "msg")


def test_apply_creates_branch_and_commit_leaving_everything_else_untouched(tmp_path):
    repo = make_repo(tmp_path)
    # uncommitted work of every kind: a staged change, an unstaged change, an untracked file
    (repo / "notes.txt").write_text("v2 staged\n")
    git(repo, "add", "notes.txt")
    (repo / "notes.txt").write_text("v3 unstaged on top\n")
    (repo / "scratch.py").write_text("print('mine')\n")
    before = snapshot(repo)

    ws = Workspace.create(repo, tmp_path / "run", allow_dirty=True)
    patch = ws.diff({"pkg/m.py": "def f(x):\n    return x + 1\n"})
    branch = ws.apply_patch(patch, "20260101-000000-abc", "ouro: fix f\n\nbecause the test expects x + 1")

    assert branch == "ouro/20260101-000000-abc"
    assert snapshot(repo) == before           # branch, HEAD, index, working files: all as they were
    log = git(repo, "log", "--format=%H %P %s", branch).splitlines()
    assert len(log) == 2 and log[0].split()[1] == before["head"].strip()     # one commit, on HEAD
    assert "ouro: fix f" in log[0]
    assert git(repo, "show", f"{branch}:pkg/m.py") == "def f(x):\n    return x + 1\n"
    # only the patch is in the commit, not the user's uncommitted notes.txt
    assert git(repo, "show", f"{branch}:notes.txt") == "v1\n"
    assert "because the test expects" in git(repo, "log", "-1", "--format=%B", branch)
    with pytest.raises(BadInput, match="already exists"):
        ws.apply_patch(patch, "20260101-000000-abc", "again")


def test_missing_path_is_bad_input(tmp_path):
    with pytest.raises(BadInput, match="no such directory"):
        Workspace.create(tmp_path / "nope", tmp_path / "run")
