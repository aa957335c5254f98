"""`ouro bench` end to end on bundled tasks: kill half way and --resume (Must show 4), broken
entries named while the others run (Must show 5), and Ray giving the same per-task results as
the process pool (Must show 2). Real repairs in real sandboxes (bwrap when it works here)."""
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ouro.agent.bench.run import stable_view

ROOT = Path(__file__).resolve().parents[2]
REPOS = ROOT / "repos"
OURO = str(Path(sys.executable).parent / "ouro")

pytestmark = pytest.mark.slow


def _backend_args() -> list[str]:
    """bwrap when it works here (real isolation, starts in milliseconds), else the local backend;
    a budget of 20 candidates keeps each repair short (these tasks find a fix well within it)."""
    from ouro.sandbox.bwrap_backend import bwrap_available

    if shutil.which("bwrap") and not bwrap_available():
        return ["--backend", "bwrap", "--budget", "20"]
    return ["--backend", "local", "--unsafe-local", "--budget", "20"]


def make_suite(dest: Path, names: list[str]) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    for n in names:
        shutil.copytree(REPOS / n, dest / n, ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"))
    return dest


def ouro(*args, home: Path, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([OURO, "--home", str(home), *args], capture_output=True, text=True, timeout=600, **kw)


def test_kill_half_way_then_resume_runs_only_the_rest(tmp_path):
    suite = make_suite(tmp_path / "suite", ["cfgparse", "ledger", "cachet"])
    out, home = tmp_path / "out", tmp_path / "home"
    cmd = [OURO, "--home", str(home), "bench", str(suite), "--workers", "1", "--out", str(out), *_backend_args()]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 400
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            if list((out / "tasks").glob("*.json")):
                break
            time.sleep(0.05)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the whole group: bench, pool workers, sandboxes
        proc.wait()
    finished = sorted(p.stem for p in (out / "tasks").glob("*.json"))
    assert finished and len(finished) < 3, f"kill came too late or too early: {finished}"
    before = {p.name: p.read_bytes() for p in (out / "tasks").glob("*.json")}

    r = ouro("bench", str(suite), "--workers", "1", "--out", str(out), "--resume", "--json", *_backend_args(), home=home)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert sorted(doc["skipped"]) == finished
    assert sorted(doc["ran"]) == sorted({"cfgparse", "ledger", "cachet"} - set(finished))
    assert sorted(t["task_id"] for t in doc["tasks"]) == ["cachet", "cfgparse", "ledger"]
    for name, data in before.items():  # finished tasks were not touched
        assert (out / "tasks" / name).read_bytes() == data
    preds = [json.loads(line) for line in (out / "predictions.jsonl").read_text().splitlines()]
    assert sorted(p["instance_id"] for p in preds) == ["cachet", "cfgparse", "ledger"]
    assert all(set(p) == {"instance_id", "model_name_or_path", "model_patch"} for p in preds)


def test_broken_entries_are_named_and_the_rest_runs(tmp_path):
    suite = make_suite(tmp_path / "suite", ["cfgparse"])
    shutil.copytree(REPOS / "spans", suite / "broken")
    (suite / "broken" / "task.toml").write_text('[task]\nid = "broken"\ntimeout_s = "soon"\n')
    (suite / "more.jsonl").write_text('{"instance_id": "half-a-line", "repo": \n')
    r = ouro("bench", str(suite), "--out", str(tmp_path / "out"), "--json", *_backend_args(), home=tmp_path / "home")
    assert r.returncode == 1, r.stderr  # some tasks ended in error
    tasks = {t["task_id"]: t for t in json.loads(r.stdout)["tasks"]}
    # the good task really ran a repair (whether 20 candidates find the fix is the policy's business)
    assert tasks["cfgparse"]["status"] != "error" and tasks["cfgparse"]["candidates_validated"] > 0, tasks["cfgparse"]
    assert tasks["broken"]["status"] == "error" and "task.timeout_s: expected int or float, got str 'soon'" in tasks["broken"]["problem"]
    assert tasks["more.jsonl:1"]["status"] == "error" and "not valid JSON" in tasks["more.jsonl:1"]["problem"]
    table = ouro("bench", str(suite), "--out", str(tmp_path / "out"), "--resume", *_backend_args(), home=tmp_path / "home")
    assert "error in broken: task broken: task.timeout_s: expected int or float" in table.stdout
    page = tmp_path / "bench.html"
    rep = ouro("report", str(tmp_path / "out"), "--html", str(page), home=tmp_path / "home")
    assert rep.returncode == 0, rep.stderr
    html = page.read_text()
    assert html.count("<tr data-task=") == 3 and 'id="cands-plot"' in html


def test_ray_gives_the_same_per_task_results_as_the_process_pool(tmp_path):
    ray = pytest.importorskip("ray")
    suite = make_suite(tmp_path / "suite", ["cfgparse", "ledger"])
    common = ["--seed", "3", "--json", *_backend_args()]
    pool = ouro("bench", str(suite), "--workers", "2", "--out", str(tmp_path / "pool"), *common, home=tmp_path / "h1")
    assert pool.returncode == 0, pool.stderr
    # a private local cluster, joined by its address (never "auto": another Ray user may run here)
    ctx = ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        on_ray = ouro("bench", str(suite), "--ray", ctx.address_info["gcs_address"], "--out", str(tmp_path / "ray"),
                      *common, home=tmp_path / "h2")
    finally:
        ray.shutdown()
    assert on_ray.returncode == 0, on_ray.stderr
    pool_doc, ray_doc = json.loads(pool.stdout), json.loads(on_ray.stdout)
    assert pool_doc["executor"] == "process" and ray_doc["executor"] == "ray"
    a = {t["task_id"]: stable_view(t) for t in pool_doc["tasks"]}
    b = {t["task_id"]: stable_view(t) for t in ray_doc["tasks"]}
    assert sorted(a) == ["cfgparse", "ledger"]
    assert a == b
    assert all(t["status"] in ("fixed", "plausible_wrong", "not_found") for t in a.values()), a
