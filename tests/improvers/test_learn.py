"""The learned repair policy: ranker data and training, CYCLE masking, fine-tune → serve → repair.

The end-to-end test is issue 6's Must show 3: a tiny causal model and tokenizer made here,
fine-tuned for a few steps on trajectories converted from a real repair run, served by
`ouro serve`, and used by `ouro repair --policy local:DIR` through litellm. The tiny model
fixes nothing; the path must work and the run must end cleanly.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from repair_helpers import BUGGY, write

from ouro.agent.policies.base import RankContext

ROOT = Path(__file__).resolve().parents[2]
OURO = [sys.executable, "-m", "ouro.agent.cli"]

pytest.importorskip("torch")

CORPUS = {
    "mathy.py": (
        "def clamp(x, lo, hi):\n    if x < lo:\n        return lo\n    if x > hi:\n        return hi\n    return x\n\n\n"
        "def total(xs):\n    s = 0\n    for x in xs:\n        s = s + x\n    return s\n\n\n"
        "def last_index(xs, v):\n    i = len(xs) - 1\n    while i >= 0:\n        if xs[i] == v:\n            return i\n"
        "        i = i - 1\n    return -1\n\n\n"
        "def window(xs, n):\n    out = []\n    for i in range(len(xs) - n + 1):\n        out.append(xs[i:i + n])\n    return out\n"),
    "more.py": (
        "def sign(x):\n    if x > 0:\n        return 1\n    if x < 0:\n        return -1\n    return 0\n\n\n"
        "def span(a, b):\n    if a <= b:\n        return b - a\n    return a - b\n\n\n"
        "def count_over(xs, t):\n    n = 0\n    for x in xs:\n        if x > t:\n            n = n + 1\n    return n\n\n\n"
        "def middle(a, b, c):\n    if a <= b <= c or c <= b <= a:\n        return b\n    if b <= a <= c or c <= a <= b:\n"
        "        return a\n    return c\n\n\n"
        "def pairs(xs):\n    out = []\n    for i in range(len(xs) - 1):\n        out.append((xs[i], xs[i + 1]))\n    return out\n\n\n"
        "def first_gap(xs):\n    for i in range(1, len(xs)):\n        if xs[i] - xs[i - 1] > 1:\n            return i\n    return -1\n"),
}


def _run(args, **kw):
    return subprocess.run(OURO + args, capture_output=True, text=True, cwd=kw.pop("cwd", ROOT), **kw)


def test_bug_data_groups_hold_exactly_one_repairing_edit(tmp_path):
    from ouro.improvers.learn.bugdata import build_dataset

    corpus = write(tmp_path / "corpus", CORPUS)
    sizes, stats = build_dataset(tmp_path / "data", corpus=sorted(corpus.glob("*.py")), max_groups=50, seed=1)
    assert sum(sizes.values()) > 0 and stats.injected >= sum(sizes.values())
    rows = [json.loads(line) for split in ("train", "val", "test")
            for line in (tmp_path / "data" / f"{split}.jsonl").read_text().splitlines()]
    for g in rows:
        assert sum(c["label"] for c in g["candidates"]) == 1
    # same seed, same data: the split is reproducible
    sizes2, _ = build_dataset(tmp_path / "data2", corpus=sorted(corpus.glob("*.py")), max_groups=50, seed=1)
    assert sizes2 == sizes
    assert (tmp_path / "data" / "train.jsonl").read_text() == (tmp_path / "data2" / "train.jsonl").read_text()


def test_behaviour_check_drops_injections_that_change_nothing():
    import random

    from ouro.improvers.learn.bugdata import behaviour_changed

    same = behaviour_changed("def f(a, b):\n    return a * b\n", "def f(a, b):\n    return b * a\n", "f", 2, random.Random(0))
    differ = behaviour_changed("def f(a, b):\n    return a * b\n", "def f(a, b):\n    return a + b\n", "f", 2, random.Random(0))
    assert same is False and differ is True


def test_ranker_trains_reproducibly_and_loads_into_the_builtin_policy_hook(tmp_path):
    from ouro.agent.templates import generate
    from ouro.improvers.learn.adapter import LearnedRanker
    from ouro.improvers.learn.bugdata import build_dataset
    from ouro.improvers.learn.ranker import train

    corpus = write(tmp_path / "corpus", CORPUS)
    build_dataset(tmp_path / "data", corpus=sorted(corpus.glob("*.py")), max_groups=60, seed=0)
    # tokens=True: the variant that also reads the edit's text (the default does not)
    a = train(tmp_path / "data", tmp_path / "a.pt", epochs=2, seed=3, tokens=True, log=lambda s: None)
    b = train(tmp_path / "data", tmp_path / "b.pt", epochs=2, seed=3, tokens=True, log=lambda s: None)
    assert a.val_mean_rank == b.val_mean_rank
    ranker = LearnedRanker(tmp_path / "a.pt")
    src = CORPUS["mathy.py"]
    cands = generate("mathy.py", src, [4, 5])
    scores = ranker(cands, RankContext(issue="", base_files={"mathy.py": src}, node_files={}, target_tests=[], localization=None))
    assert len(scores) == len(cands) and all(0 < s <= 1 for s in scores) and max(scores) == 1.0


def test_a_residual_ranker_corrects_the_heuristic_as_far_as_its_shrink_lets_it(tmp_path):
    import torch

    from ouro.agent.templates import generate, spread_prior, variant_counts
    from ouro.improvers.learn.adapter import LearnedRanker
    from ouro.improvers.learn.bugdata import build_dataset
    from ouro.improvers.learn.ranker import train

    corpus = write(tmp_path / "corpus", CORPUS)
    build_dataset(tmp_path / "data", corpus=sorted(corpus.glob("*.py")), max_groups=60, seed=0)
    train(tmp_path / "data", tmp_path / "r.pt", epochs=2, seed=0, shrink=0.0, log=lambda s: None)
    src = CORPUS["mathy.py"]
    cands = generate("mathy.py", src, [2, 3, 4, 5])
    context = RankContext(issue="", base_files={"mathy.py": src}, node_files={}, target_tests=[], localization=None)
    variants = variant_counts(cands)
    prior = [spread_prior(c.template, variants[(c.file, c.line, c.template)]) for c in cands]
    # shrink 0: exactly the heuristic's template scores (scaled so the best is 1)
    scores = LearnedRanker(tmp_path / "r.pt")(cands, context)
    assert scores == pytest.approx([p / max(prior) for p in prior])
    # the same weights at full strength move the order
    ckpt = torch.load(tmp_path / "r.pt", weights_only=True)
    ckpt["config"] = ckpt["config"].replace('"shrink": 0.0', '"shrink": 1.0')
    torch.save(ckpt, tmp_path / "full.pt")
    assert LearnedRanker(tmp_path / "full.pt")(cands, context) != pytest.approx(scores)


def test_kinds_of_fix_count_by_how_often_real_bugs_are_of_that_kind():
    from ouro.agent.templates import PRIORS
    from ouro.improvers.learn.ranker import kind_weights

    def group(kind):
        return {"candidates": [{"template": kind, "label": True}]}

    # the data holds four times as many deleted statements as comparisons; real bugs the reverse
    weights = kind_weights([group("delete_statement")] * 8 + [group("compare_swap")] * 2)
    assert PRIORS["compare_swap"] > PRIORS["delete_statement"]
    assert weights["compare_swap"] > 1 > weights["delete_statement"]


def test_the_bundled_checkpoint_loads_and_a_missing_one_falls_back_to_the_heuristic_saying_so(tmp_path):
    from ouro.improvers.learn.adapter import BUNDLED, LearnedRanker, load_default_ranker

    said: list[str] = []
    assert load_default_ranker(tmp_path / "none.pt", warn=said.append) is None
    assert len(said) == 1 and "heuristic" in said[0] and "none.pt" in said[0]
    assert isinstance(load_default_ranker(None, warn=said.append), LearnedRanker) and BUNDLED.exists()
    assert len(said) == 1
    # a checkpoint whose shapes are not this version's: the heuristic order, saying why
    import torch

    ckpt = torch.load(BUNDLED, weights_only=True)
    ckpt["config"] = ckpt["config"].replace('"d_model": 64', '"d_model": 32')
    torch.save(ckpt, tmp_path / "other.pt")
    assert load_default_ranker(tmp_path / "other.pt", warn=said.append) is None
    assert len(said) == 2 and "another version" in said[1] and "heuristic" in said[1]


def test_finetune_masks_the_faulty_code_out_of_the_loss(tmp_path):
    from transformers import AutoTokenizer

    from ouro.improvers.learn.finetune import IGNORE, encode
    from ouro.improvers.learn.tiny import make_tiny_model
    from ouro.improvers.learn.trajdata import example

    model = make_tiny_model(tmp_path / "tiny", vocab_size=512)
    tok = AutoTokenizer.from_pretrained(model)
    ex = example("sum is wrong", "def add(a, b):\n    return a - b", "assert -1 == 3", "minus instead of plus",
                 "def add(a, b):\n    return a + b")
    ids, labels = encode(tok, ex["messages"], 4096)
    trained = tok.decode([t for t, lab in zip(ids, labels) if lab != IGNORE])
    assert "return a + b" in trained and "return a - b" not in trained
    assert "assert -1 == 3" not in trained


@pytest.mark.slow
@pytest.mark.usefixtures("bwrap_available")
def test_tiny_model_finetuned_on_trajectories_is_served_and_used_by_repair(tmp_path):
    home = tmp_path / "home"
    env = {**os.environ, "OURO_HOME": str(home)}
    # 1. a real repair run with the built-in policy produces a trajectory
    repo = write(tmp_path / "shop", BUGGY)
    r = _run(["repair", str(repo), "--issue", "bulk_price gives the wrong total for large orders",
              "--backend", "bwrap", "--budget", "40", "--json"], env=env, timeout=600)
    assert r.returncode == 0, r.stderr
    # 2. converted into CYCLE-shaped chat data
    data = tmp_path / "sft.jsonl"
    r = _run(["learn", "trajectories", "--out", str(data), "--json"], env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["examples"] >= 1
    # 3. a tiny model, fine-tuned a few steps
    tiny, ft = tmp_path / "tiny", tmp_path / "ft"
    assert _run(["learn", "tiny", "--out", str(tiny)], timeout=300).returncode == 0
    r = _run(["learn", "finetune", "--base", str(tiny), "--data", str(data), "--out", str(ft), "--steps", "3",
              "--batch-size", "2", "--json"], timeout=600)
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout)
    assert summary["steps"] == 3 and summary["examples"] >= 1
    assert (ft / "config.json").exists() and (ft / "adapter").is_dir()
    # 4. repair with the local checkpoint: ouro starts `ouro serve` and talks to it via litellm
    repo2 = write(tmp_path / "shop2", BUGGY)
    try:
        r = _run(["repair", str(repo2), "--issue", "bulk_price is wrong", "--policy", f"local:{ft}",
                  "--backend", "bwrap", "--budget", "2", "--max-calls", "4", "--json"], env=env, timeout=900)
        assert r.returncode in (0, 1), r.stderr
        out = json.loads(r.stdout)
        assert out["status"] in ("plausible", "not_found") and out["run_dir"]
        assert "Traceback" not in r.stderr
        records = list((home / "cache" / "serve").glob("*.json"))
        assert records, "ouro serve was not started through the local: policy"
    finally:
        for rec in (home / "cache" / "serve").glob("*.json"):
            try:
                os.killpg(json.loads(rec.read_text())["pid"], signal.SIGTERM)
            except (ProcessLookupError, KeyError, json.JSONDecodeError):
                pass


def test_learn_cli_bad_input_is_one_line(tmp_path):
    r = _run(["learn", "finetune", "--base", str(tmp_path / "nope"), "--data", "x", "--out", str(tmp_path / "o")])
    assert r.returncode == 2 and r.stderr.strip().count("\n") == 0 and "not found" in r.stderr
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{not json\n")
    (tmp_path / "base").mkdir()
    r = _run(["learn", "finetune", "--base", str(tmp_path / "base"), "--data", str(bad), "--out", str(tmp_path / "o")])
    assert r.returncode == 2 and "Traceback" not in r.stderr
