"""The data the tree search works on: patch states, what validating them showed, proposals.

A patch state is the set of files it changed, with their full text; its identity is
`state_key(files)`. A `Proposal` is a child state a policy offers for a node; a `Node` is a
state in the tree with its `Observation` (what the sandbox said when its tests ran). The
`SearchContext` is what a policy may look at. These types are shared by the search
(agent.search), the policies (agent.policies) and test validation (agent.testing), so they
live below all three.
"""
from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from typing import Callable

from ouro.agent.selfdebug import Chain


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


class OutOfTime(Exception):
    """The repair's time limit is reached: the state being validated was not judged (the
    search stops; nothing about that state is recorded)."""


@dataclass
class Observation:
    """What validating one patch state showed."""

    status: str                    # plausible | partial | failed | regression | contradicted | broke | timeout | rejected
    target: int                    # number of originally failing (target) tests
    fixed: int = 0                 # how many of them pass now
    failing: dict[str, str] = field(default_factory=dict)   # target tests still failing -> message
    regressions: int = 0           # previously passing tests that fail now (full suite only)
    tests_passed: int = 0          # passing tests in the largest run done for this state
    full_suite: bool = False       # the full visible suite ran (only after all targets pass)
    # what the visible suite let pass but an oracle did not (agent.oracles): check -> what happened
    contradicts: dict[str, str] = field(default_factory=dict)
    detail: str = ""
    seconds: float = 0.0
    cached: bool = False

    @property
    def plausible(self) -> bool:
        return self.status == "plausible"

    def to_dict(self) -> dict:
        d = dict(self.__dict__)
        d.pop("cached", None)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "Observation":
        known = {k: v for k, v in d.items() if k in cls.__dataclass_fields__}
        return cls(**known)


@dataclass
class Node:
    id: int
    parent: int | None
    depth: int
    files: dict[str, str]                      # changed files of this state (full text)
    edits: list[dict]                          # the proposals applied, root first
    observation: Observation | None = None
    value: float = 0.0                         # this node's own value
    visits: int = 0
    value_sum: float = 0.0
    children: list[int] = field(default_factory=list)
    exhausted: bool = False                    # the policy has nothing more for it

    @property
    def key(self) -> str:
        return state_key(self.files)

    @property
    def q(self) -> float:
        return self.value_sum / self.visits if self.visits else 0.0

    def to_dict(self) -> dict:
        return {"id": self.id, "parent": self.parent, "depth": self.depth, "key": self.key,
                "edits": [e.get("description", "") for e in self.edits], "files": sorted(self.files),
                # the edit that made this state (what the budget report counts)
                "edit": ({k: self.edits[-1].get(k) for k in ("template", "file", "line")}
                         | {"stage": (self.edits[-1].get("meta") or {}).get("stage", "first")}) if self.edits else None,
                "observation": self.observation.to_dict() if self.observation else None,
                "value": round(self.value, 4), "visits": self.visits, "q": round(self.q, 4),
                "children": self.children, "exhausted": self.exhausted}


@dataclass
class SearchContext:
    """What the policy may look at: the repository, the failure, the localization, the chain."""

    base_files: dict[str, str]     # original text of every source file the policy may edit
    target_tests: list[str]        # the originally failing tests
    localization: object = None    # agent.localize.Localization
    repomap: object = None         # agent.repomap.RepoMap
    issue: str = ""
    chain: Chain = field(default_factory=Chain)
    rng: random.Random = field(default_factory=lambda: random.Random(0))
    nodes: dict[int, Node] = field(default_factory=dict)
    # relocalize(still_failing_tests) -> Localization for just those tests (None: not available)
    relocalize: Callable[[list[str]], object] | None = None

    def source(self, node: Node, path: str) -> str | None:
        return node.files.get(path, self.base_files.get(path))
