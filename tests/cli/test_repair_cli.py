"""`ouro repair` end to end in a real sandbox (bubblewrap: the fast tier), and every bad input:
one line on stderr, its own documented exit code, nothing written to the user's repository."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from repair_helpers import BUGGY, tree_digest, write

ROOT = Path(__file__).resolve().parents[2]
OURO = [sys.executable, "-m", "ouro.agent.cli"]

pytestmark = [pytest.mark.bwrap, pytest.mark.usefixtures("bwrap_available")]


def ouro(*args: str, home: Path, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([*OURO, "--home", str(home), *args], capture_output=True, text=True, timeout=timeout,
                          cwd=ROOT)


@pytest.fixture(scope="module")
def repaired(tmp_path_factory):
    """One real repair (bwrap sandbox, built-in policy), shared by the checks below."""
    tmp = tmp_path_factory.mktemp("e2e")
    repo = write(tmp / "shop", BUGGY)
    (tmp / "ISSUE.md").write_text("discount() with a percent above 100 should give 0, it gives a negative price\n")
    before = tree_digest(repo)
    home = tmp / "home"
    r = ouro("repair", str(repo), "--issue-file", str(tmp / "ISSUE.md"), "--backend", "bwrap", "--json",
             "--budget", "60", home=home)
    return r, repo, before, home


def test_repair_finds_validated_patch_and_writes_run_files(repaired):
    r, repo, before, home = repaired
    assert r.returncode == 0, r.stderr[-2000:]
    out = json.loads(r.stdout)
    assert out["status"] == "plausible"
    assert {"run_id", "run_dir", "status", "patch", "explanation", "candidates_validated", "seconds"} <= set(out)
    assert "-        return lo\n+        return hi\n" in out["patch"]
    run_dir = Path(out["run_dir"])
    for name in ("patch.diff", "explanation.md", "trajectory.jsonl", "tree.json", "state.json", "validations.jsonl"):
        assert (run_dir / name).exists(), name
    kinds = {json.loads(line)["kind"] for line in (run_dir / "trajectory.jsonl").read_text().splitlines()}
    assert {"reproduce", "localize", "proposal", "validation", "value", "selection", "result"} <= kinds
    assert "Explanation chain" in out["explanation"] and "test_discount_capped" in out["explanation"]
    assert tree_digest(repo) == before        # the user's directory is untouched
    # the patch applies to a fresh copy and makes the tests pass there
    assert subprocess.run(["git", "apply", "--check", "-p1", str(run_dir / "patch.diff")], cwd=repo).returncode == 0


def test_runs_list_and_show(repaired):
    r, repo, before, home = repaired
    run_id = json.loads(r.stdout)["run_id"]
    lst = ouro("runs", "list", "--json", home=home)
    assert lst.returncode == 0 and run_id in [row["run_id"] for row in json.loads(lst.stdout)]
    show = ouro("runs", "show", run_id, home=home)
    assert show.returncode == 0 and "plausible" in show.stdout and "+        return hi" in show.stdout
    missing = ouro("runs", "show", "nope", home=home)
    assert missing.returncode == 2 and missing.stderr.strip().count("\n") == 0


CASES = {
    # name: (files, extra args, expected exit code, message fragment)
    "no_tests": ({"lib/core.py": "def f():\n    return 1\n"}, [], 4, "no tests found"),
    "all_pass": ({"m.py": "def f():\n    return 1\n", "tests/test_m.py": "from m import f\n\ndef test_f():\n    assert f() == 1\n"},
                 [], 3, "could not reproduce"),
    # each test finishes within its own limit, the suite does not within the run's: exit 5
    # (a test that hangs is a failing test instead: test_repair_timeouts.py)
    "too_slow": ({"m.py": "import time\n\ndef f():\n    time.sleep(0.6)\n",
                  "tests/test_m.py": "import pytest\nfrom m import f\n\n@pytest.mark.parametrize('i', range(5))\n"
                                     "def test_f(i):\n    f()\n"},
                 ["--test-timeout", "2"], 5, "did not finish within 2s"),
    "no_import": ({"m.py": "import numpy_that_is_not_there\n", "tests/test_m.py": "from m import *\n\ndef test_f():\n    pass\n"},
                  [], 6, "does not import"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_repositories_give_one_line_and_own_exit_code(tmp_path, case):
    files, extra, code, fragment = CASES[case]
    repo = write(tmp_path / "repo", files)
    before = tree_digest(repo)
    r = ouro("repair", str(repo), "--issue", "it is broken", "--backend", "bwrap", *extra, home=tmp_path / "home")
    assert r.returncode == code, r.stderr[-1500:]
    err = [ln for ln in r.stderr.splitlines() if ln.startswith("ouro: error:")]
    assert len(err) == 1 and fragment in err[0], r.stderr[-1500:]
    assert "Traceback" not in r.stderr
    assert tree_digest(repo) == before


def test_bad_arguments(tmp_path):
    repo = write(tmp_path / "repo", {"m.py": "x = 1\n"})
    before = tree_digest(repo)
    home = tmp_path / "home"
    r = ouro("repair", str(tmp_path / "missing"), home=home)
    assert r.returncode == 2 and "no such directory" in r.stderr and "Traceback" not in r.stderr
    r = ouro("repair", str(repo), "--issue-file", str(tmp_path / "nope.md"), home=home)
    assert r.returncode == 2 and "issue file" in r.stderr and "does not exist" in r.stderr
    r = ouro("repair", str(repo), "--backend", "local", home=home)
    assert r.returncode == 2 and "--unsafe-local" in r.stderr
    r = ouro("repair", str(repo), "--test-cmd", "make test", home=home)
    assert r.returncode == 2 and "pytest" in r.stderr
    r = ouro("repair", "--resume", "nosuchrun", home=home)
    assert r.returncode == 2 and "nosuchrun" in r.stderr
    r = ouro("repair", str(repo), "--ranker", str(tmp_path / "missing.pt"), home=home)
    assert r.returncode == 2 and "--ranker takes" in r.stderr and "Traceback" not in r.stderr  # before reproducing
    assert tree_digest(repo) == before


def test_help_documents_every_exit_code():
    r = subprocess.run([*OURO, "repair", "--help"], capture_output=True, text=True, cwd=ROOT)
    for code in ("0 ", "1 ", "2 ", "3 ", "4 ", "5 ", "6 ", "130"):
        assert f"\n  {code}" in r.stdout, code
    for words in ("could not reproduce", "no tests found", "hang", "does not import", "issue file"):
        assert words in r.stdout


def test_apply_through_the_cli_keeps_the_users_state(tmp_path):
    """--apply: branch ouro/<run-id> with one commit; current branch, index, files untouched."""
    from test_repair_workspace import git, snapshot

    repo = write(tmp_path / "shop", BUGGY)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "init")
    (repo / "notes.txt").write_text("staged work\n")
    git(repo, "add", "notes.txt")
    (repo / "README").write_text("untracked work\n")
    before = snapshot(repo)
    r = ouro("repair", str(repo), "--issue", "discount above 100% gives a negative price", "--backend", "bwrap",
             "--json", "--budget", "60", "--apply", home=tmp_path / "home")
    assert r.returncode == 2 and "uncommitted changes" in r.stderr      # dirty: refused without --allow-dirty
    assert snapshot(repo) == before
    r = ouro("repair", str(repo), "--issue", "discount above 100% gives a negative price", "--backend", "bwrap",
             "--json", "--budget", "60", "--apply", "--allow-dirty", home=tmp_path / "home")
    assert r.returncode == 0, r.stderr[-2000:]
    out = json.loads(r.stdout)
    assert out["branch"] == f"ouro/{out['run_id']}"
    assert snapshot(repo) == before
    assert git(repo, "rev-list", "--count", f"main..{out['branch']}").strip() == "1"
    assert "return hi" in git(repo, "show", f"{out['branch']}:shop/util.py")
    assert "Explanation chain" in git(repo, "log", "-1", "--format=%B", out["branch"])
