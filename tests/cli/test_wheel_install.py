"""The distribution as a user gets it: a wheel built from the tree, installed into a fresh
virtual environment (not editable), must put nothing but `ouro` into site-packages, carry
its default policy and guest code, and run `ouro sandbox doctor` and a real repair."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_a_wheel_installs_under_one_namespace_and_repairs(tmp_path, docker_available, base_image):
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(wheels), str(ROOT)],
                   check=True, capture_output=True, timeout=600)
    (wheel,) = wheels.glob("ouro_agent-*.whl")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    subprocess.run([str(venv / "bin/pip"), "install", "-q", str(wheel)], check=True, capture_output=True, timeout=900)

    site = next((venv / "lib").glob("python3*/site-packages"))
    (dist_info,) = site.glob("ouro_agent-*.dist-info")
    record = (dist_info / "RECORD").read_text().splitlines()
    # what the wheel put into site-packages (the console script goes to bin/, outside it)
    tops = {line.split("/")[0] for line in record if line.strip() and not line.startswith("..")}
    assert tops == {"ouro", dist_info.name}, tops
    for generic in ("agent", "sandbox", "improvers"):
        assert not (site / generic).exists(), generic
    assert (site / "ouro/sandbox/policies.toml").is_file() and not (site / "ouro/sandbox/policies.toml").is_symlink()
    assert (site / "ouro/sandbox/guest/warm_worker.py").is_file() and (site / "ouro/sandbox/guest/envbuild.py").is_file()

    # run outside the source tree, so nothing can be imported from it by accident
    work = tmp_path / "work"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "OURO_HOME")}
    doctor = subprocess.run([str(venv / "bin/ouro"), "sandbox", "doctor"], cwd=work, env=env,
                            capture_output=True, text=True, timeout=600)
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr
    repair = subprocess.run([str(venv / "bin/ouro"), "repair", str(ROOT / "repos" / "cfgparse"), "--json"],
                            cwd=work, env=env, capture_output=True, text=True, timeout=1200)
    assert repair.returncode == 0, repair.stderr[-3000:]
    outcome = json.loads(repair.stdout)
    assert outcome["status"] == "plausible" and outcome["patch"]
    # the packaged policy applied: its audit rules are in the run's environment, not an empty policy
    check = subprocess.run([str(venv / "bin/python"), "-c",
                            "from ouro.sandbox.policy import load_policy; print(len(load_policy().audit_rules))"],
                           cwd=work, env=env, capture_output=True, text=True, timeout=60)
    assert check.returncode == 0 and int(check.stdout) > 0, check.stderr
    # the audit hook's user site (loaded before any dependency's .pth) exists in the installed
    # copy too: the wheel carries its one folder, the per-version links are made on first use
    userbase = site / "ouro/sandbox/guest/userbase"
    assert (userbase / "site-packages/_ouro_boot.py").is_file()
    assert (userbase / "lib/python3.11/site-packages/_ouro_boot.py").is_file()
