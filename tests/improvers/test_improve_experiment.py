"""Experiments end to end through the CLI: config errors, the run and its report, resuming an
interrupted run, and the same archive from a process pool and from a Ray cluster."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest


ROOT = Path(__file__).resolve().parents[2]
OURO = [sys.executable, "-m", "ouro.agent.cli"]

TINY = """
[experiment]
name = "tiny"
seed = 1
iterations = 3
train_tasks = ["lpn"]
heldout_tasks = ["knapsack"]
meta_seeds = 2
transfer_seeds = 2
[meta]
max_calls = 2
utility_budget = 3
[sandbox]
backend = "bwrap"
memory_mb = 256
"""


def ouro(*args, home: Path, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([*OURO, *args, "--home", str(home)], cwd=ROOT, capture_output=True, text=True,
                          timeout=900, **kw)


def archive(home: Path, run: str = "tiny") -> list[dict]:
    return [json.loads(line) for line in (home / "runs" / run / "archive.jsonl").read_text().splitlines()]


@pytest.mark.parametrize("body,message", [
    ("[experiment]\nname = 'x'\ntrain_tasks = ['nope']\n", "unknown task 'nope'"),
    ("[experiment]\nname = 'x'\nitertions = 3\n", "experiment.itertions: unknown key"),
    ("[experiment]\niterations = 3\n", "experiment.name: missing"),
    ("[model]\nkind = 'gpt'\n[experiment]\nname = 'x'\n", "model.kind: must be mutation or litellm"),
    ("[experiment\n", "not valid TOML"),
])
def test_a_bad_config_is_one_line_and_exit_2(tmp_path, body, message):
    cfg = tmp_path / "c.toml"
    cfg.write_text(body)
    r = ouro("improve", "run", str(cfg), home=tmp_path / "h")
    assert r.returncode == 2 and message in r.stderr and "Traceback" not in r.stderr
    assert r.stderr.strip().splitlines()[-1].startswith("ouro: error:")


def test_missing_run_and_resume_without_a_run_are_clear(tmp_path):
    r = ouro("improve", "report", "nope", home=tmp_path / "h")
    assert r.returncode == 2 and "no run 'nope'" in r.stderr
    cfg = tmp_path / "tiny.toml"
    cfg.write_text(TINY)
    r = ouro("improve", "run", str(cfg), "--resume", home=tmp_path / "h")
    assert r.returncode == 3 and "nothing to resume" in r.stderr


@pytest.fixture(scope="module")
def reference(tmp_path_factory, bwrap_ready):
    """One uninterrupted run on a process pool: what the other runs must reproduce."""
    d = tmp_path_factory.mktemp("ref")
    cfg = d / "tiny.toml"
    cfg.write_text(TINY)
    r = ouro("improve", "run", str(cfg), "--workers", "2", "--json", home=d / "home")
    assert r.returncode == 0, r.stderr[-2000:]
    return d, json.loads(r.stdout)


@pytest.mark.bwrap
def test_a_run_writes_the_plot_and_tables(reference):
    d, summary = reference
    report = d / "home" / "runs" / "tiny" / "report"
    assert (report / "meta_utility.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [it["iteration"] for it in summary["iterations"]] == [0, 1, 2, 3]
    rows = {r["task"]: r for r in summary["transfer"]}
    assert rows["knapsack"]["n_seeds"] == 2 and "all held-out" in rows
    lo, hi = rows["all held-out"]["final_improver"]["ci"]
    assert 0.0 <= lo <= rows["all held-out"]["final_improver"]["mean"] <= hi <= 1.0
    assert "| knapsack | held-out | 2 |" in (report / "transfer.md").read_text()
    assert "per 1,000 programs" in (report / "violations.md").read_text()
    versions = archive(d / "home")
    assert versions[0]["id"] == "v0" and versions[0]["parent"] is None
    for v in versions[1:]:
        assert v["parent"] and v["diff"].startswith("--- parent.py")
        assert (d / "home" / "runs" / "tiny" / "versions" / f"{v['id']}.py").exists()
    # `ouro improve report` rewrites the same report from the run directory alone
    r = ouro("improve", "report", "tiny", "--json", home=d / "home")
    assert r.returncode == 0 and json.loads(r.stdout)["transfer"] == summary["transfer"]


@pytest.mark.bwrap
def test_an_interrupted_run_resumes_where_it_stopped(reference, tmp_path):
    ref_dir, _ = reference
    cfg = tmp_path / "tiny.toml"
    cfg.write_text(TINY)
    home = tmp_path / "home"
    state = home / "runs" / "tiny" / "state.json"
    p = subprocess.Popen([*OURO, "improve", "run", str(cfg), "--workers", "1", "--home", str(home)], cwd=ROOT,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        try:
            if json.loads(state.read_text())["iteration_done"] >= 1:
                break
        except (OSError, ValueError):
            pass
        time.sleep(0.01)
    # at once: later iterations re-score a cached version and take tens of milliseconds each
    os.kill(p.pid, signal.SIGINT)
    _, err = p.communicate(timeout=300)
    assert p.returncode == 130, err[-2000:]
    stopped = json.loads(state.read_text())["iteration_done"]
    assert 1 <= stopped < 3
    r = ouro("improve", "run", str(cfg), "--workers", "1", "--resume", home=home)
    assert r.returncode == 0, r.stderr[-2000:]
    assert f"resuming after iteration {stopped}" in r.stderr
    assert f"iteration {stopped + 1}: improver" in r.stderr and "iteration 0: scoring" not in r.stderr
    assert archive(home) == archive(ref_dir / "home")


@pytest.mark.slow
@pytest.mark.bwrap
def test_ray_gives_the_same_archive_as_the_process_pool(reference, tmp_path):
    pytest.importorskip("ray")
    ref_dir, ref_summary = reference
    cfg = tmp_path / "tiny.toml"
    cfg.write_text(TINY)
    r = ouro("improve", "run", str(cfg), "--ray", "local", "--workers", "2", "--json", home=tmp_path / "home")
    assert r.returncode == 0, r.stderr[-2000:]
    assert archive(tmp_path / "home") == archive(ref_dir / "home")
    assert json.loads(r.stdout)["transfer"] == ref_summary["transfer"]
