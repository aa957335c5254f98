"""The repair's private copy of the user's repository, and `--apply` back into it.

The user's tree is read once (copied under the run dir) and never written, except by
`apply_patch`, which builds a commit with git plumbing and a temporary index (read-tree,
apply --cached, write-tree, commit-tree, update-ref). That creates branch `ouro/<run-id>`
without touching the user's current branch, HEAD, index or working files.

Every git command on the user's repository goes through sandbox.core.hostgit.git, which
switches off every program the repository's own configuration can name (fsmonitor, hooks,
filters, signing programs...): a repository cannot make ouro run its code on the host.
gitpython reads the repository's files (its refs, HEAD) without running git.
"""
from __future__ import annotations

import difflib
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ouro.sandbox.core.errors import BadInput, OuroError
from ouro.sandbox.core.files import checked_directory
from ouro.sandbox.core.hostgit import GitFailed, git_text

# Never copied: VCS data, ouro's own home, environments and caches (a stale .pyc could even
# hide a candidate's edit).
IGNORE_NAMES = {".git", ".ouro", ".venv", "venv", "__pycache__", ".pytest_cache", ".mypy_cache", ".tox", "node_modules"}
_BOT = {"GIT_AUTHOR_NAME": "ouro", "GIT_AUTHOR_EMAIL": "ouro@localhost",
        "GIT_COMMITTER_NAME": "ouro", "GIT_COMMITTER_EMAIL": "ouro@localhost"}


def _is_git(path: Path) -> bool:
    import git

    try:
        repo = git.Repo(path)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        return False
    return Path(repo.working_tree_dir).resolve() == path.resolve()


def check_repo(path: Path, allow_dirty: bool) -> bool:
    """Validate the user's repository path; True when it is a git repository."""
    checked_directory(path)
    if not _is_git(path):
        return False
    if not allow_dirty:
        try:
            status = git_text(path, "status", "--porcelain", "--untracked-files=all",
                              "--ignore-submodules=all").splitlines()
        except GitFailed as e:
            raise BadInput(f"{path}: git status failed: {e}") from None
        dirty = [ln[3:] for ln in status if not ln[3:].startswith(".ouro/")]
        if dirty:
            raise BadInput(f"{path} has uncommitted changes ({dirty[0]}{' ...' if len(dirty) > 1 else ''}); "
                           "commit them or pass --allow-dirty")
    return True


def _user_files(path: Path, is_git: bool) -> list[str]:
    if is_git:
        try:
            out = git_text(path, "ls-files", "-co", "--exclude-standard", "-z")
        except GitFailed as e:
            raise BadInput(f"{path}: git ls-files failed: {e}") from None
        files = [f for f in out.split("\0") if f]
    else:
        files = []
        for dirpath, dirnames, filenames in os.walk(path):
            dirnames[:] = sorted(d for d in dirnames if d not in IGNORE_NAMES)
            for f in sorted(filenames):
                files.append(str((Path(dirpath) / f).relative_to(path)))
    return [f for f in files if not (set(Path(f).parts) & IGNORE_NAMES) and not f.endswith(".pyc")]


@dataclass
class Workspace:
    user_repo: Path      # the user's repository (read only, except apply_patch)
    path: Path           # our copy: a git repository whose first commit is the user's state
    user_is_git: bool

    @classmethod
    def create(cls, user_repo: Path, run_dir: Path, allow_dirty: bool = False) -> "Workspace":
        import git

        user_repo = Path(user_repo).resolve()
        is_git = check_repo(user_repo, allow_dirty)
        dest = Path(run_dir) / "workspace"
        if dest.exists():
            shutil.rmtree(dest)
        dest.mkdir(parents=True)
        for rel in _user_files(user_repo, is_git):
            src = user_repo / rel
            if src.is_symlink() or not src.is_file():
                continue  # a link could point anywhere on the host; the sandbox gets real files only
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
        git.Repo.init(dest)
        # the copy holds the repository's .gitattributes: filters it names stay switched off here too
        for args in (("add", "-A"), ("commit", "-q", "--allow-empty", "--no-verify", "-m", "ouro: the repository as given")):
            try:
                git_text(dest, *args, env=_BOT)
            except GitFailed as e:
                raise OuroError(f"could not record the workspace copy: {e}") from None
        return cls(user_repo=user_repo, path=dest, user_is_git=is_git)

    @classmethod
    def reopen(cls, user_repo: Path, run_dir: Path) -> "Workspace":
        dest = Path(run_dir) / "workspace"
        if not (dest / ".git").exists():
            raise BadInput(f"{run_dir}: no workspace to resume")
        user_repo = Path(user_repo).resolve()
        return cls(user_repo=user_repo, path=dest, user_is_git=_is_git(user_repo))

    # -- reading ------------------------------------------------------------------------------
    def files(self) -> list[str]:
        return sorted(f for f in git_text(self.path, "ls-files", "-z").split("\0") if f)

    def python_files(self) -> list[str]:
        return [f for f in self.files() if f.endswith(".py")]

    def read(self, rel: str) -> str:
        return (self.path / rel).read_text(encoding="utf-8", errors="surrogateescape")

    # -- patches ------------------------------------------------------------------------------
    def diff(self, files: dict[str, str]) -> str:
        """A unified diff (git format, applies with `git apply -p1`) from the original to files."""
        chunks = []
        for rel in sorted(files):
            old = self.read(rel).splitlines(keepends=True)
            new = files[rel].splitlines(keepends=True)
            body = list(difflib.unified_diff(old, new, f"a/{rel}", f"b/{rel}", n=3))
            if not body:
                continue
            fixed = []
            for line in body:  # git marks a last line without newline explicitly
                if line.endswith("\n"):
                    fixed.append(line)
                else:
                    fixed.append(line + "\n\\ No newline at end of file\n")
            chunks.append(f"diff --git a/{rel} b/{rel}\n" + "".join(fixed))
        return "".join(chunks)

    @staticmethod
    def changed_lines(patch: str) -> int:
        return sum(1 for ln in patch.splitlines()
                   if ln[:1] in "+-" and not ln.startswith("+++") and not ln.startswith("---"))

    def apply_patch(self, patch: str, run_id: str, message: str) -> str:
        """Create branch ouro/<run_id> in the user's repo with one commit holding patch. Returns the branch."""
        import git

        if not self.user_is_git:
            raise BadInput(f"--apply needs a git repository; {self.user_repo} is a plain directory "
                           f"(the patch is in the run directory)")
        repo = git.Repo(self.user_repo)
        branch = f"ouro/{run_id}"
        if branch in [h.name for h in repo.heads]:
            raise BadInput(f"branch {branch} already exists in {self.user_repo}")
        try:
            head = repo.head.commit.hexsha
        except ValueError:
            raise BadInput(f"{self.user_repo} has no commits yet; --apply needs a HEAD to branch from") from None
        env = {k: v for k, v in _BOT.items() if not _configured(self.user_repo, k)}
        with tempfile.TemporaryDirectory(prefix="ouro-apply-") as tmp:
            env["GIT_INDEX_FILE"] = str(Path(tmp) / "index")   # the user's index is never read or written
            patch_file = Path(tmp) / "patch.diff"
            patch_file.write_text(patch, encoding="utf-8")
            where = self.user_repo
            try:
                git_text(where, "read-tree", head, env=env)
                git_text(where, "apply", "--cached", "--whitespace=nowarn", str(patch_file), env=env)
                tree = git_text(where, "write-tree", env=env).strip()
                commit = git_text(where, "commit-tree", "--no-gpg-sign", tree, "-p", head, "-m", message, env=env).strip()
                git_text(where, "update-ref", f"refs/heads/{branch}", commit, "0" * 40, env=env)
            except GitFailed as e:
                raise OuroError(f"could not create {branch}: {e}") from None
        return branch


def _configured(repo: Path, env_key: str) -> bool:
    key = "user.name" if env_key.endswith("_NAME") else "user.email"
    try:
        return bool(git_text(repo, "config", "--get", key).strip())
    except GitFailed:   # exit 1: not set
        return False


def git_available() -> bool:
    return subprocess.run(["git", "--version"], capture_output=True).returncode == 0
