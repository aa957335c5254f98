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


# -- issue 13: the host never trusts a file the sandbox wrote; terminal escapes ------------------
REPLACE_REPORT = '''
import os, sys

def test_replace():
    report = sys.argv[sys.argv.index("--report") + 1]
    os.unlink(report)
    {how}
'''


@pytest.mark.parametrize("backend", ["local", "bwrap", pytest.param("docker", marks=pytest.mark.docker)])
@pytest.mark.parametrize("how", ["os.mkfifo(report)", "os.symlink('/dev/zero', report)",
                                 "os.symlink('/etc/passwd', report)", "os.mkdir(report)"])
def test_a_report_replaced_by_a_fifo_link_or_dir_is_refused_in_time(tmp_path, backend, how):
    import time

    from ouro.sandbox.audit.events import events_from_exec
    from test_warm_pool import _open

    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "test_replace.py").write_text(REPLACE_REPORT.format(how=how))
    sb = _open(backend, ws)
    try:
        t0 = time.monotonic()
        run = run_tests_cold(sb, ["-q", "-p", "no:cacheprovider", "."], 60)
        took = time.monotonic() - t0
    finally:
        sb.close()
    assert took < 45, took  # a FIFO would block the read forever, /dev/zero never end
    assert not run.complete and not run.passed
    kinds = {e["kind"] for e in events_from_exec(run.exec, run_id="t", policy="p", backend=backend)}
    assert "report_tamper" in kinds


def test_read_untrusted_refuses_what_is_not_a_small_regular_file(tmp_path):
    import os

    from ouro.sandbox.core.files import UntrustedFileError, read_untrusted

    (tmp_path / "ok").write_bytes(b"x" * 10)
    assert read_untrusted(tmp_path / "ok") == b"x" * 10
    with pytest.raises(UntrustedFileError, match="over the 5-byte cap"):
        read_untrusted(tmp_path / "ok", max_bytes=5)
    os.mkfifo(tmp_path / "fifo")
    with pytest.raises(UntrustedFileError, match="not a regular file"):
        read_untrusted(tmp_path / "fifo")
    os.symlink(tmp_path / "ok", tmp_path / "link")
    with pytest.raises(UntrustedFileError, match="symlink"):
        read_untrusted(tmp_path / "link")
    with pytest.raises(FileNotFoundError):
        read_untrusted(tmp_path / "missing")


def test_terminal_escapes_in_test_output_are_escaped_and_logged(tmp_path, local):
    from ouro.sandbox.audit.events import events_from_exec
    from ouro.sandbox.testrun import escape_control

    esc = "\x1b]52;c;ZXZpbA==\x07\x1b[2J\x9b31m\u202e"
    local.write_files({"tests/test_esc.py": (
        "import sys\n\ndef test_esc():\n"
        f"    print({esc!r}); sys.stderr.write({esc!r})\n"
        f"    assert 1 == 2, {esc!r}\n").encode()})
    run = run_tests_cold(local, ["-q", "tests/test_esc.py"], 60)
    texts = [run.exec.stdout, run.exec.stderr, *run.outcomes, *(o.longrepr for o in run.outcomes.values())]
    assert not any(ch in t for t in texts for ch in "\x1b\x07\x9b\u202e")
    assert "\\x1b]52;c;" in run.outcomes["tests/test_esc.py::test_esc"].longrepr
    assert "terminal_escape" in {e["kind"] for e in events_from_exec(run.exec, run_id="t", policy="p", backend="local")}
    assert escape_control("plain\ttext\n") == "plain\ttext\n"
