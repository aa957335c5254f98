"""Ranker data from ouro's own repairs (improvers/learn/experience.py): a real repair's run
directory becomes a group whose label is the candidate that was plausible, whose others are the
candidates that failed, and a test task's runs never become training data."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TASKS = ROOT / "tests" / "fixtures" / "scaffold_tasks"


@pytest.fixture(scope="module")
def repaired(tmp_path_factory):
    """Two real repairs in bwrap: `largest` (its fix is a comparison) and `countdown`."""
    import subprocess

    from ouro.agent.bench.suite import load_task_dir
    from ouro.agent.repair import RepairConfig, run_repair

    if subprocess.run(["which", "bwrap"], capture_output=True).returncode:
        pytest.skip("bwrap is not installed")
    tmp = tmp_path_factory.mktemp("experience")
    out = {}
    for name in ("largest", "countdown"):
        task = load_task_dir(TASKS / name)
        cfg = RepairConfig(repo=task.materialize(tmp / name), issue=task.issue, test_cmd=task.test_cmd, backend="bwrap",
                           home=tmp / "home", budget=20, run_id=name, max_plausible=5, allow_dirty=True)
        out[name] = run_repair(cfg)
    return out


@pytest.mark.bwrap
@pytest.mark.usefixtures("bwrap_ready")
def test_a_repair_run_becomes_a_group_labelled_by_what_the_tests_said(repaired):
    from ouro.improvers.learn.experience import root_candidates, task_groups
    from ouro.sandbox.core.files import read_jsonl

    run = repaired["largest"].run_dir
    rows = root_candidates(run)
    statuses = [s for _, s in rows]
    tree = json.loads((run / "tree.json").read_text())
    root_children = [n for n in tree["nodes"] if n.get("parent") == 0]
    assert len(rows) == len(root_children) and "plausible" in statuses and "failed" in statuses   # every root try matched
    # deeper states are not root candidates: the rows are the root's children and nothing else
    deeper = [n for n in tree["nodes"] if n.get("parent") not in (None, 0)]
    assert len([r for r in read_jsonl(run / "validations.jsonl") if "key" in r]) == len(rows) + len(deeper)
    groups = task_groups("largest", [run, run])             # the same run twice: candidates count once
    assert len(groups) == statuses.count("plausible")
    for g in groups:
        labels = [c for c in g["candidates"] if c["label"]]
        assert len(labels) == 1 and len(g["candidates"]) == 1 + statuses.count("failed")
    fixes = {(c["before"], c["after"]) for g in groups for c in g["candidates"] if c["label"]}
    assert ("<", ">") in fixes or any(">" in a for _, a in fixes)   # the comparison the bug needs
    from ouro.improvers.learn.ranker import _group_features

    feats, pos = _group_features(groups[0])    # the trainer reads it like an injected bug's group
    assert feats[pos].template == next(c["template"] for c in groups[0]["candidates"] if c["label"])


@pytest.mark.bwrap
@pytest.mark.usefixtures("bwrap_ready")
def test_only_train_and_validation_tasks_become_data_and_a_ranker_trains_on_it(repaired, tmp_path):
    from ouro.improvers.learn.adapter import LearnedRanker
    from ouro.improvers.learn.experience import build
    from ouro.improvers.learn.ranker import train

    runs = {name: [o.run_dir] for name, o in repaired.items()}
    counts = build(runs, {"largest": "train", "countdown": "test"}, tmp_path / "data")
    assert counts["train"] >= 1 and counts["val"] == 0
    train_rows = [json.loads(line) for line in (tmp_path / "data" / "train.jsonl").read_text().splitlines()]
    assert {g["task"] for g in train_rows} == {"largest"}            # countdown is a test task: never data
    assert (tmp_path / "data" / "test.jsonl").read_text() == ""
    res = train(tmp_path / "data", tmp_path / "own.pt", epochs=2, log=lambda m: None)
    assert res.train_groups == counts["train"]
    ranker = LearnedRanker(tmp_path / "own.pt")
    assert ranker.model.cfg.residual and ranker.model.cfg.shrink == 0.5
