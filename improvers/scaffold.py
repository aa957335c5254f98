"""Scaffold self-improvement: a meta-improver rewrites how ouro's own repair agent orders its
candidates (improvers/scaffold_target.py), and a rewrite is installed only when it holds up.

The gate, in order (the first failure rejects, and the file in use is left untouched):
1. vet: the rewrite parses, defines rank(candidates, context), imports nothing but math,
   touches no dunder attribute and names no exec/eval/open/...; the audit's static scan finds
   nothing. A rewrite is only ever loaded (on the host, inside the repair agent) after this.
2. training split: repair each training repo with the rewrite in the built-in policy, judge
   each patch on the repo's hidden tests; the rewrite must lose no fix and gain utility.
3. held-out split: the same on repos the rewrite was not chosen on; it must lose no fix and
   not be worse. Only then is it written over the file in use (atomically; the old one kept).

Utility of a split = mean over its repos of fixed x (1 - 0.5 x candidates-to-first-plausible /
budget): fixes first, then how soon.
"""
from __future__ import annotations

import ast
import builtins
import hashlib
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

from ouro.sandbox.core.errors import PreconditionFailed
from ouro.sandbox.core.files import append_jsonl, atomic_write_json, atomic_write_text

TARGET = Path(__file__).resolve().parent / "scaffold_target.py"
REPOS = Path(__file__).resolve().parent.parent / "repos"

_ALLOWED_IMPORTS = {"math"}
_FORBIDDEN_NAMES = {"open", "exec", "eval", "compile", "__import__", "globals", "locals", "getattr", "setattr",
                    "delattr", "vars", "input", "breakpoint", "help", "exit", "quit", "memoryview", "type", "object"}
_SAFE_BUILTINS = {n: getattr(builtins, n) for n in (
    "abs", "all", "any", "bool", "dict", "enumerate", "float", "int", "isinstance", "len", "list", "max", "min",
    "range", "reversed", "round", "set", "sorted", "str", "sum", "tuple", "zip", "ValueError", "TypeError",
    "KeyError", "Exception", "True", "False", "None")}


class ScaffoldBroken(Exception):
    """A rewrite's rank() misbehaved at run time (wrong length, a score outside [0, 1])."""


def vet(source: str) -> list[str]:
    """Why this rewrite must not be loaded ([] when it may)."""
    try:
        tree = ast.parse(source)
    except SyntaxError as e:
        return [f"does not parse: {e.msg} (line {e.lineno})"]
    problems = []
    if not any(isinstance(n, ast.FunctionDef) and n.name == "rank" for n in tree.body):
        problems.append("defines no top-level rank(candidates, context)")
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            bad = [a.name for a in node.names if a.name not in _ALLOWED_IMPORTS]
            if bad:
                problems.append(f"line {node.lineno}: imports {', '.join(bad)}")
        elif isinstance(node, ast.ImportFrom):
            if node.module not in _ALLOWED_IMPORTS:
                problems.append(f"line {node.lineno}: imports from {node.module}")
        elif isinstance(node, ast.Attribute) and node.attr.startswith("__"):
            problems.append(f"line {node.lineno}: dunder attribute {node.attr}")
        elif isinstance(node, ast.Name) and node.id in _FORBIDDEN_NAMES:
            problems.append(f"line {node.lineno}: uses {node.id}")
    from ouro.sandbox.audit.static_scan import scan_source

    if not problems:
        problems += [f"line {f.line}: {f.kind}: {f.message}" for f in scan_source("scaffold_target.py", source)]
    return problems


class ScaffoldRanker:
    """The agent.policies.base.Ranker of a scaffold rewrite: its rank(), checked at every call."""

    includes_localization = False

    def __init__(self, rank: Callable):
        self.rank = rank

    def __call__(self, candidates, context) -> list[float]:
        scores = list(self.rank(candidates, context))
        if len(scores) != len(candidates):
            raise ScaffoldBroken(f"rank returned {len(scores)} scores for {len(candidates)} candidates")
        for s in scores:
            if isinstance(s, bool) or not isinstance(s, (int, float)) or not 0.0 <= s <= 1.0:
                raise ScaffoldBroken(f"rank returned {s!r}, not a score in [0, 1]")
        return [float(s) for s in scores]


def load_ranker(path: str | Path | None = None, source: str | None = None) -> ScaffoldRanker:
    """The ranker of the scaffold file in use (or of `source`), for
    agent.policies.builtin.BuiltinPolicy(ranker=...)."""
    if source is None:
        source = Path(path or TARGET).read_text(encoding="utf-8")
    problems = vet(source)
    if problems:
        raise ScaffoldBroken("; ".join(problems))
    namespace = {"__builtins__": dict(_SAFE_BUILTINS, __import__=_import_math), "__name__": "scaffold_target"}
    exec(compile(source, "scaffold_target.py", "exec"), namespace)
    return ScaffoldRanker(namespace["rank"])


def _import_math(name, *args, **kwargs):
    if name not in _ALLOWED_IMPORTS:
        raise ImportError(f"{name} is not allowed in the scaffold")
    return __import__(name, *args, **kwargs)


# ---------------------------------------------------------------------------------------------
# Scoring a rewrite on repos

@dataclass(frozen=True)
class RepairJob:
    """One repair of one bundled repo with one ranker source; picklable for the executor."""

    source: str
    task_dir: str
    backend: str
    budget: int
    seed: int
    home: str
    unsafe_local: bool = False

    @property
    def id(self) -> str:
        return Path(self.task_dir).name


def run_repair_job(job: RepairJob) -> dict:
    from ouro.agent.bench.judge import judge_patch
    from ouro.agent.policies.builtin import BuiltinPolicy
    from ouro.agent.repair import RepairConfig, run_repair
    from ouro.agent.bench.suite import load_task_dir
    from ouro.sandbox.policy import load_policy

    task = load_task_dir(Path(job.task_dir))
    out = {"repo": task.id, "fixed": False, "plausible": False, "to_first": None, "validated": 0, "error": None}
    try:
        policy = BuiltinPolicy(ranker=load_ranker(source=job.source))
        with tempfile.TemporaryDirectory(prefix=f"ouro-scaffold-{task.id}-") as tmp:
            repo = task.materialize(Path(tmp) / "repo")
            cfg = RepairConfig(repo=repo, issue=task.issue, test_cmd=task.test_cmd, backend=job.backend,
                               budget=job.budget, seed=job.seed, home=Path(job.home), allow_dirty=True,
                               unsafe_local=job.unsafe_local, time_limit=task.timeout_s, ranker="scaffold")
            outcome = run_repair(cfg, policy=policy)
        out.update(validated=outcome.candidates_validated, to_first=outcome.candidates_to_first_plausible,
                   error=outcome.error)
        if outcome.status == "plausible" and outcome.patch:
            out["plausible"] = True
            verdict = judge_patch(task, outcome.patch, policy=load_policy().with_backend(job.backend),
                                  unsafe_local=job.unsafe_local)
            out["fixed"] = verdict.fixed
    except Exception as e:  # noqa: BLE001 - a rewrite that crashes the agent has simply lost this repo
        out["error"] = f"{type(e).__name__}: {e}"[:300]
    return out


@dataclass
class SplitScore:
    repos: list[str]
    fixed: int
    utility: float
    per_repo: list[dict]


def score_split(source: str, repos: list[str], *, backend: str, budget: int, seed: int, home: Path,
                executor, unsafe_local: bool = False) -> SplitScore:
    jobs = [RepairJob(source, str(REPOS / r if not Path(r).is_absolute() else r), backend, budget, seed, str(home),
                      unsafe_local) for r in repos]
    results = executor.map(run_repair_job, jobs)
    util = [(1.0 - 0.5 * min(r["to_first"] or budget, budget) / budget) if r["fixed"] else 0.0 for r in results]
    return SplitScore(list(repos), sum(r["fixed"] for r in results), round(sum(util) / max(1, len(util)), 6), results)


def gate(cand_train: SplitScore, cur_train: SplitScore, cand_held: SplitScore | None, cur_held: SplitScore | None) -> str | None:
    """None when the rewrite may be installed, else why not."""
    if cand_train.fixed < cur_train.fixed:
        return f"loses fixes on the training split ({cand_train.fixed} < {cur_train.fixed})"
    if cand_train.utility <= cur_train.utility:
        return f"no gain on the training split ({cand_train.utility} <= {cur_train.utility})"
    if cand_held is None or cur_held is None:
        return "not scored on the held-out split"
    if cand_held.fixed < cur_held.fixed:
        return f"loses fixes on the held-out split ({cand_held.fixed} < {cur_held.fixed})"
    if cand_held.utility < cur_held.utility:
        return f"worse on the held-out split ({cand_held.utility} < {cur_held.utility})"
    return None


# ---------------------------------------------------------------------------------------------
# The loop

@dataclass
class ScaffoldConfig:
    train: list[str]
    heldout: list[str]
    target: Path = TARGET
    backend: str = "bwrap"
    budget: int = 40
    seed: int = 0
    n_mutants: int = 4
    unsafe_local: bool = False


@dataclass
class ScaffoldOutcome:
    installed: str | None          # sha of the installed rewrite, or None (the file in use untouched)
    current: dict
    candidates: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


def short_sha(s: str) -> str:
    return hashlib.sha256(s.encode()).hexdigest()[:12]


def improve_scaffold(cfg: ScaffoldConfig, run_dir: Path, executor, candidates: list[str] | None = None,
                     progress: Callable[[str], None] = lambda m: None) -> ScaffoldOutcome:
    """Score rewrites of cfg.target and install the best one that passes the gate.

    candidates: rewrites to consider; None asks the seed improver (in a sandbox, with the built-in
    mutation model) to rewrite the file, with the training-split utility as its utility."""
    run_dir.mkdir(parents=True, exist_ok=True)
    home = run_dir / "repairs"
    current = cfg.target.read_text(encoding="utf-8")
    if vet(current):
        raise PreconditionFailed(f"{cfg.target}: the scaffold in use does not pass its own checks: {vet(current)[0]}")
    kw = dict(backend=cfg.backend, budget=cfg.budget, seed=cfg.seed, home=home, executor=executor,
              unsafe_local=cfg.unsafe_local)
    # the scaffold in use is scored only when some rewrite gets that far (a broken one costs no repair)
    scores: dict[str, SplitScore] = {}

    def split_score(source: str, split: str) -> SplitScore:
        key = f"{split}:{short_sha(source)}"
        if key not in scores:
            progress(f"scoring {'the scaffold in use' if source == current else short_sha(source)} on the {split} split")
            scores[key] = score_split(source, cfg.train if split == "training" else cfg.heldout, **kw)
        return scores[key]

    def train_score(source: str) -> SplitScore | None:
        return None if vet(source) else split_score(source, "training")

    if candidates is None:
        candidates = _propose_with_seed_improver(current, cfg, train_score)
    rows = []
    for i, source in enumerate(candidates):
        atomic_write_text(run_dir / "candidates" / f"c{i}.py", source)
        row = {"candidate": f"c{i}", "sha": short_sha(source), "problems": vet(source), "train": None, "heldout": None}
        if row["problems"]:
            row["verdict"] = f"rejected: {row['problems'][0]}"
        elif source == current:
            row["verdict"] = "rejected: identical to the scaffold in use"
        else:
            tr, cur_train = split_score(source, "training"), split_score(current, "training")
            row["train"] = asdict(tr)
            held = cur_held = None
            if tr.fixed >= cur_train.fixed and tr.utility > cur_train.utility:
                held, cur_held = split_score(source, "held-out"), split_score(current, "held-out")
                row["heldout"] = asdict(held)
            why = gate(tr, cur_train, held, cur_held)
            row["verdict"] = f"rejected: {why}" if why else "accepted"
        progress(f"candidate c{i}: {row['verdict']}")
        append_jsonl(run_dir / "candidates.jsonl", row)
        rows.append(row)
    accepted = [(r, s) for r, s in zip(rows, candidates) if r["verdict"] == "accepted"]
    in_use = {"sha": short_sha(current)}
    for split, name in (("training", "train"), ("held-out", "heldout")):
        if f"{split}:{short_sha(current)}" in scores:
            in_use[name] = asdict(scores[f"{split}:{short_sha(current)}"])
    outcome = ScaffoldOutcome(None, in_use, rows)
    if accepted:
        best_row, best = max(accepted, key=lambda rs: (rs[0]["train"]["utility"], rs[0]["heldout"]["utility"]))
        atomic_write_text(run_dir / "previous_scaffold_target.py", current)
        if cfg.target.read_text(encoding="utf-8") != current:
            raise PreconditionFailed(f"{cfg.target} changed while candidates were scored; nothing installed")
        atomic_write_text(cfg.target, best)
        outcome.installed = best_row["sha"]
        progress(f"installed {best_row['candidate']} ({best_row['sha']}) into {cfg.target}")
    else:
        progress(f"no rewrite passed the gate; {cfg.target} is unchanged")
    atomic_write_json(run_dir / "outcome.json", outcome.to_dict())
    return outcome


def _propose_with_seed_improver(current: str, cfg: ScaffoldConfig, train_score) -> list[str]:
    """The meta-improver: the seed improver, sandboxed, rewriting the scaffold file."""
    from ouro.improvers.language_model import ModelSpec, stable_seed
    from ouro.improvers.meta import SEED_IMPROVER
    from ouro.improvers.sandboxed import HostUtility, SandboxSpec, run_improver

    seen: list[str] = []

    def evaluate(source: str):
        seen.append(source)
        s = train_score(source)
        return (s.utility if s else 0.0), []

    text = ("# utility of a rewrite of ouro's candidate ordering: repair each training repo with it,\n"
            "# judge the patch on hidden tests; mean of fixed x (1 - 0.5 x candidates-to-first-fix / budget)")
    backend = "local" if cfg.unsafe_local else cfg.backend
    lm = ModelSpec(max_calls=cfg.n_mutants).build(stable_seed("scaffold", cfg.seed))
    run = run_improver(SEED_IMPROVER.read_text(), current,
                       HostUtility(text, cfg.n_mutants + 1, evaluate), lm,
                       SandboxSpec(backend=backend, unsafe_local=cfg.unsafe_local), timeout_s=7200)
    out = list(dict.fromkeys(s for s in seen if s != current))
    if run.solution and run.solution != current and run.solution not in out:
        out.append(run.solution)
    return out


