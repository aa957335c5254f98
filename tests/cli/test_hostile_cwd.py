"""ouro started from inside a malicious repository runs none of its code on the host (issue 13,
class 1): not through `python -m` (a `pip/` package the build's pip configuration lookup once
imported), not through start-up hooks (`sitecustomize.py`, `usercustomize.py`), not through
the modules a Python child imports first (`multiprocessing/` for the process pool's
forkserver), and not through git (a `.git/config` naming `core.fsmonitor`, hooks under
`core.hooksPath` and `.git/hooks`, a clean filter `.gitattributes` selects, a signing program).

Every trap writes a canary file outside the repository. The test runs the real `ouro` console
script with the repository as its working directory, through a repair with a dependency (so
the environment build runs) and `--apply` (so git writes a commit and a ref in the user's
repository), and then arms each trap by hand to show it would have fired."""
from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from repair_helpers import BUGGY, write

OURO = Path(sys.executable).with_name("ouro")
HOOKS = ("pre-commit", "commit-msg", "post-commit", "pre-auto-gc", "reference-transaction", "post-checkout",
         "post-index-change", "pre-applypatch", "post-applypatch", "applypatch-msg", "post-rewrite")


def hostile_repo(root: Path, canary_dir: Path) -> Path:
    """The buggy shop with every trap set; each writes `canary_dir/<trap>` when it runs."""
    def py_trap(name: str) -> str:   # a no-op where the canary directory does not exist (in a sandbox)
        return (f"import os\nif os.path.isdir({str(canary_dir)!r}):\n"
                f"    open(os.path.join({str(canary_dir)!r}, {name!r}), 'a').write('ran\\n')\n")

    repo = write(root, {
        **BUGGY,
        "requirements.txt": "iniconfig==2.0.0\n",   # a dependency: the environment build runs
        "pip/__init__.py": py_trap("pip-package"),
        "pip/__main__.py": py_trap("pip-main"),
        "sitecustomize.py": py_trap("sitecustomize"),
        "usercustomize.py": py_trap("usercustomize"),
        "multiprocessing/__init__.py": py_trap("multiprocessing"),
        "runpy.py": py_trap("runpy"),
        "git/__init__.py": py_trap("gitpython"),
        "docker/__init__.py": py_trap("docker-sdk"),
        ".gitattributes": "* filter=evil diff=evil\n",
    })
    script = canary_dir.parent / "trap.sh"
    script.write_text(f'#!/bin/sh\necho "$0 $*" >> {canary_dir}/git-program\ncat\n')
    script.chmod(0o755)
    hooks = canary_dir.parent / "hooks"
    hooks.mkdir()
    env = {"PATH": "/usr/bin:/bin", "HOME": str(root), "GIT_AUTHOR_NAME": "u", "GIT_AUTHOR_EMAIL": "u@x",
           "GIT_COMMITTER_NAME": "u", "GIT_COMMITTER_EMAIL": "u@x"}
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True, env=env)
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True, env=env)
    subprocess.run(["git", "commit", "-qm", "buggy shop"], cwd=repo, check=True, env=env)
    for name in HOOKS:
        for d in (hooks, repo / ".git" / "hooks"):
            (d / name).write_text(f"#!/bin/sh\necho {name} >> {canary_dir}/git-hook\n")
            (d / name).chmod(0o755)
    with open(repo / ".git" / "config", "a") as f:
        f.write(f"[core]\n\tfsmonitor = {script}\n\thooksPath = {hooks}\n\tpager = {script}\n"
                f"[filter \"evil\"]\n\tclean = {script} clean\n\tsmudge = {script} smudge\n\trequired = true\n"
                f"[diff \"evil\"]\n\ttextconv = {script}\n\tcommand = {script}\n"
                f"[commit]\n\tgpgSign = true\n[gpg]\n\tprogram = {script}\n"
                f"[user]\n\tname = u\n\temail = u@x\n")
    # a newer mtime on every file: git must re-read them (and run the clean filter) to tell clean from dirty
    later = time.time() + 5
    for p in repo.rglob("*"):
        if ".git" not in p.relative_to(repo).parts:
            os.utime(p, (later, later))
    return repo


@pytest.fixture
def hostile(tmp_path):
    canaries = tmp_path / "canaries"
    canaries.mkdir()
    os.chmod(tmp_path, 0o755)
    return hostile_repo(tmp_path / "shop", canaries), canaries


def test_ouro_run_from_inside_a_hostile_repository_runs_none_of_its_code(hostile, tmp_path, base_image):
    repo, canaries = hostile
    r = subprocess.run([str(OURO), "--home", str(tmp_path / "home"), "repair", ".", "--issue",
                        "discount above 100 percent goes negative", "--budget", "60", "--apply", "--json"],
                       cwd=repo, capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr[-3000:]
    out = json.loads(r.stdout)
    assert out["status"] == "plausible" and out["branch"].startswith("ouro/")
    assert "iniconfig==2.0.0" in out["environment"]["installed"]   # the build ran (and read pip's configuration)
    assert sorted(os.listdir(canaries)) == [], {n: (canaries / n).read_text()[:300] for n in os.listdir(canaries)}
    # the branch is there, committed without a signature
    show = subprocess.run(["git", "-c", "core.fsmonitor=false", "-c", "core.hooksPath=/dev/null", "cat-file", "-p",
                           out["branch"]], cwd=repo, capture_output=True, text=True, env={"PATH": "/usr/bin:/bin"})
    assert "gpgsig" not in show.stdout and "ouro:" in show.stdout, show.stdout + show.stderr
    assert sorted(os.listdir(canaries)) == []

    # each trap is armed: what an unguarded host process would have run (without the
    # PYTHONSAFEPATH this test process may have from ouro code it ran in-process before)
    unguarded = {k: v for k, v in os.environ.items() if k != "PYTHONSAFEPATH"}
    subprocess.run([sys.executable, "-m", "pip", "--version"], cwd=repo, capture_output=True, timeout=60,
                   env=unguarded)
    subprocess.run(["git", "status", "--porcelain"], cwd=repo, capture_output=True, timeout=60,
                   env={"PATH": "/usr/bin:/bin", "HOME": str(repo)})
    subprocess.run(["git", "update-ref", "refs/heads/armed", "HEAD"], cwd=repo, capture_output=True, timeout=60,
                   env={"PATH": "/usr/bin:/bin", "HOME": str(repo)})
    subprocess.run([sys.executable, "-c", "from concurrent.futures import ProcessPoolExecutor as P; import multiprocessing"
                    " as m; print(P(1, mp_context=m.get_context('forkserver')).submit(abs, -1).result())"],
                   cwd=repo, capture_output=True, timeout=60, env={**unguarded, "PYTHONPATH": ""})
    fired = set(os.listdir(canaries))
    assert {"pip-package", "git-program", "git-hook", "multiprocessing"} <= fired, fired


def test_the_process_pool_started_from_a_hostile_directory_imports_nothing_of_it(hostile):
    repo, canaries = hostile
    code = ("from ouro.sandbox.core.executor import make_executor\n"
            "ex = make_executor(workers=1)\nprint(ex.map(abs, [-1, -2]))\nex.close()\n")
    r = subprocess.run([sys.executable, "-P", "-c", code], cwd=repo, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and "[1, 2]" in r.stdout, r.stderr[-2000:]
    assert sorted(os.listdir(canaries)) == []


def test_hostgit_switches_off_what_the_repository_configures(hostile):
    from ouro.sandbox.core.hostgit import git, repo_drivers

    repo, canaries = hostile
    assert {"filter.evil.clean=", "filter.evil.smudge=", "filter.evil.required=false",
            "diff.evil.textconv=cat", "diff.evil.command="} <= set(repo_drivers(repo))
    for args in (("status", "--porcelain"), ("ls-files", "-co", "--exclude-standard"), ("add", "-A"),
                 ("archive", "--format=tar", "HEAD"), ("diff", "HEAD"), ("log", "-p", "-1"),
                 ("update-ref", "refs/heads/x", "HEAD")):
        p = git(repo, *args)
        assert p.returncode == 0, (args, p.stderr)
    assert sorted(os.listdir(canaries)) == []
    assert stat.S_ISREG((repo / ".git" / "refs" / "heads" / "x").stat().st_mode)


def test_ray_workers_started_from_a_hostile_directory_do_not_search_it(hostile):
    """Ray puts the driver's working directory on every worker's sys.path; ouro starts Ray from
    an empty directory instead. Checked from the worker's own sys.path."""
    pytest.importorskip("ray")
    repo, canaries = hostile
    code = ("from ouro.sandbox.core.executor import RayExecutor\n"
            "ex = RayExecutor('local', workers=1)\n"
            "import json; print(json.dumps(ex.map(eval, [\"__import__('sys').path\"])[0]))\nex.close()\n")
    r = subprocess.run([sys.executable, "-P", "-c", code], cwd=repo, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    worker_path = json.loads(r.stdout.strip().splitlines()[-1])
    assert str(repo) not in worker_path and "" not in worker_path, worker_path
    assert sorted(os.listdir(canaries)) == []
