"""`ouro bench`: repair every task of a suite, judge each patch on hidden tests, tabulate.

Layout of a bench directory (default <home>/bench/<suite name>):

    bench.json          the configuration (suite, policy, budget, seed), checked on --resume
    tasks/<id>.json     one finished task's result, written atomically when it finishes
    results.json        config + summary + every finished task, rewritten after each task
    predictions.jsonl   SWE-bench predictions (instance_id, model_name_or_path, model_patch)

Results are written by the parent process as each job returns, so a bench killed half way
keeps every finished task and `--resume` runs only the others.
"""
from __future__ import annotations

import json
import os
import tempfile
import time
import traceback
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

from ouro.sandbox.core.errors import BadInput
from ouro.sandbox.core.files import atomic_write_json, atomic_write_text
from ouro.agent.bench.suite import Suite, Task, TaskLoadError, load_suite

STATUSES = ("fixed", "plausible_wrong", "not_found", "error")
STATUS_LABELS = {"fixed": "fixed", "plausible_wrong": "plausible but wrong", "not_found": "not found",
                 "error": "error"}
# fields that legitimately differ between two runs of the same task (clock, ids, paths)
VOLATILE_FIELDS = ("wall_s", "run_id", "run_dir", "judge_s", "finished_at", "worker")


@dataclass
class BenchConfig:
    suite: Path
    policy: str = "builtin"
    workers: int = 1
    ray: str | None = None
    budget: int | None = None           # None: each task's own [task.budget], else the repair default
    resume: bool = False
    out: Path | None = None
    backend: str | None = None          # None: the policy file's
    policy_file: Path | None = None
    seed: int = 0
    home: Path | None = None
    unsafe_local: bool = False
    only: tuple[str, ...] = ()          # run just these task ids
    # SWE-bench instances: apply each test_patch before the repair, so the failing tests exist
    # (False, the strict setting: the agent gets only the problem statement)
    visible_tests: bool = False
    # builds each task's policy from its RepairConfig (agent.cli.factories.build_policy);
    # None: the built-in policy with the heuristic order. A module-level function: it travels
    # to worker processes and Ray nodes by name.
    policy_factory: Callable | None = None


@dataclass(frozen=True)
class TaskJob:
    """Everything a worker (local process or Ray node) needs to run one task; picklable."""

    entry: Task | TaskLoadError
    policy: str
    budget: int | None
    backend: str | None
    policy_file: str | None
    seed: int
    home: str
    unsafe_local: bool
    policy_factory: Callable | None = None
    visible_tests: bool = False

    @property
    def task_id(self) -> str:
        return self.entry.id


@dataclass
class TaskResult:
    task_id: str
    status: str                          # one of STATUSES
    problem: str | None = None           # for error: what went wrong, one line
    patch: str | None = None
    repair_status: str | None = None     # plausible | not_found | error (from run_repair)
    judge: dict | None = None            # Verdict.to_dict()
    candidates_validated: int = 0
    candidates_to_first_plausible: int | None = None
    tokens: int = 0
    cost: float = 0.0
    audit_events: int = 0
    wall_s: float = 0.0
    run_id: str | None = None
    run_dir: str | None = None
    finished_at: float = 0.0
    worker: int = 0

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "TaskResult":
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in d.items() if k in known})


def stable_view(result: dict) -> dict:
    """A result without the fields that differ between identical runs (clock, ids, paths)."""
    out = {k: v for k, v in result.items() if k not in VOLATILE_FIELDS}
    if isinstance(out.get("judge"), dict):
        out["judge"] = {k: v for k, v in out["judge"].items() if k != "seconds"}
    return out


def run_task(job: TaskJob) -> dict:
    """Repair one task and judge the patch. Never raises: a failure is an `error` result."""
    start = time.monotonic()
    entry = job.entry
    if isinstance(entry, TaskLoadError):
        return TaskResult(entry.id, "error", problem=entry.problem, finished_at=time.time(), worker=os.getpid()).to_dict()
    try:
        result = _repair_and_judge(job, entry)
    except Exception as e:  # noqa: BLE001 - one task's crash must not end the bench
        last = traceback.extract_tb(e.__traceback__)[-1:] if e.__traceback__ else []
        where = f" at {Path(last[0].filename).name}:{last[0].lineno}" if last else ""
        result = TaskResult(entry.id, "error", problem=f"{type(e).__name__}: {e}{where}")
    result.wall_s = round(time.monotonic() - start, 3)
    result.finished_at = time.time()
    result.worker = os.getpid()
    return result.to_dict()


def _repair_and_judge(job: TaskJob, task: Task) -> TaskResult:
    from ouro.agent.bench.judge import judge_patch
    from ouro.agent.repair import RepairConfig, run_repair
    from ouro.agent.testing import ReproduceError
    from ouro.sandbox.policy import PolicyError, load_policy

    try:
        policy = load_policy(job.policy_file)
        if job.backend:
            policy = policy.with_backend(job.backend)
    except PolicyError as e:
        return TaskResult(task.id, "error", problem=str(e))
    with tempfile.TemporaryDirectory(prefix=f"ouro-bench-{task.id}-") as tmp:
        repo = task.materialize(Path(tmp) / "repo")
        if job.visible_tests and task.test_patch:
            from ouro.agent.bench.judge import apply_patch

            problem = apply_patch(repo, task.test_patch)
            if problem:
                return TaskResult(task.id, "error", problem=f"test_patch does not apply to the base commit: {problem}")
        budget = job.budget or task.budget
        cfg = RepairConfig(repo=repo, issue=task.issue, test_cmd=task.test_cmd, policy=job.policy,
                           time_limit=task.timeout_s, backend=job.backend, seed=job.seed,
                           home=Path(job.home), policy_file=Path(job.policy_file) if job.policy_file else None,
                           unsafe_local=job.unsafe_local, allow_dirty=True)
        if budget:
            cfg.budget = budget
        try:
            outcome = run_repair(cfg, policy=job.policy_factory(cfg) if job.policy_factory else None)
        except ReproduceError as e:
            # nothing to repair from (strict mode and a policy that cannot write a failing test,
            # or only environment failures): the task ran and found nothing; the row says why
            return TaskResult(task.id, "not_found", problem=str(e), repair_status="not_reproduced")
    res = TaskResult(
        task.id, "not_found", patch=outcome.patch, repair_status=outcome.status,
        candidates_validated=outcome.candidates_validated,
        candidates_to_first_plausible=outcome.candidates_to_first_plausible,
        tokens=outcome.tokens, cost=outcome.cost, run_id=outcome.run_id, run_dir=str(outcome.run_dir),
        audit_events=count_audit_events(Path(outcome.run_dir), outcome.run_id, Path(job.home)),
    )
    if outcome.status == "error":
        res.status, res.problem = "error", outcome.error or "the repair run failed"
    elif outcome.status == "plausible" and outcome.patch:
        verdict = judge_patch(task, outcome.patch, policy=policy, unsafe_local=job.unsafe_local)
        res.judge = verdict.to_dict()
        res.status = "fixed" if verdict.fixed else "plausible_wrong"
    return res


def count_audit_events(run_dir: Path, run_id: str, home: Path) -> int:
    """Records the audit log holds for this run (sandbox violations, limits hit, rejected code)."""
    from ouro.agent.report.run_page import audit_events_for

    return len(audit_events_for(run_dir, run_id, home))


# ---------------------------------------------------------------------------------------------
# the bench directory


@dataclass
class BenchDir:
    path: Path

    @property
    def tasks_dir(self) -> Path:
        return self.path / "tasks"

    def finished(self) -> dict[str, dict]:
        out = {}
        if self.tasks_dir.is_dir():
            for p in sorted(self.tasks_dir.glob("*.json")):
                try:
                    d = json.loads(p.read_text(encoding="utf-8"))
                except (json.JSONDecodeError, OSError):
                    continue  # cannot happen with atomic writes, but a hand-edited file must not crash
                out[d["task_id"]] = d
        return out

    def save_task(self, result: dict) -> None:
        atomic_write_json(self.tasks_dir / f"{_safe_name(result['task_id'])}.json", result)

    def write_summary(self, meta: dict, results: dict[str, dict]) -> dict:
        ordered = [results[k] for k in sorted(results)]
        doc = {**meta, "summary": summarize(ordered), "tasks": ordered}
        atomic_write_json(self.path / "results.json", doc)
        model = meta.get("policy", "ouro")
        lines = [json.dumps({"instance_id": r["task_id"], "model_name_or_path": f"ouro/{model}",
                             "model_patch": r.get("patch") or ""}, sort_keys=True) for r in ordered]
        atomic_write_text(self.path / "predictions.jsonl", "".join(line + "\n" for line in lines))
        return doc


def _safe_name(task_id: str) -> str:
    return "".join(c if c.isalnum() or c in "-_.#" else "_" for c in task_id)


def summarize(results: list[dict]) -> dict:
    counts = {s: sum(1 for r in results if r["status"] == s) for s in STATUSES}
    to_fix = [r["candidates_to_first_plausible"] for r in results
              if r["status"] == "fixed" and r.get("candidates_to_first_plausible") is not None]
    return {
        "tasks": len(results), **counts,
        "resolve_rate": round(counts["fixed"] / len(results), 4) if results else 0.0,
        "candidates_validated": sum(r.get("candidates_validated") or 0 for r in results),
        "median_candidates_to_fix": sorted(to_fix)[len(to_fix) // 2] if to_fix else None,
        "task_wall_s": round(sum(r.get("wall_s") or 0 for r in results), 3),
        "tokens": sum(r.get("tokens") or 0 for r in results),
        "cost": round(sum(r.get("cost") or 0 for r in results), 6),
        "audit_events": sum(r.get("audit_events") or 0 for r in results),
    }


@dataclass
class BenchOutcome:
    out: Path
    doc: dict                          # what results.json holds
    ran: list[str] = field(default_factory=list)       # task ids run by this invocation
    skipped: list[str] = field(default_factory=list)   # finished earlier, skipped by --resume
    wall_s: float = 0.0
    executor: str = ""


def _meta(cfg: BenchConfig, suite: Suite) -> dict:
    return {"suite": str(suite.path), "suite_name": suite.name, "policy": cfg.policy, "budget": cfg.budget,
            "seed": cfg.seed, "backend": cfg.backend, "visible_tests": cfg.visible_tests}


def run_bench(cfg: BenchConfig, progress: Callable[[dict], None] | None = None) -> BenchOutcome:
    from ouro.sandbox.core.executor import make_executor
    from ouro.sandbox.core.home import OuroHome

    suite = load_suite(cfg.suite)
    entries = suite.entries
    if cfg.only:
        unknown = sorted(set(cfg.only) - {e.id for e in entries})
        if unknown:
            raise BadInput(f"no task named {', '.join(unknown)} in suite {suite.name}")
        entries = [e for e in entries if e.id in cfg.only]
    home = OuroHome.resolve(cfg.home).ensure()
    out = Path(cfg.out).resolve() if cfg.out else home.root / "bench" / suite.name
    bench = BenchDir(out)
    meta = _meta(cfg, suite)
    previous = out / "bench.json"
    done: dict[str, dict] = {}
    if cfg.resume and previous.exists():
        old = json.loads(previous.read_text(encoding="utf-8"))
        for key in ("suite", "policy", "budget", "seed", "visible_tests"):
            if old.get(key, False if key == "visible_tests" else None) != meta[key]:
                raise BadInput(f"--resume: {out} was run with {key}={old.get(key)!r}, not {meta[key]!r}; "
                               "use the same options or a fresh --out")
        # a task that ended in error (broken task.toml, crashed sandbox) is tried again: the
        # user may have fixed its cause, and a kill never leaves an error behind by itself
        done = {k: v for k, v in bench.finished().items() if v.get("status") != "error"}
    todo = [e for e in entries if e.id not in done]
    skipped = [e.id for e in entries if e.id in done]

    # the executor first: a wrong --ray address must fail before an old bench dir is cleared
    ex = make_executor(workers=cfg.workers, ray=cfg.ray) if todo else None
    try:
        if not cfg.resume and bench.tasks_dir.is_dir():  # a fresh run replaces an older one here
            for p in bench.tasks_dir.glob("*.json"):
                p.unlink()
        atomic_write_json(previous, meta)
        meta = {**meta, "workers": cfg.workers, "executor": ex.kind if ex else "none"}
        results = dict(done)
        bench.write_summary(meta, results)
        jobs = [TaskJob(entry=e, policy=cfg.policy, budget=cfg.budget, backend=cfg.backend,
                        policy_file=str(cfg.policy_file) if cfg.policy_file else None, seed=cfg.seed,
                        home=str(home.root), unsafe_local=cfg.unsafe_local, policy_factory=cfg.policy_factory,
                        visible_tests=cfg.visible_tests)
                for e in todo]

        def on_result(_i: int, result: dict) -> None:
            bench.save_task(result)
            results[result["task_id"]] = result
            bench.write_summary(meta, results)
            if progress:
                progress(result)

        start = time.monotonic()
        if ex:
            ex.map(run_task, jobs, on_result=on_result)
        wall = time.monotonic() - start
    finally:
        if ex:
            ex.close()
    doc = bench.write_summary({**meta, "last_wall_s": round(wall, 3)}, results)
    return BenchOutcome(out=out, doc=doc, ran=[j.task_id for j in jobs], skipped=skipped, wall_s=wall,
                        executor=meta["executor"])


def format_table(doc: dict) -> str:
    """The bench table as plain text (one row per task, then the totals)."""
    head = ["task", "result", "cands", "to-plaus", "wall s", "tokens", "cost", "audit"]
    rows = []
    for r in doc["tasks"]:
        rows.append([r["task_id"], STATUS_LABELS.get(r["status"], r["status"]), str(r.get("candidates_validated") or 0),
                     "-" if r.get("candidates_to_first_plausible") is None else str(r["candidates_to_first_plausible"]),
                     f"{r.get('wall_s') or 0:.1f}", str(r.get("tokens") or 0), f"{r.get('cost') or 0:.4f}",
                     str(r.get("audit_events") or 0)])
    widths = [max(len(h), *(len(row[i]) for row in rows)) if rows else len(h) for i, h in enumerate(head)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(head, widths))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths)) for row in rows]
    s = doc["summary"]
    lines.append("")
    lines.append(f"fixed {s['fixed']}  plausible but wrong {s['plausible_wrong']}  not found {s['not_found']}  "
                 f"error {s['error']}  of {s['tasks']}   candidates validated {s['candidates_validated']}   "
                 f"tokens {s['tokens']}  cost ${s['cost']:.4f}  audit events {s['audit_events']}")
    for r in doc["tasks"]:
        if r["status"] in ("error", "not_found") and r.get("problem"):
            lines.append(f"{'error in' if r['status'] == 'error' else 'nothing to repair in'} {r['task_id']}: "
                         f"{r['problem']}")
    return "\n".join(lines)
