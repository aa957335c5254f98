"""The learned edit ranker: a small torch model that scores candidate edits.

The edit's tokens (removed, inserted, the line before and after) are role-tagged, hashed and
averaged by an embedding bag, and an MLP mixes that with the template and the numbers
(suspiciousness, prior, size). A transformer encoder over the tokens was tried first: on this
2-core CPU it trained far too slowly to fit the 15-minute training budget, for no better ranks
on held-out bugs, so the bag it is.

Trained listwise: each training group is the set of candidate edits near one injected bug,
exactly one of which undoes it; a softmax over the group's scores is pushed towards that one.
Inference is batched on the CPU; the built-in policy calls `Ranker.score` to order proposals.
"""
from __future__ import annotations

import json
import random
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from improvers.learn.features import N_NUMERIC, N_TEMPLATES, TEMPLATE_IDS, VOCAB, EditFeatures


@dataclass
class RankerConfig:
    d_model: int = 64
    ff: int = 64
    dropout: float = 0.1


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
            bag = self.tok(tokens)
            return self.head(torch.cat([bag, self.template(template), numeric], -1)).squeeze(-1)

    return EditScorer()


def tensorize(features: list[EditFeatures]):
    import torch

    tokens = torch.tensor([f.token_ids() for f in features], dtype=torch.long)
    template = torch.tensor([TEMPLATE_IDS.get(f.template, 0) for f in features], dtype=torch.long)
    numeric = torch.tensor([f.numeric() for f in features], dtype=torch.float32)
    return tokens, template, numeric


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
        model.load_state_dict(ckpt["state"])
        return cls(model, cfg, path)

    def score(self, features: list[EditFeatures], batch: int = 256) -> list[float]:
        import torch

        out: list[float] = []
        with torch.inference_mode():
            for i in range(0, len(features), batch):
                out.extend(self.model(*tensorize(features[i:i + batch])).tolist())
        return out


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
    feats = [EditFeatures(c["template"], c["before"], c["after"], c["context"], c["fl"], c["fl_rank"])
             for c in group["candidates"]]
    return feats, next(i for i, c in enumerate(group["candidates"]) if c["label"])


def load_groups(path: str | Path) -> list[dict]:
    return [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]


def mean_rank(groups: list[dict], scorer) -> float:
    """Mean 1-based rank of the repairing edit when candidates are sorted by scorer (ties: stable)."""
    ranks = []
    for g in groups:
        feats, pos = _group_features(g)
        scores = scorer(feats)
        order = sorted(range(len(feats)), key=lambda i: -scores[i])
        ranks.append(order.index(pos) + 1)
    return sum(ranks) / max(1, len(ranks))


def train(data_dir: str | Path, out: str | Path, *, epochs: int = 8, lr: float = 1e-3, seed: int = 0,
          device: str = "auto", time_limit_s: float = 840.0, groups_per_step: int = 16, log=print) -> TrainResult:
    """Train on data_dir/train.jsonl, select on val.jsonl, save out (a .pt with its config)."""
    import torch

    from improvers.learn.features import heuristic_score

    random.seed(seed)
    torch.manual_seed(seed)
    device = ("cuda" if torch.cuda.is_available() else "cpu") if device == "auto" else device
    data_dir = Path(data_dir)
    train_groups = load_groups(data_dir / "train.jsonl")
    val_groups = load_groups(data_dir / "val.jsonl")
    if not train_groups:
        raise ValueError(f"{data_dir}/train.jsonl has no groups; run `ouro learn data` first")
    cfg = RankerConfig()
    model = build_model(cfg).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    prepared = []
    for g in train_groups:
        feats, pos = _group_features(g)
        prepared.append((tensorize(feats), pos))

    def score_fn(feats):
        model.eval()
        with torch.inference_mode():
            return model(*(t.to(device) for t in tensorize(feats))).tolist()

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
            scores = model(tokens, template, numeric)
            loss, start = 0.0, 0
            for (t, _, _), pos in chunk:
                n = t.shape[0]
                loss = loss + torch.nn.functional.cross_entropy(scores[start:start + n].unsqueeze(0),
                                                                torch.tensor([pos], device=device))
                start += n
            loss = loss / len(chunk)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += loss.item()
            steps += 1
        val = mean_rank(val_groups, score_fn) if val_groups else 0.0
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
    heur = mean_rank(val_groups, lambda fs: [heuristic_score(f) for f in fs]) if val_groups else 0.0
    return TrainResult(str(out), epoch + 1, len(train_groups), len(val_groups), best[0], heur,
                       time.perf_counter() - t0, device)
