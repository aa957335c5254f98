"""`ouro repair` end to end in a real sandbox (bubblewrap: the fast tier), and every bad input:
one line on stderr, its own documented exit code, nothing written to the user's repository."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from repair_helpers import BUGGY, git, snapshot, tree_digest, write

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
                  [], 6, "does not import: collecting tests/test_m.py fails with ModuleNotFoundError: "
                         "No module named 'numpy_that_is_not_there'"),
    # a dependency the conftest imports is missing: that import error, not "no tests found"
    "conftest_dependency": ({**BUGGY, "tests/conftest.py": "import responses_not_installed\n"}, [], 6,
                            "loading tests/conftest.py fails with ModuleNotFoundError: "
                            "No module named 'responses_not_installed'"),
    # every failure is the environment's (a name Python 3.11 removed, a missing executable)
    "environment_only": ({"legacy.py": "import inspect\nimport subprocess\n\n\ndef arity(f):\n"
                                       "    return len(inspect.getargspec(f).args)\n\n\ndef tool():\n"
                                       "    return subprocess.check_output(['git', '--version'])\n",
                          "tests/test_legacy.py": "from legacy import arity, tool\n\n\ndef test_arity():\n"
                                                  "    assert arity(lambda a, b: 0) == 2\n\n\ndef test_arity0():\n"
                                                  "    assert arity(lambda: 0) == 0\n\n\ndef test_tool():\n"
                                                  "    assert tool()\n"},
                         [], 3, "could not reproduce: every failure is an environment problem: AttributeError: module "
                                "'inspect' has no attribute 'getargspec'"),
    "bad_test_cmd": ({"m.py": "x = 1\n"}, ["--test-cmd", "make test"], 2, "ouro runs tests with pytest"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_repositories_give_one_line_own_exit_code_and_one_json_object(tmp_path, case):
    files, extra, code, fragment = CASES[case]
    repo = write(tmp_path / "repo", files)
    before = tree_digest(repo)
    r = ouro("repair", str(repo), "--issue", "it is broken", "--backend", "bwrap", "--json", *extra,
             home=tmp_path / "home")
    assert r.returncode == code, r.stderr[-1500:]
    err = [ln for ln in r.stderr.splitlines() if ln.startswith("ouro: error:")]
    assert len(err) == 1 and fragment in err[0], r.stderr[-1500:]
    assert "Traceback" not in r.stderr
    out = json.loads(r.stdout)   # exactly one JSON object: json.loads refuses anything after it
    assert out == {"status": "error", "exit_code": code, "error": err[0][len("ouro: error: "):]}
    assert tree_digest(repo) == before


def test_a_module_that_does_not_import_elsewhere_does_not_stop_the_repair(tmp_path):
    repo = write(tmp_path / "repo", {**BUGGY, "tests/test_yaml_io.py": "import yaml_not_installed\n\n\n"
                                                                      "def test_load():\n    pass\n"})
    r = ouro("repair", str(repo), "--issue", "discount() above 100 percent gives a negative price", "--backend",
             "bwrap", "--json", "--budget", "60", home=tmp_path / "home")
    assert r.returncode == 0, r.stderr[-2000:]
    out = json.loads(r.stdout)
    assert out["status"] == "plausible" and "+        return hi" in out["patch"]
    assert "left out tests/test_yaml_io.py" in r.stderr and "yaml_not_installed" in r.stderr
    # recorded: the trajectory and the explanation name the module left out
    events = [json.loads(ln) for ln in (Path(out["run_dir"]) / "trajectory.jsonl").read_text().splitlines()]
    rep = next(e for e in events if e["kind"] == "reproduce")
    assert "tests/test_yaml_io.py" in json.dumps(rep) and "tests/test_yaml_io.py" in out["explanation"]


def test_json_on_success_not_found_and_interrupt(tmp_path, repaired):
    r, *_ = repaired
    assert r.returncode == 0 and json.loads(r.stdout)["status"] == "plausible"
    # 1: the search ran and found nothing within a budget of three candidates (no template
    # writes a string the code never mentions)
    repo = write(tmp_path / "greet", {"greet.py": "def greet():\n    return 'hello'\n",
                                      "tests/test_greet.py": "from greet import greet\n\n\n"
                                                             "def test_greet():\n    assert greet() == 'bonjour'\n"})
    r = ouro("repair", str(repo), "--issue", "greet() should say bonjour", "--backend", "bwrap",
             "--json", "--budget", "3", home=tmp_path / "home")
    assert r.returncode == 1 and json.loads(r.stdout)["status"] == "not_found", r.stderr[-1500:]
    # 130: interrupted while the tests run (SIGTERM unwinds like Ctrl-C)
    hang = write(tmp_path / "hang", {"m.py": "import time\n\n\ndef f():\n    time.sleep(60)\n",
                                     "tests/test_m.py": "from m import f\n\n\ndef test_f():\n    f()\n"})
    p = subprocess.Popen([*OURO, "--home", str(tmp_path / "home"), "repair", str(hang), "--issue", "slow",
                          "--backend", "bwrap", "--json"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    import time

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not list((tmp_path / "home" / "runs").glob("*/trajectory.jsonl")):
        time.sleep(0.2)
    time.sleep(1.0)
    p.terminate()
    stdout, stderr = p.communicate(timeout=60)
    assert p.returncode == 130, stderr[-1500:]
    assert json.loads(stdout) == {"status": "error", "exit_code": 130, "error": "interrupted"}


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


def _moved(prefix: str) -> dict[str, str]:
    """BUGGY with its package under prefix/ (the tests stay in tests/)."""
    return {(k if k.startswith("tests/") else f"{prefix}/{k}"): v for k, v in BUGGY.items()}


UNITTEST_SUITE = {
    **{k: v for k, v in BUGGY.items() if not k.startswith("tests/")},
    # unittest's own discovery finds tests.py; pytest's default patterns do not
    "tests.py": ("import unittest\n\nfrom shop.pricing import bulk_price, discount\n\n\n"
                 "class PricingTests(unittest.TestCase):\n"
                 "    def test_discount(self):\n        self.assertEqual(discount(200, 25), 150)\n\n"
                 "    def test_discount_capped(self):\n        self.assertEqual(discount(80, 150), 0)\n\n"
                 "    def test_bulk(self):\n        self.assertEqual(bulk_price(1, 20), 18)\n"),
}
SETUPS = {
    # name: (files, extra arguments)
    "src_layout_detected": (_moved("src"), []),
    "pythonpath_flag": (_moved("lib"), ["--pythonpath", "lib"]),
    # option values stay attached: -o's value, and -k's two words, also when the targets run alone
    "test_cmd_option_values": (_moved("code"), ["--test-cmd", "python -m pytest -q -o pythonpath=code "
                                                              "-k 'discount or bulk' tests"]),
    "unittest_tests_py": (UNITTEST_SUITE, []),
    "unittest_command": (UNITTEST_SUITE, ["--test-cmd", "python -m unittest tests"]),
}


@pytest.mark.parametrize("case", sorted(SETUPS))
def test_test_setups_that_pytest_alone_would_not_run(tmp_path, case):
    files, extra = SETUPS[case]
    repo = write(tmp_path / "repo", files)
    r = ouro("repair", str(repo), "--issue", "discount() above 100 percent gives a negative price", "--backend",
             "bwrap", "--json", "--budget", "60", *extra, home=tmp_path / "home")
    assert r.returncode == 0, r.stderr[-2000:]
    out = json.loads(r.stdout)
    assert out["status"] == "plausible" and "+        return hi" in out["patch"], out
    events = [json.loads(ln) for ln in (Path(out["run_dir"]) / "trajectory.jsonl").read_text().splitlines()]
    rep = next(e for e in events if e["kind"] == "reproduce")
    assert len(rep["target"]) == 1 and "capped" in rep["target"][0] and rep["passing"] == 2, rep


def test_pythonpath_must_be_a_folder_of_the_repository(tmp_path):
    repo = write(tmp_path / "repo", _moved("src"))
    for bad in ("missing", "../elsewhere", str(tmp_path)):
        r = ouro("repair", str(repo), "--pythonpath", bad, "--json", home=tmp_path / "home")
        assert r.returncode == 2 and "--pythonpath" in json.loads(r.stdout)["error"], r.stderr


@pytest.mark.parametrize("argv, code, fragment", [
    (["bench", "no-such-suite.jsonl", "--json"], 2, "does not exist"),
    (["bench", "repos", "--workers", "-1", "--json"], 2, "--workers"),
    (["runs", "show", "nope", "--json"], 2, "no run 'nope'"),
    (["report", "nope", "--html", "x.html", "--json"], 2, "nope"),
    (["repair", "--json", "--no-such-option"], 2, "unrecognized arguments"),
])
def test_every_command_answers_an_error_with_one_json_object(tmp_path, argv, code, fragment):
    r = ouro(*argv, home=tmp_path / "home")
    assert r.returncode == code, r.stderr
    out = json.loads(r.stdout)
    assert out["status"] == "error" and out["exit_code"] == code and fragment in out["error"], out
    assert "Traceback" not in r.stderr


def test_terminal_escapes_from_test_output_never_reach_explanations_or_commits(tmp_path):
    """Issue 13, class 10: a failing test whose message carries OSC 52 (clipboard), a window
    title, a screen clear, BEL and a bidi override; the repair's explanation (stdout, JSON,
    explanation.md) and its --apply commit message show them escaped, never raw."""
    evil = "\\x1b]52;c;ZXZpbA==\\x07\\x1b]0;all tests passed\\x07\\x1b[2J\\u202e"
    files = dict(BUGGY)
    files["tests/test_pricing.py"] = files["tests/test_pricing.py"].replace(
        "assert discount(80, 150) == 0", f"assert discount(80, 150) == 0, '{evil}'")
    repo = write(tmp_path / "shop", files)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "init")
    r = ouro("repair", str(repo), "--issue", "discount above 100% gives a negative price", "--backend", "bwrap",
             "--json", "--budget", "60", "--apply", home=tmp_path / "home")
    assert r.returncode == 0, r.stderr[-2000:]
    out = json.loads(r.stdout)
    explanation = (Path(out["run_dir"]) / "explanation.md").read_text()
    message = git(repo, "log", "-1", "--format=%B", out["branch"])
    for text in (r.stdout, out["explanation"], explanation, message):
        assert not any(ch in text for ch in "\x1b\x07\u202e"), text[:500]
    assert "\\x1b]52" in explanation + message  # shown, escaped, where the failure is quoted
