"""The tool-using agent against scripted replies: edits, explanation chain, and every provider
failure (malformed tool call, context overflow, rate limit, timeout) recorded, never a crash."""
import json

import pytest

pytest.importorskip("litellm")

from ouro.agent.llm.agent import LLMAgent, RepairContext
from ouro.agent.llm.client import LLMClient
from ouro.agent.llm.replay import ReplayServer

SRC = "def clip(value, i):\n    return value[:i + 1].rstrip()\n"


def call(name, **arguments):
    return {"name": name, "arguments": arguments}


@pytest.fixture
def repo(tmp_path):
    (tmp_path / "lex.py").write_text(SRC)
    return tmp_path


def agent_for(url, **kw):
    return LLMAgent(LLMClient("openai/gpt-4o", api_base=url, backoff_s=0.01, timeout=kw.pop("timeout", 5),
                              max_retries=kw.pop("max_retries", 3)), **kw)


def kinds(events):
    return [e["type"] for e in events]


def test_agent_edits_through_tools_and_survives_malformed_calls_and_overflow(repo):
    script = {"roles": {"agent": [
        {"tool_calls": [call("view_file", path="lex.py")]},
        {"tool_calls": [{"name": "replace_string", "arguments": '{"path": "lex.py", "old": '}]},   # malformed
        {"error": "context_overflow"},                                                            # shrink, retry
        {"error": 429},                                                                           # retried
        {"tool_calls": [call("replace_string", path="lex.py", old="value[:i + 1]", new="value[:i]")]},
        {"tool_calls": [call("finish", explanation="slice stops before the comment marker")]},
    ]}}
    with ReplayServer(script) as srv:
        prop = agent_for(srv.base_url).propose(RepairContext(problem="comment leaks", feedback="FAILED t"), repo)
        requests = srv.requests
    assert prop.error is None and prop.finished and prop.summary == "slice stops before the comment marker"
    assert prop.edits == {"lex.py": "def clip(value, i):\n    return value[:i].rstrip()\n"}
    assert prop.before == {"lex.py": SRC} and "-    return value[:i + 1].rstrip()" in prop.diff
    assert prop.explanation is None  # the root state gets no explanation: nothing was tried yet
    ev = prop.events
    bad = next(e for e in ev if e["type"] == "tool_error")
    assert "not a JSON object" in bad["error"] and bad["raw_arguments"] == '{"path": "lex.py", "old": '
    overflow = next(e for e in ev if e["type"] == "provider_error")
    assert overflow["kind"] == "context_overflow" and overflow["recovery"] == "shrink"
    retried = [e for e in ev if e["type"] == "llm_call" and e["retried"]]
    assert len(retried) == 1 and retried[0]["retried"][0].startswith("RateLimitError")
    # the model was told its call was malformed, and the retry after the overflow was shorter
    tool_msgs = [m for m in requests[2].messages if m["role"] == "tool"]
    assert "valid JSON" in tool_msgs[-1]["content"]
    after = [m for m in requests[4].messages if m["role"] == "tool"]
    assert after[0]["content"].startswith("[observation elided")
    assert len(json.dumps(requests[4].messages)) < len(json.dumps(requests[2].messages))


def test_refinement_starts_with_an_explanation_of_the_failure(repo):
    script = {"roles": {
        "explain": [{"content": "test_port fails: '8080  ;' keeps the ';' because the slice ends one past it."}],
        "agent": [{"tool_calls": [call("replace_string", path="lex.py", old="i + 1", new="i")]},
                  {"tool_calls": [call("finish", explanation="fixed")]}]}}
    ctx = RepairContext(problem="comment leaks", feedback="FAILED tests/t.py::test_port - ValueError: '8080  ;'",
                        state_diff="--- a/lex.py\n+++ b/lex.py\n", depth=1,
                        hindsight=["attempt 'strip()' scored -40: strips the wrong side"])
    with ReplayServer(script) as srv:
        prop = agent_for(srv.base_url).propose(ctx, repo)
        explain_req, first_agent_req = srv.requests[0], srv.requests[1]
    assert kinds(prop.events)[0] == "llm_call" and kinds(prop.events)[1] == "explanation"
    assert prop.explanation.startswith("test_port fails")
    assert explain_req.role == "explain" and "ValueError: '8080  ;'" in explain_req.messages[1]["content"]
    task = first_agent_req.messages[1]["content"]
    assert "## Why the current code fails" in task and prop.explanation in task
    assert "strips the wrong side" in task  # hindsight from the value agent reached the prompt
    record = prop.training_record(ctx)
    assert record["faulty_code"] == {"lex.py": SRC} and record["explanation"] == prop.explanation
    assert record["feedback"] == ctx.feedback and "value[:i].rstrip()" in record["refined_code"]["lex.py"]


def test_text_fallback_for_models_without_tool_calling(repo):
    block = lambda obj: "Let me act.\n```tool\n" + json.dumps(obj) + "\n```"  # noqa: E731
    script = [{"content": "I think I know."},                                    # no action: nudged
              {"content": "```tool\n{not json\n```"},                            # malformed: recorded
              {"content": block(call("replace_string", path="lex.py", old="i + 1", new="i"))},
              {"content": block(call("finish", explanation="text mode"))}]
    with ReplayServer(script) as srv:
        prop = agent_for(srv.base_url, use_tools=False).propose(RepairContext("p", "f"), repo)
        assert all(r.tools is None for r in srv.requests)
    assert prop.finished and prop.summary == "text mode" and "value[:i]" in prop.edits["lex.py"]
    assert kinds(prop.events).count("no_action") == 1 and kinds(prop.events).count("tool_error") == 1


def test_provider_that_keeps_failing_ends_the_proposal_with_a_recorded_error(repo):
    script = [{"tool_calls": [call("view_file", path="lex.py")]}, {"sleep": 2}, {"error": 500}, {"error": 429}]
    with ReplayServer(script) as srv:
        prop = agent_for(srv.base_url, timeout=0.5, max_retries=2).propose(RepairContext("p", "f"), repo)
    assert prop.empty and not prop.finished
    err = next(e for e in prop.events if e["type"] == "provider_error")
    assert err["kind"] == "failed" and "RateLimitError after 3 attempts" in err["error"]
    assert "model call failed" in prop.error or "RateLimitError" in prop.error
    assert (repo / "lex.py").read_text() == SRC


def test_step_limit_and_no_edit(repo):
    script = [{"tool_calls": [call("search_symbol", symbol="clip")]}] * 3
    with ReplayServer(script) as srv:
        prop = agent_for(srv.base_url, max_steps=3).propose(RepairContext("p", "f"), repo)
    assert kinds(prop.events)[-1] == "step_limit" and prop.error == "the model made no edit"
    assert "lex.py:1-2 function clip" in prop.events[1]["observation"]


def test_policy_stops_with_a_message_when_the_provider_keeps_failing(repo):
    """An unreachable provider ends the run after a few failed proposals, saying why."""
    import socket

    from ouro.agent.llm.policy import LiteLLMPolicy, LLMPolicyOptions
    from ouro.agent.state import Node, Observation, SearchContext

    with socket.socket() as s:  # a port nobody listens on: connection refused
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}/v1"
    policy = LiteLLMPolicy("openai/gpt-4o", LLMPolicyOptions(api_base=dead, max_retries=1, backoff_s=0.01,
                                                              provider_failures=2), repo_dir=repo)
    root = Node(id=0, parent=None, depth=0, files={}, edits=[],
                observation=Observation(status="failed", target=1, failing={"t": "boom"}))
    ctx = SearchContext(base_files={"lex.py": SRC}, target_tests=["t"], issue="comment leaks")
    assert policy.propose(root, ctx, 1) == []
    assert policy.expansions[0] == 2 and policy.stopped_by.startswith("the model provider failed 2 proposals in a row")
    assert "Connection error" in policy.stopped_by and policy.usage()["stopped_by"] == policy.stopped_by
