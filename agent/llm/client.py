"""One door to every language model: litellm, with budgets, retries and accounting.

    client = LLMClient("openai/gpt-4o", api_base="http://127.0.0.1:8000/v1",
                       budget=Budget(max_cost=0.50, max_calls=200))
    reply = client.chat(messages, tools=TOOL_SCHEMAS, role="agent")

Transient provider failures (rate limits, timeouts, connection drops, 5xx) are retried here
with exponential backoff; a context overflow raises `ContextOverflow` so the caller can shrink
its prompt; a tool call whose arguments are not JSON comes back as a `ToolCall` with `error`
set, so the agent can record a failed step and tell the model. When a cap of the budget is
reached, `chat` raises `BudgetExceeded` naming that cap: the run stops and keeps what it has.

litellm is imported on first use only: it takes seconds to import and `ouro --help` must not.
"""
from __future__ import annotations

import json
import os
import random
import threading
import time
from dataclasses import dataclass, field

from ouro.sandbox.core.errors import OuroError
from ouro.agent.llm.replay import ROLE_HEADER


class LLMError(OuroError):
    """The provider failed for good (retries spent, or an error that retrying cannot fix)."""


class ContextOverflow(LLMError):
    """The prompt is longer than the model's context window."""


class BudgetExceeded(OuroError):
    """A cap of the run's budget was reached; `cap` is "cost", "tokens" or "calls"."""

    def __init__(self, cap: str, limit: float, spent: float, calls: int):
        self.cap, self.limit, self.spent, self.calls = cap, limit, spent, calls
        shown = {"cost": lambda v: f"${v:.4f}", "tokens": lambda v: f"{int(v)} tokens",
                 "calls": lambda v: f"{int(v)} calls"}[cap]
        super().__init__(f"budget cap reached: {cap} (limit {shown(limit)}, spent {shown(spent)} "
                         f"over {calls} model calls); the run stopped and kept what it had")


@dataclass
class Budget:
    """Caps per run; None means no cap. Checked before every call, so a run never starts a
    call once a cap is reached (the call that crosses a cap is allowed to finish)."""

    max_cost: float | None = None     # US dollars, from litellm's cost tracking
    max_tokens: int | None = None     # prompt + completion tokens
    max_calls: int | None = None      # successful and failed attempts alike

    def to_dict(self) -> dict:
        return {"max_cost": self.max_cost, "max_tokens": self.max_tokens, "max_calls": self.max_calls}


@dataclass
class Usage:
    calls: int = 0           # attempts sent to the provider, retries included
    failed_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: float = 0.0
    cost_known: bool = True  # False once a reply's cost could not be computed (unpriced model)

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def to_dict(self) -> dict:
        return {"calls": self.calls, "failed_calls": self.failed_calls, "prompt_tokens": self.prompt_tokens,
                "completion_tokens": self.completion_tokens, "tokens": self.tokens,
                "cost": round(self.cost, 8), "cost_known": self.cost_known}


@dataclass
class ToolCall:
    id: str
    name: str
    arguments: dict
    raw_arguments: str = ""
    error: str | None = None   # set when the arguments were not a JSON object

    def to_dict(self) -> dict:
        return {"id": self.id, "name": self.name, "arguments": self.arguments, "error": self.error,
                "raw_arguments": self.raw_arguments if self.error else None}


@dataclass
class LLMReply:
    content: str
    tool_calls: list[ToolCall]
    prompt_tokens: int
    completion_tokens: int
    cost: float
    model: str
    finish_reason: str | None = None
    attempts: int = 1
    failures: list[str] = field(default_factory=list)  # the retried errors, one line each

    def assistant_message(self) -> dict:
        """This reply as the assistant turn to append to the conversation."""
        msg: dict = {"role": "assistant", "content": self.content or None}
        if self.tool_calls:
            msg["tool_calls"] = [{"id": c.id, "type": "function",
                                  "function": {"name": c.name, "arguments": c.raw_arguments or json.dumps(c.arguments)}}
                                 for c in self.tool_calls]
        return msg


def import_litellm():
    """Import litellm quietly and without its network price-map download."""
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    import litellm

    litellm.suppress_debug_info = True  # no "Give Feedback" banner on every exception
    return litellm


class LLMClient:
    def __init__(self, model: str, api_base: str | None = None, budget: Budget | None = None, *,
                 api_key: str | None = None, timeout: float = 120.0, max_retries: int = 4,
                 backoff_s: float = 1.0, backoff_max_s: float = 30.0, temperature: float = 0.0,
                 input_cost_per_token: float | None = None, output_cost_per_token: float | None = None,
                 seed: int = 0):
        self.model = model
        self.api_base = api_base
        self.budget = budget or Budget()
        self.usage = Usage()
        self.api_key = api_key
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff_s = backoff_s
        self.backoff_max_s = backoff_max_s
        self.temperature = temperature
        self.prices = (input_cost_per_token, output_cost_per_token)
        self._rng = random.Random(seed)  # jitter; seeded so a replayed run sleeps the same
        self._lock = threading.Lock()

    # --- budget ----------------------------------------------------------------------
    def check_budget(self) -> None:
        b, u = self.budget, self.usage
        if b.max_calls is not None and u.calls >= b.max_calls:
            raise BudgetExceeded("calls", b.max_calls, u.calls, u.calls)
        if b.max_tokens is not None and u.tokens >= b.max_tokens:
            raise BudgetExceeded("tokens", b.max_tokens, u.tokens, u.calls)
        if b.max_cost is not None and u.cost >= b.max_cost:
            raise BudgetExceeded("cost", b.max_cost, u.cost, u.calls)

    # --- calls -----------------------------------------------------------------------
    def chat(self, messages: list[dict], tools: list[dict] | None = None, role: str = "agent") -> LLMReply:
        """One completion; retries transient failures. `role` names the prompt's purpose
        (agent, explain, value, discriminator): it goes to the server as a header, which
        the replay server uses to pick a script queue and real providers ignore."""
        litellm = import_litellm()
        import openai  # litellm's exceptions all derive from openai's

        retryable = (litellm.RateLimitError, litellm.Timeout, litellm.APIConnectionError,
                     litellm.InternalServerError, litellm.ServiceUnavailableError)
        failures: list[str] = []
        attempt = 0
        while True:
            self.check_budget()
            attempt += 1
            with self._lock:
                self.usage.calls += 1
            try:
                response = litellm.completion(**self._request(messages, tools, role))
            except litellm.ContextWindowExceededError as e:
                self._failed()
                raise ContextOverflow(f"context window exceeded: {_one_line(e)}") from None
            except retryable as e:
                self._failed()
                failures.append(f"{type(e).__name__}: {_one_line(e)}")
                if attempt > self.max_retries:
                    raise LLMError(f"{type(e).__name__} after {attempt} attempts: {_one_line(e)}") from None
                time.sleep(self._backoff(attempt, e))
                continue
            except openai.OpenAIError as e:  # 4xx other than overflow: retrying would not help
                self._failed()
                raise LLMError(f"{type(e).__name__}: {_one_line(e)}") from None
            reply = self._reply(response)
            reply.attempts, reply.failures = attempt, failures
            return reply

    def _request(self, messages, tools, role) -> dict:
        kw = dict(model=self.model, messages=messages, timeout=self.timeout, temperature=self.temperature,
                  num_retries=0,  # retries happen here, where the budget sees each attempt
                  extra_headers={ROLE_HEADER: role})
        if self.api_base:
            kw["api_base"] = self.api_base
            # local OpenAI-compatible servers need some key; hosted ones read theirs from the env
            kw["api_key"] = self.api_key or os.environ.get("OPENAI_API_KEY") or "sk-local"
        elif self.api_key:
            kw["api_key"] = self.api_key
        if tools:
            kw["tools"] = tools
        if self.prices[0] is not None:
            kw["input_cost_per_token"] = self.prices[0]
        if self.prices[1] is not None:
            kw["output_cost_per_token"] = self.prices[1]
        return kw

    def _failed(self) -> None:
        with self._lock:
            self.usage.failed_calls += 1

    def _backoff(self, attempt: int, error) -> float:
        delay = min(self.backoff_max_s, self.backoff_s * (2 ** (attempt - 1)))
        retry_after = _retry_after(error)
        if retry_after is not None:
            delay = min(self.backoff_max_s, max(delay, retry_after))
        return delay * (0.5 + self._rng.random() / 2)

    def _reply(self, response) -> LLMReply:
        choice = response.choices[0]
        msg = choice.message
        usage = getattr(response, "usage", None)
        pt = int(getattr(usage, "prompt_tokens", 0) or 0)
        ct = int(getattr(usage, "completion_tokens", 0) or 0)
        cost = _cost_of(response)
        with self._lock:
            self.usage.prompt_tokens += pt
            self.usage.completion_tokens += ct
            if cost is None:
                self.usage.cost_known = False
            else:
                self.usage.cost += cost
        calls = [_tool_call(c) for c in (getattr(msg, "tool_calls", None) or [])]
        return LLMReply(content=msg.content or "", tool_calls=calls, prompt_tokens=pt, completion_tokens=ct,
                        cost=cost or 0.0, model=self.model, finish_reason=choice.finish_reason)


def _tool_call(c) -> ToolCall:
    raw = c.function.arguments or ""
    try:
        args = json.loads(raw) if raw.strip() else {}
        if not isinstance(args, dict):
            raise ValueError("arguments are not a JSON object")
        return ToolCall(id=c.id or "", name=c.function.name or "", arguments=args, raw_arguments=raw)
    except (ValueError, json.JSONDecodeError) as e:
        return ToolCall(id=c.id or "", name=c.function.name or "", arguments={}, raw_arguments=raw,
                        error=f"tool call arguments are not a JSON object ({e})")


def _cost_of(response) -> float | None:
    """litellm's own cost for this reply; None for a model it has no price for."""
    hidden = getattr(response, "_hidden_params", None) or {}
    cost = hidden.get("response_cost")
    if cost is None:
        try:
            import litellm

            cost = litellm.completion_cost(completion_response=response)
        except Exception:  # unpriced model: litellm raises; we record the cost as unknown
            return None
    return float(cost)


def _retry_after(error) -> float | None:
    response = getattr(error, "response", None)
    headers = getattr(response, "headers", None) or {}
    try:
        value = headers.get("retry-after")
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _one_line(e: BaseException) -> str:
    text = " ".join(str(e).split())
    return text[:300]
