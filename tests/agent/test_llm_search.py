"""The litellm policy on ouro's tree search, end to end against a bundled repository: litellm ->
HTTP -> the replay server for the model, a bubblewrap sandbox for every validation.

Must show 1: the scripted model makes a wrong edit, the failing test comes back, the model
explains why, then fixes it; the trajectory holds the explanation chain, the value agent's
scores and the discriminator's choice between two plausible patches.
Must show 3: a cost cap stops the run with a message naming it; the partial trajectory is saved.
Must show 4: provider failures injected by the replay server are retried or recorded, and the
run still ends with a result.
"""
import json
import shutil
from pathlib import Path

import pytest

pytest.importorskip("litellm")

from ouro.sandbox.core.files import append_jsonl, read_jsonl
from ouro.agent.llm.policy import SEARCH_DEFAULTS, TRAJECTORY_FILE, LLMPolicyOptions, LiteLLMPolicy
from ouro.agent.llm.replay import ReplayServer

ROOT = Path(__file__).resolve().parents[2]
TASK = ROOT / "repos" / "cfgparse"
SCRIPT = ROOT / "agent" / "llm" / "scripts" / "cfgparse.json"

pytestmark = [pytest.mark.bwrap, pytest.mark.slow]


@pytest.fixture(scope="module")
def sandboxed(tmp_path_factory):
    """One bwrap sandbox with the task's repository, its baseline and a warm validator."""
    from ouro.agent.testing import Validator, parse_test_cmd, reproduce
    from ouro.sandbox.backends import open_sandbox
    from ouro.sandbox.policy import load_policy
    from ouro.sandbox.testrun import WarmWorker, run_tests_cold

    if not shutil.which("bwrap"):
        pytest.skip("bubblewrap is not installed")
    repo = tmp_path_factory.mktemp("cfgparse") / "repo"
    shutil.copytree(TASK / "repo", repo)
    sb = open_sandbox(load_policy().with_backend("bwrap"), "repair", workspace=repo, audit=False)
    cmd = parse_test_cmd("python -m pytest -q tests")
    baseline = reproduce(lambda args, timeout, cov: run_tests_cold(sb, args, timeout, coverage=cov), cmd, 120)
    worker = WarmWorker(sb)
    validator = Validator(run_candidate=worker.run, cmd=cmd, baseline=baseline, timeout=60)
    yield repo, baseline, validator
    worker.close()
    sb.close()


def run_search(sandboxed, script, run_dir: Path, **options):
    """The tree search as `ouro repair` drives it, with the litellm policy."""
    from ouro.agent.search import SearchConfig, TreeSearch
    from ouro.agent.state import Observation, SearchContext
    from ouro.agent.selfdebug import failure_message

    repo, baseline, validator = sandboxed
    issue = (TASK / "ISSUE.md").read_text()
    base_files = {str(p.relative_to(repo)): p.read_text() for p in sorted((repo / "cfgparse").glob("*.py"))}
    ctx = SearchContext(base_files=base_files, target_tests=baseline.target, issue=issue)
    root = Observation(status="failed", target=len(baseline.target),
                       failing={t: failure_message(baseline.failing[t]) for t in baseline.target})
    with ReplayServer(script) as srv:
        opts = LLMPolicyOptions(api_base=srv.base_url, backoff_s=0.01, timeout=options.pop("timeout", 10), **options)
        policy = LiteLLMPolicy("openai/gpt-4o", opts, repo_dir=repo, run_dir=run_dir, tests_fn=validator)
        cfg = SearchConfig(budget=12, max_plausible=2, max_children=SEARCH_DEFAULTS["max_children"], seed=0)
        search = TreeSearch(policy, lambda node: validator(node.files), ctx, cfg, root,
                            on_event=lambda kind, data: append_jsonl(run_dir / "trajectory.jsonl", {"event": kind, **data}))
        result = search.run()
        chosen = policy.choose([result.nodes[i] for i in result.plausible], ctx) if result.plausible else None
        served = [(r.role, r.served) for r in srv.requests]
    return result, policy, chosen, served, read_jsonl(run_dir / TRAJECTORY_FILE)


def test_wrong_edit_then_explanation_then_fix_then_discriminator(sandboxed, tmp_path):
    result, policy, chosen, served, traj = run_search(sandboxed, SCRIPT, tmp_path)
    nodes = result.nodes
    assert result.stopped == "max_plausible" and len(result.plausible) == 2
    # the first child of the root is the wrong edit: one test still fails
    wrong = nodes[nodes[0].children[0]]
    assert not wrong.observation.plausible and wrong.observation.fixed == 1
    assert "value[:i]\n" in wrong.files["cfgparse/lexer.py"]
    # its refinement starts from an explanation of that failure, then fixes it
    fix = nodes[wrong.children[0]]
    assert fix.observation.plausible and "return value[:i].rstrip()" in fix.files["cfgparse/lexer.py"]
    proposals = [e for e in traj if e["event"] == "proposal"]
    refine = next(p for p in proposals if p["parent"] == wrong.id)
    assert refine["explanation"].startswith("test_inline_hash_comment_is_dropped_from_string fails")
    assert "test_inline_hash_comment_is_dropped_from_string" in refine["feedback"]
    assert refine["faulty_code"]["cfgparse/lexer.py"].count("return value[:i]\n") == 1
    assert "return value[:i].rstrip()" in refine["refined_code"]["cfgparse/lexer.py"]
    steps = [s["type"] for s in refine["steps"]]
    assert steps.index("explanation") < steps.index("action")  # explain first, then act
    ran = next(s for s in refine["steps"] if s.get("name") == "run_tests")  # tested in the sandbox mid-proposal
    assert ran["observation"].startswith("status: plausible; 2 of 2 originally failing tests pass now")
    # value scores for every validated node, combined into the search's value
    values = {e["node"]: e for e in traj if e["event"] == "value"}
    assert values[wrong.id]["score"] == -30 and values[fix.id]["score"] == 95
    assert set(values) == {n for n in nodes if n != 0}
    # hindsight: expanding the wrong node again, the model saw the review of its first child
    again = next(p for p in proposals if p["parent"] == wrong.id and p["attempt"] == 2)
    assert any("fixed at its cause" in h and "scored 95" in h for h in again["hindsight"])
    assert again["explanation"]
    # the discriminator chose between the two plausible patches, and chose the clear one
    disc = next(e for e in traj if e["event"] == "discriminator")
    assert sorted(disc["candidates"]) == sorted(result.plausible) and chosen == fix.id == disc["chosen_node"]
    assert disc["votes"][0]["reasoning"]
    assert policy.usage()["calls"] == len(served) and policy.usage()["cost"] > 0
    assert all(s == "reply" for _, s in served), served


def test_cost_cap_stops_the_run_and_keeps_the_partial_trajectory(sandboxed, tmp_path):
    # each scripted reply reports 20k prompt tokens: gpt-4o prices that at $0.05, so a
    # $0.12 cap is reached after the third call, in the middle of the first proposal
    script = json.loads(SCRIPT.read_text())
    for replies in script["roles"].values():
        for r in replies:
            r["usage"] = {"prompt_tokens": 20000, "completion_tokens": 10}
    result, policy, chosen, served, traj = run_search(sandboxed, script, tmp_path, max_cost=0.12)
    assert policy.stopped_by.startswith("budget cap reached: cost (limit $0.1200, spent $0.15")
    stop = next(e for e in traj if e["event"] == "budget_exceeded")
    assert stop["cap"] == "cost" and stop["usage"]["calls"] == 3
    assert len(served) == 3  # nothing was sent after the cap
    # the proposal the cap interrupted is in the trajectory with the steps it had made
    partial = next(e for e in traj if e["event"] == "proposal")
    assert partial["error"].startswith("budget cap reached: cost") and "+            return value[:i]\n" in partial["diff"]
    assert not partial["finished"] and not any(e["event"] == "value" for e in traj)  # recorded, not proposed
    assert [s["type"] for s in partial["steps"]][-1] == "budget_exceeded"
    assert [s.get("name") for s in partial["steps"] if s["type"] == "action"] == ["search_symbol", "view_file", "replace_string"]
    assert result.stopped == "exhausted" and result.plausible == []
    assert (tmp_path / TRAJECTORY_FILE).exists() and (tmp_path / "trajectory.jsonl").exists()


def test_provider_failures_are_retried_or_recorded_and_the_run_ends_with_a_result(sandboxed, tmp_path):
    script = json.loads(SCRIPT.read_text())
    agent = script["roles"]["agent"]
    first = agent[0]["when"]
    # before the first real turn: a rate limit, a timeout and a 500 (retried), a malformed tool
    # call and a context overflow (recorded, then the agent carries on)
    injected = [{"when": first, "error": 429}, {"when": first, "sleep": 3, "content": "slow"},
                {"when": first, "error": 500},
                {"when": first, "tool_calls": [{"name": "view_file", "arguments": "{\"path\": "}]},
                {"when": first, "error": "context_overflow"}]
    script["roles"]["agent"] = injected + agent
    script["roles"]["value"].insert(0, {"error": 503})  # the value agent's call is retried too
    result, policy, chosen, served, traj = run_search(sandboxed, script, tmp_path, timeout=1)
    assert len(result.plausible) == 2 and chosen in result.plausible
    # the overflow came when there was nothing to cut: that attempt is a recorded failed step
    # and the next attempt at the same node went on
    first_prop, second_prop = [e for e in traj if e["event"] == "proposal"][:2]
    assert "context window exceeded" in first_prop["error"] and first_prop["diff"] == ""
    assert second_prop["parent"] == 0 and second_prop["attempt"] == 2 and second_prop["error"] is None
    steps = first_prop["steps"]
    retried = [f.split(":")[0] for s in steps if s["type"] == "llm_call" for f in s["retried"]]
    assert retried == ["RateLimitError", "Timeout", "InternalServerError"]
    assert any(s["type"] == "tool_error" and "not a JSON object" in s["error"] for s in steps)
    assert any(s["type"] == "provider_error" and s["kind"] == "context_overflow" for s in steps)
    assert [s for _, s in served].count("error:rate_limit") == 1
    assert policy.usage()["failed_calls"] == 5


def test_same_script_and_seed_give_the_same_tree(sandboxed, tmp_path):
    shape = []
    for i in (1, 2):
        result, policy, chosen, served, traj = run_search(sandboxed, SCRIPT, tmp_path / str(i))
        shape.append(([(n.id, n.parent, n.key, n.observation.status, round(n.value, 6)) for n in result.nodes.values()],
                      chosen, [r for r, _ in served]))
    assert shape[0] == shape[1]


def test_explained_refinements_become_training_examples(sandboxed, tmp_path):
    from ouro.agent.llm.trajectory import examples_from_run

    run_search(sandboxed, SCRIPT, tmp_path)
    examples = examples_from_run(tmp_path)
    # two explained refinements of the wrong edit, both plausible
    assert [x.status for x in examples] == ["plausible", "plausible"]
    ex = examples[0]
    assert ex.faulty_code.startswith("# file: cfgparse/lexer.py\n") and "return value[:i]\n" in ex.faulty_code
    assert "return value[:i].rstrip()" in ex.refined_code and "trailing space" in ex.explanation
    assert "test_inline_hash_comment_is_dropped_from_string" in ex.feedback and "inline comments" in ex.problem
