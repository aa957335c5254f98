"""Plug the learned ranker into the built-in policy's `ranker` hook.

The hook hands over candidates plus the run's localization; this turns each candidate into
the same EditFeatures the model was trained on and returns scores in (0, 1]. The policy still
multiplies them by the line's suspiciousness (`includes_localization = False`): letting the
model's own view of suspiciousness replace it was worse on the bundled repositories.
"""
from __future__ import annotations

import math
from pathlib import Path

from ouro.agent.policies.base import RankContext
from ouro.improvers.learn.features import EditFeatures

BUNDLED = Path(__file__).resolve().parent / "checkpoints" / "ranker.pt"


class Featurizer:
    """Candidates as the EditFeatures the model reads, with what one repair run can share
    (the repository's signatures, each file version's signals) cached between calls."""

    def __init__(self):
        self._signatures: tuple[object, dict] = (None, {})
        self._file_signals: dict[str, object] = {}

    def __call__(self, candidates, context: RankContext) -> list[EditFeatures]:
        from ouro.agent.templates import variant_counts
        from ouro.improvers.learn.signals import FileSignals, signatures

        loc = context.localization
        lines = list(getattr(loc, "lines", []) or [])
        best = max((s.score for s in lines), default=1.0) or 1.0
        score = {(s.file, s.line): s.score / best for s in lines}
        rank = {(s.file, s.line): i for i, s in enumerate(lines)}
        base = context.base_files
        node_files = context.node_files
        if self._signatures[0] is not base:   # one repair run: the repository's defs, parsed once
            self._signatures = (base, signatures(base.values()))
            self._file_signals.clear()
        variants = variant_counts(candidates)
        out = []
        for c in candidates:
            # the text the candidate edits: the node's version of a file its edits changed
            text = node_files[c.file] if c.file in node_files else base.get(c.file, "")
            if text not in self._file_signals:   # keyed by the text: nodes share most files
                if len(self._file_signals) > 64:
                    self._file_signals.clear()
                self._file_signals[text] = FileSignals(text, self._signatures[1])
            src_lines = self._file_signals[text].lines
            line = src_lines[c.line - 1].strip() if 0 < c.line <= len(src_lines) else ""
            out.append(EditFeatures(c.template, c.before, c.after, line, score.get((c.file, c.line), 0.0),
                                    rank.get((c.file, c.line), len(lines)), self._file_signals[text](c.line, c.before, c.after),
                                    variants[(c.file, c.line, c.template)], c.weight))
        return out


class LearnedRanker:
    """The agent.policies.base.Ranker of a trained checkpoint."""

    includes_localization = False

    def __init__(self, path: str | Path):
        from ouro.improvers.learn.ranker import Ranker

        self.path = Path(path)
        self.model = Ranker.load(self.path)
        self.features = Featurizer()

    def __call__(self, candidates, context: RankContext) -> list[float]:
        if not candidates:
            return []
        scores = self.model.score(self.features(candidates, context))
        top = max(scores)
        return [math.exp(s - top) for s in scores]


def load_default_ranker(path: str | Path | None = None, warn=None):
    """The ranker to use: an explicit path, else the bundled checkpoint; None (heuristic order)
    when there is none or torch is missing — and `warn` says so."""
    chosen = Path(path) if path else BUNDLED
    if not chosen.exists():
        if warn:
            warn(f"no ranker checkpoint at {chosen}; ordering candidates by the heuristic (template prior x suspiciousness)")
        return None
    try:
        return LearnedRanker(chosen)
    except ImportError:
        if warn:
            warn("torch is not installed; ordering candidates by the heuristic (pip install 'ouro-agent[learn]')")
        return None
    except ValueError as e:   # a checkpoint of another version: the heuristic order, saying why
        if warn:
            warn(f"{e}; ordering candidates by the heuristic")
        return None
