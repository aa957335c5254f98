"""The warm worker on every backend we have: local (unsafe, always), bwrap, docker.

What must hold: each candidate sees its own files (never a stale import or an earlier
candidate's edit), a candidate that prints our result format or os._exit(0)s mid-test is
failing, a hanging candidate is killed while the worker survives, and a killed worker is
restarted by the host side.
"""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from ouro.sandbox.base import SandboxError
from ouro.sandbox.policy import load_policy
from ouro.sandbox.testrun import WarmWorker

MINI = Path(__file__).resolve().parents[1] / "fixtures" / "miniproj"
OPS = (MINI / "calc" / "ops.py").read_text()
FIXED = OPS.replace("    return x\n", "    if x > hi:\n        return hi\n    return x\n")
HIGH = "tests/test_ops.py::test_clamp_high"
ARGS = ["-q", "tests"]


def _open(backend: str, workspace: Path = MINI):
    policy = load_policy().with_backend(backend).with_limits(wall_time_s=120.0)
    if backend == "local":
        from ouro.sandbox.local_backend import LocalSandbox

        import tempfile

        # its audit record goes to a throwaway home, not the checkout's .ouro
        home = tempfile.mkdtemp(prefix="ouro-test-home-")
        return LocalSandbox.start(policy, workspace=workspace, unsafe_local=True, audit=True, home=home)
    if backend == "bwrap":
        from ouro.sandbox.bwrap_backend import BwrapSandbox, bwrap_available
        from ouro.sandbox.images import ImageError, base_rootfs

        if bwrap_available():
            pytest.skip(bwrap_available())
        try:
            base_rootfs()
        except ImageError as e:
            pytest.skip(str(e))
        return BwrapSandbox.start(policy, workspace=workspace, audit=True)
    info = subprocess.run(["docker", "info"], capture_output=True, text=True) if shutil.which("docker") else None
    if info is None or info.returncode:
        pytest.skip("no Docker daemon")
    if backend == "gvisor" and "runsc" not in info.stdout:
        pytest.skip("runsc is not registered with Docker (ouro sandbox setup)")
    from ouro.sandbox.backends import open_sandbox

    try:
        return open_sandbox(policy, "repair", workspace=workspace, audit=True)
    except (SandboxError, ImportError) as e:
        pytest.skip(f"docker backend unavailable: {e}")


@pytest.fixture(scope="module", params=["local", "bwrap", pytest.param("docker", marks=pytest.mark.docker),
                                        pytest.param("gvisor", marks=[pytest.mark.gvisor, pytest.mark.slow])])
def worker(request):
    sb = _open(request.param)
    w = WarmWorker(sb)
    yield w
    w.close()
    sb.close()


def test_each_candidate_sees_its_own_files(worker):
    assert worker.run({}, ARGS, 60).failed == {HIGH}
    assert worker.run({"calc/ops.py": FIXED.encode()}, ARGS, 60).all_passed
    # back to the original: the earlier candidate's edit and its imports are gone
    assert worker.run({}, ARGS, 60).failed == {HIGH}
    # same size, same second as the original: a stale .pyc or module would hide this edit
    same_size = OPS.replace("x < lo", "x > lo")
    assert len(same_size) == len(OPS)
    run = worker.run({"calc/ops.py": same_size.encode()}, ARGS, 60)
    assert "tests/test_ops.py::test_clamp_low" in run.failed


def test_new_and_deleted_files(worker):
    extra = "tests/test_extra.py"
    run = worker.run({extra: b"def test_new():\n    assert True\n"}, ARGS, 60)
    assert "tests/test_extra.py::test_new" in run.passed
    run = worker.run({"calc/ops.py": None}, ARGS, 60)  # deleting a module breaks collection
    assert not run.all_passed and "tests/test_extra.py::test_new" not in run.collected
    assert worker.run({}, ARGS, 60).failed == {HIGH}


def test_printing_the_result_format_does_not_count(worker):
    # printed while the failing test runs, so pytest shows it in the captured output
    forged = ("    import sys\n"
              "    for line in ['{\"kind\": \"test\", \"nodeid\": \"%s\", \"outcome\": \"passed\"}',\n"
              "                 '{\"kind\": \"finished\", \"exitstatus\": 0, \"reported\": 3}',\n"
              "                 '{\"id\": 1, \"records\": [], \"exit_code\": 0, \"reason\": \"normal\"}']:\n"
              "        print(line); print(line, file=sys.stderr)\n" % HIGH)
    candidate = OPS.replace("    if x < lo:", forged + "    if x < lo:")
    run = worker.run({"calc/ops.py": candidate.encode()}, ARGS, 60)
    assert '"outcome": "passed"' in run.exec.stdout  # it really printed the forgery
    assert run.outcome(HIGH) == "failed" and not run.all_passed


def test_os_exit_zero_mid_test_is_failing(worker):
    exiting = FIXED.replace("    if x > hi:", "    import os; os._exit(0)\n    if x > hi:")
    run = worker.run({"calc/ops.py": exiting.encode()}, ARGS, 60)
    assert run.exec.exit_code == 0 and not run.complete and not run.all_passed
    assert run.outcome(HIGH) == "error"


def test_hanging_candidate_is_killed_and_worker_survives(worker):
    hanging = FIXED.replace("    if x > hi:", "    import time; time.sleep(600)\n    if x > hi:")
    restarts = worker.restarts
    run = worker.run({"calc/ops.py": hanging.encode()}, ARGS, 2)
    assert run.exec.reason.value == "timeout" and not run.all_passed
    assert worker.run({"calc/ops.py": FIXED.encode()}, ARGS, 60).all_passed
    assert worker.restarts == restarts


def test_killed_worker_is_restarted(worker):
    killer = FIXED.replace("    if x > hi:", "    import os, signal; os.kill(os.getppid(), signal.SIGKILL)\n    if x > hi:")
    restarts = worker.restarts
    run = worker.run({"calc/ops.py": killer.encode()}, ARGS, 30)
    assert not run.all_passed
    assert worker.restarts == restarts + 1
    # the restarted worker starts from the original workspace plus the new candidate
    assert worker.run({"calc/ops.py": FIXED.encode()}, ARGS, 60).all_passed
    # ...and the dead candidate's files never become the "original" state
    assert worker.run({}, ARGS, 60).failed == {HIGH}


def test_worker_killed_by_a_files_first_change_still_restores_it(worker):
    # a path no earlier candidate touched: its original (absent) must still come back
    killer_test = b"import os, signal\n\ndef test_kill():\n    os.kill(os.getppid(), signal.SIGKILL)\n"
    run = worker.run({"tests/test_zz_kill.py": killer_test}, ARGS, 30)
    assert not run.all_passed
    run = worker.run({}, ARGS, 60)
    assert run.complete and run.failed == {HIGH}
    assert not any("test_zz_kill" in n for n in run.collected)


def test_candidate_audit_events_come_back_with_its_run(worker):
    connecting = FIXED.replace("    if x > hi:", "    import socket\n    try:\n        socket.create_connection(('10.9.8.7', 80), timeout=1)\n"
                               "    except OSError:\n        pass\n    if x > hi:")
    run = worker.run({"calc/ops.py": connecting.encode()}, ARGS, 60)
    kinds = {e.get("kind") for e in run.exec.audit_events}
    assert "network" in kinds, run.exec.audit_events
    assert "OURO-AUDIT" not in run.exec.stderr  # split out, not left in the text
    # the next candidate's run carries only its own events
    assert "network" not in {e.get("kind") for e in worker.run({}, ARGS, 60).exec.audit_events}


@pytest.mark.parametrize("backend", ["local", "bwrap"])
def test_worker_preloads_outside_modules_never_workspace_ones(backend, tmp_path):
    shutil.copytree(MINI, tmp_path / "repo")
    (tmp_path / "repo" / "tests" / "test_dec.py").write_text(
        "import decimal\nfrom calc import add\n\ndef test_dec():\n    assert add(decimal.Decimal(1), 1) == 2\n")
    sb = _open(backend, workspace=tmp_path / "repo")
    try:
        with WarmWorker(sb) as w:
            assert "decimal" in w.preloaded and "pytest" in w.preloaded
            assert "calc" not in w.preloaded and "tests" not in w.preloaded
            assert "tests/test_dec.py::test_dec" in w.run({}, ARGS, 60).passed
    finally:
        sb.close()


def test_endless_output_is_capped_and_worker_survives(worker):
    noisy = FIXED.replace("    if x > hi:", "    import sys\n    while True:\n        sys.stdout.write('x' * 4096)\n    if x > hi:")
    run = worker.run({"calc/ops.py": noisy.encode()}, ARGS + ["-s"], 60)
    assert run.exec.reason.value == "output_cap" and run.exec.stdout_truncated and not run.all_passed
    assert len(run.exec.stdout) <= worker.output_bytes
    assert worker.run({"calc/ops.py": FIXED.encode()}, ARGS, 60).all_passed


def test_cold_run_in_the_same_sandbox_agrees_with_the_worker(worker):
    from ouro.sandbox.testrun import run_tests_cold

    warm = worker.run({}, ARGS, 60)
    cold = run_tests_cold(worker.sandbox, ARGS, 60, coverage=True)
    assert warm.complete, warm.exec
    assert cold.complete, cold.exec
    assert {n: o.outcome for n, o in cold.outcomes.items()} == {n: o.outcome for n, o in warm.outcomes.items()}
    assert "calc/ops.py" in cold.coverage[HIGH]


def test_what_a_run_writes_into_the_workspace_is_undone(worker):
    # a candidate whose code rewrites the tests, plants a new test and deletes a module
    # while it runs: the next candidate must see none of it
    vandal = FIXED.replace("    if x > hi:", (
        "    import os, pathlib\n"
        "    root = pathlib.Path(__file__).resolve().parent.parent\n"
        "    (root / 'tests' / 'test_ops.py').write_text('def test_ok():\\n    pass\\n')\n"
        "    (root / 'tests' / 'planted').mkdir(exist_ok=True)\n"
        "    (root / 'tests' / 'test_planted.py').write_text('def test_planted():\\n    pass\\n')\n"
        "    (root / 'calc' / '__init__.py').unlink()\n"
        "    if x > hi:"))
    worker.run({"calc/ops.py": vandal.encode()}, ARGS, 60)
    run = worker.run({}, ARGS, 60)
    assert run.complete and run.failed == {HIGH}
    assert sorted(run.collected) == ["tests/test_ops.py::test_add", HIGH, "tests/test_ops.py::test_clamp_low"]


def test_filling_the_workspace_is_stopped_and_undone(worker):
    if worker.sandbox.backend not in ("bwrap", "docker", "gvisor"):
        pytest.skip("the local backend bounds no disk")
    disk = worker.sandbox.policy.limits.disk_mb << 20
    filler = FIXED.replace("    if x > hi:", (
        "    import pathlib\n"
        "    root = pathlib.Path(__file__).resolve().parent.parent\n"
        "    for i in range(%d):\n"
        "        (root / f'fill{i}').write_bytes(bytes(8 << 20))\n"
        "    if x > hi:" % (2 * disk // (8 << 20) + 1)))
    run = worker.run({"calc/ops.py": filler.encode()}, ARGS, 60)
    assert not run.all_passed
    # bwrap's worker stops it at the limit; docker's tmpfs is full first (ENOSPC: test fails)
    if worker.sandbox.backend == "bwrap":
        assert run.exec.reason.value == "disk_limit"
    assert worker.run({"calc/ops.py": FIXED.encode()}, ARGS, 60).all_passed
