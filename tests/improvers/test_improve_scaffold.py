"""Scaffold self-improvement: a rewrite of the repair agent's candidate ordering is installed
only through the gate; one that breaks the agent is rejected and the file in use untouched."""
from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest

from ouro.sandbox.core.executor import make_executor
from ouro.agent.templates import PRIORS, generate
from ouro.improvers.scaffold import TARGET, ScaffoldBroken, ScaffoldConfig, improve_scaffold, load_ranker, vet

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = "def clamp(x, lo, hi):\n    if x < lo:\n        return lo\n    if x > hi:\n        return hi\n    return x\n"


def test_the_shipped_scaffold_reproduces_the_builtin_heuristic():
    cands = generate("m.py", SAMPLE, [2, 3, 4, 5])
    assert len(cands) > 5
    n = {}
    for c in cands:
        n[(c.line, c.template)] = n.get((c.line, c.template), 0) + 1
    expected = [PRIORS.get(c.template, 0.3) / (1 + 0.15 * (n[(c.line, c.template)] - 1)) for c in cands]
    assert load_ranker()(cands, {}) == pytest.approx(expected)
    assert any(v > 1 for v in n.values())  # the spread over variants is exercised
    from ouro.improvers import scaffold_target   # every template, including ones the sample lacks

    assert scaffold_target.TEMPLATE_WEIGHTS == PRIORS


@pytest.mark.parametrize("source,problem", [
    ("def rank(candidates, context)\n    return []\n", "does not parse"),
    ("import os\ndef rank(candidates, context):\n    return [0.5] * len(candidates)\n", "imports os"),
    ("def rank(candidates, context):\n    return [c.__class__ and 0.5 for c in candidates]\n", "dunder attribute"),
    ("def rank(candidates, context):\n    open('/etc/passwd')\n    return []\n", "uses open"),
    ("def order(candidates, context):\n    return []\n", "defines no top-level rank"),
])
def test_vet_refuses_what_must_not_be_loaded(source, problem):
    problems = vet(source)
    assert problems and problem in problems[0]
    with pytest.raises(ScaffoldBroken):
        load_ranker(source=source)


def test_a_rank_that_misbehaves_at_run_time_is_caught():
    cands = generate("m.py", SAMPLE, [2])
    with pytest.raises(ScaffoldBroken, match="scores for"):
        load_ranker(source="def rank(candidates, context):\n    return []\n")(cands, {})
    with pytest.raises(ScaffoldBroken, match="not a score"):
        load_ranker(source="def rank(candidates, context):\n    return [7] * len(candidates)\n")(cands, {})


def _digest(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def test_a_rewrite_that_no_longer_parses_is_rejected_and_the_agent_in_use_is_unchanged(tmp_path):
    """Must show 5 (first half), through the CLI on the real file in use."""
    before = _digest(TARGET)
    broken = tmp_path / "broken.py"
    broken.write_text(TARGET.read_text().replace("def rank(candidates, context):", "def rank(candidates, context)"))
    r = subprocess.run([sys.executable, "-m", "ouro.agent.cli", "improve", "scaffold", "--candidate", str(broken),
                        "--train", "cachet", "--heldout", "spans", "--home", str(tmp_path / "home")],
                       cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 1, r.stderr
    assert "rejected: does not parse" in r.stdout and "in use: unchanged" in r.stdout
    assert _digest(TARGET) == before
    assert load_ranker()(generate("m.py", SAMPLE, [2]), {})  # the agent still loads its ordering


def _rewrite(weights: dict, default: float | None = None) -> str:
    """The shipped scaffold with some template weights changed (what a mutation would do)."""
    import re

    src = TARGET.read_text()
    for template, w in weights.items():
        src, n = re.subn(rf'"{template}": [0-9.]+', f'"{template}": {w}', src)
        assert n == 1, template
    if default is not None:
        src = src.replace("DEFAULT_WEIGHT = 0.3", f"DEFAULT_WEIGHT = {default}")
    return src


def _config(tmp_path, target: Path) -> ScaffoldConfig:
    # jsonptr's fix is a method_call edit, cfgparse's a slice bound: the splits need different templates
    return ScaffoldConfig(train=["jsonptr"], heldout=["cfgparse"], target=target, backend="bwrap", budget=20, seed=0)


@pytest.mark.slow
@pytest.mark.bwrap
@pytest.mark.usefixtures("bwrap_ready")
def test_a_rewrite_that_loses_fixes_on_the_held_out_split_is_rejected_and_the_agent_in_use_is_unchanged(tmp_path):
    """Must show 5 (second half): a rewrite overfit to the training repo (only method_call edits
    count) finds the training fix sooner but never reaches the held-out repo's fix."""
    target = tmp_path / "scaffold_target.py"
    target.write_text(TARGET.read_text())
    before = _digest(target)
    weights = {t: 0.0 for t in PRIORS if f'"{t}"' in TARGET.read_text()}
    overfit = _rewrite(dict(weights, method_call=1.0), default=0.0)
    ex = make_executor(workers=0)
    try:
        out = improve_scaffold(_config(tmp_path, target), tmp_path / "run", ex, [overfit])
    finally:
        ex.close()
    row = out.candidates[0]
    assert row["train"]["utility"] > out.current["train"]["utility"]  # it did look better on training
    assert row["heldout"]["fixed"] < out.current["heldout"]["fixed"]
    assert row["verdict"].startswith("rejected: loses fixes on the held-out split")
    assert out.installed is None and _digest(target) == before


@pytest.mark.slow
@pytest.mark.bwrap
@pytest.mark.usefixtures("bwrap_ready")
def test_a_rewrite_that_holds_on_both_splits_is_installed(tmp_path):
    target = tmp_path / "scaffold_target.py"
    target.write_text(TARGET.read_text())
    # calibrated on the current repair agent: jsonptr's fix comes sooner (10 -> 8 candidates),
    # cfgparse's no later (4); if the templates change, this weight may need a new value
    better = _rewrite({"method_call": 0.65})
    ex = make_executor(workers=0)
    try:
        out = improve_scaffold(_config(tmp_path, target), tmp_path / "run", ex, [better])
    finally:
        ex.close()
    assert out.candidates[0]["verdict"] == "accepted", out.candidates[0]
    assert out.installed and target.read_text() == better
    assert (tmp_path / "run" / "previous_scaffold_target.py").read_text() == TARGET.read_text()
    assert load_ranker(target)(generate("m.py", SAMPLE, [2]), {})
