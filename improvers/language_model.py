"""The language model handed to improvers: budgeted (calls and tokens) and audited.

Improvers see STOP's interface: `language_model.batch_prompt(expertise, messages, temperature)`
returns one reply per message, and `language_model.budget` is how many more replies they may
ask for. Two backends sit behind it:

- `MutationModel`: no model at all. It takes the first ```python block of each message and
  returns a mutant of it made on the syntax tree (constants nudged, comparison and arithmetic
  operators swapped, a boolean flipped, rarely a statement dropped). With it the seed
  improver is a (1+lambda) evolutionary search, and experiments run offline and reproducibly:
  every choice comes from a random generator seeded by the experiment, never the clock.
- `LiteLLMBackend`: any model agent.llm.client.LLMClient reaches (a provider, a local
  OpenAI-compatible server, or the replay server in tests).

Every call is recorded (`calls`) and a request past the budget raises LMBudgetExceeded
before any model is asked, so an improver cannot buy more compute than it was given.
"""
from __future__ import annotations

import ast
import hashlib
import random
from dataclasses import dataclass, field

from ouro.improvers.guest.helpers import extract_code  # the one the improvers use in the sandbox
from ouro.sandbox.core.schema import checked

class LMBudgetExceeded(Exception):
    """An improver asked for more language-model calls or tokens than its budget."""


def estimate_tokens(text: str) -> int:
    return max(1, len(text) // 4)


def stable_seed(*parts) -> int:
    """A seed from values, the same in every process (Python's hash() is salted per process)."""
    return int.from_bytes(hashlib.sha256(repr(parts).encode()).digest()[:8], "big")


# ---------------------------------------------------------------------------------------------
# The built-in mutation model

_CMP_SWAPS = {ast.Lt: [ast.LtE, ast.Gt], ast.LtE: [ast.Lt, ast.GtE], ast.Gt: [ast.GtE, ast.Lt],
              ast.GtE: [ast.Gt, ast.LtE], ast.Eq: [ast.NotEq], ast.NotEq: [ast.Eq]}
_BIN_SWAPS = {ast.Add: [ast.Sub, ast.Mult], ast.Sub: [ast.Add], ast.Mult: [ast.Add, ast.Pow],
              ast.FloorDiv: [ast.Mult], ast.Div: [ast.Mult]}


def _docstring_nodes(tree: ast.AST) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                ids.add(id(first.value))
    return ids


def _sites(tree: ast.AST) -> list[tuple[str, ast.AST, object]]:
    """Every place a mutation can apply, as (kind, node, extra), in a deterministic order."""
    skip = _docstring_nodes(tree)
    sites: list[tuple[str, ast.AST, object]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and id(node) not in skip:
            if isinstance(node.value, bool):
                sites.append(("bool", node, None))
            elif isinstance(node.value, (int, float)):
                # constants are where most useful variation lives: weight them up
                sites.extend([("num", node, None)] * 3)
        elif isinstance(node, ast.Compare):
            for i, op in enumerate(node.ops):
                if type(op) in _CMP_SWAPS:
                    sites.append(("cmp", node, i))
        elif isinstance(node, ast.BinOp) and type(node.op) in _BIN_SWAPS:
            sites.append(("bin", node, None))
        elif isinstance(node, (ast.FunctionDef, ast.For, ast.While, ast.If, ast.With)):
            if len(node.body) > 1:
                sites.append(("drop", node, None))
    return sites


def _new_number(value, rng: random.Random):
    if isinstance(value, int):
        choices = [value + 1, value - 1, value * 2, value // 2, value + 2]
        return rng.choice([c for c in choices if c != value] or [value + 1])
    return round(value * rng.choice([0.5, 0.8, 0.9, 1.1, 1.25, 2.0]), 6) or 0.1


def _replace_segment(source: str, node: ast.AST, text: str) -> str:
    """Replace the exact source span of `node`, so comments and layout elsewhere survive."""
    lines = source.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line.encode()))
    data = source.encode()
    a = offsets[node.lineno - 1] + node.col_offset          # ast offsets count UTF-8 bytes
    b = offsets[node.end_lineno - 1] + node.end_col_offset
    return (data[:a] + text.encode() + data[b:]).decode()


def _drop_statement(source: str, stmt: ast.stmt) -> str:
    lines = source.splitlines(keepends=True)
    return "".join(lines[:stmt.lineno - 1] + lines[stmt.end_lineno:])


def _mutate_once(source: str, tree: ast.AST, rng: random.Random) -> str | None:
    sites = _sites(tree)
    if not sites:
        return None
    kind, node, extra = rng.choice(sites)
    if kind == "bool":
        return _replace_segment(source, node, repr(not node.value))
    if kind == "num":
        return _replace_segment(source, node, repr(_new_number(node.value, rng)))
    if kind == "cmp":
        node.ops[extra] = rng.choice(_CMP_SWAPS[type(node.ops[extra])])()
    elif kind == "bin":
        node.op = rng.choice(_BIN_SWAPS[type(node.op)])()
    elif kind == "drop":
        return _drop_statement(source, node.body[rng.randrange(len(node.body))])
    # an operator has no source span of its own: rewrite the smallest expression holding it
    text = ast.unparse(node)
    return _replace_segment(source, node, f"({text})" if node.end_lineno != node.lineno else text)


def mutate_source(source: str, rng: random.Random, n_mutations: int = 1) -> str:
    """Apply n mutations chosen on the syntax tree of `source`, edited in the text so the rest
    of the program (comments, layout) is untouched. Returns source that parses; source that
    does not parse comes back unchanged (there is no tree to mutate)."""
    for _ in range(n_mutations):
        try:
            tree = ast.parse(source)
        except SyntaxError:
            return source
        for _attempt in range(5):  # a rare edit that breaks the syntax (a drop leaving an empty block) is retried
            mutant = _mutate_once(source, tree, rng)
            if mutant is None:
                return source
            try:
                ast.parse(mutant)
            except SyntaxError:
                tree = ast.parse(source)
                continue
            source = mutant
            break
    return source


@dataclass
class MutationModel:
    """A 'language model' that answers with a mutant of the code in the prompt."""

    seed: int = 0
    name: str = "mutation"
    _rng: random.Random = field(init=False, repr=False)

    def __post_init__(self):
        self._rng = random.Random(stable_seed("mutation-model", self.seed))

    def complete(self, expertise: str, message: str, temperature: float) -> tuple[str, int, int]:
        code = extract_code(message)
        # a hotter temperature makes bolder mutants: more edits per reply
        t = min(max(float(temperature), 0.0), 2.0)
        n = 1 + sum(self._rng.random() < t / 2 for _ in range(2))
        reply = "```python\n" + mutate_source(code, self._rng, n) + "```\n"
        return reply, estimate_tokens(expertise + message), estimate_tokens(reply)


@dataclass
class LiteLLMBackend:
    """A real model through agent.llm.client.LLMClient (litellm underneath)."""

    model: str
    api_base: str | None = None
    name: str = "litellm"

    def complete(self, expertise: str, message: str, temperature: float) -> tuple[str, int, int]:
        from ouro.agent.llm.client import LLMClient  # heavy (litellm): imported only when used

        client = getattr(self, "_client", None)
        if client is None:
            # ouro's budget is BudgetedLM's; the client's own cap is not needed on top
            client = self._client = LLMClient(self.model, api_base=self.api_base)
        client.temperature = float(temperature)
        reply = client.chat([{"role": "system", "content": expertise}, {"role": "user", "content": message}],
                            role="improve")
        text = getattr(reply, "content", None) or ""
        p = getattr(reply, "prompt_tokens", None) or estimate_tokens(expertise + message)
        c = getattr(reply, "completion_tokens", None) or estimate_tokens(text)
        return text, int(p), int(c)


# ---------------------------------------------------------------------------------------------

@dataclass
class LMCall:
    n_messages: int
    prompt_tokens: int
    completion_tokens: int
    temperature: float


@dataclass
class BudgetedLM:
    """The budgeted language model one improver run gets. Not shared between runs."""

    backend: object
    max_calls: int = 12
    max_tokens: int = 200_000
    calls: list[LMCall] = field(default_factory=list)

    @property
    def used_calls(self) -> int:
        return sum(c.n_messages for c in self.calls)

    @property
    def used_tokens(self) -> int:
        return sum(c.prompt_tokens + c.completion_tokens for c in self.calls)

    @property
    def budget(self) -> int:
        """Replies still allowed (STOP's `language_model.budget`)."""
        return max(0, self.max_calls - self.used_calls)

    def batch_prompt(self, expertise: str, messages: list[str], temperature: float = 0.7) -> list[str]:
        if not isinstance(messages, list) or not all(isinstance(m, str) for m in messages):
            raise TypeError("messages must be a list of strings")
        if self.used_calls + len(messages) > self.max_calls:
            raise LMBudgetExceeded(f"asked for {len(messages)} replies with {self.budget} of {self.max_calls} left")
        prompt_tokens = sum(estimate_tokens(expertise + m) for m in messages)
        if self.used_tokens + prompt_tokens > self.max_tokens:
            raise LMBudgetExceeded(f"token budget: {self.used_tokens} + {prompt_tokens} > {self.max_tokens}")
        replies, p_tok, c_tok = [], 0, 0
        for m in messages:
            text, p, c = self.backend.complete(expertise, m, temperature)
            replies.append(text)
            p_tok += p
            c_tok += c
        self.calls.append(LMCall(len(messages), p_tok, c_tok, float(temperature)))
        return replies

    def usage(self) -> dict:
        return {"calls": self.used_calls, "tokens": self.used_tokens, "max_calls": self.max_calls,
                "max_tokens": self.max_tokens, "backend": getattr(self.backend, "name", "?")}


@dataclass(frozen=True)
class ModelSpec:
    """Which backend an experiment uses, as plain picklable values (jobs run in other processes)."""

    kind: str = checked("mutation", check=lambda v: v in ("mutation", "litellm"),
                        problem="must be mutation or litellm")
    model: str = ""                 # litellm model name, e.g. "openai/replay"
    api_base: str | None = None
    max_calls: int = checked(12, check=lambda v: v >= 1, problem="must be at least 1")
    max_tokens: int = checked(200_000, check=lambda v: v >= 1, problem="must be at least 1")

    def build(self, seed: int) -> BudgetedLM:
        if self.kind == "mutation":
            backend = MutationModel(seed)
        elif self.kind == "litellm":
            backend = LiteLLMBackend(self.model, self.api_base)
        else:
            raise ValueError(f"unknown language model kind {self.kind!r} (mutation or litellm)")
        return BudgetedLM(backend, self.max_calls, self.max_tokens)
