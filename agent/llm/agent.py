"""The tool-using repair agent: from an issue, a repository state and its test output, one
proposed edit.

One proposal (one expansion of a search node) goes:

1. explain: when the state is a refinement (an earlier edit that still fails), the model first
   explains why the current code fails, from the test output. The explanation is recorded and
   conditions the edit (self-debugging with explanation chains).
2. act: a tool loop (view, search, edit, run tests, finish) over a scratch copy of the
   repository, at most `max_steps` model turns.
3. the edited files become the proposal; the search validates it in the sandbox.

Provider failures never crash a proposal: transient ones are retried by the client, a context
overflow shrinks the conversation and tries once more, and anything else ends the proposal
with `error` set and the failure recorded as a step. A budget cap ends the proposal with
`budget_exceeded` set and its steps kept: the caller stops the run.

Each proposal carries what a training example for the learned policy needs: the problem, the
faulty code, the execution feedback, the explanation and the refined code.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path

from ouro.agent.llm.client import BudgetExceeded, ContextOverflow, LLMClient, LLMError, LLMReply
from ouro.agent.llm.prompts import Prompts
from ouro.agent.llm.tools import (EDIT_ACTIONS, TOOL_SCHEMAS, ActionError, Finish, ToolEnv, action_to_dict,
                             parse_action, parse_text_action)

_ELIDED = "[observation elided to fit the context window]"


@dataclass
class RepairContext:
    problem: str                  # the issue text
    feedback: str                 # test output for the current state
    state_diff: str = ""          # the current state against the original repository ("" = unmodified)
    depth: int = 0                # 0 = the original repository
    hindsight: list[str] = field(default_factory=list)  # value explanations of earlier siblings


@dataclass
class Proposal:
    edits: dict[str, str]          # path -> new content, for each file the agent changed
    before: dict[str, str | None]  # path -> content before (None: the file did not exist)
    diff: str                      # unified diff: current state -> proposed state
    explanation: str | None        # why the current code fails (None at the root)
    summary: str                   # the model's own account of the change (finish)
    finished: bool                 # the model called finish (rather than running out of steps)
    events: list[dict]
    error: str | None = None
    provider_failed: bool = False  # ended because the provider kept failing (not for want of an edit)
    budget_exceeded: BudgetExceeded | None = None  # ended at a budget cap: the run must stop

    @property
    def empty(self) -> bool:
        return not self.diff

    def training_record(self, ctx: RepairContext) -> dict:
        """(problem, faulty code, execution feedback, explanation, refined code)."""
        return {"problem": ctx.problem, "faulty_code": self.before, "feedback": ctx.feedback,
                "explanation": self.explanation, "refined_code": self.edits, "diff": self.diff}


class LLMAgent:
    def __init__(self, client: LLMClient, *, max_steps: int = 15, use_tools: bool = True,
                 explain_root: bool = False, prompts: Prompts | None = None):
        self.client = client
        self.prompts = prompts or Prompts()
        self.max_steps = max_steps
        self.use_tools = use_tools  # False: the text-format fallback (```tool blocks)
        self.explain_root = explain_root

    # --- explanation chain --------------------------------------------------------------
    def explain(self, ctx: RepairContext, events: list[dict]) -> str | None:
        messages = [{"role": "system", "content": self.prompts.load("explain")},
                    {"role": "user", "content": self.prompts.render("explain_task", problem=ctx.problem,
                                                       state=ctx.state_diff or "(none)", feedback=ctx.feedback)}]
        reply = self._chat(messages, events, role="explain", tools=False)
        if reply is None:
            return None
        text = reply.content.strip()
        events.append({"type": "explanation", "text": text, "feedback": ctx.feedback, "state_diff": ctx.state_diff})
        return text or None

    # --- one proposal -------------------------------------------------------------------
    def propose(self, ctx: RepairContext, workdir: Path, run_tests=None) -> Proposal:
        """Edit `workdir` (a scratch copy of the repository in the current state) in place."""
        events: list[dict] = []
        env = ToolEnv(workdir, run_tests=run_tests)
        before: dict[str, str | None] = {}
        explanation, summary, finished, error, provider_failed, cap = None, "", False, None, False, None
        try:
            if ctx.depth > 0 or self.explain_root:
                explanation = self.explain(ctx, events)
            messages = [{"role": "system", "content": self.prompts.load("agent_system")},
                        {"role": "user", "content": self._task(ctx, explanation)}]
            for step in range(1, self.max_steps + 1):
                reply = self._chat(messages, events, role="agent", tools=self.use_tools)
                if reply is None:
                    error = events[-1].get("error", "model call failed")
                    provider_failed = events[-1].get("kind") == "failed"
                    break
                messages.append(reply.assistant_message())
                done, summary = self._act(reply, messages, env, before, events, step)
                if done:
                    finished = True
                    break
            else:
                events.append({"type": "step_limit", "steps": self.max_steps})
        except BudgetExceeded as e:
            # the steps so far are kept (the caller records them); unfinished edits are not proposed
            events.append({"type": "budget_exceeded", "cap": e.cap, "error": str(e)})
            error, cap = str(e), e
        edits = {p: (workdir / p).read_text(encoding="utf-8") for p in before if (workdir / p).exists()}
        diff = unified_diff(before, edits)
        if not diff and error is None:
            error = "the model made no edit"
        return Proposal(edits=edits, before=before, diff=diff, explanation=explanation, summary=summary,
                        finished=finished, events=events, error=error, provider_failed=provider_failed,
                        budget_exceeded=cap)

    def _task(self, ctx: RepairContext, explanation: str | None) -> str:
        exp = f"\n## Why the current code fails\n\n{explanation}\n" if explanation else ""
        hind = ""
        if ctx.hindsight:
            items = "\n".join(f"- {h}" for h in ctx.hindsight)
            hind = (f"\n## Reviews of earlier attempts from this state\n\n{items}\n\n"
                    "Do something different from the attempts reviewed above.\n")
        return self.prompts.render("agent_task", problem=ctx.problem, state=_state_text(ctx.state_diff),
                      feedback=ctx.feedback or "(no test output)", explanation_section=exp, hindsight_section=hind)

    def _act(self, reply: LLMReply, messages: list[dict], env: ToolEnv, before: dict, events: list[dict],
             step: int) -> tuple[bool, str]:
        """Run the reply's action(s); append the observations. Returns (finished, summary)."""
        if reply.tool_calls:
            for call in reply.tool_calls:
                if call.error:
                    action, problem = None, f"{call.name}: {call.error}"
                else:
                    try:
                        action, problem = parse_action(call.name, call.arguments), None
                    except ActionError as e:
                        action, problem = None, str(e)
                if action is None:
                    events.append({"type": "tool_error", "step": step, "tool": call.name,
                                   "raw_arguments": call.raw_arguments, "error": problem})
                    messages.append({"role": "tool", "tool_call_id": call.id,
                                     "content": f"error: {problem}. Call the tool again with valid JSON arguments."})
                    continue
                text, done = self._run(action, env, before, events, step)
                messages.append({"role": "tool", "tool_call_id": call.id, "content": text})
                if done:
                    return True, action.explanation
            return False, ""
        try:
            action = parse_text_action(reply.content)
        except ActionError as e:
            events.append({"type": "tool_error", "step": step, "tool": None, "error": str(e)})
            messages.append({"role": "user", "content": f"error: {e}. Write one valid ```tool block."})
            return False, ""
        if action is None:
            events.append({"type": "no_action", "step": step, "content": reply.content[:2000]})
            messages.append({"role": "user", "content": "Use a tool (or a ```tool block) to act; call finish when done."})
            return False, ""
        text, done = self._run(action, env, before, events, step)
        messages.append({"role": "user", "content": f"Observation:\n{text}"})
        return done, (action.explanation if done else "")

    def _run(self, action, env: ToolEnv, before: dict, events: list[dict], step: int) -> tuple[str, bool]:
        if isinstance(action, EDIT_ACTIONS) and action.path not in before:
            try:
                target = env.resolve(action.path)
                before[action.path] = target.read_text(encoding="utf-8") if target.exists() else None
            except ActionError:
                pass  # execute() reports the bad path to the model
        obs = env.execute(action)
        if isinstance(action, EDIT_ACTIONS) and not obs.ok and action.path in before \
                and before[action.path] == _read(env.root / action.path):
            del before[action.path]  # a failed edit changed nothing: not part of the proposal
        events.append({"type": "action", "step": step, **action_to_dict(action), "ok": obs.ok,
                       "observation": obs.text[:4000]})
        return obs.text, isinstance(action, Finish)

    # --- model calls --------------------------------------------------------------------
    def _chat(self, messages: list[dict], events: list[dict], *, role: str, tools: bool) -> LLMReply | None:
        """One model call; records it. None (and an error event) when the call failed for good."""
        for attempt in (1, 2):
            try:
                reply = self.client.chat(messages, tools=TOOL_SCHEMAS if tools else None, role=role)
            except ContextOverflow as e:
                events.append({"type": "provider_error", "kind": "context_overflow", "role": role,
                               "error": str(e), "recovery": "shrink" if attempt == 1 else "give up"})
                if attempt == 1 and _shrink(messages):
                    continue
                events[-1]["recovery"] = "give up"
                return None
            except LLMError as e:
                events.append({"type": "provider_error", "kind": "failed", "role": role, "error": str(e)})
                return None
            events.append({"type": "llm_call", "role": role, "prompt_tokens": reply.prompt_tokens,
                           "completion_tokens": reply.completion_tokens, "cost": reply.cost,
                           "attempts": reply.attempts, "retried": reply.failures})
            return reply
        return None


def _shrink(messages: list[dict]) -> bool:
    """Elide every observation but the latest; False when there was nothing to elide."""
    obs = [m for m in messages if m["role"] == "tool" or (m["role"] == "user" and m is not messages[1])]
    changed = False
    for m in obs[:-1]:
        if m.get("content") != _ELIDED:
            m["content"] = _ELIDED
            changed = True
    if not changed and len(messages) > 1 and len(messages[1]["content"]) > 2000:
        # only the task itself is left: keep its head (the issue) and its tail (the latest output)
        text = messages[1]["content"]
        messages[1]["content"] = text[:1000] + "\n...\n" + text[-1000:]
        changed = True
    return changed


def _read(p: Path) -> str | None:
    try:
        return p.read_text(encoding="utf-8")
    except OSError:
        return None


def _state_text(diff: str) -> str:
    if not diff:
        return "The repository is unmodified."
    return f"These edits were made so far (unified diff against the original):\n\n```diff\n{diff}\n```"


def unified_diff(before: dict[str, str | None], after: dict[str, str]) -> str:
    """A git-style diff of the files in `before` (None: a new file)."""
    chunks = []
    for path in sorted(before):
        old = before[path]
        new = after.get(path)
        if old == new:
            continue
        a = (old or "").splitlines(keepends=True)
        b = (new or "").splitlines(keepends=True)
        lines = list(difflib.unified_diff(a, b, fromfile="/dev/null" if old is None else f"a/{path}",
                                          tofile="/dev/null" if new is None else f"b/{path}"))
        text = "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines)
        if text:
            chunks.append(f"diff --git a/{path} b/{path}\n" + text)
    return "".join(chunks)
