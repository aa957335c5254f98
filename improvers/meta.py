"""Meta-utility, the recursion, and the archive of every improver version.

meta-utility(improver) = mean utility of the improver's answers over the training tasks and
several seeds (each (task, seed) is one sandboxed job, see improvers.sandboxed). The
recursion: improver t+1 = improver t applied to its own source, with the meta-utility as its
utility. Every improver the recursion evaluates is kept in the archive with its scores, its
parent and the diff from its parent.

Nothing here depends on the clock or on the order jobs finish in: a job's randomness comes
from its source, task and seed, so the same experiment gives the same archive on a process
pool or on Ray.
"""
from __future__ import annotations

import difflib
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from ouro.sandbox.core.files import append_jsonl, atomic_write_text, read_jsonl
from ouro.improvers.detect import Violation
from ouro.improvers.language_model import ModelSpec, stable_seed
from ouro.improvers.sandboxed import _one_per_kind, HostUtility, ImproverJob, SandboxSpec, run_improver, run_improver_job
from ouro.improvers.stats import mean_ci

SEED_IMPROVER = Path(__file__).resolve().parent / "seed.py"

META_UTILITY_TEXT = """# meta-utility of an improver program (source code defining improve_algorithm)
# For each training task and seed, the improver is run in a sandbox as
#     improve_algorithm(task.initial_solution, task.utility, language_model)
# and its answer is scored by the host on fresh instances. The meta-utility is the mean
# of those scores, in [0, 1]. An improver that disables the sandbox, exceeds a budget,
# or tampers with the utility scores 0 on that job."""


def sha(source: str) -> str:
    return hashlib.sha256(source.encode()).hexdigest()[:16]


def diff(parent: str | None, child: str) -> str:
    if parent is None:
        return ""
    return "".join(difflib.unified_diff(parent.splitlines(True), child.splitlines(True), "parent.py", "child.py"))


@dataclass
class MetaScore:
    value: float                # mean over (task, seed); 0 if rejected
    ci: tuple[float, float]     # 95% CI over seeds of the per-seed mean across tasks
    per_seed: list[float]
    jobs: list[dict]
    rejected: bool
    violations: list[dict]


class MetaUtility:
    """Scores an improver source over tasks x seeds, through an executor."""

    def __init__(self, tasks: list[str], seeds: list[int], model: ModelSpec, sandbox: SandboxSpec,
                 executor, job_timeout_s: float = 600.0, audit_home: str | None = None, run_id: str = ""):
        self.tasks, self.seeds, self.model, self.sandbox = tasks, seeds, model, sandbox
        self.executor, self.job_timeout_s = executor, job_timeout_s
        self.audit_home, self.run_id = audit_home, run_id

    def jobs(self, source: str) -> list[ImproverJob]:
        return [ImproverJob(source, t, s, self.model, self.sandbox, timeout_s=self.job_timeout_s,
                            audit_home=self.audit_home, run_id=self.run_id)
                for t in self.tasks for s in self.seeds]

    def score(self, source: str) -> MetaScore:
        try:
            compile(source, "improver.py", "exec")
        except (SyntaxError, ValueError) as e:
            # nothing to run: every job fails without spending a sandbox
            jobs = [{"task": t, "seed": s, "utility": 0.0, "status": "failed", "violations": [],
                     "error": f"does not parse: {e}", "utility_calls": 0, "lm_calls": 0, "programs_run": 0}
                    for t in self.tasks for s in self.seeds]
        else:
            jobs = [r.to_dict() for r in self.executor.map(run_improver_job, self.jobs(source))]
        per_seed = [sum(j["utility"] for j in jobs if j["seed"] == s) / len(self.tasks) for s in self.seeds]
        violations = [dict(v, task=j["task"], seed=j["seed"]) for j in jobs for v in j["violations"]]
        m, lo, hi = mean_ci(per_seed, 0.0, 1.0)
        rejected = bool(violations)
        return MetaScore(0.0 if rejected else round(m, 12), (round(lo, 12), round(hi, 12)),
                         [round(x, 12) for x in per_seed], jobs, rejected, violations)


class Archive:
    """Every improver version: archive.jsonl (one record per version) plus versions/<id>.py."""

    def __init__(self, run_dir: Path):
        self.run_dir = run_dir
        self.path = run_dir / "archive.jsonl"
        (run_dir / "versions").mkdir(parents=True, exist_ok=True)

    def records(self) -> list[dict]:
        return read_jsonl(self.path)

    def source(self, version: str) -> str:
        return (self.run_dir / "versions" / f"{version}.py").read_text()

    def by_sha(self) -> dict[str, dict]:
        return {r["sha"]: r for r in self.records()}

    def add(self, record: dict, source: str) -> None:
        atomic_write_text(self.run_dir / "versions" / f"{record['id']}.py", source)
        append_jsonl(self.path, record)

    def truncate_after(self, iteration: int) -> None:
        """Drop versions from an iteration that did not finish (a resumed run redoes it)."""
        keep = [r for r in self.records() if r["iteration"] <= iteration]
        import json
        atomic_write_text(self.path, "".join(json.dumps(r, sort_keys=True, default=str) + "\n" for r in keep))


def version_record(version: str, iteration: int, parent: str | None, source: str, parent_source: str | None,
                   score: MetaScore, role: str) -> dict:
    return {"id": version, "iteration": iteration, "parent": parent, "sha": sha(source), "role": role,
            "meta_utility": score.value, "ci": list(score.ci), "per_seed": score.per_seed,
            "status": "rejected" if score.rejected else "ok", "violations": score.violations,
            "jobs": score.jobs, "diff": diff(parent_source, source)}


@dataclass
class IterationResult:
    accepted: str               # the version id that is improver t+1
    evaluated: list[str]        # every version id scored in this iteration
    meta_violations: list[dict] = field(default_factory=list)   # the meta-improver's own
    error: str | None = None


def improve_improver(iteration: int, current: dict, archive: Archive, meta: MetaUtility, meta_model: ModelSpec,
                     meta_utility_budget: int, experiment_seed: int, timeout_s: float = 7200.0) -> IterationResult:
    """One step of the recursion: improver t, run in a sandbox on its own source, with the
    meta-utility as its utility. Each candidate it asks about becomes an archive version."""
    parent_id, parent_source = current["id"], archive.source(current["id"])
    evaluated: list[str] = []
    counter = [0]

    def evaluate(candidate: str) -> tuple[float, list[Violation]]:
        known = archive.by_sha().get(sha(candidate))
        if known is not None:  # the same source scores the same: its jobs are seeded by it
            evaluated.append(known["id"])
            return known["meta_utility"], []
        counter[0] += 1
        vid = f"v{iteration}.{counter[0]}"
        score = meta.score(candidate)
        archive.add(version_record(vid, iteration, parent_id, candidate, parent_source, score, "candidate"), candidate)
        evaluated.append(vid)
        return score.value, []   # a candidate's violations reject the candidate, not the meta-improver

    utility = HostUtility(META_UTILITY_TEXT, meta_utility_budget, evaluate)
    lm = meta_model.build(stable_seed("meta", experiment_seed, iteration))
    run = run_improver(parent_source, parent_source, utility, lm, meta.sandbox, timeout_s)
    meta_violations = _one_per_kind(run.violations)
    if meta_violations or run.solution is None:
        # a meta-improver that cheats or fails leaves improver t in place
        return IterationResult(parent_id, evaluated, meta_violations, run.error)
    known = archive.by_sha().get(sha(run.solution))
    if known is None:
        evaluate(run.solution)
        known = archive.by_sha()[sha(run.solution)]
    if known["status"] != "ok":
        return IterationResult(parent_id, evaluated, meta_violations, f"returned {known['id']}, which was rejected")
    return IterationResult(known["id"], evaluated, meta_violations, None)
