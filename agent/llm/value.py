"""The value agent (SWE-Search): the model judges a node with an explanation and an integer
from -100 to 100; the search combines it with the node's test outcome.

The explanation is kept: when the search expands the same parent again, the explanations of
its earlier children go into the agent's prompt (hindsight feedback), so the next attempt
knows what was wrong with the previous ones.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from ouro.agent.llm.client import LLMClient, LLMError
from ouro.agent.llm.prompts import Prompts

_SCORE = re.compile(r"score\s*[:=]\s*([+-]?\d+)", re.IGNORECASE)
_EXPLANATION = re.compile(r"explanation\s*:\s*(.*?)(?=\n\s*score\s*[:=]|\Z)", re.IGNORECASE | re.DOTALL)


@dataclass
class ValueJudgement:
    score: int | None          # -100..100; None when the model gave no usable score
    explanation: str
    test_reward: float         # from the test outcome alone, in [-1, 1]
    value: float               # what the search backpropagates, in [-1, 1]
    error: str | None = None   # the model call failed; value falls back to the tests alone

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def parse_judgement(text: str) -> tuple[int | None, str]:
    """(score clamped to -100..100, explanation) from `Explanation: ... Score: N`."""
    matches = _SCORE.findall(text or "")
    score = max(-100, min(100, int(matches[-1]))) if matches else None
    m = _EXPLANATION.search(text or "")
    explanation = (m.group(1) if m else (text or "")).strip()
    return score, explanation


def reward_from_tests(passed: int, total: int, plausible: bool) -> float:
    """1 for a plausible patch, else the pass fraction mapped to [-1, 0.5): a patch that passes
    more tests ranks higher, but never as high as one that passes them all."""
    if plausible:
        return 1.0
    if total <= 0:
        return -1.0
    return -1.0 + 1.5 * (passed / total)


def combine(test: float, score: int | None, weight: float) -> float:
    """weight of the model's score against the tests; a missing score leaves the tests alone."""
    if score is None:
        return test
    return (1 - weight) * test + weight * (score / 100.0)


class ValueAgent:
    def __init__(self, client: LLMClient, weight: float = 0.5, prompts: Prompts | None = None):
        self.client = client
        self.prompts = prompts or Prompts()
        self.weight = weight

    def judge(self, problem: str, patch: str, feedback: str, *, passed: int, total: int,
              plausible: bool) -> tuple[ValueJudgement, dict]:
        """Returns the judgement and the event to record in the trajectory."""
        tests = reward_from_tests(passed, total, plausible)
        messages = [{"role": "system", "content": self.prompts.load("value")},
                    {"role": "user", "content": self.prompts.render("value_task", problem=problem,
                                                       patch=patch or "(no change)",
                                                       feedback=feedback or "(no test output)")}]
        try:
            reply = self.client.chat(messages, role="value")
        except LLMError as e:  # a failed judgement must not lose the node: the tests still count
            j = ValueJudgement(None, "", tests, tests, error=str(e))
            return j, {"type": "value", **j.to_dict()}
        score, explanation = parse_judgement(reply.content)
        j = ValueJudgement(score, explanation, tests, combine(tests, score, self.weight))
        event = {"type": "value", **j.to_dict(), "prompt_tokens": reply.prompt_tokens,
                 "completion_tokens": reply.completion_tokens, "cost": reply.cost, "attempts": reply.attempts}
        return j, event
