"""Per-test timeouts (sandbox/guest/deadline.py and sandbox/testrun.py): a test that runs past
its time fails with reason "timeout" and the rest of the suite still runs, cold and warm, in
the bwrap sandbox (the fast tier) and on the local backend; a test that ignores the interrupt
is killed with its process and the tests after it run in a fresh one."""
from __future__ import annotations

import time
from pathlib import Path

import pytest

from ouro.sandbox.base import ExecResult
from ouro.sandbox.policy import load_policy
from ouro.sandbox.testrun import FAILED, PASSED, TIMEOUT, WarmWorker, build_run, run_tests_cold

SUITE = {
    "loops.py": "def spin(n):\n    while n != 0:\n        n -= 2\n    return n\n",
    "tests/test_a.py": (
        "import re\n"
        "from loops import spin\n\n"
        "def test_fast():\n    assert spin(4) == 0\n\n"
        "def test_python_loop():\n    assert spin(5) == 0\n\n"
        "def test_swallows_the_interrupt():\n"
        "    while True:\n"
        "        try:\n"
        "            spin(5)\n"
        "        except BaseException:\n"
        "            pass\n\n"
        "def test_passes_after_swallowing():\n"
        "    try:\n        spin(5)\n    except BaseException:\n        pass\n\n"
        "def test_after():\n    assert spin(2) == 0\n"),
}
A = "tests/test_a.py::"


def write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


@pytest.fixture
def sandbox(tmp_path, bwrap_available):
    from ouro.sandbox.backends import open_sandbox

    policy = load_policy().with_backend("bwrap").with_limits(wall_time_s=120.0)
    with open_sandbox(policy, "run", workspace=write(tmp_path / "ws", SUITE), home=tmp_path / "home") as sb:
        yield sb


def _check(run):
    assert run.complete, run.problem
    assert run.outcome(A + "test_fast") == PASSED and run.outcome(A + "test_after") == PASSED
    for name in ("test_python_loop", "test_swallows_the_interrupt", "test_passes_after_swallowing"):
        o = run.outcomes[A + name]
        assert (o.outcome, o.reason) == (FAILED, TIMEOUT), (name, o)
    assert run.timed_out == {A + n for n in ("test_python_loop", "test_swallows_the_interrupt",
                                             "test_passes_after_swallowing")}
    # the interrupted test's report ends where the loop was, not in ouro's code
    loop = run.outcomes[A + "test_python_loop"].longrepr
    assert "ouro.TestTimeout" in loop and "loops.py:2" in loop and "deadline.py" not in loop
    # the killed one: where faulthandler found it, as a traceback, most recent call last
    killed = run.outcomes[A + "test_swallows_the_interrupt"].longrepr
    assert "was killed" in killed and killed.index("test_a.py") < killed.rindex("loops.py")


def test_cold_run_fails_hanging_tests_and_runs_the_rest(sandbox):
    t0 = time.monotonic()
    run = run_tests_cold(sandbox, ["-q", "tests"], 60, test_timeout=2, coverage=True)
    _check(run)
    # one test at the full 2s, the others at the shrunk limit (1s), one kill (+1s grace), a restart
    assert time.monotonic() - t0 < 20
    assert A + "test_after" in run.coverage   # the continuation's coverage is merged in
    first, later = (run.outcomes[A + n].duration_s for n in ("test_python_loop", "test_passes_after_swallowing"))
    assert first >= 1.9 and later < 1.6


def test_warm_worker_fails_hanging_tests_and_survives(sandbox):
    with WarmWorker(sandbox) as worker:
        _check(worker.run({}, ["-q", "tests"], 60, test_timeout=2))
        fixed = SUITE["loops.py"].replace("n != 0", "n > 0")
        run = worker.run({"loops.py": fixed.encode()}, ["-q", "tests"], 60, test_timeout=2)
        assert run.outcome(A + "test_python_loop") == FAILED and not run.timed_out - {A + "test_swallows_the_interrupt"}
        assert run.outcome(A + "test_fast") == PASSED and run.complete


def test_faking_the_watchdog_only_fails_the_test(tmp_path):
    """Printing faulthandler's header and leaving mid-test is no way to pass: that test fails,
    and the tests after it still run and count."""
    from ouro.sandbox.backends import open_sandbox

    files = {"tests/test_b.py": ("import os, sys\n\n"
                                 "def test_fake():\n"
                                 "    sys.stderr.write('Timeout (0:00:01)!\\n'); sys.stderr.flush()\n"
                                 "    os._exit(0)\n\n"
                                 "def test_next():\n    assert False\n")}
    policy = load_policy().with_backend("local").with_limits(wall_time_s=60.0)
    with open_sandbox(policy, "run", workspace=write(tmp_path / "ws", files), unsafe_local=True,
                      home=tmp_path / "home") as sb:
        run = run_tests_cold(sb, ["-q", "-s", "tests"], 30, test_timeout=5)
    assert run.outcome("tests/test_b.py::test_fake") == FAILED
    assert run.outcome("tests/test_b.py::test_next") == FAILED and not run.all_passed


def test_a_timeout_record_overrules_a_pass_and_without_one_nothing_changes():
    ok = ExecResult(exit_code=0, stdout="", stderr="", duration_s=1.0)
    recs = [{"kind": "collected", "nodeids": ["t::a", "t::b"]},
            {"kind": "timeout", "nodeid": "t::a", "seconds": 1.0},
            {"kind": "test", "nodeid": "t::a", "outcome": "passed", "longrepr": "", "duration": 1.2},
            {"kind": "test", "nodeid": "t::b", "outcome": "passed", "longrepr": "", "duration": 0.1},
            {"kind": "finished", "exitstatus": 0, "reported": 2}]
    run = build_run(recs, ok)
    assert (run.outcomes["t::a"].outcome, run.outcomes["t::a"].reason) == (FAILED, TIMEOUT)
    assert run.outcome("t::b") == PASSED and run.timed_out == {"t::a"}
    # an os._exit mid-test without any timeout evidence stays what it was: an incomplete run
    died = ExecResult(exit_code=1, stdout="", stderr="boom\n", duration_s=1.0)
    run = build_run(recs[:1], died)
    assert not run.complete and not run.rest and not run.timed_out


@pytest.mark.slow
@pytest.mark.docker
def test_the_same_in_containers_cold_and_warm(container_backend, tmp_path):
    """runc and gVisor: the interrupt, the watchdog's kill and the continuation work there too."""
    from ouro.sandbox.backends import open_sandbox

    policy = load_policy().with_backend(container_backend).with_limits(wall_time_s=120.0)
    with open_sandbox(policy, "run", workspace=write(tmp_path / "ws", SUITE), home=tmp_path / "home") as sb:
        _check(run_tests_cold(sb, ["-q", "tests"], 60, test_timeout=2))
        with WarmWorker(sb) as worker:
            _check(worker.run({}, ["-q", "tests"], 60, test_timeout=2))
