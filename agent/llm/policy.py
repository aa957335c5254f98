"""The `litellm:MODEL` policy: SWE-Search on ouro's tree search (agent.search), with a model.

- propose(node): the tool-using agent (agent.llm.agent) edits a scratch copy of the node's
  state. For a node that already failed, the model first explains why, from the test output
  (explanation chain). When the node was expanded before, the value agent's explanations of
  its earlier children go into the prompt (hindsight feedback). At most `expansions` children
  per node (SWE-Search: 3).
- value_estimate(node): the value agent's score for a validated node, mapped to [0, 1]; the
  search combines it with the test outcome (agent.search.node_value).
- choose(nodes): the discriminator picks the final patch among the plausible ones, optionally
  as a debate.

Budgets: when a cap is reached the policy stops proposing (the search ends with what it has)
and `stopped_by` says which cap. Every event (model calls, explanations, tool steps, value
scores, the discriminator's choice, provider failures) goes to `on_event` (the repair sets it
to its trajectory log: kinds llm_proposal, llm_value, llm_discriminator, ...) or else to
`<run_dir>/llm_trajectory.jsonl`, line by line, so an interrupted run keeps its partial
trajectory.
"""
from __future__ import annotations

import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from ouro.improvers.guest.helpers import extract_code  # guest code: a leaf any layer may import
from ouro.sandbox.core.files import append_jsonl
from ouro.agent.llm.agent import LLMAgent, RepairContext, unified_diff
from ouro.agent.llm.client import Budget, BudgetExceeded, LLMClient
from ouro.agent.llm.discriminator import Candidate, Discriminator
from ouro.agent.llm.prompts import Prompts
from ouro.agent.llm.value import ValueAgent
from ouro.agent.policies.base import Policy
from ouro.agent.state import Proposal

TRAJECTORY_FILE = "llm_trajectory.jsonl"
_COPY_IGNORE = shutil.ignore_patterns(".git", ".ouro", "__pycache__", ".pytest_cache", ".venv", "*.pyc")

# SWE-Search's defaults (Antoniades et al. 2024): 3 expansions per node, 100 iterations,
# stop after 5 finished trajectories. The pipeline reads these for a litellm policy.
SEARCH_DEFAULTS = {"max_children": 3, "budget": 100, "max_plausible": 5}


@dataclass
class LLMPolicyOptions:
    """A litellm policy's settings (RepairConfig.llm_options: `ouro repair --api-base/--max-cost/...`,
    a scaffold's prompts); the budgets are per run, checked before each call."""

    api_base: str | None = None     # an OpenAI-compatible server (a local model, the replay server)
    max_cost: float | None = None   # US dollars, from litellm's cost tracking
    max_tokens: int | None = None   # prompt + completion tokens
    max_calls: int | None = None
    timeout: float = 120.0          # seconds per call
    max_retries: int = 4            # per call, for rate limits and transient provider errors
    backoff_s: float = 1.0          # the first wait between retries; it doubles
    max_steps: int = 15             # model turns per proposal
    expansions: int = 3             # children per node (SWE-Search: 3)
    iterations: int = 100           # proposals per run (SWE-Search: 100)
    provider_failures: int = 3      # stop after this many proposals in a row lost to provider failures
    use_tools: bool | None = None   # None: ask litellm whether the model calls tools; False: ```tool text
    value_weight: float = 0.5
    debate_agents: int = 1
    debate_rounds: int = 1
    input_cost_per_token: float | None = None   # for models litellm has no price for
    output_cost_per_token: float | None = None
    prompts: dict = field(default_factory=dict)  # name -> text replacing agent/prompts/<name>.md (a scaffold's PROMPTS)

    @classmethod
    def from_dict(cls, d: dict) -> "LLMPolicyOptions":
        from ouro.sandbox.core.errors import BadInput

        unknown = set(d) - set(cls.__dataclass_fields__)
        if unknown:
            raise BadInput(f"unknown litellm option(s): {', '.join(sorted(unknown))}")
        from ouro.agent.llm.prompts import override_problems

        problems = override_problems(d.get("prompts") or {})
        if problems:
            raise BadInput(problems[0])
        return cls(**{k: v for k, v in d.items() if v is not None})


EventSink = Callable[[str, dict], None]


class LiteLLMPolicy(Policy):
    def __init__(self, model: str, options: LLMPolicyOptions | None = None, *, repo_dir: Path | None = None,
                 run_dir: Path | None = None, seed: int = 0, on_event: EventSink | None = None,
                 tests_fn: Callable[[dict[str, str]], object] | None = None):
        self.name = f"litellm:{model}"
        self.model = model
        self.opts = options or LLMPolicyOptions()
        o = self.opts
        self.budget = Budget(max_cost=o.max_cost, max_tokens=o.max_tokens, max_calls=o.max_calls)
        self.client = LLMClient(model, api_base=o.api_base, budget=self.budget, timeout=o.timeout,
                                max_retries=o.max_retries, backoff_s=o.backoff_s, seed=seed,
                                input_cost_per_token=o.input_cost_per_token,
                                output_cost_per_token=o.output_cost_per_token)
        use_tools = o.use_tools if o.use_tools is not None else supports_tools(model)
        prompts = self.prompts = Prompts(dict(o.prompts))
        self.agent = LLMAgent(self.client, max_steps=o.max_steps, use_tools=use_tools, prompts=prompts)
        self.value_agent = ValueAgent(self.client, weight=o.value_weight, prompts=prompts)
        self.discriminator = Discriminator(self.client, agents=o.debate_agents, rounds=o.debate_rounds,
                                           prompts=prompts)
        self.repo_dir = Path(repo_dir) if repo_dir else None
        self.run_dir = Path(run_dir) if run_dir else None
        self.on_event = on_event
        # the agent's run_tests tool: changed files -> an agent.search.Observation (or text);
        # the repair sets it to its sandbox validator
        self.tests_fn = tests_fn
        self.expansions: dict[int, int] = {}
        self.judgements: dict[int, dict] = {}   # node id -> value event
        self.proposals: dict[int, dict] = {}    # child node id (once known) -> proposal record
        self._pending: dict[str, dict] = {}      # proposal key -> record, until the node exists
        self.stopped_by: str | None = None
        self.failures_in_a_row = 0
        self.started = time.monotonic()

    # --- events -------------------------------------------------------------------------
    def emit(self, kind: str, data: dict) -> None:
        # with on_event (the repair's trajectory.jsonl) the events join the run's one trajectory;
        # without it they go to their own file in the run directory
        if self.on_event is not None:
            self.on_event(f"llm_{kind}", data)
        elif self.run_dir is not None:
            append_jsonl(self.run_dir / TRAJECTORY_FILE, {"event": kind, "t": round(time.monotonic() - self.started, 3), **data})

    def _budget_stop(self, e: BudgetExceeded) -> None:
        if self.stopped_by is None:
            self.stopped_by = str(e)
            self.emit("budget_exceeded", {"cap": e.cap, "limit": e.limit, "spent": e.spent, "calls": e.calls,
                                          "message": str(e), "usage": self.client.usage.to_dict()})

    # --- Policy protocol: propose -------------------------------------------------------
    def propose(self, node, ctx, k: int = 1) -> list[Proposal]:
        out: list[Proposal] = []
        # A failed attempt (provider failure, no edit) is recorded and uses up one of the node's
        # expansions; the next attempt follows at once, since [] tells the search "nothing more".
        while len(out) < k:
            if self.stopped_by is not None or self.expansions.get(node.id, 0) >= self.opts.expansions \
                    or sum(self.expansions.values()) >= self.opts.iterations:
                break
            self.expansions[node.id] = self.expansions.get(node.id, 0) + 1
            try:
                prop = self._propose_one(node, ctx)
            except BudgetExceeded as e:
                self._budget_stop(e)
                break
            if prop is not None:
                out.append(prop)
        return out

    def _propose_one(self, node, ctx) -> Proposal | None:
        rctx = RepairContext(problem=ctx.issue, feedback=feedback_text(node.observation),
                             state_diff=unified_diff({p: ctx.base_files.get(p) for p in node.files}, node.files),
                             depth=node.depth, hindsight=self._hindsight(node))
        with tempfile.TemporaryDirectory(prefix="ouro-llm-") as tmp:
            work = Path(tmp) / "repo"
            self._materialize(work, ctx.base_files, node.files)
            run_tests = None
            if self.tests_fn is not None:
                def run_tests() -> str:
                    result = self.tests_fn(_changed_files(work, ctx.base_files, node.files))
                    return result if isinstance(result, str) else feedback_text(result)
            result = self.agent.propose(rctx, work, run_tests=run_tests)
            files = dict(node.files)
            files.update(result.edits)
        attempt = self.expansions[node.id]
        record = {"parent": node.id, "attempt": attempt, "depth": node.depth + 1, "problem": ctx.issue,
                  "state_diff": rctx.state_diff, "feedback": rctx.feedback, "hindsight": rctx.hindsight,
                  "explanation": result.explanation, "faulty_code": result.before, "refined_code": result.edits,
                  "diff": result.diff, "summary": result.summary, "finished": result.finished,
                  "error": result.error, "steps": result.events, "usage": self.client.usage.to_dict()}
        self.emit("proposal", record)
        if result.budget_exceeded is not None:
            raise result.budget_exceeded  # recorded above with its partial steps; propose() stops the run
        self.failures_in_a_row = self.failures_in_a_row + 1 if result.provider_failed else 0
        if self.failures_in_a_row >= self.opts.provider_failures and self.stopped_by is None:
            # an unreachable or broken provider: say so rather than spend the search on it
            self.stopped_by = (f"the model provider failed {self.failures_in_a_row} proposals in a row; "
                               f"last error: {result.error}")
            self.emit("provider_gave_up", {"message": self.stopped_by, "usage": self.client.usage.to_dict()})
        if result.empty:
            return None
        prop = Proposal(files=files, description=_one_line(result.summary) or "model edit",
                        template="llm", file=next(iter(result.edits), ""),
                        meta={"explanation": result.explanation, "attempt": attempt})
        self._pending[prop.key] = record
        return prop

    def _materialize(self, work: Path, base_files: dict[str, str], files: dict[str, str]) -> None:
        if self.repo_dir is not None and self.repo_dir.is_dir():
            shutil.copytree(self.repo_dir, work, ignore=_COPY_IGNORE, symlinks=True)
        work.mkdir(parents=True, exist_ok=True)
        for rel, text in {**base_files, **files}.items():
            p = work / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(text, encoding="utf-8")

    def _hindsight(self, node) -> list[str]:
        """The value agent's explanations of this node's earlier children (SWE-Search)."""
        out = []
        for cid in getattr(node, "children", []):
            j = self.judgements.get(cid)
            if j and j.get("explanation"):
                out.append(f"attempt {j['attempt_desc']!r} scored {j['score']}: {j['explanation']}")
        return out

    # --- Policy protocol: value ---------------------------------------------------------
    def value_estimate(self, node, ctx) -> float:
        if node.id == 0 or node.observation is None:
            return 0.5  # the root's prior: no judgement to make before any edit
        if node.id in self.judgements:
            return self.judgements[node.id]["estimate"]
        obs = node.observation
        patch = unified_diff({p: ctx.base_files.get(p) for p in node.files}, node.files)
        passed = obs.fixed
        total = max(obs.target, 1)
        if self.stopped_by is not None:
            judgement, event = None, {"type": "value", "score": None, "explanation": "", "error": self.stopped_by}
        else:
            try:
                judgement, event = self.value_agent.judge(ctx.issue, patch, feedback_text(obs), passed=passed,
                                                          total=total, plausible=obs.plausible)
            except BudgetExceeded as e:
                self._budget_stop(e)
                judgement, event = None, {"type": "value", "score": None, "explanation": "", "error": str(e)}
        score = judgement.score if judgement else None
        estimate = 0.5 if score is None else (score + 100) / 200.0
        desc = node.edits[-1].get("description", "") if node.edits else ""
        record = self._pending.pop(node.key, None)
        if record is not None:
            self.proposals[node.id] = record
        event.update({"node": node.id, "parent": node.parent, "estimate": estimate, "attempt_desc": desc,
                      "status": obs.status, "attempt": record["attempt"] if record else None})
        event.pop("type", None)
        self.judgements[node.id] = event
        self.emit("value", event)
        return estimate

    def observe(self, node, ctx, explanation) -> None:
        """Nothing to do: the model's explanation comes when the node is expanded (propose),
        from the node's own test output; the search logs its mechanical one itself."""

    def usage(self) -> dict:
        u = self.client.usage.to_dict()
        u["stopped_by"] = self.stopped_by
        return u

    # --- a reproduction test, when the repository has no failing one ---------------------
    def write_reproduction(self, request) -> str | None:
        # in the order the request has them: what the issue points at first
        sources = "\n".join(f"### {p}\n```python\n{t}\n```" for p, t in request.sources.items())
        example = (f"\n## An existing test module ({request.example_test[0]})\n\n```python\n{request.example_test[1]}\n```\n"
                   if request.example_test else "")
        tries = "".join(f"\n## Attempt {i} (rejected)\n\n```python\n{code}\n```\n\nWhat happened: {outcome}\n"
                        for i, (code, outcome) in enumerate(request.tries, 1))
        messages = [{"role": "system", "content": self.prompts.load("reproduce")},
                    {"role": "user", "content": self.prompts.render("reproduce_task", problem=request.issue,
                                                                    test_cmd=request.test_cmd, path=request.path,
                                                                    sources=sources or "(none)", example=example,
                                                                    tries=tries)}]
        try:
            reply = self.client.chat(messages, role="reproduce")
        except BudgetExceeded as e:
            self._budget_stop(e)
            return None
        except Exception as e:  # noqa: BLE001 - a provider failure ends this attempt, not the run
            self.emit("reproduction_failed", {"error": f"{type(e).__name__}: {e}"})
            return None
        code = extract_code(reply.content or "")  # its first fenced block, else the whole reply
        self.emit("reproduction", {"path": request.path, "attempt": len(request.tries) + 1, "code": code,
                                   "usage": self.client.usage.to_dict()})
        return code if code.strip() else None

    # --- discriminator ------------------------------------------------------------------
    def choose(self, nodes: list, ctx) -> int:
        """Pick the final patch among plausible nodes (the record goes to on_event)."""
        cands = []
        for n in nodes:
            patch = unified_diff({p: ctx.base_files.get(p) for p in n.files}, n.files)
            summary = (self.proposals.get(n.id) or {}).get("summary", "")
            cands.append(Candidate(patch=patch, summary=summary, value=n.value, node_id=n.id))
        if len(cands) > 1 and self.stopped_by is None:
            try:
                choice = self.discriminator.choose(ctx.issue, cands)
            except BudgetExceeded as e:
                self._budget_stop(e)
                choice = None
        else:
            choice = None
        if choice is None:
            best = max(range(len(cands)), key=lambda i: (cands[i].value, -i))
            record = {"chosen_node": cands[best].node_id, "index": best,
                      "reason": "only candidate" if len(cands) == 1 else "budget spent: best value",
                      "votes": [], "candidates": [c.node_id for c in cands]}
        else:
            record = {"chosen_node": cands[choice.index].node_id, **choice.to_dict(),
                      "candidates": [c.node_id for c in cands]}
        self.emit("discriminator", record)
        return record["chosen_node"]


def supports_tools(model: str) -> bool:
    """litellm's model map knows which models call tools; an unknown one (a local checkpoint,
    most self-hosted servers) gets the text format, which every chat model can follow."""
    from ouro.agent.llm.client import import_litellm

    try:
        return bool(import_litellm().supports_function_calling(model=model))
    except Exception:  # litellm raises for models it cannot map to a provider
        return False


def feedback_text(obs) -> str:
    """What the model reads about a validated state: which tests fail and how."""
    if obs is None:
        return "(not validated yet)"
    lines = [f"status: {obs.status}; {obs.fixed} of {obs.target} originally failing tests pass now"
             + (f"; {obs.regressions} previously passing tests fail" if obs.regressions else "")]
    for test, msg in sorted(obs.failing.items()):
        lines.append(f"FAILED {test}\n{msg}")
    if obs.detail:
        lines.append(obs.detail)
    return "\n\n".join(lines)


def _changed_files(work: Path, base_files: dict[str, str], node_files: dict[str, str]) -> dict[str, str]:
    out = dict(node_files)
    for rel, text in base_files.items():
        p = work / rel
        if p.exists():
            now = p.read_text(encoding="utf-8")
            if now != text:
                out[rel] = now
    return out


def _one_line(text: str, limit: int = 160) -> str:
    t = " ".join((text or "").split())
    return t if len(t) <= limit else t[: limit - 3] + "..."


def make_policy(spec: str, options: dict | None = None, **kw) -> LiteLLMPolicy:
    """`litellm:MODEL` -> a policy; options as in LLMPolicyOptions (api_base, max_cost, ...)."""
    from ouro.sandbox.core.errors import BadInput

    if not spec.startswith("litellm:") or not spec[len("litellm:"):]:
        raise BadInput(f"not a litellm policy: {spec!r} (expected litellm:MODEL, e.g. litellm:openai/gpt-4o)")
    return LiteLLMPolicy(spec[len("litellm:"):], LLMPolicyOptions.from_dict(options or {}), **kw)


def policy_from_config(spec: str, config, **options) -> LiteLLMPolicy:
    """The policy for `ouro repair --policy litellm:MODEL` (config: agent.repair.RepairConfig).

    config.llm_options holds the LLMPolicyOptions fields (api_base, max_cost, max_tokens,
    max_calls, ...); keyword options override them (the command line's factory passes the
    address of an `ouro serve` it started for `local:DIR`)."""
    merged = {**(config.llm_options or {}), **options}
    return make_policy(spec, merged, repo_dir=config.repo, run_dir=config.run_dir, seed=config.seed)
