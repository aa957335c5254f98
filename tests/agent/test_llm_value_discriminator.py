"""The value agent's judgement and the discriminator's choice (single judge and debate), through
litellm against scripted replies."""
import pytest

pytest.importorskip("litellm")

from ouro.agent.llm.client import LLMClient
from ouro.agent.llm.discriminator import Candidate, Discriminator, parse_vote
from ouro.agent.llm.replay import ReplayServer
from ouro.agent.llm.value import ValueAgent, combine, parse_judgement, reward_from_tests


def client(url):
    return LLMClient("openai/gpt-4o", api_base=url, backoff_s=0.01, max_retries=1)


def test_parse_judgement_clamps_and_keeps_the_explanation():
    assert parse_judgement("Explanation: fixes the slice.\nScore: 85") == (85, "fixes the slice.")
    assert parse_judgement("Explanation: nonsense\nScore: 900")[0] == 100
    assert parse_judgement("Score = -250")[0] == -100
    assert parse_judgement("I like it")[0] is None


def test_value_combines_the_score_with_the_test_outcome():
    assert reward_from_tests(3, 3, True) == 1.0 and reward_from_tests(0, 2, False) == -1.0
    assert reward_from_tests(1, 2, False) == pytest.approx(-0.25)
    assert combine(-0.25, 60, 0.5) == pytest.approx(0.175)
    assert combine(-0.25, None, 0.5) == -0.25  # no usable score: the tests alone


def test_value_agent_judges_a_node_and_survives_a_failing_provider():
    script = [{"content": "Explanation: the slice now ends before the marker; the cause is fixed.\nScore: 90"},
              {"error": 500}, {"error": 500}]
    with ReplayServer({"roles": {"value": script}}) as srv:
        agent = ValueAgent(client(srv.base_url))
        j, event = agent.judge("issue", "diff", "all pass", passed=1, total=1, plausible=True)
        assert srv.requests[0].role == "value" and "diff" in srv.requests[0].messages[1]["content"]
        j2, event2 = agent.judge("issue", "diff", "1 failed", passed=0, total=1, plausible=False)
    assert j.score == 90 and j.value == pytest.approx(0.95) and "cause is fixed" in j.explanation
    assert event["type"] == "value" and event["score"] == 90
    assert j2.score is None and j2.value == -1.0 and "InternalServerError" in j2.error


def test_parse_vote_rejects_out_of_range_choices():
    assert parse_vote("Reasoning: a is minimal\nChoice: 2", 2) == (2, "a is minimal")
    assert parse_vote("Choice: 3", 2)[0] is None and parse_vote("both fine", 2)[0] is None


CANDS = [Candidate("diff-one", "narrow fix", value=0.9, node_id=4), Candidate("diff-two", "broad fix", value=0.8, node_id=7)]


def test_single_judge_picks_a_candidate():
    with ReplayServer([{"content": "Reasoning: candidate 2 handles tabs too.\nChoice: 2"}]) as srv:
        choice = Discriminator(client(srv.base_url)).choose("issue", CANDS)
        prompt = srv.requests[0].messages[1]["content"]
    assert choice.index == 1 and choice.reason == "majority" and choice.votes[0].reasoning.startswith("candidate 2")
    assert "### Candidate 1" in prompt and "diff-two" in prompt


def test_debate_agents_see_each_other_and_the_last_round_decides():
    # round 1: agents split 1 vs 2; round 2: agent 2 is persuaded, both choose 1
    script = ["Reasoning: minimal.\nChoice: 1", "Reasoning: broader.\nChoice: 2",
              "Reasoning: still minimal.\nChoice: 1", "Reasoning: agent 1 is right, 2 changes unrelated code.\nChoice: 1"]
    with ReplayServer([{"content": c} for c in script]) as srv:
        choice = Discriminator(client(srv.base_url), agents=2, rounds=2).choose("issue", CANDS)
        round2_agent2 = srv.requests[3].messages[1]["content"]
    assert [(v.round, v.agent, v.choice) for v in choice.votes] == [(1, 1, 1), (1, 2, 2), (2, 1, 1), (2, 2, 1)]
    assert choice.index == 0 and choice.reason == "majority"
    assert "Reviewer 1 chose candidate 1: minimal." in round2_agent2 and "Reviewer 2 chose" not in round2_agent2


def test_tie_or_no_vote_falls_back_to_the_best_value():
    with ReplayServer([{"content": "Choice: 2"}, {"content": "Choice: 1"}, {"content": "no idea"}]) as srv:
        c = client(srv.base_url)
        tie = Discriminator(c, agents=2).choose("issue", CANDS)
        none = Discriminator(c).choose("issue", CANDS)
    assert (tie.index, tie.reason) == (0, "tie broken by value")
    assert (none.index, none.reason) == (0, "no usable vote")
