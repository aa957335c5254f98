"""Must show 3: a candidate that fakes a passing run — by printing a result line, by
os._exit(0) mid-test, or by monkeypatching pytest's reporting — is judged failing by the test
runner's own channel AND flagged by the static scan, so it is logged."""
from __future__ import annotations

from pathlib import Path

import pytest

from sandbox.audit.events import events_from_findings
from sandbox.audit.log import AuditLog
from sandbox.audit.selftest import load_attacks
from sandbox.audit.static_scan import scan_changed_files

# The runner (sandbox/guest/recorder.py) judges from pytest's own reports, which a conftest
# loaded in the same process can rewrite; those candidates are stopped by the static scan
# (pytest_hook + test_edit: the repair pipeline rejects a candidate with new findings before
# running it). strict xfail: when the runner learns to resist, this test says so.
_RUNNER_GAP = pytest.mark.xfail(strict=True, reason="in-process conftest can rewrite pytest's reports; "
                                                    "the static scan rejects such candidates")
THREE = ("fake_print_result", "fake_os_exit", pytest.param("fake_conftest_makereport", marks=_RUNNER_GAP),
         pytest.param("fake_monkeypatch_report", marks=_RUNNER_GAP))
VICTIM = "def test_must_fail():\n    assert 1 == 2\n"


def _attack(name):
    return next(a for a in load_attacks() if a.name == name)


@pytest.mark.parametrize("name", [n if isinstance(n, str) else n.values[0] for n in THREE])
def test_fake_pass_is_flagged_by_the_static_scan(tmp_path, name):
    attack = _attack(name)
    findings = scan_changed_files({attack.path: attack.source})
    assert attack.kind in {f.kind for f in findings}
    log = AuditLog(tmp_path / "audit" / "log.jsonl")
    log.append_many(events_from_findings(findings, run_id="t", policy="candidate"))
    assert attack.kind in {r["kind"] for r in log.records()} and log.verify().ok


@pytest.mark.parametrize("name", THREE)
def test_fake_pass_is_judged_failing_by_the_runner(tmp_path, name):
    from sandbox.backends import open_sandbox
    from sandbox.policy import load_policy
    from sandbox.testrun import run_tests_cold

    attack = _attack(name)
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "test_victim.py").write_text(VICTIM)
    (ws / attack.path).write_text(attack.source)

    policy = load_policy().with_backend("local").with_limits(wall_time_s=60)
    with open_sandbox(policy, workspace=ws, unsafe_local=True, audit=True) as sb:
        run = run_tests_cold(sb, ["-q", "-p", "no:cacheprovider", "."], timeout=60)
    assert not run.all_passed
    assert "test_victim.py::test_must_fail" not in run.passed
    assert not any(n.startswith(attack.path) for n in run.passed), run.outcomes


def test_honest_passing_suite_still_passes(tmp_path):
    """The judge is not simply pessimistic: a real pass is a pass."""
    from sandbox.backends import open_sandbox
    from sandbox.policy import load_policy
    from sandbox.testrun import run_tests_cold

    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "test_ok.py").write_text("def test_ok():\n    assert 1 + 1 == 2\n")
    policy = load_policy().with_backend("local").with_limits(wall_time_s=60)
    with open_sandbox(policy, workspace=ws, unsafe_local=True, audit=True) as sb:
        run = run_tests_cold(sb, ["-q", "-p", "no:cacheprovider", "."], timeout=60)
    assert run.all_passed and run.passed == {"test_ok.py::test_ok"}
