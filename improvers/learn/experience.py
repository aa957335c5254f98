"""Ranker training data from ouro's own repairs (CYCLE's idea: learn from your own attempts and
what the tests said about them), in the same group format as the injected bugs of bugdata.py.

A finished repair run directory holds what the agent tried and how each try went: the
localization it ordered by (localization.json), the repository as it saw it (workspace/), and
every candidate state it validated with the observation (validations.jsonl, keyed by state).
For each run, the root's candidates are generated again exactly as the built-in policy made them
(BuiltinPolicy.candidates), matched with their validations by state key, and turned into the
features the learned ranker reads at repair time (adapter.Featurizer). One group per plausible
candidate at the root:
- the label: that plausible candidate (its patch passed the failing tests, broke nothing);
- the others: every validated candidate that failed, regressed, broke or timed out. A candidate
  that fixed some of the failing tests is left out: it is half of a fix, not a wrong one.
Candidates the search never validated are left out too: nobody knows how they would have done.
Runs of one task are merged (a candidate validated in several runs counts once), so repairs by
several seeds or agent versions widen the negatives around the same fix.
"""
from __future__ import annotations

import hashlib
import json
import random
from pathlib import Path

NEGATIVE = ("failed", "regression", "broke", "timeout")


def _localization(d: dict):
    from ouro.agent.localize import Localization, Suspicious

    return Localization([Suspicious(s["file"], s["line"], s["score"], s.get("function", ""), s.get("reasons", []))
                         for s in d.get("lines", [])], [])


def root_candidates(run_dir: Path) -> list[tuple[dict, str]]:
    """(candidate row in bugdata's group format without its label, validation status) for each
    root candidate the run validated."""
    from ouro.agent.policies.base import RankContext
    from ouro.agent.policies.builtin import BuiltinPolicy
    from ouro.agent.state import Node, SearchContext, state_key
    from ouro.improvers.learn.adapter import Featurizer
    from ouro.sandbox.core.files import read_jsonl

    run_dir = Path(run_dir)
    loc_file = run_dir / "localization.json"
    if not loc_file.exists() or not (run_dir / "validations.jsonl").exists():
        return []
    loc = _localization(json.loads(loc_file.read_text()))
    state = json.loads((run_dir / "state.json").read_text()) if (run_dir / "state.json").exists() else {}
    base_files = {}
    for s in loc.lines:   # the policy edits only localized files; read them as the repair saw them
        if s.file not in base_files and (run_dir / "workspace" / s.file).is_file():
            base_files[s.file] = (run_dir / "workspace" / s.file).read_text(encoding="utf-8", errors="replace")
    baseline = json.loads((run_dir / "baseline.json").read_text()) if (run_dir / "baseline.json").exists() else {}
    ctx = SearchContext(base_files=base_files, target_tests=list(baseline.get("target", [])), localization=loc,
                        issue=state.get("issue", ""), rng=random.Random(0))
    root = Node(id=0, parent=None, depth=0, files={}, edits=[], observation=None)
    cands, _ = BuiltinPolicy().candidates(root, ctx)
    seen = {r["key"]: r["observation"] for r in read_jsonl(run_dir / "validations.jsonl") if "key" in r}
    tried = [(c, seen[k]) for c in cands if (k := state_key({c.file: c.new_source})) in seen]
    if not tried:
        return []
    context = RankContext(issue=ctx.issue, base_files=base_files, node_files={}, target_tests=ctx.target_tests,
                          localization=loc)
    feats = Featurizer()([c for c, _ in tried], context)
    out = []
    for (c, obs), f in zip(tried, feats):
        row = {"template": f.template, "before": f.before, "after": f.after, "context": f.context, "fl": f.fl_score,
               "fl_rank": f.fl_rank, "signals": list(f.signals), "variants": f.variants, "weight": f.weight,
               "key": state_key({c.file: c.new_source})}
        out.append((row, obs.get("status", "failed")))
    return out


def task_groups(task: str, run_dirs: list[Path]) -> list[dict]:
    """The groups of one task from all its runs (merged: a candidate counts once)."""
    rows: dict[str, tuple[dict, str]] = {}
    for d in run_dirs:
        for row, status in root_candidates(d):
            rows.setdefault(row["key"], (row, status))
    positives = [r for r, s in rows.values() if s == "plausible"]
    negatives = [r for r, s in rows.values() if s in NEGATIVE]
    groups = []
    for pos in positives:
        cands = [dict(pos, label=True)] + [dict(n, label=False) for n in negatives]
        random.Random(pos["key"]).shuffle(cands)
        groups.append({"id": hashlib.sha256(f"{task}:{pos['key']}".encode()).hexdigest()[:16], "task": task,
                       "function": task, "line": 0, "injected": None, "split_key": task,
                       "candidates": [{k: v for k, v in c.items() if k != "key"} for c in cands]})
    return [g for g in groups if len(g["candidates"]) >= 2]


def build(runs_by_task: dict[str, list[Path]], split_of: dict[str, str], out_dir: Path) -> dict[str, int]:
    """Write train.jsonl (tasks of the train split), val.jsonl (validation split) and an empty
    test.jsonl (test tasks are measured by repairs, never trained or selected on)."""
    from ouro.sandbox.core.files import atomic_write_text

    files = {"train": [], "validation": []}
    for task, dirs in sorted(runs_by_task.items()):
        split = split_of.get(task)
        if split not in files:
            continue   # a test task's runs never become training data
        files[split] += [json.dumps(g) for g in task_groups(task, dirs)]
    out_dir = Path(out_dir)
    atomic_write_text(out_dir / "train.jsonl", "".join(r + "\n" for r in files["train"]))
    atomic_write_text(out_dir / "val.jsonl", "".join(r + "\n" for r in files["validation"]))
    atomic_write_text(out_dir / "test.jsonl", "")
    return {"train": len(files["train"]), "val": len(files["validation"])}
