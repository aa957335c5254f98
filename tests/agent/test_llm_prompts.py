"""Replacement prompts (a scaffold rewrite's PROMPTS, LLMPolicyOptions.prompts): used by every
role of the language-model policy, refused when they would leave a placeholder unfilled."""
from __future__ import annotations

import pytest

from ouro.agent.llm.policy import LLMPolicyOptions, LiteLLMPolicy
from ouro.agent.llm.prompts import Prompts, load_prompt, override_problems, placeholders
from ouro.sandbox.core.errors import BadInput


def test_a_replacement_prompt_reaches_the_agent_the_value_agent_and_the_discriminator():
    system = load_prompt("agent_system") + "\nPrefer the smallest edit that makes the failing test pass."
    task = "Issue: $problem\n$state\n$feedback\n$explanation_section$hindsight_section"
    opts = LLMPolicyOptions.from_dict({"prompts": {"agent_system": system, "agent_task": task}})
    policy = LiteLLMPolicy("openai/replay", opts)
    for role in (policy.agent, policy.value_agent, policy.discriminator):
        assert role.prompts.load("agent_system") == system
    rendered = policy.agent.prompts.render("agent_task", problem="p", state="s", feedback="f", explanation_section="",
                                           hindsight_section="")
    assert rendered == "Issue: p\ns\nf\n"
    assert policy.value_agent.prompts.load("value") == load_prompt("value")   # the others are the files


def test_a_replacement_that_drops_or_adds_a_placeholder_is_refused():
    assert placeholders(load_prompt("agent_task")) == {"problem", "state", "feedback", "explanation_section",
                                                       "hindsight_section"}
    with pytest.raises(BadInput, match="placeholders of agent_task.md"):
        LLMPolicyOptions.from_dict({"prompts": {"agent_task": "Fix $problem."}})
    assert override_problems({"no_such_prompt": "x"})[0].startswith("prompt 'no_such_prompt': no such prompt")
    with pytest.raises(KeyError):   # and a render still fails loudly on a gap
        Prompts().render("agent_task", problem="p")
