"""Real repairs judged on hidden tests, over tasks split before a run: the measure of an agent.

Both `ouro improve scaffold` (improvers.scaffold_improve) and the evaluation of rankers trained
on ouro's own experience (bench/ranker_own.py) measure an agent the same way:
- a split of tasks into train, validation and test, read from split files and fixed before the
  run (`load_split`; a run records it);
- one repair per (task, seed) with the agent, in the sandbox, and its patch judged on the task's
  hidden tests (`run_repair_job`, picklable for the executor; each result is written to a file as
  it finishes, which is the cache a resumed run reads);
- per task: fixed, candidates to the first plausible patch (the budget when none was found) and
  the utility fixed x (1 - 0.5 x candidates / budget); between two agents, each one's mean with a
  bootstrap 95% interval and the paired difference with its interval (`compare`).
"""
from __future__ import annotations

import hashlib
import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from ouro.improvers.stats import bootstrap_ci, paired_bootstrap
from ouro.sandbox.core.errors import BadInput
from ouro.sandbox.core.files import atomic_write_json

SPLITS = ("train", "validation", "test")


@dataclass(frozen=True)
class SplitSource:
    """One split file and where its tasks are. Two shapes are read: {"train": [dir, ...],
    "validation": [...], "test": [...]} (dirs relative to `root`, else the file's own "root" key,
    else its folder), and {"split": {task id: "train" | "validation" | "test"}} (bench/
    bugsinpy_split.json; task id = directory name under `root`). `limit` keeps, per split, that
    many tasks chosen by a fixed hash of their ids (a smaller run the machine can afford,
    decided before it starts and recorded like the rest)."""

    file: str
    root: str | None = None
    limit: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class TaskRef:
    id: str
    dir: str
    digest: str     # of the task's files: a task that changes under a run is caught at resume


def _task_digest(task_dir: Path) -> str:
    """task.toml and the issue by content, every other file by name and size (a real-bug task
    holds a whole project; reading it all at every resume would cost more than it tells)."""
    h = hashlib.sha256()
    for p in sorted(task_dir.rglob("*")):
        if not p.is_file() or "__pycache__" in p.parts or ".pytest_cache" in p.parts or ".git" in p.parts:
            continue
        rel = str(p.relative_to(task_dir))
        body = p.read_bytes() if rel in ("task.toml", "ISSUE.md") else str(p.stat().st_size).encode()
        h.update(rel.encode() + b"\0" + body + b"\0")
    return h.hexdigest()[:16]


def _entries(source: SplitSource) -> tuple[Path, dict[str, list[str]]]:
    path = Path(source.file)
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as e:
        raise BadInput(f"split file {path}: {e}") from None
    if isinstance(data, dict) and isinstance(data.get("split"), dict):
        by_split: dict[str, list[str]] = {s: [] for s in SPLITS}
        for tid, split in data["split"].items():
            if split not in by_split:
                raise BadInput(f"split file {path}: {tid}: {split!r} is not one of {', '.join(SPLITS)}")
            by_split[split].append(tid)
    elif isinstance(data, dict) and all(isinstance(data.get(s, []), list) for s in SPLITS):
        by_split = {s: list(data.get(s, [])) for s in SPLITS}
    else:
        raise BadInput(f"split file {path}: expected {{\"train\": [...], \"validation\": [...], \"test\": [...]}} "
                       "or {\"split\": {task: split}}")
    root = Path(source.root) if source.root else (path.parent / (data.get("root", ".") if isinstance(data.get("root"), str)
                                                                 else ".")).resolve()
    for split, n in source.limit.items():
        by_split[split] = sorted(by_split[split], key=lambda t: hashlib.sha256(f"ouro-scaffold:{t}".encode()).hexdigest())[:n]
    return root, by_split


def load_split(sources: tuple[SplitSource, ...] | list[SplitSource]) -> dict[str, list[TaskRef]]:
    """The tasks of each split, from the split files (SplitSource says how they are read)."""
    out: dict[str, list[TaskRef]] = {s: [] for s in SPLITS}
    seen: dict[str, str] = {}
    for source in sources:
        root, by_split = _entries(source)
        for split in SPLITS:
            for entry in by_split[split]:
                d = (root / entry).resolve()
                if not (d / "task.toml").exists():
                    raise BadInput(f"split file {source.file}: {split}: {entry}: no task.toml in {d}")
                tid = d.name
                if tid in seen:
                    raise BadInput(f"split file {source.file}: task {tid!r} is in {seen[tid]} and {split}: "
                                   "a task belongs to one split")
                seen[tid] = split
                out[split].append(TaskRef(tid, str(d), _task_digest(d)))
    for split in SPLITS:
        if not out[split]:
            raise BadInput(f"the split files name no {split} task ({', '.join(s.file for s in sources)})")
    return out


# ---------------------------------------------------------------------------------------------
# Repairs: the utility's unit of work

@dataclass(frozen=True)
class RepairJob:
    """One repair of one task by one agent; picklable for the executor. The agent is a scaffold
    version (`source`: its rank runs in a sandbox, its settings go into the config) or, with
    `ranker` set, the built-in policy with that ranker (none, auto or a checkpoint path)."""

    source: str | None
    task_dir: str
    seed: int
    backend: str
    budget: int
    time_limit: float
    home: str
    result_file: str
    unsafe_local: bool = False
    ranker: str | None = None

    @property
    def id(self) -> str:
        return f"{Path(self.task_dir).name}/seed{self.seed}"


def run_repair_job(job: RepairJob) -> dict:
    """Repair the task with the job's agent, judge the patch on the hidden tests, write the
    result file (the cache a resumed run reads)."""
    from ouro.agent.bench.judge import judge_patch
    from ouro.agent.bench.suite import load_task_dir
    from ouro.agent.repair import RepairConfig, run_repair
    from ouro.sandbox.policy import load_policy

    task = load_task_dir(Path(job.task_dir))
    out = {"task": task.id, "seed": job.seed, "fixed": False, "plausible": False, "to_first": None, "validated": 0,
           "error": None, "seconds": 0.0, "run_id": None, "ranker_events": [], "rank_calls": 0, "rank_seconds": 0.0}
    policy = scaffold = None
    try:
        sandbox_policy = load_policy().with_backend(job.backend)
        if job.ranker is None:
            from ouro.improvers.scaffold import load_scaffold

            scaffold = load_scaffold(source=job.source)
            policy = scaffold.policy(sandbox_policy, unsafe_local=job.unsafe_local, home=Path(job.home))
        else:
            from ouro.agent.policies.builtin import BuiltinPolicy

            ranker = None
            if job.ranker != "none":
                from ouro.improvers.learn.adapter import load_default_ranker

                ranker = load_default_ranker(None if job.ranker == "auto" else job.ranker)
                if ranker is None:
                    raise BadInput(f"ranker {job.ranker}: no checkpoint, or torch is missing")
            policy = BuiltinPolicy(ranker=ranker)
        with tempfile.TemporaryDirectory(prefix=f"ouro-judged-{task.id}-") as tmp:
            repo = task.materialize(Path(tmp) / "repo")
            cfg = RepairConfig(repo=repo, issue=task.issue, test_cmd=task.test_cmd, backend=job.backend,
                               budget=job.budget, seed=job.seed, home=Path(job.home), allow_dirty=True,
                               unsafe_local=job.unsafe_local, time_limit=job.time_limit,
                               ranker="scaffold" if scaffold is not None else job.ranker)
            if scaffold is not None:
                scaffold.apply(cfg)
            outcome = run_repair(cfg, policy=policy)
        out.update(validated=outcome.candidates_validated, to_first=outcome.candidates_to_first_plausible,
                   error=outcome.error, seconds=round(outcome.seconds, 2), run_id=outcome.run_id)
        if outcome.status == "plausible" and outcome.patch:
            out["plausible"] = True
            verdict = judge_patch(task, outcome.patch, policy=sandbox_policy, unsafe_local=job.unsafe_local)
            out["fixed"] = bool(verdict.fixed)
    except Exception as e:  # noqa: BLE001 - a rewrite that crashes the agent has simply lost this task
        out["error"] = f"{type(e).__name__}: {e}"[:300]
    ranker = getattr(policy, "ranker", None)
    if ranker is not None and hasattr(ranker, "events"):
        # what the audit hook saw the rewrite's process try (the repair's audit log has each event)
        from ouro.sandbox.audit.channel import CONTROL

        # the hook's hello/bye are control lines (how the host tells a live channel from a
        # silenced one), not something the rewrite did
        out["ranker_events"] = sorted({e.get("kind", "?") for e in ranker.events if e.get("kind") != CONTROL})
        out["rank_calls"], out["rank_seconds"] = ranker.calls, round(ranker.seconds, 3)
    atomic_write_json(Path(job.result_file), out)
    return out


def task_utility(r: dict, budget: int) -> float:
    return (1.0 - 0.5 * min(r["to_first"] or budget, budget) / budget) if r["fixed"] else 0.0


def candidates(r: dict, budget: int) -> int:
    """Candidates to the first plausible patch; a repair that found none counts the budget."""
    return min(r["to_first"], budget) if r["plausible"] and r["to_first"] else budget


def compare(seed_rows: list[dict], final_rows: list[dict], budget: int, resamples: int, seed: int) -> dict:
    """Seed vs final on one split, per measure: each agent's mean with a bootstrap 95% interval,
    and the paired difference (final - seed) with its paired bootstrap interval."""
    kw = {"resamples": resamples, "seed": seed}
    measures = {"fix_rate": lambda r: float(r["fixed"]), "candidates": lambda r: float(candidates(r, budget)),
                "utility": lambda r: task_utility(r, budget)}
    out = {"n": len(seed_rows)}
    for name, f in measures.items():
        a, b = [f(r) for r in seed_rows], [f(r) for r in final_rows]
        out[name] = {"seed": _ci(bootstrap_ci(a, **kw)), "final": _ci(bootstrap_ci(b, **kw)),
                     "difference": _ci(paired_bootstrap(a, b, **kw))}
    return out


def _ci(t: tuple[float, float, float]) -> dict:
    return {"mean": round(t[0], 6), "ci": [round(t[1], 6), round(t[2], 6)]}
