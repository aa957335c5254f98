"""The discriminator (SWE-Search): pick the final patch among finished trajectories.

With one agent and one round the model simply compares the candidates. With N agents over
R rounds it is a debate: in round 1 each agent judges alone; in each later round every agent
sees the others' arguments from the round before and may change its vote. The majority of the
last round wins; a tie, or no usable vote at all, goes to the candidate with the best value.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from ouro.agent.llm.client import LLMClient, LLMError
from ouro.agent.llm.prompts import Prompts

_CHOICE = re.compile(r"choice\s*[:=]\s*#?\s*(\d+)", re.IGNORECASE)
_REASONING = re.compile(r"reasoning\s*:\s*(.*?)(?=\n\s*choice\s*[:=]|\Z)", re.IGNORECASE | re.DOTALL)


@dataclass
class Candidate:
    patch: str
    summary: str = ""       # the agent's own account of the change
    value: float = 0.0      # the search's value for the node (the tie-break)
    node_id: str | int | None = None


@dataclass
class Vote:
    agent: int
    round: int
    choice: int | None      # 1-based candidate number; None when unusable
    reasoning: str
    error: str | None = None


@dataclass
class Choice:
    index: int              # 0-based index into the candidates
    reason: str             # "majority", "only candidate", "tie broken by value", "no usable vote"
    votes: list[Vote] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"index": self.index, "reason": self.reason, "votes": [v.__dict__ for v in self.votes]}


def parse_vote(text: str, n: int) -> tuple[int | None, str]:
    matches = _CHOICE.findall(text or "")
    choice = int(matches[-1]) if matches else None
    if choice is not None and not 1 <= choice <= n:
        choice = None
    m = _REASONING.search(text or "")
    return choice, (m.group(1) if m else (text or "")).strip()


class Discriminator:
    def __init__(self, client: LLMClient, agents: int = 1, rounds: int = 1, prompts: Prompts | None = None):
        if agents < 1 or rounds < 1:
            raise ValueError("a discriminator needs at least one agent and one round")
        self.client = client
        self.prompts = prompts or Prompts()
        self.agents = agents
        self.rounds = rounds

    def choose(self, problem: str, candidates: list[Candidate]) -> Choice:
        if not candidates:
            raise ValueError("nothing to choose from")
        if len(candidates) == 1:
            return Choice(0, "only candidate")
        listing = "\n\n".join(
            f"### Candidate {i}\n\n{c.summary or '(no summary)'}\n\n```diff\n{c.patch}\n```"
            for i, c in enumerate(candidates, 1))
        votes: list[Vote] = []
        previous: list[Vote] = []
        for r in range(1, self.rounds + 1):
            this_round = []
            for a in range(1, self.agents + 1):
                others = [v for v in previous if v.agent != a and v.choice is not None]
                debate = ""
                if others:
                    debate = "\n## Other reviewers' arguments from the last round\n\n" + "\n\n".join(
                        f"Reviewer {v.agent} chose candidate {v.choice}: {v.reasoning}" for v in others) + "\n"
                messages = [{"role": "system", "content": self.prompts.load("discriminator")},
                            {"role": "user", "content": self.prompts.render("discriminator_task", problem=problem,
                                                               candidates=listing, debate_section=debate)}]
                try:
                    reply = self.client.chat(messages, role="discriminator")
                    choice, reasoning = parse_vote(reply.content, len(candidates))
                    this_round.append(Vote(a, r, choice, reasoning))
                except LLMError as e:
                    this_round.append(Vote(a, r, None, "", error=str(e)))
            votes.extend(this_round)
            previous = this_round
        return _tally(previous, candidates, votes)


def _tally(last_round: list[Vote], candidates: list[Candidate], votes: list[Vote]) -> Choice:
    counts = Counter(v.choice for v in last_round if v.choice is not None)
    best_by_value = max(range(len(candidates)), key=lambda i: (candidates[i].value, -i))
    if not counts:
        return Choice(best_by_value, "no usable vote", votes)
    top = max(counts.values())
    leaders = [c - 1 for c, k in counts.items() if k == top]
    if len(leaders) == 1:
        return Choice(leaders[0], "majority", votes)
    return Choice(max(leaders, key=lambda i: (candidates[i].value, -i)), "tie broken by value", votes)
