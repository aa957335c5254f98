"""Real bugs from BugsInPy as an ouro task suite (the development suite of issue 14).

    python bench/bugsinpy.py prepare --bugsinpy GITDIR --mirrors DIR --out /work/devsuite
    python bench/bugsinpy.py split [--check]
    python bench/bugsinpy.py gold SUITE [--out gold.json]
    python bench/bugsinpy.py reference SUITE [--pythons ~/.pyenv/versions] [--cache DIR]
    python bench/bugsinpy.py deselect reference.json
    python bench/bugsinpy.py table RESULTS_JSON [--gold gold.json] [--reference reference.json] [--json]

Nothing fetched is committed. BugsInPy (https://github.com/soarsmu/BugsInPy) and the projects it
names are read at prepare time from git directories given on the command line: `--bugsinpy` is
BugsInPy's git directory (or a checkout of it), `--mirrors` a folder holding one git directory
per project as `<owner>+<name>/repo` (what the fetch tool leaves under /work/.mirror) or
`<owner>+<name>.git`. What this repository holds is written here: the selection and the issue
texts (bench/bugsinpy_issues.toml) and the split (bench/bugsinpy_split.json).

A prepared task (docs/task-suite.md) for bug `<project>-<n>`:

  task.toml      test_cmd: the trigger tests of BugsInPy's run_test.sh, as pytest node ids
                 (`python -m unittest a.b.C.t` becomes `a/b.py::C::t`); hidden_test_cmd: the
                 hidden test modules, whole; timeout_s 600; [task.budget] candidates 100.
  ISSUE.md       the hand-written report from bench/bugsinpy_issues.toml: the symptom as a user
                 sees it (what they called, what happened, what they expected), written from the
                 trigger test, never from the fix; no file or line of the faulty code.
  repo/          the buggy commit's tree, plus the fixed commit's version of the trigger test
                 files (BugsInPy's `test_file`) and of every other non-module file the fix
                 changed under a test folder (test data, conftest.py, helpers), the way BugsInPy
                 and Defects4J check out a bug; `touch` lines of BugsInPy's setup.sh are applied
                 (black needs tests/__init__.py). Nothing else of the fix is present.
                 Symlinks that dangle or leave the tree are removed and listed in
                 bugsinpy.json (black's docs/*.md point to generated files).
  hidden/        what judges a fix, laid over repo/ (paths relative to its root):
                 (a) the fixed commit's version of every file the fix commit changed under a
                     test folder (so every test the fix added or changed, not only the trigger
                     tests), and
                 (b) the fixed commit's test modules of each source module the fix changed,
                     found by name (`utils.py` -> `test_utils.py`, `utils_test.py`, or
                     `test_<package>_utils.py` with <package> the folder holding utils.py,
                     plural or not; for `__init__.py` the package's own name), at most 4 per
                     source module, nearest path first.
                 hidden_test_cmd runs every test module of (a) and (b) in full, minus the tests
                 that bench/bugsinpy_deselect.json lists for the bug (`--deselect`: those that
                 fail even with the reference fix in the reference run, see `reference`): a
                 patch is fixed when all the others pass. The agent sees (a)'s trigger files
                 in repo/, nothing of (b) beyond what the buggy tree already had.
  solution.diff  the fix commit's changes outside test folders (the reference fix; ouro never
                 shows it to the agent; `gold` judges it).
  bugsinpy.json  what task.toml has no key for yet: project, bug, GitHub URL, buggy and fixed
                 commits, BugsInPy's python_version, its pinned requirements (decoded; the
                 project's own `-e git+...` line apart), setup.sh lines, the original
                 run_test.sh command, the trigger tests, the hidden files and their reason, the
                 split.

The selection (48 bugs, 7 projects: youtube-dl, black, luigi, scrapy, fastapi, sanic, ansible)
prefers bugs whose trigger test is a plain pytest/unittest test that needs no network, no GPU
and no compiled dependency of the project's own (pandas, matplotlib, spacy and keras need a C or
Cython build or tensorflow and are left out).

`split` prints the train/validation/test split and, with --check, verifies that the committed
file still follows its rule (seeded SHA-256 of the bug id, ranked within each project, first 40%
train, next 20% validation, rest test). The committed file is authoritative and never changes.

`gold` judges each task's solution.diff with ouro's own judge in today's sandbox: whether the
hidden tests can pass at all in the environment ouro builds (a task whose gold patch fails there
cannot be `fixed` by any agent).

`reference` checks each task the way BugsInPy meant it to run, independently of ouro: BugsInPy's
Python (the newest X.Y.Z under --pythons with its major.minor, pyenv's layout) and its pinned
requirements, installed with pip --target in a container (the only step with network; a pin that
pip cannot find or build is dropped, replaced by the newest wheel of that package for that
Python when there is one, and both are listed), then, in a container with no network, no
capabilities and a non-root user: the trigger tests on the buggy tree, and the trigger and
hidden tests on the tree with solution.diff applied. A bug is `valid` when its trigger tests
fail for a behavioural reason (not an import or setup error) on the buggy tree and pass on the
fixed one; the hidden tests that fail even on the fixed tree are listed (they cannot judge a
patch there). This is the yardstick for issue 14's "reproduces with the right Python".

`table` prints the per-bug table of docs/repair.md ("Real bugs: before"/"after") from an
`ouro bench --json` results.json: the Python ouro used and the one BugsInPy names, dependencies
installed, reproduction (behaviour / environment / not, read from the run's baseline.json and
trajectory.jsonl), status, fixed on hidden tests.

Exit status: 0 success, 1 some bug could not be prepared, 2 bad input, 3 a precondition (git
missing). Errors are one line on stderr.
"""
from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

HERE = Path(__file__).resolve().parent
ISSUES_FILE = HERE / "bugsinpy_issues.toml"
SPLIT_FILE = HERE / "bugsinpy_split.json"
DESELECT_FILE = HERE / "bugsinpy_deselect.json"

PROJECTS = ("black", "fastapi", "luigi", "sanic", "scrapy", "youtube-dl", "keras", "pandas", "spacy",
            "ansible", "matplotlib")
# Kept by the user for final checks: never prepared, whatever the issues file says.
FORBIDDEN = ("thefuck", "tornado", "tqdm", "pysnooper", "cookiecutter", "httpie")

SPLIT_SEED = "ouro-bugsinpy-devsuite-2026-12-06"
SPLIT_SHARES = (("train", 0.4), ("validation", 0.2), ("test", 0.4))

TIMEOUT_S = 600
BUDGET = 100
MODULE_TESTS_PER_SOURCE = 4
TEST_DIRS = {"test", "tests", "testing", "unittests"}


class Fail(Exception):
    """A one-line reason; `exit` is the process status."""

    def __init__(self, message: str, exit: int = 2):
        super().__init__(message)
        self.exit = exit


# ----------------------------------------------------------------------------- small helpers

def atomic_write(path: Path, data: bytes | str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data.encode("utf-8") if isinstance(data, str) else data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def toml_str(s: str) -> str:
    return json.dumps(s, ensure_ascii=False)  # a JSON string is a valid TOML basic string


class Git:
    """Read-only access to one git directory (bare or not): never runs the project's code."""

    def __init__(self, git_dir: Path):
        self.git_dir = git_dir

    def run(self, *args: str, check: bool = True) -> bytes:
        p = subprocess.run(["git", "--git-dir", str(self.git_dir), *args], capture_output=True)
        if check and p.returncode != 0:
            err = p.stderr.decode(errors="replace").strip().splitlines()
            raise Fail(f"git {' '.join(args[:3])} in {self.git_dir}: {err[-1] if err else p.returncode}", 1)
        return p.stdout

    def text(self, *args: str) -> str:
        return self.run(*args).decode("utf-8", errors="replace")

    def has_commit(self, rev: str) -> bool:
        return subprocess.run(["git", "--git-dir", str(self.git_dir), "cat-file", "-e", f"{rev}^{{commit}}"],
                              capture_output=True).returncode == 0

    def show(self, rev: str, path: str) -> bytes | None:
        p = subprocess.run(["git", "--git-dir", str(self.git_dir), "show", f"{rev}:{path}"], capture_output=True)
        return p.stdout if p.returncode == 0 else None

    def files(self, rev: str) -> list[str]:
        return [f for f in self.text("ls-tree", "-r", "--name-only", "-z", rev).split("\0") if f]


def git_dir_at(path: Path) -> Path | None:
    for cand in (path / ".git", path):
        if cand.exists() and subprocess.run(["git", "--git-dir", str(cand), "rev-parse", "--git-dir"],
                                            capture_output=True).returncode == 0:
            return cand
    return None


# ----------------------------------------------------------------------------- BugsInPy

class BugsInPy:
    """BugsInPy's files, from its git directory (HEAD) or from a checkout."""

    def __init__(self, path: Path):
        if (path / "projects").is_dir():
            self.root, self.git = path, None
        else:
            gd = git_dir_at(path)
            if gd is None:
                raise Fail(f"--bugsinpy {path}: neither a BugsInPy checkout (no projects/) nor a git directory")
            self.root, self.git = None, Git(gd)
            if self.git.show("HEAD", "projects/black/project.info") is None:
                raise Fail(f"--bugsinpy {path}: this git directory has no projects/black/project.info; not BugsInPy")

    def read(self, rel: str) -> bytes | None:
        if self.root is not None:
            p = self.root / rel
            return p.read_bytes() if p.is_file() else None
        return self.git.show("HEAD", rel)


def decode(data: bytes) -> str:
    """BugsInPy's files are UTF-8, a few requirements.txt are UTF-16 with a BOM."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return data.decode("utf-16")
    return data.decode("utf-8-sig", errors="replace")


def parse_info(text: str) -> dict[str, str]:
    # `key="value"`, sometimes `key ="value"` or `KEY = "value"`
    return {k.lower(): v for k, v in re.findall(r'^\s*(\w+)\s*=\s*"([^"]*)"', text, flags=re.M)}


@dataclass
class Bug:
    id: str                      # "<project>-<n>"
    project: str
    number: int
    github_url: str
    buggy: str
    fixed: str
    python_version: str
    test_files: list[str]
    run_test: str
    requirements: list[str]
    requirements_self: list[str]
    setup_sh: list[str]


def split_id(bug_id: str) -> tuple[str, int]:
    m = re.fullmatch(r"([a-z][a-z0-9-]*?)-(\d+)", bug_id)
    if not m:
        raise Fail(f"{bug_id!r} is not a bug id of the form <project>-<number>")
    return m.group(1), int(m.group(2))


def load_bug(bip: BugsInPy, bug_id: str) -> Bug:
    project, n = split_id(bug_id)
    if project.lower() in FORBIDDEN:
        raise Fail(f"{bug_id}: {project} is kept for final checks and must not be used")
    if project not in PROJECTS:
        raise Fail(f"{bug_id}: project {project!r} is not one of {', '.join(PROJECTS)}")
    base = f"projects/{project}"
    pinfo = bip.read(f"{base}/project.info")
    binfo = bip.read(f"{base}/bugs/{n}/bug.info")
    run = bip.read(f"{base}/bugs/{n}/run_test.sh")
    if pinfo is None or binfo is None or run is None:
        raise Fail(f"{bug_id}: BugsInPy has no {base}/bugs/{n}/ (bug.info, run_test.sh)", 1)
    p, b = parse_info(decode(pinfo)), parse_info(decode(binfo))
    for k in ("buggy_commit_id", "fixed_commit_id"):
        if not re.fullmatch(r"[0-9a-f]{40}", b.get(k, "")):
            raise Fail(f"{bug_id}: bug.info has no valid {k}", 1)
    reqs, own = [], []
    raw = bip.read(f"{base}/bugs/{n}/requirements.txt")
    for line in decode(raw).splitlines() if raw else []:
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        (own if line.startswith("-e ") else reqs).append(line)
    setup = bip.read(f"{base}/bugs/{n}/setup.sh")
    return Bug(id=bug_id, project=project, number=n, github_url=p.get("github_url", ""),
               buggy=b["buggy_commit_id"], fixed=b["fixed_commit_id"],
               python_version=b.get("python_version", ""),
               test_files=[t.strip() for t in b.get("test_file", "").split(";") if t.strip()],
               run_test=decode(run).strip(), requirements=reqs, requirements_self=own,
               setup_sh=[ln.strip() for ln in decode(setup).splitlines() if ln.strip()] if setup else [])


def mirror_for(mirrors: Path, bug: Bug) -> Git:
    m = re.match(r"https?://github\.com/([^/]+)/([^/]+?)(?:\.git)?/?$", bug.github_url)
    if not m:
        raise Fail(f"{bug.id}: project.info has no GitHub URL ({bug.github_url!r})", 1)
    name = f"{m.group(1)}+{m.group(2)}"
    for cand in (mirrors / name / "repo", mirrors / name, mirrors / f"{name}.git"):
        gd = git_dir_at(cand) if cand.exists() else None
        if gd is not None:
            g = Git(gd)
            for rev in (bug.buggy, bug.fixed):
                if not g.has_commit(rev):
                    raise Fail(f"{bug.id}: commit {rev[:12]} is not in {gd}", 1)
            return g
    raise Fail(f"{bug.id}: no git directory for {m.group(1)}/{m.group(2)} under {mirrors} "
               f"(looked for {name}/repo, {name}, {name}.git)", 1)


# ----------------------------------------------------------------------------- tests

def is_test_side(path: str, declared: list[str]) -> bool:
    """A file of the test side of a commit: under a test folder, a test module, or BugsInPy's test_file."""
    p = PurePosixPath(path)
    return (path in declared or bool(set(p.parts[:-1]) & TEST_DIRS) or is_test_module(path)
            or p.name == "conftest.py")


def is_test_module(path: str) -> bool:
    p = PurePosixPath(path)
    if p.suffix != ".py":
        return False
    if p.name.startswith("test_") or p.name.endswith("_test.py"):
        return True
    return p.name == "__init__.py" and len(p.parts) > 1 and p.parts[-2].startswith("test_")


def test_subject(path: str) -> str:
    """`tests/test_utils_gz.py` -> `utils_gz`; `test/scheduler_test.py` -> `scheduler`."""
    p = PurePosixPath(path)
    stem = p.parts[-2] if p.name == "__init__.py" else p.stem
    return stem.removeprefix("test_").removesuffix("_test")


def module_tests(source: str, test_modules: list[str]) -> list[str]:
    """Test modules that test `source` by name, nearest path first, at most MODULE_TESTS_PER_SOURCE."""
    p = PurePosixPath(source)
    if p.suffix != ".py":
        return []
    stem = p.parent.name if p.name == "__init__.py" else p.stem
    parent = p.parent.parent.name if p.name == "__init__.py" else p.parent.name
    if not stem or stem in ("setup", "__main__", "conftest"):
        return []
    hits = []
    for t in test_modules:
        s = test_subject(t)
        # `<stem>`, or `<package>_<stem>` where <package> is the source's package, allowing a
        # plural (tests/test_downloadermiddleware_redirect.py for downloadermiddlewares/redirect.py)
        prefix = s[: -len(stem) - 1] if s.endswith(f"_{stem}") else None
        if s == stem or (prefix and parent and (parent.startswith(prefix) or prefix.startswith(parent))):
            common = len(os.path.commonprefix([PurePosixPath(t).parts, p.parts]))
            hits.append((s != stem, -common, t))
    return [t for *_, t in sorted(hits)[:MODULE_TESTS_PER_SOURCE]]


def trigger_tests(run_test: str, tree: Path) -> list[str]:
    """pytest node ids for the tests of BugsInPy's run_test.sh (pytest, py.test or unittest lines)."""
    ids: list[str] = []
    for line in re.split(r"[\n;]", run_test):
        words = line.split()
        if not words:
            continue
        if words[:3] == ["python", "-m", "unittest"] or words[:3] == ["python3", "-m", "unittest"]:
            ids += [unittest_to_node(w, tree) for w in words[3:] if not w.startswith("-")]
        elif words[0] in ("pytest", "py.test") or words[:3] == ["python", "-m", "pytest"]:
            args = words[1:] if words[0] != "python" else words[3:]
            ids += [w for w in args if not w.startswith("-")]
        else:
            raise Fail(f"run_test.sh line not understood: {line.strip()!r}", 1)
    if not ids:
        raise Fail("run_test.sh names no test", 1)
    return list(dict.fromkeys(ids))


def unittest_to_node(dotted: str, tree: Path) -> str:
    parts = dotted.split(".")
    for i in range(len(parts), 0, -1):
        mod = Path(*parts[:i])
        for cand in (tree / f"{mod}.py", tree / mod / "__init__.py"):
            if cand.is_file():
                rel = cand.relative_to(tree).as_posix()
                return "::".join([rel, *parts[i:]])
    raise Fail(f"unittest name {dotted!r}: no module file for it in the tree", 1)


# ----------------------------------------------------------------------------- data files

def load_issues() -> dict[str, dict]:
    try:
        data = tomllib.loads(ISSUES_FILE.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise Fail(f"{ISSUES_FILE}: {e}")
    for bug_id, entry in data.items():
        split_id(bug_id)
        if not isinstance(entry, dict) or not isinstance(entry.get("title"), str) or not isinstance(entry.get("body"), str):
            raise Fail(f"{ISSUES_FILE}: [{bug_id}] needs a title and a body (strings)")
        if re.search(r"\bsolution\b", entry["title"] + entry["body"], flags=re.I):
            raise Fail(f"{ISSUES_FILE}: [{bug_id}] uses the word 'solution'; an issue describes the symptom only")
    return data


def split_rank(bug_id: str) -> str:
    return hashlib.sha256(f"{SPLIT_SEED}:{bug_id}".encode()).hexdigest()


def compute_split(bug_ids: list[str]) -> dict[str, str]:
    """Per project, bugs ranked by a seeded hash of their id; first 40% train, next 20% validation, rest test."""
    out: dict[str, str] = {}
    by_project: dict[str, list[str]] = {}
    for b in bug_ids:
        by_project.setdefault(split_id(b)[0], []).append(b)
    for bugs in by_project.values():
        ranked = sorted(bugs, key=split_rank)
        n = len(ranked)
        n_train = round(n * SPLIT_SHARES[0][1])
        n_val = round(n * SPLIT_SHARES[1][1])
        for i, b in enumerate(ranked):
            out[b] = "train" if i < n_train else "validation" if i < n_train + n_val else "test"
    return dict(sorted(out.items(), key=lambda kv: (split_id(kv[0])[0], split_id(kv[0])[1])))


def load_deselect() -> dict[str, list[str]]:
    """Hidden tests that fail even on the fixed commit in the reference run, per bug (may be absent)."""
    if not DESELECT_FILE.exists():
        return {}
    try:
        return dict(json.loads(DESELECT_FILE.read_text(encoding="utf-8"))["deselect"])
    except (OSError, json.JSONDecodeError, KeyError, TypeError) as e:
        raise Fail(f"{DESELECT_FILE}: {e}")


def cmd_deselect(args) -> int:
    """Write DESELECT_FILE from a reference.json: the hidden tests that fail on the fixed tree."""
    try:
        ref = json.loads(Path(args.reference).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as e:
        raise Fail(f"{args.reference}: {e}")
    des = {b: sorted(r["fixed_hidden_failing"]) for b, r in sorted(ref.items()) if r.get("fixed_hidden_failing")}
    doc = {"note": ("Hidden tests that fail even with the reference fix applied, in BugsInPy's Python with its pins "
                    "(bench/bugsinpy.py reference); prepare passes them to hidden_test_cmd as --deselect, since they "
                    "cannot tell a right patch from a wrong one there."),
           "deselect": des}
    atomic_write(DESELECT_FILE, json.dumps(doc, indent=2) + "\n")
    print(f"{sum(len(v) for v in des.values())} hidden tests of {len(des)} bugs written to {DESELECT_FILE}")
    return 0


def load_split() -> dict[str, str]:
    try:
        doc = json.loads(SPLIT_FILE.read_text(encoding="utf-8"))
        return dict(doc["split"])
    except (OSError, json.JSONDecodeError, KeyError, TypeError) as e:
        raise Fail(f"{SPLIT_FILE}: {e}")


# ----------------------------------------------------------------------------- prepare

@dataclass
class Prepared:
    bug_id: str
    test_cmd: str
    hidden: list[str] = field(default_factory=list)


def prepare_bug(bip: BugsInPy, mirrors: Path, out: Path, bug_id: str, issue: dict, split: str,
                force: bool) -> Prepared:
    bug = load_bug(bip, bug_id)
    git = mirror_for(mirrors, bug)
    dest = out / bug_id
    if dest.exists() and not force:
        raise Fail(f"{dest} exists (pass --force to replace it)")
    tmp = Path(tempfile.mkdtemp(prefix=f".{bug_id}-", dir=out))
    try:
        repo = tmp / "repo"
        repo.mkdir()
        archive = git.run("archive", "--format=tar", bug.buggy)
        subprocess.run(["tar", "-x", "-C", str(repo)], input=archive, check=True)
        dropped = drop_unsafe_symlinks(repo)

        changes = [ln.split("\t") for ln in git.text("diff", "--no-renames", "--name-status", bug.buggy, bug.fixed).splitlines()]
        changed = [c[-1] for c in changes]
        test_side = [f for f in changed if is_test_side(f, bug.test_files)]
        source_side = [f for f in changed if f not in test_side]
        if not source_side:
            raise Fail(f"{bug_id}: the fix commit changes no file outside the tests", 1)

        # repo/: the trigger test files and the test side's non-module files (data, helpers)
        # in their fixed version
        to_repo = [f for f in test_side if f in bug.test_files or not is_test_module(f)]
        for f in dict.fromkeys([*bug.test_files, *to_repo]):
            put_fixed(git, bug.fixed, f, repo)
        for line in bug.setup_sh:
            m = re.fullmatch(r"touch\s+(\S+)", line)
            if m and ".." not in PurePosixPath(m.group(1)).parts:
                (repo / m.group(1)).parent.mkdir(parents=True, exist_ok=True)
                (repo / m.group(1)).touch()

        triggers = trigger_tests(bug.run_test, repo)
        test_cmd = "python -m pytest -q " + " ".join(triggers)

        # hidden/: the fixed test side, whole, and the fixed tests of each changed source module
        fixed_modules = [f for f in git.files(bug.fixed) if is_test_module(f)]
        reasons: dict[str, str] = {f: "changed by the fix commit" for f in test_side}
        for src in source_side:
            for t in module_tests(src, fixed_modules):
                reasons.setdefault(t, f"tests the changed module {PurePosixPath(src).name}")
        hidden = tmp / "hidden"
        hidden.mkdir()
        for f in reasons:
            put_fixed(git, bug.fixed, f, hidden)
        hidden_modules = sorted(f for f in reasons if is_test_module(f) and (hidden / f).is_file())
        trigger_files = {t.split("::")[0] for t in triggers}
        hidden_modules = sorted(set(hidden_modules) | {f for f in trigger_files if (hidden / f).is_file()})
        if not hidden_modules:
            raise Fail(f"{bug_id}: no hidden test module found", 1)
        deselect = [t for t in load_deselect().get(bug_id, []) if t.split("::")[0] in hidden_modules]
        hidden_cmd = "python -m pytest -q " + " ".join(hidden_modules) + "".join(f" --deselect {t}" for t in deselect)

        diff = git.run("diff", "--no-renames", "--binary", bug.buggy, bug.fixed, "--", *source_side)
        atomic_write(tmp / "solution.diff", diff)
        title = issue["title"].strip()
        atomic_write(tmp / "ISSUE.md", f"# {title}\n\n{issue['body'].strip()}\n")
        atomic_write(tmp / "task.toml", "\n".join([
            "# Prepared by bench/bugsinpy.py from BugsInPy; see bugsinpy.json for what task.toml has no key for.",
            "[task]",
            f"id = {toml_str(bug_id)}",
            f"description = {toml_str(f'{bug.project}: {title}')}",
            f"test_cmd = {toml_str(test_cmd)}",
            'hidden_tests = "hidden"',
            f"hidden_test_cmd = {toml_str(hidden_cmd)}",
            f"timeout_s = {TIMEOUT_S}",
            "",
            "[task.budget]",
            f"candidates = {BUDGET}",
            ""]))
        meta = {
            "bug": bug_id, "project": bug.project, "number": bug.number, "github_url": bug.github_url,
            "buggy_commit": bug.buggy, "fixed_commit": bug.fixed, "python_version": bug.python_version,
            "requirements": bug.requirements, "requirements_self": bug.requirements_self,
            "setup_sh": bug.setup_sh, "run_test_sh": bug.run_test, "bugsinpy_test_files": bug.test_files,
            "trigger_tests": triggers, "hidden_files": reasons, "hidden_test_modules": hidden_modules,
            "split": split, "dropped_symlinks": dropped, "prepared_by": "bench/bugsinpy.py",
        }
        atomic_write(tmp / "bugsinpy.json", json.dumps(meta, indent=2) + "\n")
        if dest.exists():
            shutil.rmtree(dest)
        os.rename(tmp, dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return Prepared(bug_id, test_cmd, hidden_modules)


def drop_unsafe_symlinks(root: Path) -> list[str]:
    """Remove symlinks that dangle or point outside root; return their paths.

    black's docs/*.md link to files its docs build generates, so they dangle in any fresh
    clone, and `ouro bench` copies a plain-folder repository with shutil.copytree, which
    fails on a dangling link (and would copy a link's target from outside the task). No
    test reads these links; what they pointed to is recorded in bugsinpy.json.
    """
    dropped = []
    top = root.resolve()
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            if not p.is_symlink():
                continue
            target = (p.parent / os.readlink(p)).resolve()
            if not target.exists() or not target.is_relative_to(top):
                dropped.append(f"{p.relative_to(root).as_posix()} -> {os.readlink(p)}")
                p.unlink()
    return sorted(dropped)


def put_fixed(git: Git, rev: str, path: str, root: Path) -> None:
    """Write `path` as it is at `rev` under root; delete it there if `rev` has no such file."""
    if PurePosixPath(path).is_absolute() or ".." in PurePosixPath(path).parts:
        raise Fail(f"refusing path {path!r}", 1)
    data = git.show(rev, path)
    target = root / path
    if data is None:
        if target.is_file() or target.is_symlink():
            target.unlink()
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.is_symlink():
        target.unlink()
    target.write_bytes(data)


def cmd_prepare(args) -> int:
    if shutil.which("git") is None:
        raise Fail("git is not installed", 3)
    bip = BugsInPy(Path(args.bugsinpy))
    mirrors = Path(args.mirrors)
    if not mirrors.is_dir():
        raise Fail(f"--mirrors {mirrors}: not a directory")
    issues = load_issues()
    split = load_split()
    wanted = args.bug or list(issues)
    for b in wanted:
        if b not in issues:
            raise Fail(f"{b}: not in {ISSUES_FILE.name} (every prepared bug needs a hand-written issue)")
        if b not in split:
            raise Fail(f"{b}: not in {SPLIT_FILE.name}; the split is fixed, a new bug needs an entry added by hand")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    failed = 0
    for b in wanted:
        try:
            p = prepare_bug(bip, mirrors, out, b, issues[b], split[b], args.force)
            print(f"{b:16} {split[b]:10} {p.test_cmd[len('python -m pytest -q '):]}   hidden: {len(p.hidden)} module(s)")
        except Fail as e:
            if e.exit == 2:
                raise
            failed += 1
            print(f"{b:16} not prepared: {e}", file=sys.stderr)
    print(f"prepared {len(wanted) - failed} of {len(wanted)} bugs into {out}")
    return 1 if failed else 0


# ----------------------------------------------------------------------------- split

def cmd_split(args) -> int:
    issues = load_issues()
    split = load_split()
    if args.check:
        expected = compute_split(list(issues))
        if expected != split:
            diff = sorted(set(expected.items()) ^ set(split.items()))
            raise Fail(f"{SPLIT_FILE.name} differs from its rule at {diff[0][0]} (and {len(diff) - 1} more)", 1)
    counts: dict[str, dict[str, int]] = {}
    for b, s in split.items():
        counts.setdefault(split_id(b)[0], {"train": 0, "validation": 0, "test": 0})[s] += 1
    print(f"{'project':12} {'train':>5} {'val':>5} {'test':>5}")
    for p, c in sorted(counts.items()):
        print(f"{p:12} {c['train']:5} {c['validation']:5} {c['test']:5}")
    tot = {k: sum(c[k] for c in counts.values()) for k in ("train", "validation", "test")}
    print(f"{'all':12} {tot['train']:5} {tot['validation']:5} {tot['test']:5}")
    if args.check:
        print(f"{SPLIT_FILE.name} follows its rule")
    return 0


def write_split(args) -> int:
    """Only for creating the file once (not exposed as a subcommand option that overwrites)."""
    if SPLIT_FILE.exists():
        raise Fail(f"{SPLIT_FILE} exists; the split is fixed and must not change")
    issues = load_issues()
    doc = {
        "created": datetime.date.today().isoformat(),
        "note": ("Fixed before anyone tunes anything: this file must not change. Train is what an improver "
                 "may look at, validation selects among versions, test is reported once at the end."),
        "rule": (f"per project, bugs sorted by sha256('{SPLIT_SEED}:' + bug id); the first round(40%) are train, "
                 "the next round(20%) validation, the rest test"),
        "seed": SPLIT_SEED,
        "split": compute_split(list(issues)),
    }
    atomic_write(SPLIT_FILE, json.dumps(doc, indent=2) + "\n")
    print(f"wrote {SPLIT_FILE}")
    return 0


# ----------------------------------------------------------------------------- gold

def cmd_gold(args) -> int:
    from ouro.agent.bench.judge import judge_patch
    from ouro.agent.bench.suite import load_suite
    from ouro.sandbox.policy import load_policy

    suite_dir = Path(args.suite)
    if not suite_dir.is_dir():
        raise Fail(f"{suite_dir}: not a directory")
    suite = load_suite(suite_dir)
    policy = load_policy(None)
    if args.backend:
        policy = policy.with_backend(args.backend)
    out = Path(args.out) if args.out else suite_dir / "gold.json"
    done = json.loads(out.read_text()) if out.exists() and args.resume else {}
    for task in suite.tasks:
        if args.task and task.id not in args.task or task.id in done:
            continue
        sol = task.repo.parent / "solution.diff"
        if not sol.is_file():
            continue
        try:
            v = judge_patch(task, sol.read_text(encoding="utf-8", errors="surrogateescape"), policy=policy)
            rec = {"fixed": v.fixed, "detail": v.detail,
                   "failing": sorted(n for n, o in v.outcomes.items() if o in ("failed", "error")),
                   "passed": sum(1 for o in v.outcomes.values() if o == "passed"), "seconds": round(v.seconds, 1)}
        except Exception as e:  # noqa: BLE001 - one task's environment failure is a row
            rec = {"fixed": False, "detail": f"{type(e).__name__}: {str(e).splitlines()[0][:300] if str(e) else ''}",
                   "failing": [], "passed": 0, "seconds": 0.0}
        done[task.id] = rec
        atomic_write(out, json.dumps(done, indent=2, sort_keys=True) + "\n")
        print(f"{task.id:16} {'fixed' if rec['fixed'] else 'NOT fixed':10} {rec['detail'][:120]}")
    n = sum(1 for r in done.values() if r["fixed"])
    print(f"gold patch judged fixed on {n} of {len(done)} tasks; written to {out}")
    return 0


# ----------------------------------------------------------------------------- reference

# Pins in BugsInPy's freeze lists that cannot or must not go into a PYTHONPATH folder on Linux:
# Windows-only packages, ansible's own dist, and stdlib backports that would shadow the stdlib.
REF_SKIP = re.compile(r"^(pywin32|pydivert|pyreadline|wincertstore|pypiwin32|ansible-base|dataclasses|typing|enum34|futures)"
                      r"(?=[=<>~ ]|$)", re.I)
IMAGE = "ouro-base:bookworm"
HARDENED = ["--network", "none", "--cap-drop", "ALL", "--security-opt", "no-new-privileges",
            "--user", "65534:65534", "--memory", "3g", "--memory-swap", "3g", "--pids-limit", "512",
            "--tmpfs", "/tmp:size=1g", "-e", "HOME=/tmp", "-e", "PYTHONDONTWRITEBYTECODE=1", "-e", "LANG=C.UTF-8"]


def interpreter(pythons: Path, version: str) -> Path:
    """The newest interpreter under `pythons` (pyenv's versions folder) with BugsInPy's major.minor."""
    mm = ".".join(version.split(".")[:2])
    cands = sorted((p for p in pythons.glob(f"{mm}.*") if (p / "bin" / "python3").exists()),
                   key=lambda p: [int(x) if x.isdigit() else 0 for x in p.name.split(".")])
    if not cands:
        raise Fail(f"no Python {mm} under {pythons} (BugsInPy asks for {version})", 3)
    return cands[-1]


def reference_deps(meta: dict, py: Path, cache: Path) -> tuple[Path, list[str]]:
    """BugsInPy's pins installed with pip --target inside a container (the only step with network).

    Cached under cache/<key>; a pin pip cannot find or build is dropped and reported."""
    reqs = [r for r in meta["requirements"] if not REF_SKIP.match(r)]
    extra = [ln.split(None, 2)[2] for ln in meta["setup_sh"] if ln.startswith(("pip install pytest", "pip3 install pytest"))]
    if not any(r.lower().startswith("pytest==") for r in reqs) and not any(e.startswith("pytest=") for e in extra):
        extra += ["pytest<7"]
    names = {e.split("=")[0].split("<")[0].lower() for e in extra}
    reqs = [r for r in reqs if r.split("=")[0].lower() not in names] + extra
    key = hashlib.sha256((str(py) + "\n" + "\n".join(reqs)).encode()).hexdigest()[:12]
    dest = cache / key
    if (dest / ".done").exists():
        failed = (dest / "failed.txt").read_text().split()
        if failed and not (dest / "substituted.txt").exists():
            substitute_wheels(failed, py, cache, dest)
        return dest, failed
    tmp = cache / f"{key}.part"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    pip = pip_in_container(py, cache, tmp)
    failed: list[str] = []
    r = None
    for _ in range(12):  # drop what pip names as unavailable, one at a time
        atomic_write(tmp / "req.txt", "\n".join(reqs) + "\n")
        r = subprocess.run(pip + ["-r", "/deps/req.txt"], capture_output=True, text=True)
        if r.returncode == 0:
            break
        m = (re.search(r"No matching distribution found for ([A-Za-z0-9_.\-]+)", r.stderr)
             or re.search(r"Failed (?:building wheel|to build) (?:for )?([A-Za-z0-9_.\-]+)", r.stderr)
             or re.search(r"Could not build wheels for ([A-Za-z0-9_.\-]+)", r.stderr))
        if not m:
            break
        bad = m.group(1).lower().replace("_", "-")
        keep = [q for q in reqs if re.split(r"[=<>~!; \[]", q)[0].lower().replace("_", "-") != bad]
        if len(keep) == len(reqs):
            break
        failed += [q for q in reqs if q not in keep]
        reqs = keep
    if r is not None and r.returncode != 0:  # last resort: one pin at a time, without their deps
        atomic_write(tmp / "pip-first.log", r.stderr[-5000:])
        for q in reqs:
            if subprocess.run(pip + ["--no-deps", q], capture_output=True, text=True).returncode != 0:
                failed.append(q)
        subprocess.run(pip + ["--upgrade", *extra], capture_output=True, text=True)
    atomic_write(tmp / "failed.txt", "\n".join(failed) + "\n")
    if failed:
        substitute_wheels(failed, py, cache, tmp)
    (tmp / ".done").write_text("")
    shutil.rmtree(dest, ignore_errors=True)
    os.rename(tmp, dest)
    return dest, failed


def pip_in_container(py: Path, cache: Path, target: Path) -> list[str]:
    """`pip install --target /deps/site` with BugsInPy's Python in a container that may reach the index."""
    ca = subprocess.run([sys.executable, "-m", "pip", "config", "get", "global.cert"], capture_output=True, text=True).stdout.strip()
    pip = ["docker", "run", "--rm", "--network", "host", "-v", f"{py}:{py}:ro", "-v", f"{target}:/deps",
           "-v", f"{cache / 'pip'}:/pipcache", "-e", "PIP_CACHE_DIR=/pipcache", "-e", "PIP_DISABLE_PIP_VERSION_CHECK=1"]
    if ca and Path(ca).is_file():
        pip += ["-v", f"{ca}:/ca.crt:ro", "-e", "PIP_CERT=/ca.crt"]
    return pip + [IMAGE, f"{py}/bin/python3", "-m", "pip", "install", "-q", "--no-warn-script-location",
                  "--target", "/deps/site"]


def substitute_wheels(failed: list[str], py: Path, cache: Path, target: Path) -> None:
    """A pin that has no wheel for this Python (the image has no compiler: psutil 5.7.0, Twisted
    20.3.0 ...) is replaced by a wheel of the same package that this Python can install: the
    newest within the pinned major version or the next, else the newest."""
    pip = pip_in_container(py, cache, target)
    got = []
    for q in failed:
        name = re.split(r"[=<>~!; \[]", q)[0]
        m = re.search(r"==\s*(\d+)", q)
        tries = [f"{name}>={m.group(1)},<{int(m.group(1)) + 2}"] if m else []  # near the pin first
        for spec in [*tries, name]:
            r = subprocess.run(pip + ["--no-deps", "--only-binary", ":all:", spec], capture_output=True)
            if r.returncode == 0:
                got.append(f"{q} -> {spec} (a wheel)")
                break
    atomic_write(target / "substituted.txt", "\n".join(got) + "\n")


def reference_pytest(py: Path, deps: Path, tree: Path, args: list[str], project: str, timeout: int) -> tuple[int, dict, str]:
    """Run pytest on a copy of `tree` with no network; returns (exit status, node id -> outcome, output tail)."""
    with tempfile.TemporaryDirectory(prefix="bugsinpy-ref-") as tmp:
        run = Path(tmp) / "w"
        shutil.copytree(tree, run, symlinks=True)
        setup = run / "setup.py"
        if setup.is_file() and "_black_version" in setup.read_text(errors="replace"):
            atomic_write(run / "_black_version.py", 'version = "0.0.dev0"\n')  # setuptools_scm writes it at install
        subprocess.run(["chmod", "-R", "a+rwX", str(run)], check=False)
        path = "/deps/site" + (":/w/lib" if project == "ansible" else "")  # ansible's package is under lib/
        cmd = ["timeout", str(timeout), "docker", "run", "--rm", *HARDENED, "-e", f"PYTHONPATH={path}",
               "-e", "LD_LIBRARY_PATH=/opt/py/lib", "-v", f"{py}:/opt/py:ro", "-v", f"{deps}:/deps:ro",
               "-v", f"{run}:/w", "-w", "/w", IMAGE, "/opt/py/bin/python3", "-m", "pytest", "-p", "no:cacheprovider",
               # setuptools >= 71 (pulled in by some pins) registers its vendored typeguard as a
               # pytest plugin, which old pytest versions refuse at start-up
               "-p", "no:typeguard",
               "-v", "-rA", "--tb=short", *args]
        p = subprocess.run(cmd, capture_output=True, text=True)
    text = p.stdout + p.stderr
    outcomes: dict[str, str] = {}
    for m in re.finditer(r"^(\S+::\S+?) (PASSED|FAILED|ERROR|SKIPPED|XFAIL|XPASS)\b", text, re.M):
        outcomes.setdefault(m.group(1), m.group(2).lower())
    for m in re.finditer(r"^(PASSED|FAILED|ERROR|SKIPPED|XFAIL|XPASS) (\S+::\S+)", text, re.M):
        outcomes.setdefault(m.group(2), m.group(1).lower())
    return p.returncode, outcomes, text


def cmd_reference(args) -> int:
    from ouro.agent.bench.suite import load_suite  # noqa: F401 - only to fail early outside the venv

    suite_dir = Path(args.suite)
    if not suite_dir.is_dir():
        raise Fail(f"{suite_dir}: not a directory")
    if shutil.which("docker") is None:
        raise Fail("docker is not installed", 3)
    pythons = Path(args.pythons).expanduser()
    cache = Path(args.cache)
    cache.mkdir(parents=True, exist_ok=True)
    out = Path(args.out) if args.out else suite_dir / "reference.json"
    done = json.loads(out.read_text()) if out.exists() and args.resume else {}
    tasks = sorted(p.parent for p in suite_dir.glob("*/bugsinpy.json"))
    for tdir in tasks:
        tid = tdir.name
        if (args.task and tid not in args.task) or tid in done:
            continue
        meta = json.loads((tdir / "bugsinpy.json").read_text(encoding="utf-8"))
        task = tomllib.loads((tdir / "task.toml").read_text(encoding="utf-8"))["task"]
        py = interpreter(pythons, meta["python_version"])
        deps, failed = reference_deps(meta, py, cache)
        triggers = meta["trigger_tests"]
        rc_b, out_b, text_b = reference_pytest(py, deps, tdir / "repo", triggers, meta["project"], args.timeout)
        with tempfile.TemporaryDirectory(prefix="bugsinpy-fixed-") as tmp:
            fixed = Path(tmp) / "repo"
            shutil.copytree(tdir / "repo", fixed, symlinks=True)
            ok = subprocess.run(["git", "apply", "-p1", str((tdir / "solution.diff").resolve())], cwd=fixed,
                                capture_output=True).returncode == 0
            shutil.copytree(tdir / "hidden", fixed, dirs_exist_ok=True)
            rc_f, out_f, _ = reference_pytest(py, deps, fixed, triggers, meta["project"], args.timeout)
            rc_h, out_h, text_h = reference_pytest(py, deps, fixed, shlex_args(task["hidden_test_cmd"]),
                                                   meta["project"], args.timeout)
        failing_b = {t: o for t, o in out_b.items() if o in ("failed", "error")}
        kind = "not"
        if rc_b not in (0, 5) and (failing_b or rc_b in (2, 4)):
            kinds = [classify_failure(block_for(text_b, t))[0] for t in failing_b] or [classify_failure(text_b)[0]]
            kind = "behaviour" if "behaviour" in kinds else "environment"
        subst = (deps / "substituted.txt").read_text().splitlines() if (deps / "substituted.txt").exists() else []
        rec = {
            "python": py.name, "deps_failed": failed, "deps_substituted": [x for x in subst if x],
            "solution_applies": ok,
            "buggy_trigger": out_b, "buggy_rc": rc_b, "buggy_kind": kind,
            "buggy_detail": classify_failure(block_for(text_b, next(iter(failing_b), "")) if failing_b else text_b)[1],
            "fixed_trigger": out_f, "fixed_rc": rc_f,
            "fixed_hidden_rc": rc_h,
            "fixed_hidden_failing": sorted(t for t, o in out_h.items() if o in ("failed", "error")),
            "fixed_hidden_passed": sum(1 for o in out_h.values() if o == "passed"),
        }
        rec["valid"] = (kind == "behaviour" and rc_f == 0 and bool(out_f)
                        and all(o == "passed" for o in out_f.values()))
        done[tid] = rec
        atomic_write(out, json.dumps(done, indent=2, sort_keys=True) + "\n")
        print(f"{tid:16} Python {py.name:8} buggy: {kind:11} fixed trigger: {'pass' if rc_f == 0 else 'FAIL'}  "
              f"hidden on fixed: {rec['fixed_hidden_passed']} pass, {len(rec['fixed_hidden_failing'])} fail"
              + (f"  (pins not installed: {len(failed)})" if failed else ""), flush=True)
    n = sum(1 for r in done.values() if r["valid"])
    print(f"{n} of {len(done)} bugs reproduce for a behavioural reason in the reference environment and pass when fixed; "
          f"written to {out}")
    return 0


def shlex_args(cmd: str) -> list[str]:
    import shlex
    argv = shlex.split(cmd)
    args = argv[3:] if argv[:3] == ["python", "-m", "pytest"] else argv[1:]
    out, skip = [], False
    for a in args:  # the reference run reads -v lines, and runs what prepare deselects
        if skip:
            skip = False
        elif a == "--deselect":
            skip = True
        elif a not in ("-q", "--quiet") and not a.startswith("--deselect="):
            out.append(a)
    return out


def block_for(text: str, node: str) -> str:
    """The failure section pytest printed for one test (its `___ name ___` block), else all text."""
    name = node.split("::")[-1] if node else ""
    if name:
        m = re.search(r"^_{3,} [^\n]*\b" + re.escape(name) + r"\b[^\n]*_{3,}$(.*?)(?=^_{3,} |^=+ )", text, re.M | re.S)
        if m:
            return m.group(1)
    return text


# ----------------------------------------------------------------------------- table

ENV_PATTERNS = [
    (r"ModuleNotFoundError: No module named '([^']+)'", "missing module {0}"),
    (r"ImportError: cannot import name '([^']+)' from '([^']+)'", "cannot import {0} from {1}"),
    (r"ImportError: ([^\n|]+)", "ImportError: {0}"),
    (r"AttributeError: module '(collections|inspect|asyncio|typing|time|os|sys|re|html\.parser|cgi|imp)' has no attribute '([^']+)'",
     "removed stdlib {0}.{1}"),
    (r"fixture '([^']+)' not found", "fixture {0} not found"),
    (r"FileNotFoundError: \[Errno 2\] No such file or directory: '(git|go|hg|svn|java|ffmpeg)'", "missing tool {0}"),
    (r"PytestUnknownMarkWarning|PluginValidationError|pytest_[a-z_]+ hook", "pytest plugin/version problem"),
    (r"DeprecationWarning: ([^\n|]{0,80})", "DeprecationWarning as error: {0}"),
    (r"SyntaxError: ([^\n|]+)", "SyntaxError: {0}"),
]


def classify_failure(text: str) -> tuple[str, str]:
    """('environment', why) or ('behaviour', first line) for one failing test's report text."""
    for pat, fmt in ENV_PATTERNS:
        m = re.search(pat, text or "")
        if m:
            return "environment", fmt.format(*m.groups())
    last = [ln.strip() for ln in (text or "").splitlines() if re.match(r"^E\s+\S", ln.strip())]
    first = last[0][1:].strip() if last else (text or "").strip().splitlines()[-1:] or [""]
    return "behaviour", (first if isinstance(first, str) else first[0])[:100]


def read_jsonl(path: Path) -> list[dict]:
    out = []
    if path.is_file():
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                pass
    return out


def reproduction(task: dict) -> tuple[str, str]:
    """(behaviour | environment | not, the reason) for one bench task, from its run directory."""
    run_dir = Path(task.get("run_dir") or "")
    problem = task.get("problem") or ""
    baseline = run_dir / "baseline.json"
    if run_dir.is_dir() and baseline.is_file():
        b = json.loads(baseline.read_text(encoding="utf-8"))
        targets = b.get("target") or []
        kinds = [classify_failure(b["failing"].get(t, "")) for t in targets]
        beh = [why for k, why in kinds if k == "behaviour"]
        env = [why for k, why in kinds if k == "environment"]
        if beh:
            return "behaviour", f"{len(beh)}/{len(targets)} target(s): {beh[0]}"
        if env:
            return "environment", f"{len(env)} target(s): {env[0]}"
        return "not", "no target"
    text = problem
    for ev in read_jsonl(run_dir / "trajectory.jsonl") if run_dir.is_dir() else []:
        if ev.get("event") == "result" or ev.get("kind") == "result":
            text = text or json.dumps(ev)
    if "does not import" in text:
        why = text.split(" fails with ", 1)[-1]
        kind, detail = classify_failure(why)
        return "environment", detail if kind == "environment" else f"collection error: {why[:100]}"
    if "could not reproduce" in text:
        return "not", text[:100]
    if "ImageError" in text or "could not install" in text:
        return "not", "dependencies did not install: " + text.split(":", 2)[-1].strip()[:100]
    return "not", (text or "no run directory")[:100]


def deps_installed(task: dict, suite: Path | None) -> str:
    """What ouro installed for the task, from the run's `environment` trajectory event; "-" for a
    run that logged none (ouro before per-project environments, or no run directory kept)."""
    run_dir = Path(task.get("run_dir") or "")
    for ev in read_jsonl(run_dir / "trajectory.jsonl") if run_dir.is_dir() else []:
        if ev.get("kind") == "environment":
            deps = ev.get("installed") or []
            left = " (some left out)" if "left out" in " ".join(ev.get("notes") or []) else ""
            return f"{len(deps)} installed{left}" if deps else "none"
    return "-"


def python_used(task: dict, default: str = "-") -> str:
    """The Python of the run's `environment` event; `default` for a run that logged none."""
    run_dir = Path(task.get("run_dir") or "")
    for ev in read_jsonl(run_dir / "trajectory.jsonl") if run_dir.is_dir() else []:
        if ev.get("kind") == "environment" and ev.get("python"):
            return str(ev["python"]) + (f" ({ev['python_source']})" if ev.get("python_source") else "")
    return default


def table_rows(doc: dict, suite: Path | None, gold: dict, reference: dict | None = None,
               default_python: str = "-") -> list[dict]:
    rows = []
    for t in doc.get("tasks", []):
        meta = {}
        if suite is not None and (suite / t["task_id"] / "bugsinpy.json").is_file():
            meta = json.loads((suite / t["task_id"] / "bugsinpy.json").read_text(encoding="utf-8"))
        rep, why = reproduction(t)
        g = gold.get(t["task_id"])
        ref = (reference or {}).get(t["task_id"])
        rows.append({
            "bug": t["task_id"], "split": meta.get("split", "?"),
            "python_bugsinpy": meta.get("python_version", "?"), "python_used": python_used(t, default_python),
            "deps": deps_installed(t, suite), "reproduced": rep, "reproduce_detail": why,
            "status": t["status"], "fixed_hidden": t["status"] == "fixed",
            "gold_fixed": None if g is None else bool(g.get("fixed")),
            "reference": None if ref is None else {
                "python": ref["python"], "buggy": ref["buggy_kind"],
                "fixed_trigger_pass": ref["fixed_rc"] == 0, "valid": ref["valid"],
                "hidden_failing_on_fixed": len(ref["fixed_hidden_failing"])},
            "candidates": t.get("candidates_validated") or 0, "wall_s": round(t.get("wall_s") or 0),
            "problem": (t.get("problem") or "")[:160],
        })
    return rows


def shorten(text: str, n: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 3] + "..."


def _optional_json(option: str, path: str | None) -> dict:
    """The JSON file an optional option names, or {} when it is not given; a bad file is one line."""
    if not path:
        return {}
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as e:
        raise Fail(f"{option} {path}: {e}")


def cmd_table(args) -> int:
    path = Path(args.results)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as e:
        raise Fail(f"{path}: {e}")
    if "tasks" not in doc:
        raise Fail(f"{path}: not an `ouro bench` results.json (no tasks)")
    suite = Path(args.suite or doc.get("suite") or "")
    suite = suite if suite.is_dir() else None
    gold = _optional_json("--gold", args.gold)
    reference = _optional_json("--reference", args.reference)
    rows = table_rows(doc, suite, gold, reference, args.default_python)
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    head = ["bug", "split", "BugsInPy Python", "Python used", "dependencies installed", "reproduced",
            "status", "fixed (hidden)"] + (["gold fixed"] if gold else []) + (["reference run"] if reference else [])
    print("| " + " | ".join(head) + " |")
    print("|" + "|".join("---" for _ in head) + "|")
    for r in rows:
        cells = [r["bug"], r["split"], r["python_bugsinpy"], r["python_used"], r["deps"],
                 f"{r['reproduced']}: {shorten(r['reproduce_detail'], 90)}", r["status"].replace("_", " "),
                 "yes" if r["fixed_hidden"] else "no"]
        if gold:
            cells.append("-" if r["gold_fixed"] is None else "yes" if r["gold_fixed"] else "no")
        if reference:
            ref = r["reference"]
            cells.append("-" if ref is None else
                         f"{ref['python']}: {ref['buggy']}, fixed {'passes' if ref['fixed_trigger_pass'] else 'FAILS'}"
                         + (f", {ref['hidden_failing_on_fixed']} hidden fail on fixed" if ref["hidden_failing_on_fixed"] else ""))
        print("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    n = len(rows)
    rep = {k: sum(1 for r in rows if r["reproduced"] == k) for k in ("behaviour", "environment", "not")}
    st = {k: sum(1 for r in rows if r["status"] == k) for k in ("fixed", "plausible_wrong", "not_found", "error")}
    print()
    print(f"{n} bugs: reproduced for a behavioural reason {rep['behaviour']}, environment only {rep['environment']}, "
          f"not reproduced {rep['not']}; fixed {st['fixed']}, plausible but wrong {st['plausible_wrong']}, "
          f"not found {st['not_found']}, error {st['error']}"
          + (f"; gold patch fixed in this environment {sum(1 for r in rows if r['gold_fixed'])}" if gold else "")
          + (f"; valid in the reference run (BugsInPy's Python and pins: trigger fails for a behavioural reason, "
             f"passes when fixed) {sum(1 for r in rows if r['reference'] and r['reference']['valid'])}" if reference else ""))
    return 0


# ----------------------------------------------------------------------------- main

def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="bench/bugsinpy.py", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("prepare", help="write the task suite from BugsInPy and the project mirrors")
    p.add_argument("--bugsinpy", required=True, help="BugsInPy's git directory (or a checkout)")
    p.add_argument("--mirrors", required=True,
                   help="folder with one git directory per project: <owner>+<name>/repo, <owner>+<name> or <owner>+<name>.git")
    p.add_argument("--out", required=True, help="where the suite goes (outside this repository, e.g. /work/devsuite)")
    p.add_argument("--bug", action="append", help="prepare only this bug id (repeatable); default every bug with an issue")
    p.add_argument("--force", action="store_true", help="replace tasks that already exist in --out")
    p = sub.add_parser("split", help="print the train/validation/test split")
    p.add_argument("--check", action="store_true", help="verify that the committed split follows its rule")
    p.add_argument("--create", action="store_true", help=argparse.SUPPRESS)
    p = sub.add_parser("gold", help="judge each task's reference fix with ouro's judge in today's sandbox")
    p.add_argument("suite", help="a prepared suite")
    p.add_argument("--out", help="JSON file for the verdicts (default SUITE/gold.json)")
    p.add_argument("--task", action="append", help="only this task (repeatable)")
    p.add_argument("--backend", help="sandbox backend (default the policy file's)")
    p.add_argument("--resume", action="store_true", help="keep verdicts already in --out")
    p = sub.add_parser("reference", help="check each task in BugsInPy's Python with its pinned requirements (Docker)")
    p.add_argument("suite", help="a prepared suite")
    p.add_argument("--pythons", default="~/.pyenv/versions", help="folder of interpreters named X.Y.Z (default ~/.pyenv/versions)")
    p.add_argument("--cache", default=str(Path(tempfile.gettempdir()) / "bugsinpy-deps"),
                   help="folder for the installed pins, one per Python and pin list (default: TMPDIR/bugsinpy-deps)")
    p.add_argument("--out", help="JSON file for the results (default SUITE/reference.json)")
    p.add_argument("--task", action="append", help="only this task (repeatable)")
    p.add_argument("--timeout", type=int, default=900, help="seconds per pytest run (default 900)")
    p.add_argument("--resume", action="store_true", help="keep results already in --out")
    p = sub.add_parser("deselect", help="write bench/bugsinpy_deselect.json from a reference.json")
    p.add_argument("reference", help="reference.json from `reference`")
    p = sub.add_parser("table", help="the per-bug table (docs/repair.md) from an `ouro bench` results.json")
    p.add_argument("results", help="results.json written by `ouro bench`")
    p.add_argument("--suite", help="the prepared suite (default: the suite path results.json names)")
    p.add_argument("--gold", help="gold.json from `gold`, adds a column")
    p.add_argument("--reference", help="reference.json from `reference`, adds a column")
    p.add_argument("--default-python", default="-",
                   help="what the Python column says for a run that logged no environment (ouro before "
                        "per-project environments: '3.11 (bookworm base)')")
    p.add_argument("--json", action="store_true", help="rows as JSON instead of a Markdown table")
    args = ap.parse_args(argv)
    try:
        if args.cmd == "prepare":
            return cmd_prepare(args)
        if args.cmd == "split":
            return write_split(args) if args.create else cmd_split(args)
        if args.cmd == "gold":
            return cmd_gold(args)
        if args.cmd == "reference":
            return cmd_reference(args)
        if args.cmd == "deselect":
            return cmd_deselect(args)
        return cmd_table(args)
    except Fail as e:
        print(f"bugsinpy: {e}", file=sys.stderr)
        return e.exit
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
