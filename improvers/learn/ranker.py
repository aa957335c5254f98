"""The learned edit ranker: a small torch model that scores candidate edits.

An MLP mixes the template (an embedding), the signals of what the edit does to its
function's names (signals.py) and a few numbers (suspiciousness, prior, size); with
`tokens`, also the edit's role-tagged hashed tokens averaged by an embedding bag (off by
default: it learns how injected bugs read, which real bugs do not share). An MLP, not a
transformer encoder over the tokens: it trains in seconds on a CPU.

Residual (the default): the score is a correction added to the log of the heuristic's
template score, scaled by `shrink` at repair time. Trained listwise: each training group is
the set of candidate edits near one injected bug, exactly one of which undoes it; a softmax
over the group's scores is pushed towards that one, each group weighted by how common its
kind of fix is among real bugs. Inference is batched on the CPU; the built-in policy calls
`Ranker.score` (through adapter.LearnedRanker) to order proposals.
"""
from __future__ import annotations

import json
import random
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from ouro.improvers.learn.features import (N_NUMERIC, N_TEMPLATES, TEMPLATE_IDS, VOCAB, EditFeatures, policy_logit,
                                      prior_logit)
from ouro.improvers.learn.signals import NONE


@dataclass
class RankerConfig:
    d_model: int = 64
    ff: int = 64
    dropout: float = 0.1
    # residual: the model's score is added to the log of the heuristic's template score (and, in
    # training, of the policy's other factors), so it learns a correction of the heuristic
    # instead of an order from scratch; False for checkpoints from before the option existed
    residual: bool = False
    # how far a residual model may move the heuristic's order at repair time (its score is
    # multiplied by this): injected bugs are not real bugs, and a model trusted fully on them
    # gains on some real bugs and loses as much on others (docs/learn.md has the sweep)
    shrink: float = 1.0
    tokens: bool = True   # False: the edit's text is not read, only its template, signals and numbers


def build_model(cfg: RankerConfig):
    import torch
    from torch import nn

    class EditScorer(nn.Module):
        def __init__(self):
            super().__init__()
            self.tok = nn.EmbeddingBag(VOCAB, cfg.d_model, mode="mean", padding_idx=0)
            self.template = nn.Embedding(N_TEMPLATES, 16)
            self.head = nn.Sequential(nn.Linear(cfg.d_model + 16 + N_NUMERIC, cfg.ff), nn.GELU(),
                                      nn.Dropout(cfg.dropout), nn.Linear(cfg.ff, 1))

        def forward(self, tokens, template, numeric):
            bag = self.tok(tokens) if cfg.tokens else torch.zeros(tokens.shape[0], cfg.d_model, device=tokens.device)
            return self.head(torch.cat([bag, self.template(template), numeric], -1)).squeeze(-1)

    return EditScorer()


def tensorize(features: list[EditFeatures], with_tokens: bool = True):
    import torch

    from ouro.improvers.learn.features import MAX_TOKENS

    tokens = (torch.tensor([f.token_ids() for f in features], dtype=torch.long) if with_tokens
              else torch.zeros(len(features), MAX_TOKENS, dtype=torch.long))  # a model that does not read them
    template = torch.tensor([TEMPLATE_IDS.get(f.template, 0) for f in features], dtype=torch.long)
    numeric = torch.tensor([f.numeric() for f in features], dtype=torch.float32)
    return tokens, template, numeric


def offsets(features: list[EditFeatures], cfg: RankerConfig, *, training: bool) -> list[float]:
    """What a residual model's score is added to: the heuristic's template score, and in training
    also the factors the policy multiplies by afterwards (at repair time it does that itself)."""
    if not cfg.residual:
        return [0.0] * len(features)
    return [prior_logit(f) + (policy_logit(f) if training else 0.0) for f in features]


def hook_scores(raw: list[float], features: list[EditFeatures], cfg: RankerConfig) -> list[float]:
    """The model's raw outputs as the policy's ranker hook gets them: a residual model's
    correction scaled by its shrink and added to the heuristic's template score (log space)."""
    shrink = cfg.shrink if cfg.residual else 1.0
    return [shrink * s + o for s, o in zip(raw, offsets(features, cfg, training=False))]


class Ranker:
    """A loaded checkpoint; `score` returns one float per candidate (higher = try first)."""

    def __init__(self, model, cfg: RankerConfig, path: Path | None = None):
        import torch

        self.model = model.eval()
        self.cfg = cfg
        self.path = path
        torch.set_num_threads(1)  # small batches: threads cost more than they give

    @classmethod
    def load(cls, path: str | Path) -> "Ranker":
        import torch

        path = Path(path)
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
        cfg = RankerConfig(**json.loads(ckpt["config"]))
        model = build_model(cfg)
        try:
            model.load_state_dict(ckpt["state"])
        except RuntimeError:   # shapes from another version of the features
            raise ValueError(f"{path}: a ranker checkpoint from another version of ouro; "
                             "retrain it with `ouro learn train`") from None
        return cls(model, cfg, path)

    def score(self, features: list[EditFeatures], batch: int = 256) -> list[float]:
        import torch

        out: list[float] = []
        with torch.inference_mode():
            for i in range(0, len(features), batch):
                out.extend(self.model(*tensorize(features[i:i + batch], self.cfg.tokens)).tolist())
        return hook_scores(out, features, self.cfg)


@dataclass
class TrainResult:
    path: str
    epochs: int
    train_groups: int
    val_groups: int
    val_mean_rank: float
    heuristic_val_mean_rank: float
    seconds: float
    device: str


def _group_features(group: dict) -> tuple[list[EditFeatures], int]:
    feats = [EditFeatures(c["template"], c["before"], c["after"], c["context"], c["fl"], c["fl_rank"],
                          tuple(c.get("signals", NONE)), c.get("variants", 1), c.get("weight", 1.0))
             for c in group["candidates"]]
    return feats, next(i for i, c in enumerate(group["candidates"]) if c["label"])


def load_groups(path: str | Path) -> list[dict]:
    return [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]


def fix_kind(group: dict) -> str:
    return next(c["template"] for c in group["candidates"] if c["label"])


def kind_weights(groups: list[dict]) -> dict[str, float]:
    """Per kind of fix, how much one of its groups counts: the kind's share of real bugs (the
    template priors) over its share of the data. Injection does not follow the priors (some
    kinds are kept far more often: an extra statement can be injected and undone almost
    anywhere), and a model trained on the raw mix learns the mix: that deleting a `return` is a
    likely fix. Weighted, it learns which candidate is the fix among those of real-bug kinds."""
    from ouro.agent.templates import PRIORS

    counts: dict[str, int] = {}
    for g in groups:
        counts[fix_kind(g)] = counts.get(fix_kind(g), 0) + 1
    total_prior = sum(PRIORS.get(k, 0.3) for k in counts)
    raw = {k: (PRIORS.get(k, 0.3) / total_prior) / (n / len(groups)) for k, n in counts.items()}
    mean = sum(raw[fix_kind(g)] for g in groups) / max(1, len(groups))
    return {k: min(5.0, max(0.2, w / mean)) for k, w in raw.items()}


def mean_rank(groups: list[dict], scorer, weights: dict[str, float] | None = None) -> float:
    """Mean 1-based rank of the repairing edit when candidates are sorted by scorer (ties:
    stable); with weights (kind_weights), each group counts as much as its kind of fix."""
    ranks, total = 0.0, 0.0
    for g in groups:
        feats, pos = _group_features(g)
        scores = scorer(feats)
        order = sorted(range(len(feats)), key=lambda i: -scores[i])
        w = weights.get(fix_kind(g), 1.0) if weights else 1.0
        ranks += w * (order.index(pos) + 1)
        total += w
    return ranks / max(1e-9, total)


def policy_order(scores: list[float], features: list[EditFeatures]) -> list[float]:
    """A ranker's scores as the built-in policy orders them: times the variant's weight and the
    line's suspiciousness (log space)."""
    return [s + policy_logit(f) for s, f in zip(scores, features)]


def train(data_dir: str | Path, out: str | Path, *, epochs: int = 8, lr: float = 1e-3, seed: int = 0,
          device: str = "auto", time_limit_s: float = 840.0, groups_per_step: int = 16, residual: bool = True,
          shrink: float = 0.5, tokens: bool = False, log=print) -> TrainResult:
    """Train on data_dir/train.jsonl, select on val.jsonl, save out (a .pt with its config)."""
    import torch

    from ouro.improvers.learn.features import heuristic_score

    random.seed(seed)
    torch.manual_seed(seed)
    device = ("cuda" if torch.cuda.is_available() else "cpu") if device == "auto" else device
    data_dir = Path(data_dir)
    train_groups = load_groups(data_dir / "train.jsonl")
    val_groups = load_groups(data_dir / "val.jsonl")
    if not train_groups:
        raise ValueError(f"{data_dir}/train.jsonl has no groups; run `ouro learn data` first")
    cfg = RankerConfig(residual=residual, shrink=shrink, tokens=tokens)
    model = build_model(cfg).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    prepared = []
    weights = kind_weights(train_groups)
    val_weights = kind_weights(val_groups) if val_groups else {}
    for g in train_groups:
        feats, pos = _group_features(g)
        prepared.append((tensorize(feats, cfg.tokens), torch.tensor(offsets(feats, cfg, training=True)), pos,
                         weights[fix_kind(g)]))

    def score_fn(feats):  # the order the policy will use: the model, its offsets, the policy's factors
        model.eval()
        with torch.inference_mode():
            scores = model(*(t.to(device) for t in tensorize(feats, cfg.tokens))).tolist()
        return policy_order(hook_scores(scores, feats, cfg), feats)

    rng = random.Random(seed)
    t0 = time.perf_counter()
    best = (float("inf"), None)
    for epoch in range(epochs):
        model.train()
        order = list(range(len(prepared)))
        rng.shuffle(order)
        total, steps = 0.0, 0
        # several groups per step, flattened into one forward pass; the listwise loss is
        # then taken per group over its own slice of the scores
        for b in range(0, len(order), groups_per_step):
            chunk = [prepared[i] for i in order[b:b + groups_per_step]]
            tokens, template, numeric = (torch.cat([c[0][k] for c in chunk]).to(device) for k in range(3))
            scores = model(tokens, template, numeric) + torch.cat([c[1] for c in chunk]).to(device)
            loss, start = 0.0, 0
            for (t, _, _), _, pos, w in chunk:
                n = t.shape[0]
                loss = loss + w * torch.nn.functional.cross_entropy(scores[start:start + n].unsqueeze(0),
                                                                    torch.tensor([pos], device=device))
                start += n
            loss = loss / sum(c[3] for c in chunk)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += loss.item()
            steps += 1
        val = mean_rank(val_groups, score_fn, val_weights) if val_groups else 0.0
        log(f"epoch {epoch + 1}/{epochs} loss {total / max(1, steps):.3f} val mean rank {val:.2f}")
        if val < best[0]:
            best = (val, {k: v.detach().cpu().clone() for k, v in model.state_dict().items()})
        if time.perf_counter() - t0 > time_limit_s:
            log("time limit reached; keeping the best epoch so far")
            break
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    torch.save({"config": json.dumps(asdict(cfg)), "state": best[1]}, tmp)
    tmp.replace(out)
    heur = mean_rank(val_groups, lambda fs: [heuristic_score(f) for f in fs], val_weights) if val_groups else 0.0
    return TrainResult(str(out), epoch + 1, len(train_groups), len(val_groups), best[0], heur,
                       time.perf_counter() - t0, device)
