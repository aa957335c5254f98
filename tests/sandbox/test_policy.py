"""policies.toml validation, through the real CLI: one line naming file and key, exit 2."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ouro.sandbox.policy import DEFAULT_POLICY_FILE, PolicyError, load_policy, parse_policy

OURO = [sys.executable, "-m", "ouro.agent.cli"]
ROOT = Path(__file__).resolve().parents[2]


def run_cli(*args, env=None):
    return subprocess.run([*OURO, *args], capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)


def test_bundled_policy_is_valid():
    policy = load_policy(DEFAULT_POLICY_FILE)
    assert policy.network == "none"
    assert policy.uid != 0
    assert policy.limits.memory_mb > 0 and policy.limits.pids > 0


@pytest.mark.parametrize("body, key, problem", [
    ("[limits]\nmemroy_mb = 512\n", "limits.memroy_mb", "unknown key"),
    ('[limits]\nmemory_mb = "512"\n', "limits.memory_mb", "expected int"),
    ("[limits]\nmemory_mb = -5\n", "limits.memory_mb", "must be at least"),
    ("[limits]\npids = true\n", "limits.pids", "expected int"),
    ('[network]\nmode = "host"\n', "network.mode", "must be"),
    ("[sandbox]\nuid = 0\n", "sandbox.uid", "non-root"),
    ("[sandboxx]\n", "sandboxx", "unknown section"),
    ("[limits\n", "", "not valid TOML"),
])
def test_malformed_policy_one_line_exit_2(tmp_path, body, key, problem):
    bad = tmp_path / "bad-policy.toml"
    bad.write_text(body)
    proc = run_cli("sandbox", "run", "--policy-file", str(bad), "--", "true")
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("ouro: error: ") and str(bad) in lines[0]
    assert key in lines[0] and problem in lines[0]
    assert "Traceback" not in proc.stderr


def test_missing_policy_file(tmp_path):
    proc = run_cli("sandbox", "run", "--policy-file", str(tmp_path / "nope.toml"), "--", "true")
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [f"ouro: error: {tmp_path / 'nope.toml'}: file not found"]


def test_parse_keeps_values_and_rejects_bool_for_int():
    p = parse_policy({"limits": {"memory_mb": 300, "wall_time_s": 7}, "sandbox": {"backend": "gvisor"}}, "x.toml")
    assert (p.limits.memory_mb, p.limits.wall_time_s, p.backend) == (300, 7.0, "gvisor")
    with pytest.raises(PolicyError, match=r"x.toml: limits.cpus: expected int or float, got bool"):
        parse_policy({"limits": {"cpus": True}}, "x.toml")
