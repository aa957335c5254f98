"""What the ranker sees of one candidate edit: tokens around the edit plus a few numbers.

Shared by data generation, training and inference so the three can never disagree.
Tokens are hashed into a fixed vocabulary (no tokenizer to train or ship).
"""
from __future__ import annotations

import functools
import math
import re
import zlib
from dataclasses import dataclass

from ouro.improvers.learn.signals import N_SIGNALS, NONE

VOCAB = 4096
MAX_TOKENS = 32
PART_TOKENS = 8   # per role: removed, inserted, line, line after the edit
PAD = 0
_TOKEN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|\d+|==|!=|<=|>=|//|\*\*|[^\sA-Za-z0-9_]")

# Fixed ids for templates so a checkpoint stays valid when templates are added (unknown → 0).
TEMPLATE_IDS = {name: i + 1 for i, name in enumerate([
    "compare_swap", "bound_off_by_one", "constant_off_by_one", "slice_bounds", "index_off_by_one", "bool_swap",
    "arith_swap", "negate_condition", "remove_condition", "wrong_variable", "swap_arguments", "swap_operands",
    "missing_return", "misplaced_return", "wrong_constant", "delete_statement", "insert_statement", "method_call",
    "wrong_default", "unary_remove", "wrong_attribute", "assign_update", "break_continue"])}
N_TEMPLATES = 32
N_NUMERIC = 6 + N_SIGNALS


@dataclass(frozen=True)
class EditFeatures:
    template: str
    before: str
    after: str
    context: str       # the source line(s) the edit sits on, before the edit
    fl_score: float    # suspiciousness of the line, 0..1
    fl_rank: int       # 0 = most suspicious line
    signals: tuple[float, ...] = NONE   # what the edit does to the function's names (signals.py)
    variants: int = 1   # how many variants its template offers at this line
    weight: float = 1.0  # the template's own confidence in this variant (Candidate.weight)

    def _parts(self) -> tuple[tuple[str, str], ...]:
        """The removed text, the inserted text and the line, each with its role tag, plus the line
        as it reads after the edit (so `range(n - 1)` and `range(n)` differ)."""
        after_line = self.context.replace(self.before.strip(), self.after.strip(), 1) if self.before.strip() else self.context
        return ("-", self.before), ("+", self.after), ("=", self.context), ("~", after_line)

    def tokens(self) -> list[str]:
        return [f"{tag}{t}" for tag, text in self._parts() for t in _TOKEN.findall(text)[:PART_TOKENS]]

    def token_ids(self) -> list[int]:
        ids = [i for tag, text in self._parts() for i in tagged_ids(tag, text)][:MAX_TOKENS]
        return ids + [PAD] * (MAX_TOKENS - len(ids))

    def numeric(self) -> list[float]:
        from ouro.agent.templates import PRIORS

        size = abs(len(self.after) - len(self.before))
        return [self.fl_score, 1.0 / (1 + self.fl_rank), PRIORS.get(self.template, 0.5),
                min(size, 40) / 40.0, float(not self.after.strip()), float(not self.before.strip()),
                *(max(-2.0, min(2.0, v)) for v in self.signals)]


def prior_logit(f: EditFeatures) -> float:
    """log of the heuristic's template score (its prior spread over the variants at the line)."""
    from ouro.agent.templates import spread_prior

    return math.log(spread_prior(f.template, f.variants))


def policy_logit(f: EditFeatures) -> float:
    """log of what the built-in policy multiplies any template score by, as far as bug data has it:
    the variant's weight and the line's suspiciousness."""
    return math.log(f.weight) + math.log(0.05 + f.fl_score)


@functools.lru_cache(maxsize=8192)
def tagged_ids(tag: str, text: str) -> tuple[int, ...]:
    """Hashed ids of the first tokens of text, tagged with their role. Cached: the candidates at
    one line share its text, so most lookups within one batch are repeats."""
    return tuple(1 + zlib.crc32(f"{tag}{t}".encode()) % (VOCAB - 1) for t in _TOKEN.findall(text)[:PART_TOKENS])


def heuristic_score(f: EditFeatures) -> float:
    """The order the built-in policy uses without a learned model: spread prior x weight x suspiciousness."""
    return math.exp(prior_logit(f) + policy_logit(f))
