"""`ouro sandbox ...` through the real command line, as a user runs it."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ouro.sandbox.base import LABEL

ROOT = Path(__file__).resolve().parents[2]
OURO = [sys.executable, "-m", "ouro.agent.cli"]


def ouro(*args, env=None, timeout=300):
    return subprocess.run([*OURO, *args], capture_output=True, text=True, cwd=ROOT, timeout=timeout,
                          env={**os.environ, **(env or {})})


def containers_of(client, pid: int) -> list[str]:
    return [c["Id"] for c in client.api.containers(all=True, filters={"label": [LABEL, f"ouro.owner_pid={pid}"]})]


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_interrupt_removes_container_and_exits_130(sig, docker_client, base_image):
    proc = subprocess.Popen([*OURO, "sandbox", "run", "--", "sleep", "100"], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while not containers_of(docker_client, proc.pid):
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the sandbox container never appeared"
            time.sleep(0.1)
        time.sleep(0.5)  # let it reach the exec of `sleep 100`
        t = time.monotonic()
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert time.monotonic() - t < 15
    assert "Traceback" not in err
    assert containers_of(docker_client, proc.pid) == []
    ps = subprocess.run(["docker", "ps", "-a", "--filter", f"label={LABEL}", "--filter",
                         f"label=ouro.owner_pid={proc.pid}", "-q"], capture_output=True, text=True)
    assert ps.stdout.strip() == ""


def test_run_passes_exit_code_and_reports_limits(base_image):
    r = ouro("sandbox", "run", "--", "sh", "-c", "echo hello; exit 7")
    assert (r.returncode, r.stdout) == (7, "hello\n")
    r = ouro("sandbox", "run", "--timeout", "2", "--json", "--", "sleep", "30")
    assert r.returncode == 1
    doc = json.loads(r.stdout)
    assert doc["reason"] == "timeout" and doc["backend"] == "docker" and doc["duration_s"] < 4


def test_run_gvisor_backend(base_image, runsc_available):
    r = ouro("sandbox", "run", "--backend", "gvisor", "--json", "--", "python3", "-c",
             "import os; print(os.getuid())")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["backend"] == "gvisor" and doc["stdout"] == "10001\n"
    # gVisor reports its own kernel, not the host's
    r = ouro("sandbox", "run", "--backend", "gvisor", "--", "cat", "/proc/version")
    assert "gVisor" in r.stdout or r.stdout != Path("/proc/version").read_text()


def test_missing_daemon_names_setup(tmp_path):
    r = ouro("sandbox", "run", "--", "true", env={"DOCKER_HOST": f"unix://{tmp_path}/no-docker.sock"})
    assert r.returncode == 3
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ouro: error: ") and "ouro sandbox setup" in lines[0], r.stderr
    r = ouro("sandbox", "ps", env={"DOCKER_HOST": f"unix://{tmp_path}/no-docker.sock"})
    assert r.returncode == 3 and "ouro sandbox setup" in r.stderr


def test_bad_input_one_line(tmp_path):
    for args in (["sandbox", "run"], ["sandbox", "run", "--backend", "local", "--", "true"],
                 ["sandbox", "run", "--timeout", "-1", "--", "true"], ["sandbox", "build", "--repo", str(tmp_path / "x")]):
        r = ouro(*args)
        assert r.returncode == 2, (args, r.stderr)
        assert r.stderr.strip().splitlines()[-1].startswith("ouro: error: ") and "Traceback" not in r.stderr


def test_ps_lists_own_sandbox(docker_client, base_image):
    from ouro.sandbox.docker_backend import DockerSandbox
    from ouro.sandbox.policy import load_policy

    with DockerSandbox.start(load_policy(), labels={"ouro.purpose": "ps-test"}) as box:
        r = ouro("sandbox", "ps", "--json")
        assert r.returncode == 0
        mine = [row for row in json.loads(r.stdout) if row["owner_pid"] == os.getpid()]
        assert [row["id"] for row in mine] == [box.id[:12]]
        assert mine[0]["owner_alive"] and mine[0]["labels"]["ouro.purpose"] == "ps-test"


def test_doctor_reports_everything_working(base_image, runsc_available, bwrap_available):
    r = ouro("sandbox", "doctor", "--json")
    doc = json.loads(r.stdout)
    names = {c["name"]: c for c in doc["checks"]}
    assert set(names) == {"daemon", "base image", "runc", "runsc", "bwrap", "pythons"}
    assert "3 debian: bookworm 3.11" in names["pythons"]["detail"]
    failed = {n: c["detail"] for n, c in names.items() if not c["ok"]}
    assert failed == {} and r.returncode == 0 and doc["ok"] is True


def test_build_env_image_cached_by_dependency_hash(tmp_path, docker_client, base_image):
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "requirements.txt").write_text("six\n")
    (repo / "test_six.py").write_text("import six\n\ndef test_six():\n    assert six.PY3\n")
    r = ouro("sandbox", "build", "--repo", str(repo), "--json")
    assert r.returncode == 0, r.stderr
    first = json.loads(r.stdout)
    assert first["image"].startswith("ouro-env:") and first["requested"] == ["-r requirements.txt"]
    assert first["python"] == "3.11" and first["python_source"] == "debian"
    assert any(p.startswith("six==") for p in first["installed"]) and (Path(first["site_dir"]) / "six.py").exists()
    t = time.monotonic()
    again = json.loads(ouro("sandbox", "build", "--repo", str(repo), "--json").stdout)
    assert again == first and time.monotonic() - t < 15  # no rebuild: one image lookup
    # the dependency is importable in the sandbox, which has no network
    r = ouro("sandbox", "run", "--repo", str(repo), "--", "python3", "-m", "pytest", "-q", "-p", "no:cacheprovider")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "1 passed" in r.stdout
    # a repository without dependency files runs on the base image
    bare = tmp_path / "bare"
    bare.mkdir()
    doc = json.loads(ouro("sandbox", "build", "--repo", str(bare), "--json").stdout)
    assert doc["image"] == "ouro-base:bookworm" and doc["site_dir"] is None


def test_configure_runsc_keeps_other_settings(tmp_path, runsc_available):
    """setup's daemon.json edit: adds runsc with --network=none, keeps what was there, and
    reloads dockerd (SIGHUP rereads the real /etc/docker/daemon.json: harmless)."""
    from ouro.sandbox import daemon

    if os.geteuid() != 0:
        pytest.skip("needs root to signal dockerd")
    path = tmp_path / "daemon.json"
    path.write_text('{"log-level": "warn"}')
    ok, msg = daemon.configure_runsc(path)
    assert ok, msg
    data = json.loads(path.read_text())
    assert data["log-level"] == "warn"
    assert data["runtimes"]["runsc"]["runtimeArgs"] == ["--network=none"]
    ok, msg = daemon.configure_runsc(path)
    assert ok and "already registered" in msg
    path.write_text("{not json")
    ok, msg = daemon.configure_runsc(path)
    assert not ok and "fix it by hand" in msg


def test_sandbox_run_writes_its_execution_to_the_audit_log(tmp_path, bwrap_available):
    """Issue 13, class 8: `ouro sandbox run` logs like every command that runs code in a sandbox."""
    from ouro.sandbox.audit.log import AuditLog

    home = tmp_path / "home"
    r = ouro("--home", str(home), "sandbox", "run", "--backend", "bwrap", "--", "python3", "-c",
             "try: open('/etc/shadow')\nexcept OSError: pass")
    assert r.returncode == 0, r.stderr
    log = AuditLog(home / "audit" / "log.jsonl")
    kinds = [rec["kind"] for rec in log.records()]
    assert kinds.count("exec") == 1 and "secret_read" in kinds and log.verify().ok
    assert all(rec["run_id"].startswith("sandbox-run-") for rec in log.records())
