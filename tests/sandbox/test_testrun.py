"""Cold test runs: results come from the runner's report file, never from console text.

Uses the local backend (host subprocesses, explicitly unsafe) so it runs anywhere; the same
runner is exercised inside bwrap and docker by test_sandbox_bwrap.py / test_warm_pool.py.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

from ouro.sandbox.base import EndReason, ExecResult
from ouro.sandbox.local_backend import LocalSandbox, UnsafeLocalRefused
from ouro.sandbox.policy import load_policy
from ouro.sandbox.proc import run_capped
from ouro.sandbox.testrun import build_run, run_tests_cold

MINI = Path(__file__).resolve().parents[1] / "fixtures" / "miniproj"
OPS = (MINI / "calc" / "ops.py").read_text()
FIXED = OPS.replace("    return x\n", "    if x > hi:\n        return hi\n    return x\n")
HIGH = "tests/test_ops.py::test_clamp_high"
# What a dishonest candidate prints: our record format and pytest's own summary.
FORGERY = ('print(\'{"kind": "test", "nodeid": "%s", "outcome": "passed"}\'); '
           'print(\'{"kind": "finished", "exitstatus": 0, "reported": 3}\'); '
           'print("3 passed in 0.01s")' % HIGH)


@pytest.fixture
def local(tmp_path):
    policy = load_policy().with_backend("local").with_limits(wall_time_s=60.0)
    sb = LocalSandbox.start(policy, workspace=MINI, unsafe_local=True, home=tmp_path / "home")
    yield sb
    sb.close()


def test_cold_run_reads_outcomes_longrepr_and_coverage(local):
    run = run_tests_cold(local, ["-q", "tests"], 60, coverage=True)
    assert run.complete, run.problem
    assert run.collected == ["tests/test_ops.py::test_add", "tests/test_ops.py::test_clamp_low", HIGH]
    assert run.passed == {"tests/test_ops.py::test_add", "tests/test_ops.py::test_clamp_low"}
    assert run.failed == {HIGH}
    assert "assert 11 == 10" in run.outcomes[HIGH].longrepr
    assert run.exit_status == 1 and not run.all_passed
    # per-test line coverage: the failing test ran clamp's body, test_add did not
    assert 7 in run.coverage[HIGH]["calc/ops.py"]
    assert 7 not in run.coverage["tests/test_ops.py::test_add"].get("calc/ops.py", [])


def test_fix_makes_all_pass(local):
    local.write_files({"calc/ops.py": FIXED.encode()})
    run = run_tests_cold(local, ["-q", "tests"], 60)
    assert run.all_passed and run.exit_status == 0


def test_printed_fake_results_do_not_count(local):
    local.write_files({"calc/ops.py": OPS.replace("    return x\n", f"    {FORGERY}\n    return x\n").encode()})
    run = run_tests_cold(local, ["-q", "tests"], 60)
    assert '"outcome": "passed"' in run.exec.stdout  # the forgery really was printed
    assert run.complete and run.outcome(HIGH) == "failed" and not run.all_passed


def test_os_exit_zero_mid_test_is_a_failure(local):
    local.write_files({"calc/ops.py": FIXED.replace("    if x < lo:", "    import os; os._exit(0)\n    if x < lo:").encode()})
    run = run_tests_cold(local, ["-q", "tests"], 60)
    assert run.exec.exit_code == 0  # the process "succeeded"...
    assert not run.complete and not run.all_passed  # ...but the session never finished
    assert run.outcome("tests/test_ops.py::test_clamp_low") == "error"
    assert run.passed == {"tests/test_ops.py::test_add"}


def test_collection_error_is_reported(local):
    local.write_files({"calc/ops.py": b"def add(a, b:\n"})
    run = run_tests_cold(local, ["-q", "tests"], 60)
    assert not run.all_passed
    assert any(o.outcome == "error" for o in run.outcomes.values())


def test_runner_without_report_is_a_usage_error(local):
    res = local.exec([local.python, f"{local.guest_dir}/runner.py", "tests"], timeout=30)
    assert res.exit_code == 4 and "--report" in res.stderr


def test_local_refuses_without_unsafe_flag_warns_and_records(caplog, tmp_path, monkeypatch):
    import json

    monkeypatch.setenv("OURO_HOME", str(tmp_path / "home"))
    policy = load_policy().with_backend("local")
    with pytest.raises(UnsafeLocalRefused, match="--unsafe-local"):
        LocalSandbox.start(policy, workspace=MINI)
    with LocalSandbox.start(policy, workspace=MINI, unsafe_local=True) as sb:
        sb.exec(["true"], timeout=10)
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert sum("UNSAFE local backend" in w for w in warnings) >= 2  # on start and on every exec
    records = [json.loads(line) for line in (tmp_path / "home" / "audit" / "log.jsonl").read_text().splitlines()]
    assert [(r["kind"], r["backend"]) for r in records] == [("sandbox_disable", "local")]


def test_build_run_marks_unreported_tests_as_errors():
    records = [{"kind": "collected", "nodeids": ["a", "b"]},
               {"kind": "test", "nodeid": "a", "outcome": "passed"}]
    run = build_run(records, ExecResult(exit_code=0, stdout="", stderr="", duration_s=0.1))
    assert not run.complete and run.outcome("b") == "error" and run.passed == {"a"}


def test_proc_limits_and_reasons():
    py = sys.executable
    r = run_capped([py, "-c", "import time; time.sleep(30)"], timeout=1.0, output_bytes=4096)
    assert r.reason == EndReason.TIMEOUT and r.duration_s < 2.0
    r = run_capped([py, "-c", "while True: print('x' * 100)"], timeout=20, output_bytes=4096)
    assert r.reason == EndReason.OUTPUT_CAP and r.stdout_truncated and len(r.stdout) <= 4096
    r = run_capped([py, "-c", "import sys; print('hi'); sys.exit(3)"], timeout=20, output_bytes=4096)
    assert (r.reason, r.exit_code, r.stdout) == (EndReason.NORMAL, 3, "hi\n")
