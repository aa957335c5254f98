"""LLMClient against the replay server, through litellm and HTTP: retries, failures, budgets, cost."""
import json
import subprocess
import sys
import urllib.request

import pytest

pytest.importorskip("litellm")

from ouro.agent.llm.client import Budget, BudgetExceeded, ContextOverflow, LLMClient, LLMError
from ouro.agent.llm.replay import ReplayServer, ScriptError

HELLO = [{"role": "user", "content": "hello"}]


def client(url, **kw):
    kw.setdefault("backoff_s", 0.01)
    return LLMClient("openai/gpt-4o", api_base=url, **kw)


def test_replay_routes_by_role_and_records_requests():
    script = {"roles": {"value": [{"content": "Score: 5"}]}, "default": [{"content": "plain"}]}
    with ReplayServer(script) as srv:
        c = client(srv.base_url)
        assert c.chat(HELLO, role="value").content == "Score: 5"
        assert c.chat(HELLO, role="agent").content == "plain"  # no queue of its own: default
        with pytest.raises(LLMError, match="exhausted"):  # a 400: not retried
            c.chat(HELLO, role="agent")
        recorded = json.load(urllib.request.urlopen(srv.base_url + "/_requests"))["requests"]
        models = json.load(urllib.request.urlopen(srv.base_url + "/models"))
    assert [r["role"] for r in recorded] == ["value", "agent", "agent"]
    assert [r["served"] for r in recorded] == ["reply", "reply", "exhausted"]
    assert recorded[0]["messages"] == HELLO and models["data"][0]["id"] == "replay"
    assert c.usage.calls == 3 and c.usage.failed_calls == 1


def test_transient_failures_are_retried_with_backoff():
    script = [{"error": 429}, {"error": 500}, {"sleep": 3, "content": "too late"}, {"error": 503},
              {"content": "finally", "usage": {"prompt_tokens": 10, "completion_tokens": 5}}]
    with ReplayServer(script) as srv:
        c = client(srv.base_url, timeout=0.5, max_retries=4)
        reply = c.chat(HELLO)
    assert reply.content == "finally" and reply.attempts == 5
    kinds = [f.split(":")[0] for f in reply.failures]
    assert kinds == ["RateLimitError", "InternalServerError", "Timeout", "ServiceUnavailableError"]
    assert c.usage.calls == 5 and c.usage.failed_calls == 4 and c.usage.tokens == 15


def test_retries_give_up_after_max_retries():
    with ReplayServer([{"error": 429}] * 3) as srv:
        c = client(srv.base_url, max_retries=2)
        with pytest.raises(LLMError, match="RateLimitError after 3 attempts"):
            c.chat(HELLO)


def test_context_overflow_is_not_retried_but_raised_as_its_own_error():
    with ReplayServer([{"error": "context_overflow"}, {"content": "unused"}]) as srv:
        c = client(srv.base_url)
        with pytest.raises(ContextOverflow, match="maximum context length"):
            c.chat(HELLO)
        assert srv.remaining() == {"default": 1}


def test_malformed_tool_call_arguments_come_back_marked():
    script = [{"tool_calls": [{"name": "view_file", "arguments": "{\"path\": \"a.py\""},
                              {"name": "finish", "arguments": {"explanation": "ok"}}]}]
    with ReplayServer(script) as srv:
        reply = client(srv.base_url).chat(HELLO, tools=[])
    bad, good = reply.tool_calls
    assert bad.error and "not a JSON object" in bad.error and bad.raw_arguments == '{"path": "a.py"'
    assert good.error is None and good.arguments == {"explanation": "ok"}


def test_cost_comes_from_litellm_price_map_and_custom_prices():
    usage = {"prompt_tokens": 1000, "completion_tokens": 100}
    with ReplayServer([{"content": "a", "usage": usage}, {"content": "b", "usage": usage}]) as srv:
        priced = client(srv.base_url)  # gpt-4o is in litellm's bundled price map
        r1 = priced.chat(HELLO)
        unpriced = LLMClient("openai/my-local-model", api_base=srv.base_url,
                             input_cost_per_token=1e-6, output_cost_per_token=2e-6)
        r2 = unpriced.chat(HELLO)
    import litellm
    want = litellm.model_cost["gpt-4o"]
    assert r1.cost == pytest.approx(1000 * want["input_cost_per_token"] + 100 * want["output_cost_per_token"])
    assert r2.cost == pytest.approx(1000 * 1e-6 + 100 * 2e-6)


@pytest.mark.parametrize("budget,cap", [(Budget(max_calls=2), "calls"), (Budget(max_tokens=2000), "tokens"),
                                        (Budget(max_cost=0.004), "cost")])
def test_each_budget_cap_stops_calls_and_names_itself(budget, cap):
    usage = {"prompt_tokens": 1000, "completion_tokens": 100}  # gpt-4o: $0.0035 per call
    with ReplayServer([{"content": str(i), "usage": usage} for i in range(5)]) as srv:
        c = client(srv.base_url, budget=budget)
        with pytest.raises(BudgetExceeded) as info:
            for _ in range(5):
                c.chat(HELLO)
    assert info.value.cap == cap and f"budget cap reached: {cap}" in str(info.value)
    assert c.usage.calls == 2 and srv.remaining()["default"] == 3  # no call is sent past the cap


def test_bad_scripts_are_refused_with_a_reason(tmp_path):
    for text, msg in [("{", "not valid JSON"), ('[{"error": 418}]', "unknown error"),
                      ('[{"contents": "x"}]', "unknown keys"), ('{"x": 1}', "a list of replies")]:
        p = tmp_path / "s.json"
        p.write_text(text)
        with pytest.raises(ScriptError, match=msg):
            ReplayServer(p)


def test_replay_cli_serves_and_reports_bad_input(tmp_path):
    script = tmp_path / "s.json"
    script.write_text('[{"content": "from the cli"}]')
    proc = subprocess.Popen([sys.executable, "-m", "ouro.agent.cli", "llm", "replay", "--script", str(script),
                             "--json", "--duration", "20"], stdout=subprocess.PIPE, text=True)
    try:
        line = "".join(iter(proc.stdout.readline, "}\n")) + "}"
        url = json.loads(line)["base_url"]
        body = json.dumps({"model": "x", "messages": HELLO}).encode()
        req = urllib.request.Request(url + "/chat/completions", data=body, headers={"Content-Type": "application/json"})
        reply = json.load(urllib.request.urlopen(req))
        assert reply["choices"][0]["message"]["content"] == "from the cli"
    finally:
        proc.terminate()
        proc.wait(10)
    bad = subprocess.run([sys.executable, "-m", "ouro.agent.cli", "llm", "replay", "--script", str(tmp_path / "none.json")],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and bad.stderr.strip().startswith("ouro: error: cannot read replay script")
    assert "Traceback" not in bad.stderr


def test_when_serves_the_first_unused_reply_whose_pattern_matches():
    script = [{"when": "refine", "content": "for refinement"}, {"content": "anything"},
              {"when": "^(?!.*refine).*start", "content": "for start"}]
    with ReplayServer(script) as srv:
        c = client(srv.base_url)
        assert c.chat([{"role": "user", "content": "please start"}]).content == "anything"
        assert c.chat([{"role": "user", "content": "start"}]).content == "for start"
        assert c.chat([{"role": "user", "content": "now refine"}]).content == "for refinement"
    with pytest.raises(ScriptError, match="not a regular expression"):
        ReplayServer([{"when": "(", "content": "x"}])


def test_tool_calling_is_asked_of_litellm_and_unknown_models_get_the_text_format():
    from ouro.agent.llm.policy import LiteLLMPolicy, LLMPolicyOptions, supports_tools

    assert supports_tools("openai/gpt-4o") is True
    assert supports_tools("openai/my-finetuned-checkpoint") is False
    assert LiteLLMPolicy("openai/my-finetuned-checkpoint").agent.use_tools is False
    assert LiteLLMPolicy("openai/my-finetuned-checkpoint", LLMPolicyOptions(use_tools=True)).agent.use_tools is True


def test_replay_records_requests_to_a_file(tmp_path):
    from ouro.sandbox.core.files import read_jsonl

    with ReplayServer([{"content": "x"}, {"error": 429}], record_path=tmp_path / "rec.jsonl") as srv:
        c = client(srv.base_url, max_retries=0)
        c.chat(HELLO, role="agent")
        with pytest.raises(LLMError):
            c.chat(HELLO, role="value")
    rows = read_jsonl(tmp_path / "rec.jsonl")
    assert [(r["role"], r["served"], r["messages"]) for r in rows] == [("agent", "reply", HELLO),
                                                                      ("value", "error:rate_limit", HELLO)]


def test_policy_factory_refuses_bad_names_in_one_line(tmp_path):
    from ouro.sandbox.core.errors import BadInput
    from ouro.agent.cli.factories import build_policy
    from ouro.agent.repair import RepairConfig

    def make(name, cfg):
        cfg.policy = name
        return build_policy(cfg)

    cfg = RepairConfig(repo=tmp_path, home=tmp_path / "home", llm_options={"api_base": "http://x/v1"})
    assert make("litellm:openai/gpt-4o", cfg).name == "litellm:openai/gpt-4o"
    for name, msg in [("litellm:", "unknown policy"), ("gpt:x", "unknown policy"),
                      ("local:" + str(tmp_path / "none"), "not a model checkpoint")]:
        with pytest.raises(BadInput, match=msg):
            make(name, cfg)
    cfg.llm_options = {"max_kost": 1}
    with pytest.raises(BadInput, match="unknown litellm option"):
        make("litellm:openai/gpt-4o", cfg)
