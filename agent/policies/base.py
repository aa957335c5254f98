"""The Policy protocol: who proposes edits to the tree search.

A policy is asked, one node at a time, for the next few child candidates of that node (a
node is a patch state: the files it changed plus what validating it showed). It may keep
per-node state (a queue of template candidates, a conversation with a model). After every
validation the search tells the policy what happened (`observe`), with the self-debug
explanation, so later proposals can be steered by earlier failures.

Implementations: agent.policies.builtin (templates, no model), the litellm policy and the
local-model policy (other modules), all driven by agent.search.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from ouro.agent.search import Node, SearchContext
    from ouro.agent.selfdebug import Explanation


def state_key(files: dict[str, str]) -> str:
    """Identity of a patch state: the changed files and their full contents."""
    h = hashlib.sha256()
    for path in sorted(files):
        h.update(path.encode() + b"\0" + files[path].encode() + b"\0")
    return h.hexdigest()[:20]


@dataclass
class Proposal:
    """A child state proposed for a node: the node's files with this edit on top."""

    files: dict[str, str]        # all changed files of the child state (path -> full new text)
    description: str             # one line: what the edit does ("`<` -> `<=` at pkg/m.py:12")
    template: str = ""           # the repair template or the model action that produced it
    file: str = ""               # the file and line the edit is anchored at (for self-debug)
    line: int = 0
    score: float = 0.0           # the policy's own preference (higher first)
    meta: dict = field(default_factory=dict)

    @property
    def key(self) -> str:
        return state_key(self.files)

    def to_dict(self) -> dict:
        return {"description": self.description, "template": self.template, "file": self.file,
                "line": self.line, "score": round(self.score, 6), "key": self.key, **({"meta": self.meta} if self.meta else {})}


@runtime_checkable
class Policy(Protocol):
    name: str

    def propose(self, node: "Node", ctx: "SearchContext", k: int = 1) -> list[Proposal]:
        """Up to k new child proposals for node, best first; [] when it has nothing more."""

    def value_estimate(self, node: "Node", ctx: "SearchContext") -> float:
        """A prior in [0, 1] that this node's state is, or leads to, a correct fix."""

    def observe(self, node: "Node", ctx: "SearchContext", explanation: "Explanation | None") -> None:
        """Feedback after node was validated (explanation is None when it was plausible)."""

    def usage(self) -> dict:
        """Tokens and cost spent so far ({"tokens": 0, "cost": 0.0} for the built-in policy)."""
