"""Task suites: load a directory of tasks (task.toml) or SWE-bench JSON-lines instances.

A suite is read leniently on purpose: one broken task.toml or JSON line must not stop a
benchmark of fifty tasks. Each problem becomes a `TaskLoadError` naming the task and what is
wrong, and the bench reports it as an `error` row while the other tasks run.
The format is documented in docs/task-suite.md and docs/bench.md.
"""
from __future__ import annotations

import json
import shlex
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from ouro.sandbox.core.errors import BadInput
from ouro.sandbox.core.hostgit import git
from ouro.sandbox.core.schema import SchemaError, checked, from_table, load_toml

DEFAULT_TEST_CMD = "python -m pytest -q"


@dataclass(frozen=True)
class Task:
    """One thing to repair and the means to judge the repair."""

    id: str
    issue: str                      # the issue text given to the agent
    repo: Path                      # a folder, or a git repository when base_commit is set
    test_cmd: str                   # what the agent may run (visible tests)
    source: str                     # "task.toml" or "jsonl"
    description: str = ""
    base_commit: str | None = None
    timeout_s: float = 600.0        # wall-clock limit for the whole repair of this task
    budget: int | None = None       # candidate budget from the task (the bench's --budget wins)
    # judging, task.toml style: files copied from hidden_dir into the repo, then hidden_test_cmd
    hidden_dir: Path | None = None
    hidden_tests: tuple[str, ...] = ()
    hidden_test_cmd: str | None = None
    # judging, SWE-bench style: test_patch applied, then these node ids must all pass
    fail_to_pass: tuple[str, ...] = ()
    pass_to_pass: tuple[str, ...] = ()
    test_patch: str | None = None

    @property
    def task_id(self) -> str:
        return self.id

    def materialize(self, dest: Path) -> Path:
        """Write the repository as the agent must see it (base commit, no .git) into dest."""
        dest = Path(dest)
        if dest.exists():
            shutil.rmtree(dest)
        if self.base_commit:
            dest.mkdir(parents=True)
            # git archive gives exactly the tree of that commit, without history or stray files
            # the task's repository is not ours: its configuration's programs stay switched off
            archive = git(self.repo, "archive", "--format=tar", self.base_commit)
            if archive.returncode != 0:
                raise BadInput(f"task {self.id}: cannot read commit {self.base_commit} of {self.repo}: "
                               f"{archive.stderr.decode(errors='replace').strip().splitlines()[-1:]}")
            subprocess.run(["tar", "-x", "-C", str(dest)], input=archive.stdout, check=True)
        else:
            shutil.copytree(self.repo, dest, ignore=shutil.ignore_patterns(".git", "__pycache__", ".pytest_cache"))
        return dest


@dataclass(frozen=True)
class TaskLoadError:
    """A task that could not be loaded: `id` names it (directory name or line number)."""

    id: str
    problem: str
    source: str

    @property
    def task_id(self) -> str:
        return self.id


@dataclass
class Suite:
    """A suite as loaded: the tasks that loaded and, for the others, why not (a bench reports both)."""

    name: str
    path: Path
    tasks: list[Task] = field(default_factory=list)
    errors: list[TaskLoadError] = field(default_factory=list)

    @property
    def entries(self) -> list[Task | TaskLoadError]:
        """Tasks and load errors together, sorted by id, as the bench reports them."""
        return sorted([*self.tasks, *self.errors], key=lambda t: t.id)


def load_suite(path: str | Path) -> Suite:
    """Load a suite directory (task dirs, and any *.jsonl files in it) or one .jsonl file."""
    path = Path(path).expanduser().resolve()
    if not path.exists():
        raise BadInput(f"suite {path} does not exist")
    if path.is_file():
        if path.suffix not in (".jsonl", ".json"):
            raise BadInput(f"suite {path} is a file but not JSON lines (.jsonl)")
        suite = Suite(name=path.stem, path=path)
        _load_jsonl(path, suite)
    else:
        suite = Suite(name=path.name, path=path)
        for child in sorted(path.iterdir()):
            if child.is_dir() and (child / "task.toml").exists():
                try:
                    suite.tasks.append(load_task_dir(child))
                except TaskProblem as e:
                    suite.errors.append(TaskLoadError(id=e.task_id, problem=str(e), source=str(child / "task.toml")))
            elif child.is_file() and child.suffix == ".jsonl":
                _load_jsonl(child, suite)
    ids = [t.id for t in suite.tasks]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    for d in dupes:
        # keep the first so the others still run; the later ones become errors
        same = [t for t in suite.tasks if t.id == d]
        for t in same[1:]:
            suite.tasks.remove(t)
            suite.errors.append(TaskLoadError(id=f"{d}#dup", problem=f"task id {d!r} appears more than once", source=t.source))
    if not suite.tasks and not suite.errors:
        raise BadInput(f"suite {path} has no tasks (expected subdirectories with task.toml, or .jsonl files)")
    return suite


class TaskProblem(Exception):
    def __init__(self, task_id: str, message: str):
        super().__init__(message)
        self.task_id = task_id


def _command(v) -> bool | str:
    if not v.strip():
        return "must be a non-empty command string"
    try:
        shlex.split(v)
    except ValueError as e:
        return f"cannot be parsed: {e}"
    return True


def _relative(v) -> bool:
    return not Path(v).is_absolute() and ".." not in Path(v).parts


@dataclass(frozen=True)
class _BudgetTable:
    candidates: int | None = checked(None, check=lambda v: v is None or v > 0, problem="must be a positive integer")


@dataclass(frozen=True)
class _TaskTable:
    """The [task] table of task.toml (docs/task-suite.md)."""

    id: str = checked(check=lambda v: bool(v.strip()), problem="must be a non-empty string")
    description: str = ""
    test_cmd: str = checked(DEFAULT_TEST_CMD, check=_command)
    # a folder (relative to the task dir) whose content is laid over the repository before
    # judging, or a list of files inside hidden/ to lay over
    hidden_tests: str | list[str] = checked("hidden", check=lambda v: (
        _relative(v) if isinstance(v, str) else all(h and _relative(h) for h in v)),
        problem="must be a relative folder inside the task, or a list of relative paths")
    hidden_test_cmd: str | None = checked(None, check=lambda v: v is None or _command(v))
    timeout_s: float = checked(600.0, check=lambda v: v > 0, problem="must be a positive number")
    repo: str = "repo"
    base_commit: str | None = None
    issue: str = "ISSUE.md"
    budget: _BudgetTable = field(default_factory=_BudgetTable)


@dataclass(frozen=True)
class _TaskFile:
    task: _TaskTable


def load_task_dir(task_dir: Path) -> Task:
    """Read <task_dir>/task.toml; raise TaskProblem with a one-line reason if it is unusable."""
    name = task_dir.name
    try:
        data = load_toml(task_dir / "task.toml", "task.toml")
    except SchemaError as e:
        raise TaskProblem(name, f"task {name}: {e}") from None
    raw = data.get("task")
    task_id = raw.get("id", name) if isinstance(raw, dict) else name
    task_id = task_id if isinstance(task_id, str) and task_id.strip() else name

    def fail(msg: str):
        raise TaskProblem(task_id, f"task {task_id}: {msg}")

    try:
        t = from_table(_TaskFile, {"task": {"id": name, **raw}} if isinstance(raw, dict) else data).task
    except SchemaError as e:
        fail(str(e))
    if t.id != name:
        fail(f"[task].id {t.id!r} differs from its directory name {name!r}")
    hidden_dir_name, hidden = (t.hidden_tests, []) if isinstance(t.hidden_tests, str) else ("hidden", list(t.hidden_tests))
    repo = task_dir / t.repo
    if not repo.is_dir():
        fail(f"repository folder {repo.name}/ is missing")
    issue_file = task_dir / t.issue
    if not issue_file.is_file():
        fail(f"{issue_file.name} is missing")
    hidden_dir = task_dir / hidden_dir_name
    if not hidden_dir.is_dir() and (hidden or "hidden_tests" in raw):
        fail(f"hidden tests folder {hidden_dir_name}/ is missing")
    for h in hidden:
        if not (hidden_dir / h).exists():
            fail(f"hidden test {h} is listed but {hidden_dir_name}/{h} does not exist")
    if hidden_dir.is_dir() and not hidden:
        hidden = [str(p.relative_to(hidden_dir)) for p in sorted(hidden_dir.rglob("*")) if p.is_file()
                  and "__pycache__" not in p.parts]
    if hidden_dir.is_dir() and not hidden:
        fail(f"hidden tests folder {hidden_dir_name}/ is empty")
    if hidden and not t.hidden_test_cmd:
        fail("hidden tests are given but hidden_test_cmd is missing")
    return Task(
        id=t.id, issue=issue_file.read_text(encoding="utf-8"), repo=repo, test_cmd=t.test_cmd,
        source=str(task_dir / "task.toml"), description=t.description, base_commit=t.base_commit,
        timeout_s=t.timeout_s, budget=t.budget.candidates, hidden_dir=hidden_dir if hidden_dir.is_dir() else None,
        hidden_tests=tuple(hidden), hidden_test_cmd=t.hidden_test_cmd,
    )


def _check_cmd(cmd, key: str, fail) -> None:
    verdict = _command(cmd) if isinstance(cmd, str) else "must be a non-empty command string"
    if verdict is not True:
        fail(f"{key} {verdict}")


def _load_jsonl(path: Path, suite: Suite) -> None:
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path.name}:{lineno}"
        try:
            suite.tasks.append(parse_instance(line, base=path.parent, where=where))
        except TaskProblem as e:
            suite.errors.append(TaskLoadError(id=e.task_id, problem=str(e), source=where))


def _node_ids(value, key: str, fail) -> tuple[str, ...]:
    # SWE-bench stores these lists as JSON-encoded strings; accept real lists too
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            fail(f"{key} is a string but not a JSON list")
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        fail(f"{key} must be a list of test node ids")
    return tuple(value)


def parse_instance(line: str, *, base: Path, where: str) -> Task:
    """One SWE-bench style instance; `repo` is a local path (relative to the .jsonl's folder)."""
    try:
        inst = json.loads(line)
    except json.JSONDecodeError as e:
        raise TaskProblem(where, f"instance at {where}: not valid JSON: {e.msg} (column {e.colno})") from None
    if not isinstance(inst, dict):
        raise TaskProblem(where, f"instance at {where}: expected a JSON object")
    iid = inst.get("instance_id")
    if not isinstance(iid, str) or not iid.strip():
        raise TaskProblem(where, f"instance at {where}: missing instance_id")

    def fail(msg: str):
        raise TaskProblem(iid, f"instance {iid} ({where}): {msg}")

    for key in ("repo", "base_commit", "problem_statement"):
        if not isinstance(inst.get(key), str) or not inst[key].strip():
            fail(f"missing or empty {key}")
    f2p = _node_ids(inst.get("FAIL_TO_PASS", []), "FAIL_TO_PASS", fail)
    p2p = _node_ids(inst.get("PASS_TO_PASS", []), "PASS_TO_PASS", fail)
    if not f2p:
        fail("FAIL_TO_PASS is empty: nothing would show that a patch fixes the issue")
    repo = (base / inst["repo"]).resolve()
    if not (repo / ".git").exists():
        fail(f"repo {inst['repo']} is not a git repository on disk")
    check = git(repo, "cat-file", "-e", f"{inst['base_commit']}^{{commit}}")
    if check.returncode != 0:
        fail(f"base_commit {inst['base_commit']} is not in {inst['repo']}")
    test_patch = inst.get("test_patch")
    if test_patch is not None and not isinstance(test_patch, str):
        fail("test_patch must be a string (a unified diff)")
    test_cmd = inst.get("test_cmd", DEFAULT_TEST_CMD)
    _check_cmd(test_cmd, "test_cmd", fail)
    return Task(
        id=iid, issue=inst["problem_statement"], repo=repo, test_cmd=test_cmd, source=where,
        base_commit=inst["base_commit"], fail_to_pass=f2p, pass_to_pass=p2p, test_patch=test_patch or None,
        timeout_s=float(inst.get("timeout_s", 600)),
    )
