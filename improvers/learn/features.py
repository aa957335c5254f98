"""What the ranker sees of one candidate edit: tokens around the edit plus a few numbers.

Shared by data generation, training and inference so the three can never disagree.
Tokens are hashed into a fixed vocabulary (no tokenizer to train or ship).
"""
from __future__ import annotations

import re
import zlib
from dataclasses import dataclass

VOCAB = 4096
MAX_TOKENS = 32
PAD = 0
_TOKEN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|\d+|==|!=|<=|>=|//|\*\*|[^\sA-Za-z0-9_]")

# Fixed ids for templates so a checkpoint stays valid when templates are added (unknown → 0).
TEMPLATE_IDS = {name: i + 1 for i, name in enumerate([
    "compare_swap", "bound_off_by_one", "constant_off_by_one", "slice_bounds", "index_off_by_one", "bool_swap",
    "arith_swap", "negate_condition", "remove_condition", "wrong_variable", "swap_arguments", "swap_operands",
    "missing_return", "misplaced_return", "wrong_constant", "delete_statement", "insert_statement", "method_call",
    "wrong_default", "unary_remove", "wrong_attribute", "assign_update", "break_continue"])}
N_TEMPLATES = 32
N_NUMERIC = 6


@dataclass(frozen=True)
class EditFeatures:
    template: str
    before: str
    after: str
    context: str       # the source line(s) the edit sits on, before the edit
    fl_score: float    # suspiciousness of the line, 0..1
    fl_rank: int       # 0 = most suspicious line

    def tokens(self) -> list[str]:
        """Tokens of the removed text, the inserted text and the line, each marked with its role,
        plus the line as it reads after the edit (so `range(n - 1)` and `range(n)` differ)."""
        def toks(tag: str, s: str, n: int) -> list[str]:
            return [f"{tag}{t}" for t in _TOKEN.findall(s)[:n]]

        after_line = self.context.replace(self.before.strip(), self.after.strip(), 1) if self.before.strip() else self.context
        return (toks("-", self.before, 8) + toks("+", self.after, 8) + toks("=", self.context, 8)
                + toks("~", after_line, 8))

    def token_ids(self) -> list[int]:
        ids = [1 + zlib.crc32(t.encode()) % (VOCAB - 1) for t in self.tokens()][:MAX_TOKENS]
        return ids + [PAD] * (MAX_TOKENS - len(ids))

    def numeric(self) -> list[float]:
        from agent.templates import PRIORS

        size = abs(len(self.after) - len(self.before))
        return [self.fl_score, 1.0 / (1 + self.fl_rank), PRIORS.get(self.template, 0.5),
                min(size, 40) / 40.0, float(not self.after.strip()), float(not self.before.strip())]


def heuristic_score(f: EditFeatures) -> float:
    """The order the built-in policy uses without a learned model: template prior × suspiciousness."""
    from agent.templates import PRIORS

    return PRIORS.get(f.template, 0.5) * (0.05 + f.fl_score)
