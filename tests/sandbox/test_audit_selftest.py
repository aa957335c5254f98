"""The red-team self-test: its host-side checks can fail (on the unisolated local backend),
and on Docker a sample of attacks is contained and logged with the right kind."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ouro.sandbox.core.home import OuroHome
from ouro.sandbox.audit.selftest import load_attacks, run_selftest
from ouro.sandbox.policy import load_policy

ROOT = Path(__file__).resolve().parents[2]


def _docker_ok() -> bool:
    if not shutil.which("docker"):
        return False
    return subprocess.run(["docker", "info"], capture_output=True).returncode == 0


def test_host_checks_catch_an_escape_on_the_unisolated_backend(tmp_path):
    """The local backend isolates nothing, so these attacks really reach the host — and the
    self-test must say so. A check that could never fail would pass here."""
    home = OuroHome(tmp_path / "home")
    # (not kill_host_victim: unisolated, it would kill this very test process, its "supervisor")
    report = run_selftest("local", home=home, policy=load_policy(),
                          only=["read_host_canary", "write_host_path"])
    by = {r.attack: r for r in report.results}
    assert not by["read_host_canary"].contained and "secret" in by["read_host_canary"].why
    assert not by["write_host_path"].contained and "was created" in by["write_host_path"].why
    assert not report.passed
    # everything the self-test saw went into the tamper-evident log
    from ouro.sandbox.audit.log import default_log

    log = default_log(home)
    assert log.verify().ok
    assert {r.get("attack") for r in log.records()} >= {"read_host_canary", "write_host_path"}


@pytest.mark.slow
@pytest.mark.docker
@pytest.mark.skipif(not _docker_ok(), reason="needs a running Docker daemon")
def test_docker_selftest_sample_contained_and_logged(tmp_path):
    sample = "tcp_host_listener,read_host_canary,write_host_path,symlink_canary_readback,fork_bomb,sleep_forever,ctypes_system"
    p = subprocess.run([sys.executable, "-m", "ouro.agent.cli", "--home", str(ROOT / ".ouro"), "audit", "selftest",
                        "--backend", "docker", "--only", sample, "--json"],
                       capture_output=True, text=True, cwd=ROOT, timeout=900)
    rows = json.loads(p.stdout)
    # "fork_bomb" names an attack and its category, so --only brings thread_bomb along too
    assert {r["attack"] for r in rows} >= set(sample.split(","))
    for r in rows:
        assert {"attack", "category", "backend", "contained", "logged", "kind"} <= set(r)
        assert r["backend"] == "docker"
        assert r["contained"], r
        assert r["logged"], r
    assert p.returncode == 0


def test_every_attack_declares_a_known_check():
    from ouro.sandbox.audit.selftest import CHECKS, RUN_MODES

    for a in load_attacks():
        for c in a.checks:
            assert c in CHECKS or c.startswith(("reason:", "reason@")), (a.name, c)
        assert a.run in RUN_MODES, a.name
        if a.run == "pytest":
            assert "judged_failing" in a.checks or "clean_text" in a.checks, a.name
        if a.run == "envbuild":
            assert isinstance(a.literal("FILES"), dict), a.name
