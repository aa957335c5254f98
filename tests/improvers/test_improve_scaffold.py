"""The scaffold interface: what a rewrite may define, the first gate (vetting), and the sandbox its
rank() runs in. The shipped scaffold reproduces the agent as it is, candidate for candidate."""
from __future__ import annotations

import dataclasses
import json
import random
import re
import time
from pathlib import Path

import pytest

from ouro.agent.localize import LocalizationWeights
from ouro.agent.policies.base import RankContext
from ouro.agent.policies.builtin import BuiltinPolicy, TemplateSettings
from ouro.agent.search import SearchConfig
from ouro.agent.templates import PRIORS, generate, spread_prior, variant_counts
from ouro.improvers.scaffold import (SEARCH_KEYS, TARGET, SandboxedRanker, ScaffoldBroken, load_scaffold, read_data,
                                     vet)
from ouro.sandbox.core.schema import from_table

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = "def clamp(x, lo, hi):\n    if x < lo:\n        return lo\n    if x > hi:\n        return hi\n    return x\n"


def _context(files=None) -> RankContext:
    return RankContext(issue="clamp is wrong", base_files=files or {"m.py": SAMPLE}, node_files={},
                       target_tests=["tests/test_m.py::test_clamp"], localization=None)


@pytest.fixture
def bwrap_policy(bwrap_ready):
    from ouro.sandbox.policy import load_policy

    return load_policy().with_backend("bwrap")


def test_the_shipped_scaffold_declares_the_agents_own_settings():
    s = load_scaffold()
    search = from_table(SearchConfig, s.search)
    assert search == SearchConfig() and set(s.search) == set(SEARCH_KEYS)   # every rewritable field, as shipped
    assert from_table(LocalizationWeights, s.localization) == LocalizationWeights()
    assert set(s.localization) == {f.name for f in dataclasses.fields(LocalizationWeights)}
    assert s.template_settings() == TemplateSettings() and s.prompts == {} and s.has_rank
    from ouro.improvers import scaffold_target   # the rank's table holds every template's prior

    assert scaffold_target.TEMPLATE_WEIGHTS == PRIORS


def test_the_shipped_rank_run_in_the_sandbox_gives_the_heuristics_scores_and_order(bwrap_policy):
    cands = generate("m.py", SAMPLE, [2, 3, 4, 5])
    variants = variant_counts(cands)
    assert len(cands) > 5 and any(v > 1 for v in variants.values())   # the spread over variants is exercised
    expected = [spread_prior(c.template, variants[(c.file, c.line, c.template)]) for c in cands]
    ranker = SandboxedRanker(TARGET.read_text(), bwrap_policy)
    try:
        assert ranker(cands, _context()) == expected      # exactly: the same floats, so the same order
    finally:
        ranker.close()
    from ouro.sandbox.audit.channel import CONTROL

    # the hook's own hello is a control line (how the host tells a live channel from a silenced
    # one), not an event: the shipped ordering does nothing the audit reports
    assert ranker.calls == 1 and [e for e in ranker.events if e.get("kind") != CONTROL] == []


def _proposals(run_dir: Path) -> list:
    events = [json.loads(line) for line in (run_dir / "trajectory.jsonl").read_text().splitlines()]
    return [(e["description"], e["parent"]) for e in events if e["kind"] == "proposal"]


@pytest.mark.bwrap
def test_repairing_with_the_shipped_scaffold_is_the_same_search_as_without_it(tmp_path, bwrap_policy):
    """Same candidates in the same order, same tree, same patch, on a bundled repository."""
    from ouro.agent.bench.suite import load_task_dir
    from ouro.agent.repair import RepairConfig, run_repair

    task = load_task_dir(ROOT / "repos" / "cfgparse")
    outcomes = {}
    for name in ("heuristic", "scaffold"):
        repo = task.materialize(tmp_path / name)
        cfg = RepairConfig(repo=repo, issue=task.issue, test_cmd=task.test_cmd, backend="bwrap", home=tmp_path / "home",
                           budget=40, run_id=name, ranker="scaffold" if name == "scaffold" else "none")
        policy = None
        if name == "scaffold":
            scaffold = load_scaffold()
            scaffold.apply(cfg)
            policy = scaffold.policy(bwrap_policy, home=tmp_path / "home")
        outcomes[name] = (run_repair(cfg, policy=policy), policy)
    (h, _), (s, policy) = outcomes["heuristic"], outcomes["scaffold"]
    assert policy.ranker.calls >= 1          # the order really came from the sandbox
    assert _proposals(s.run_dir) == _proposals(h.run_dir) and len(_proposals(h.run_dir)) >= 3
    assert (s.candidates_validated, s.candidates_to_first_plausible, s.patch) == \
        (h.candidates_validated, h.candidates_to_first_plausible, h.patch)
    assert policy.ranker._sb is None         # closed with the repair


@pytest.mark.parametrize("source,problem", [
    ("def rank(candidates, context)\n    return []\n", "does not parse"),
    ("import os\ndef rank(candidates, context):\n    return [0.5] * len(candidates)\n", "imports os"),
    ("def rank(candidates, context):\n    return [c.__class__ and 0.5 for c in candidates]\n", "dunder attribute"),
    ("def rank(candidates, context):\n    open('/etc/passwd')\n    return []\n", "uses open"),
    ("def rank(candidates, context):\n    g = (x for x in [0]).gi_frame.f_globals\n    return []\n",
     "introspection attribute"),
    ("def rank(candidates, context):\n    return [len('__builtins__')]\n", "a string naming a dunder"),
    ("SEARCH = {'exploration': 0.1 + 0.1}\n", "SEARCH must be a literal"),
    ("SEARCH = {'budget': 1000}\n", "SEARCH.budget: not scaffolding"),
    ("SEARCH = {'max_depth': 0}\n", "SEARCH.max_depth: out of range"),
    ("LOCALIZATION = {'spectrum': 'high'}\n", "LOCALIZATION.spectrum: expected int or float"),
    ("TEMPLATES = {'on': {'rewrite_everything': True}}\n", "no such template"),
    ("PROMPTS = {'agent_task': 'Fix it.'}\n", "must use exactly the placeholders"),
    ("SEARCH = {}\nSEARCH = {}\n", "assigned twice"),
])
def test_vet_refuses_what_must_not_be_used(source, problem):
    problems = vet(source)
    assert problems and any(problem in p for p in problems), problems
    with pytest.raises(ScaffoldBroken):
        load_scaffold(source=source)


def test_a_rewrite_may_retune_every_part_of_the_interface():
    from ouro.agent.llm.prompts import load_prompt

    source = ("SEARCH = {'exploration': 0.3, 'value': {'progress': 0.5}}\nLOCALIZATION = {'traceback': 0.9}\n"
              "TEMPLATES = {'on': {'delete_statement': False}, 'lines_root': 30, 'max_variants': 4}\n"
              f"PROMPTS = {{'agent_system': {load_prompt('agent_system') + ' Prefer small edits.'!r}}}\n")
    s = load_scaffold(source=source)
    assert not s.has_rank    # no rank: the heuristic order, in no sandbox
    t = s.template_settings()
    assert t.lines_root == 30 and t.max_variants == 4 and "delete_statement" not in t.enabled and "compare_swap" in t.enabled
    from ouro.agent.repair import RepairConfig

    cfg = RepairConfig(repo=Path("."), policy="litellm:openai/x", search={"value": {"solved": 0.2}})
    s.apply(cfg)
    assert cfg.search == {"exploration": 0.3, "value": {"progress": 0.5, "solved": 0.2}}   # the user's own wins
    assert cfg.search_config().value.progress == 0.5 and cfg.localization_weights().traceback == 0.9
    assert cfg.llm_options["prompts"]["agent_system"].endswith("Prefer small edits.")
    assert read_data(source)[1] == []


@pytest.mark.bwrap
@pytest.mark.parametrize("body,why", [
    ("return []", "returned 0 scores"),
    ("return [7] * len(candidates)", "not a score in [0, 1]"),
    ("return [float('nan')] * len(candidates)", "not a score in [0, 1]"),
    ("return [1 / 0]", "rank raised ZeroDivisionError"),
    ("while True:\n        pass", "rank took longer than"),
])
def test_a_rank_that_misbehaves_at_run_time_breaks_the_repair_not_the_host(body, why, bwrap_policy):
    from ouro.sandbox.base import EndReason

    ranker = SandboxedRanker(f"def rank(candidates, context):\n    {body}\n", bwrap_policy, timeout_s=2)
    ends = []
    ranker.on_exec = ends.append
    with pytest.raises(ScaffoldBroken, match=re.escape(why)):
        ranker(generate("m.py", SAMPLE, [2]), _context())
    assert ranker._sb is None and len(ends) == 1   # closed, and logged as one execution
    assert ends[0].reason == (EndReason.TIMEOUT if "longer" in why else EndReason.NORMAL)
    with pytest.raises(ScaffoldBroken):            # and it stays broken for the rest of the repair
        ranker(generate("m.py", SAMPLE, [2]), _context())


# A rewrite written to get past the vetting's name checks if they had a gap: a generator's frame
# reaches the module's globals, and string keys reach the builtins. If either attempt worked it
# would raise, and the repair would fail; the sandbox must make both fail quietly.
HOSTILE = '''
def rank(candidates, context):
    b = (x for x in [0]).gi_frame.f_globals["__builtins__"]
    escaped = []
    try:
        escaped.append(b["open"](SECRET).read())
    except Exception:
        pass
    try:
        s = b["__import__"]("socket").socket()
        s.settimeout(3)
        s.connect(("1.1.1.1", 80))
        escaped.append("connected")
    except Exception:
        pass
    if escaped:
        raise RuntimeError("escaped the sandbox: " + repr(escaped))
    return [0.5] * len(candidates)
'''


@pytest.mark.bwrap
def test_a_rewrite_that_reads_a_host_file_or_opens_a_socket_is_contained_and_logged(tmp_path, bwrap_policy):
    """Must show 3: the vetting refuses it; past the vetting, the sandbox contains it and the
    audit log records both attempts under the repair's run id."""
    from ouro.agent.bench.suite import load_task_dir
    from ouro.agent.repair import RepairConfig, run_repair
    from ouro.sandbox.audit.log import default_log
    from ouro.sandbox.core.home import OuroHome

    # a host file outside every path a sandbox provides (/tmp is the sandbox's own tmpfs)
    secret_dir = ROOT / ".pytest_cache" / f"ouro-host-secret-{time.time_ns()}"
    if str(secret_dir).startswith(("/tmp/", "/usr/", "/opt/", "/workspace", "/var/", "/etc/")):
        pytest.skip(f"the checkout at {ROOT} lies where the sandbox has files of its own")
    secret_dir.mkdir(parents=True)
    secret = secret_dir / "key"
    secret.write_text("host secret")
    try:
        source = f"SECRET = {str(secret)!r}\n" + HOSTILE
        assert any("introspection attribute gi_frame" in p for p in vet(source))   # the first gate holds
        assert secret.read_text() == "host secret"                               # and the host can read it
        task = load_task_dir(ROOT / "tests" / "fixtures" / "scaffold_tasks" / "largest")
        home = tmp_path / "home"
        cfg = RepairConfig(repo=task.materialize(tmp_path / "repo"), issue=task.issue, test_cmd=task.test_cmd,
                           backend="bwrap", home=home, budget=20, run_id="hostile", ranker="scaffold")
        ranker = SandboxedRanker(source, bwrap_policy, home=home, vetted=False)   # as if the vetting had a gap
        out = run_repair(cfg, policy=BuiltinPolicy(ranker=ranker))
    finally:
        secret.unlink()
        secret_dir.rmdir()
    assert out.status == "plausible" and ranker.calls >= 1   # the rewrite ran, found nothing, raised nothing
    kinds = {e["kind"]: e for e in ranker.events}
    assert str(secret) in kinds["secret_read"]["detail"] and "1.1.1.1" in kinds["network"]["detail"]
    logged = [r for r in default_log(OuroHome(home)).records() if r.get("run_id") == "hostile"]
    assert {"secret_read", "network"} <= {r["kind"] for r in logged if r.get("source") == "hook"}
    assert any(str(secret) in r["detail"] for r in logged if r["kind"] == "secret_read")


def test_the_target_file_is_what_the_cli_repairs_with(tmp_path, monkeypatch):
    """`--ranker scaffold` builds the scaffold's policy; a broken scaffold in use is one line, exit 2."""
    from ouro.agent.cli import factories
    from ouro.agent.repair import RepairConfig
    from ouro.improvers import scaffold as scaffold_mod
    from ouro.sandbox.core.errors import BadInput

    cfg = RepairConfig(repo=tmp_path, ranker="scaffold", backend="bwrap", home=tmp_path / "home")
    policy = factories.build_policy(cfg)
    assert isinstance(policy.ranker, SandboxedRanker) and policy.ranker._sb is None   # opened only when used
    assert cfg.search["exploration"] == SearchConfig.exploration and "spectrum" in cfg.localization
    broken = tmp_path / "scaffold_target.py"
    broken.write_text("import os\n")
    monkeypatch.setattr(scaffold_mod, "TARGET", broken)
    with pytest.raises(BadInput, match="imports os"):
        factories.build_policy(RepairConfig(repo=tmp_path, ranker="scaffold"))


def test_rank_order_ties_still_follow_the_seed(bwrap_policy):
    """A scaffold rank that scores everything alike leaves the order to the seeded tie-break,
    as the heuristic does with equal scores: the same seed, the same order."""
    from ouro.agent.state import Node, SearchContext

    src = "def rank(candidates, context):\n    return [0.5] * len(candidates)\n"
    orders = []
    for _ in range(2):
        ranker = SandboxedRanker(src, bwrap_policy)
        policy = BuiltinPolicy(ranker=ranker)
        ctx = SearchContext(base_files={"m.py": SAMPLE}, target_tests=["t"], rng=random.Random(3))
        from ouro.agent.localize import Localization, Suspicious

        ctx.localization = Localization([Suspicious("m.py", n, 1.0) for n in (2, 3, 4)], [])
        root = Node(id=0, parent=None, depth=0, files={}, edits=[], observation=None)
        try:
            orders.append([p.description for p in policy.propose(root, ctx, k=6)])
        finally:
            policy.close()
    assert orders[0] == orders[1] and len(orders[0]) == 6
