"""Issue 13, Must show 3: every route to a fake pass ends with the wrong candidate judged
failing AND an event in the audit log.

Routes that work inside pytest's hook chain (a conftest that replaces the test item's
function, a hook that never calls the test, a wrapper that swallows its AssertionError, an
item built around a stand-in, a protocol that logs passes without running anything) are
caught by the recorder's check that the test's own code ran to a return: `fake_pass`.
Routes that work from outside the candidate's run (a daemon that keeps rewriting the tests
for later candidates, an in-place edit of the same size with the mtime put back) are caught
by the warm worker: leftovers killed (`lingering_process`), files compared by content
(`workspace_tamper`), tests hashed before and after each run (`test_tamper`).
"""
from __future__ import annotations

from pathlib import Path

import pytest

from ouro.sandbox.audit.events import events_from_exec
from ouro.sandbox.audit.log import AuditLog
from ouro.sandbox.audit.selftest import CORE_41, PROTECTED_TEST
from ouro.sandbox.policy import load_policy
from ouro.sandbox.testrun import WarmWorker, run_tests_cold

from test_audit_fakepass import VICTIM, _attack, victim_workspace
from test_warm_pool import _open

IN_PROCESS = ("fake_replace_item_function", "fake_pyfunc_call_returns", "fake_swallow_wrapper",
              "fake_makeitem_substitute", "fake_runtest_protocol")


def _logged(tmp_path: Path, result) -> set[str]:
    log = AuditLog(tmp_path / "audit" / "log.jsonl")
    log.append_many(events_from_exec(result, run_id="t", policy="candidate", backend="test"))
    assert log.verify().ok
    return {r["kind"] for r in log.records()}


@pytest.mark.parametrize("name", IN_PROCESS)
def test_in_process_fake_pass_is_failing_and_logged(tmp_path, name):
    attack = _attack(name)
    ws = victim_workspace(tmp_path, {attack.path: attack.source})
    from ouro.sandbox.local_backend import LocalSandbox

    policy = load_policy().with_backend("local").with_limits(wall_time_s=60)
    with LocalSandbox.start(policy, workspace=ws, unsafe_local=True, audit=True, home=tmp_path / "home") as sb:
        run = run_tests_cold(sb, ["-q", "-p", "no:cacheprovider", "."], timeout=60)
    assert "test_victim.py::test_must_fail" not in run.passed and not run.all_passed, run.outcomes
    assert "fake_pass" in _logged(tmp_path, run.exec)


def test_an_honest_suite_has_no_fake_pass(tmp_path):
    """The check is not a pessimist: decorated, parametrized, class-based, unittest and
    exception-catching tests that pass, pass."""
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "test_ok.py").write_text('''
import functools, unittest
import pytest

def deco(fn):
    @functools.wraps(fn)
    def run(*a, **k):
        return fn(*a, **k)
    return run

@deco
def test_decorated():
    assert True

@pytest.mark.parametrize("n", [1, 2])
def test_param(n):
    try:
        raise ValueError(n)
    except ValueError:
        pass

class TestThings:
    def test_method(self):
        with pytest.raises(ZeroDivisionError):
            1 / 0

class Case(unittest.TestCase):
    def test_case(self):
        self.assertEqual(1, 1)

def test_skip():
    pytest.skip("not today")
''')
    from ouro.sandbox.local_backend import LocalSandbox

    policy = load_policy().with_backend("local").with_limits(wall_time_s=60)
    with LocalSandbox.start(policy, workspace=ws, unsafe_local=True, audit=True, home=tmp_path / "home") as sb:
        run = run_tests_cold(sb, ["-q", "-p", "no:cacheprovider", "."], timeout=60)
    assert run.complete and len(run.passed) == 5 and not run.failed, run.outcomes
    assert not {"fake_pass", "test_tamper"} & _logged(tmp_path, run.exec)


def _pair(backend: str, tmp_path: Path, attack_name: str):
    """Candidate A is the attack, candidate B changes nothing: the repository's own code fails."""
    attack = _attack(attack_name)
    ws = tmp_path / "ws"
    (ws / "tests").mkdir(parents=True)
    (ws / "core.py").write_text(CORE_41)
    (ws / "tests" / "test_core.py").write_text(PROTECTED_TEST)
    sb = _open(backend, ws)
    try:
        with WarmWorker(sb) as worker:
            a = worker.run({attack.path: attack.source.encode()}, ["-q", "-p", "no:cacheprovider", "tests"], 60)
            b = worker.run({}, ["-q", "-p", "no:cacheprovider", "tests"], 60)
    finally:
        sb.close()
    return a, b


@pytest.mark.parametrize("backend", ["bwrap", pytest.param("docker", marks=pytest.mark.docker)])
def test_daemon_rewriting_tests_for_later_candidates(tmp_path, backend):
    a, b = _pair(backend, tmp_path, "daemon_rewrites_tests")
    assert "tests/test_core.py::test_core" not in b.passed and not b.all_passed, b.outcomes
    assert "lingering_process" in _logged(tmp_path, a.exec)  # killed after A, so it never reached B


@pytest.mark.parametrize("backend", ["local", "bwrap", pytest.param("docker", marks=pytest.mark.docker)])
@pytest.mark.parametrize("name,kind", [("same_size_source_edit", "workspace_tamper"),
                                       ("same_size_test_edit", "test_tamper")])
def test_same_size_edit_with_mtime_restored(tmp_path, backend, name, kind):
    a, b = _pair(backend, tmp_path, name)
    assert "tests/test_core.py::test_core" not in b.passed and not b.all_passed, b.outcomes
    assert kind in _logged(tmp_path, a.exec)


def test_tests_rewritten_during_the_run_fail_it(tmp_path):
    """A conftest that makes the failing test pass for the run and puts it back afterwards."""
    attack = _attack("conftest_rewrite_restore")
    ws = victim_workspace(tmp_path, {"conftest.py": attack.source})
    from ouro.sandbox.local_backend import LocalSandbox

    policy = load_policy().with_backend("local").with_limits(wall_time_s=60)
    with LocalSandbox.start(policy, workspace=ws, unsafe_local=True, audit=True, home=tmp_path / "home") as sb:
        run = run_tests_cold(sb, ["-q", "-p", "no:cacheprovider", "."], timeout=60)
    assert not run.passed and "test_victim.py" in run.problem
    assert "test_tamper" in _logged(tmp_path, run.exec)
    assert (ws / "test_victim.py").read_text() == VICTIM  # and the host's copy never changed
