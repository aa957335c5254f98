"""The built-in mutation model and the budgeted language model handed to improvers."""
from __future__ import annotations

import ast
import random

import pytest

from ouro.improvers.language_model import (BudgetedLM, LMBudgetExceeded, ModelSpec, extract_code,
                                      mutate_source)
from ouro.improvers.meta import SEED_IMPROVER
from ouro.improvers.tasks import get_task


def test_mutants_parse_differ_and_keep_comments():
    src = SEED_IMPROVER.read_text()
    rng = random.Random(0)
    mutants = [mutate_source(src, rng) for _ in range(30)]
    for m in mutants:
        ast.parse(m)
        assert "# built, not written" in m  # edits are made in place, not by re-printing the tree
    assert sum(m != src for m in mutants) >= 25
    assert len(set(mutants)) >= 10


def test_same_seed_same_mutants_other_seed_other_mutants():
    msg = "Improve:\n```python\n" + get_task("tsp").initial_solution + "```\n"

    def replies(seed):
        lm = ModelSpec(max_calls=5).build(seed)
        return lm.batch_prompt("expert", [msg] * 5, temperature=0.9)

    assert replies(3) == replies(3)
    assert replies(3) != replies(4)
    assert all(extract_code(r) != get_task("tsp").initial_solution for r in replies(3)[:1])


def test_source_that_does_not_parse_is_returned_unchanged():
    assert mutate_source("def f(:\n", random.Random(0)) == "def f(:\n"


class CountingBackend:
    name = "counting"

    def __init__(self):
        self.asked = 0

    def complete(self, expertise, message, temperature):
        self.asked += 1
        return "```python\npass\n```", 10, 5


def test_budget_is_checked_before_the_model_is_asked():
    backend = CountingBackend()
    lm = BudgetedLM(backend, max_calls=5)
    assert len(lm.batch_prompt("e", ["m"] * 3)) == 3 and lm.budget == 2
    with pytest.raises(LMBudgetExceeded, match="asked for 3 replies with 2 of 5 left"):
        lm.batch_prompt("e", ["m"] * 3)
    assert backend.asked == 3  # the refused request never reached the model
    lm = BudgetedLM(CountingBackend(), max_calls=100, max_tokens=5)
    with pytest.raises(LMBudgetExceeded, match="token budget"):
        lm.batch_prompt("e" * 40, ["m"])


def test_litellm_backend_talks_to_the_replay_server():
    pytest.importorskip("litellm")
    from ouro.agent.llm.replay import ReplayServer

    server = ReplayServer([{"content": "```python\nx = 1\n```"}, {"content": "```python\nx = 2\n```"}])
    url = server.start()
    try:
        lm = ModelSpec(kind="litellm", model="openai/replay", api_base=url, max_calls=2).build(0)
        assert extract_code(lm.batch_prompt("expert", ["a", "b"])[1]) == "x = 2\n"
        assert lm.usage()["calls"] == 2 and lm.used_tokens > 0
        with pytest.raises(LMBudgetExceeded):
            lm.batch_prompt("expert", ["c"])
    finally:
        server.stop()
