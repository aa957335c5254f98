"""Who proposes edits to the tree search: the Policy base class, and the Ranker a policy may use.

A policy is asked, one node at a time, for the next few child candidates of that node (a
node is a patch state: the files it changed plus what validating it showed). It may keep
per-node state (a queue of template candidates, a conversation with a model). After every
validation the search tells the policy what happened (`observe`), with the self-debug
explanation, so later proposals can be steered by earlier failures.

`Policy` gives every optional step a default that does nothing, so the pipeline calls each
step on every policy instead of asking which ones it has. Implementations: the built-in
policy (agent.policies.builtin: templates, no model) and the language-model policy
(agent.llm.policy). Names (`builtin`, `litellm:MODEL`, `local:DIR`) become policies in the
command line's factories (agent.cli.factories), the only place that knows them all.

A `Ranker` orders the built-in policy's template candidates: the heuristic when there is
none, else a learned model (improvers.learn) or a rewritten ordering (improvers.scaffold).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Protocol, runtime_checkable

if TYPE_CHECKING:
    from ouro.agent.localize import Localization
    from ouro.agent.selfdebug import Explanation
    from ouro.agent.state import Node, Proposal, SearchContext
    from ouro.agent.templates import Candidate

OnEvent = Callable[[str, dict], None]


class Policy:
    """The base of every policy. Subclasses implement `propose`; the rest is optional."""

    name = "policy"
    # set by the pipeline: where the policy's own steps (explanations, value scores) are logged
    on_event: OnEvent | None = None
    # set by the pipeline: validates a state's files like any candidate (a model's run_tests tool)
    tests_fn: Callable[[dict], object] | None = None
    # set by the pipeline: where executions in a sandbox the policy opens itself are audited
    # (a scaffold rewrite's ordering runs in one), like every execution of the repair's own
    on_exec: Callable[[object], None] | None = None

    def propose(self, node: "Node", ctx: "SearchContext", k: int = 1) -> list["Proposal"]:
        """Up to k new child proposals for node, best first; [] when it has nothing more."""
        raise NotImplementedError

    def value_estimate(self, node: "Node", ctx: "SearchContext") -> float:
        """A prior in [0, 1] that this node's state is, or leads to, a correct fix."""
        return 0.5

    def observe(self, node: "Node", ctx: "SearchContext", explanation: "Explanation | None") -> None:
        """Feedback after node was validated (explanation is None when it was plausible)."""

    def choose(self, plausible: list["Node"], ctx: "SearchContext") -> int | None:
        """The id of the plausible node this policy prefers (a discriminator), or None to
        leave the choice to the pipeline's own discriminator."""
        return None

    def usage(self) -> dict:
        """Tokens and cost spent so far."""
        return {"tokens": 0, "cost": 0.0}

    def close(self) -> None:
        """Release what the policy holds (a sandbox of its own); the pipeline calls it when the
        repair ends, however it ends, so an interrupted repair leaves no container behind."""

    def write_reproduction(self, request: "ReproductionRequest") -> str | None:
        """The source of a pytest module that fails because of the issue, for a repository whose
        tests all pass (SWE-bench's strict setting: only the problem statement). None: this
        policy cannot write one (the built-in policy repairs only from a failing test)."""
        return None


@dataclass
class ReproductionRequest:
    """What a policy reads to write a reproduction test (Agentless-style: before any fix)."""

    issue: str
    path: str                        # where the test will live, relative to the repository
    test_cmd: str                    # how the repository's tests run
    sources: dict[str, str]          # the project's own modules (path -> text), what the issue points at first
    example_test: tuple[str, str] | None = None   # (path, text) of one existing test module
    tries: list[tuple[str, str]] = field(default_factory=list)   # earlier (test source, what happened)


@dataclass(frozen=True)
class RankContext:
    """What a ranker may look at when it scores one node's candidates."""

    issue: str
    base_files: dict[str, str]            # path -> original text of every editable file
    node_files: dict[str, str]            # path -> text at this node, for the files its edits changed
    target_tests: list[str]               # the originally failing tests
    localization: "Localization | None"   # the suspicious lines of the run


@runtime_checkable
class Ranker(Protocol):
    """Scores template candidates: one value in [0, 1] per candidate, higher is tried first.

    A ranker that runs code in a sandbox of its own (improvers.scaffold's) also has an
    `on_exec` attribute, which the policy points at the repair's audit, and a `close()`."""

    # True when the scores already weigh how suspicious each line is, so the policy does not
    # multiply by it a second time
    includes_localization: bool

    def __call__(self, candidates: list["Candidate"], context: RankContext) -> list[float]: ...
