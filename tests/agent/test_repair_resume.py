"""Kill `ouro repair` with SIGKILL in the middle of its search (Docker sandbox), then
`--resume` finishes it without validating again any candidate it had validated, and no
container of that run is left behind."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from repair_helpers import BUGGY, write

ROOT = Path(__file__).resolve().parents[2]
OURO = [sys.executable, "-m", "ouro.agent.cli"]

# A decoy-rich variant: the fault (`return lo` for the upper bound) is not among the first
# candidates, so there is a search to interrupt.
FILES = dict(BUGGY)
FILES["shop/util.py"] = ("def clamp(x, lo, hi):\n"
                         "    span = hi - lo\n"
                         "    if span < 0:\n"
                         "        raise ValueError(span)\n"
                         "    if x < lo:\n"
                         "        return lo\n"
                         "    if x > hi:\n"
                         "        return lo\n"
                         "    return x\n")


def _containers(client, run_id: str) -> list[str]:
    return [c["Id"] for c in client.api.containers(all=True, filters={"label": f"ouro.run={run_id}"})]


@pytest.mark.docker
@pytest.mark.slow
def test_sigkill_mid_search_then_resume(tmp_path, docker_client, base_image):
    repo = write(tmp_path / "shop", FILES)
    home = tmp_path / "home"
    args = [*OURO, "--home", str(home), "repair", str(repo), "--issue", "discount above 100% gives a negative price",
            "--backend", "docker", "--json", "--budget", "80", "--seed", "1"]
    proc = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    validations = None
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and proc.poll() is None:
        found = list((home / "runs").glob("*/validations.jsonl")) if (home / "runs").exists() else []
        if found and len(found[0].read_text().splitlines()) >= 4:
            validations = found[0]
            break
        time.sleep(0.2)
    assert validations is not None and proc.poll() is None, "the search should still be running"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    run_dir = validations.parent
    run_id = run_dir.name
    before = [json.loads(line)["key"] for line in validations.read_text().splitlines() if line.strip()]

    r = subprocess.run([*OURO, "--home", str(home), "repair", "--resume", run_id, "--json"], cwd=ROOT,
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    out = json.loads(r.stdout)
    assert out["status"] == "plausible" and out["run_id"] == run_id
    assert "return hi" in out["patch"]

    after = [json.loads(line)["key"] for line in validations.read_text().splitlines() if line.strip()]
    assert after[:len(before)] == before
    assert len(after) == len(set(after)), "a candidate was validated twice"
    events = [json.loads(line) for line in (run_dir / "trajectory.jsonl").read_text().splitlines() if line.strip()]
    resume_at = max(i for i, e in enumerate(events) if e["kind"] == "resume")
    replayed = [e for e in events[resume_at:] if e["kind"] == "validation" and e["cached"]]
    assert {e["key"] for e in replayed} == set(before)    # every earlier validation came from the cache
    assert out["candidates_validated"] >= len(before)
    # the killed process's container was reaped when the resumed run started; the resumed
    # run removed its own on exit
    assert _containers(docker_client, run_id) == []
