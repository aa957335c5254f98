"""`ouro repair --policy litellm:MODEL --api-base URL` end to end: the CLI, the repair pipeline,
a bubblewrap sandbox for validation, and litellm -> HTTP -> `ouro llm replay` for the model."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("litellm")

from ouro.sandbox.core.files import read_jsonl
from ouro.agent.llm.replay import ReplayServer

ROOT = Path(__file__).resolve().parents[2]
TASK = ROOT / "repos" / "cfgparse"
SCRIPT = ROOT / "agent" / "llm" / "scripts" / "cfgparse.json"

pytestmark = [pytest.mark.bwrap, pytest.mark.slow]


def ouro_repair(tmp_path, url, *extra):
    if not shutil.which("bwrap"):
        pytest.skip("bubblewrap is not installed")
    repo = tmp_path / "repo"
    if not repo.exists():
        shutil.copytree(TASK / "repo", repo)
    cmd = [sys.executable, "-m", "ouro.agent.cli", "--home", str(tmp_path / "home"), "repair", str(repo),
           "--issue-file", str(TASK / "ISSUE.md"), "--test-cmd", "python -m pytest -q tests",
           "--policy", "litellm:openai/gpt-4o", "--api-base", url, "--backend", "bwrap", "--json", *extra]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env={**os.environ, "NO_COLOR": "1"})
    outcome = json.loads(proc.stdout) if proc.stdout.strip().startswith("{") else None
    traj = read_jsonl(Path(outcome["run_dir"]) / "trajectory.jsonl") if outcome else []
    return proc, outcome, traj


def test_repair_with_a_scripted_model_explains_its_wrong_edit_and_fixes_it(tmp_path):
    with ReplayServer(SCRIPT) as srv:
        proc, outcome, traj = ouro_repair(tmp_path, srv.base_url, "--max-plausible", "2")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert outcome["status"] == "plausible" and "+            return value[:i].rstrip()" in outcome["patch"]
    assert outcome["tokens"] > 0 and outcome["cost"] > 0
    kinds = [e["kind"] for e in traj]
    props = [e for e in traj if e["kind"] == "llm_proposal"]
    scores = {e["node"]: e["score"] for e in traj if e["kind"] == "llm_value"}
    assert sorted(scores.values()) == [-30, 60, 95]
    wrong = next(n for n, s in scores.items() if s == -30)
    fix = next(n for n, s in scores.items() if s == 95)
    # wrong edit first (no explanation at the root), then an explained refinement of it
    assert props[0]["parent"] == 0 and props[0]["explanation"] is None and "return value[:i]" in props[0]["diff"]
    refine = next(p for p in props if p["parent"] == wrong)
    assert "trailing space" in refine["explanation"]
    assert "test_inline_hash_comment_is_dropped_from_string" in refine["feedback"]
    ran = next(s for s in refine["steps"] if s.get("name") == "run_tests")
    assert ran["observation"].startswith("status: plausible")  # the run_tests tool used the repair's sandbox
    disc = next(e for e in traj if e["kind"] == "llm_discriminator")
    assert len(disc["candidates"]) == 2 and disc["chosen_node"] == fix and disc["votes"]
    selection = next(e for e in traj if e["kind"] == "selection")
    assert selection["chosen"] == fix
    assert kinds.index("llm_discriminator") < kinds.index("selection") < kinds.index("result")
    # the run's trajectory converts to (problem, faulty code, feedback) -> (explanation, refined code)
    from ouro.agent.llm.trajectory import examples_from_run

    examples = examples_from_run(outcome["run_dir"])
    assert examples and all("return value[:i]\n" in x.faulty_code for x in examples)


def test_cost_cap_stops_the_repair_with_a_clear_message_and_keeps_the_trajectory(tmp_path):
    with ReplayServer(SCRIPT) as srv:
        proc, outcome, traj = ouro_repair(tmp_path, srv.base_url, "--max-cost", "0.01")
        sent = len(srv.requests)
    assert proc.returncode == 1 and outcome["status"] == "not_found"
    assert outcome["error"].startswith("budget cap reached: cost (limit $0.0100, spent $0.01")
    stop = next(e for e in traj if e["kind"] == "llm_budget_exceeded")
    assert stop["cap"] == "cost" and stop["usage"]["calls"] == sent
    # the partial trajectory: what was proposed and validated before the cap is all there
    # (the sandbox's environment, when the project has one built, is logged between start and reproduce)
    assert [e["kind"] for e in traj if e["kind"] != "environment"][:3] == ["start", "reproduce", "localize"]
    assert any(e["kind"] == "validation" for e in traj) and traj[-1]["kind"] == "result"


def test_bad_llm_flags_are_one_line_errors(tmp_path):
    for extra, msg in [(["--max-cost", "-1"], "--max-cost must be positive"),
                       (["--policy", "builtin", "--max-calls", "3"], "need --policy litellm:MODEL")]:
        proc = subprocess.run([sys.executable, "-m", "ouro.agent.cli", "--home", str(tmp_path), "repair", str(TASK / "repo"),
                               "--policy", "litellm:x", *extra], capture_output=True, text=True)
        last = proc.stderr.strip().splitlines()[-1]
        assert proc.returncode == 2 and last.startswith("ouro: error: ") and msg in last
        assert "Traceback" not in proc.stderr
