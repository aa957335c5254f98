"""`ouro improve scaffold`: the STOP seed improver applied to ouro's own repair agent, with an honest gate.

The same loop as the LPN experiments (improvers/meta.py, seed.py), turned on the agent: the
solution is the scaffold (improvers/scaffold_target.py, interface in improvers/scaffold.py), the
improver is the seed improver running in a sandbox with the built-in mutation model (offline) or
any litellm model, and the utility is the agent's repair utility: each task repaired with the
rewrite and judged on its hidden tests,

    utility(task) = fixed x (1 - 0.5 x min(candidates to the first plausible patch, budget) / budget)

averaged over the tasks (and repair seeds) of a split. Tasks are split three ways before the run,
and the split is recorded in the run directory:
- train: the improver sees utilities on these, and only these;
- validation: the versions each iteration accepted are scored here, and the best one (the seed
  on ties) is the final agent;
- test: the seed agent and the final agent are measured here once, at the end. The final agent is
  installed over the scaffold in use only when its gain in utility on the test split has a paired
  bootstrap 95% interval above zero; the report says so either way.

Run directory (`<home>/runs/<name>/`):
  config.json, split.json   the run's configuration and its recorded split (a resume needs both unchanged)
  archive.jsonl, versions/  every scaffold version: train (and validation) scores, parent, diff, status
  iterations.jsonl          per iteration: the version in use after it, and its scores
  repairs/<key>.json        every repair's result (version x task x seed), written as each finishes
  state.json                the last finished iteration and the version in use (the resume point)
  final.json                selection, test scores, the gate's verdict, what was installed
  report/                   improvers.scaffold_report

A killed run resumes with --resume: the repairs already done are read back, the iteration that
was cut short is replayed (the improver's model is seeded by the run, so it asks for the same
versions) and the run goes on.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Callable

from ouro.improvers.judged import (SPLITS, RepairJob, SplitSource, TaskRef, candidates, compare, load_split,
                                   run_repair_job, task_utility)
from ouro.improvers.language_model import ModelSpec, stable_seed
from ouro.improvers.meta import SEED_IMPROVER, Archive, diff
from ouro.improvers.sandboxed import HostUtility, SandboxSpec, run_improver
from ouro.improvers.scaffold import TARGET, sha, vet
from ouro.sandbox.core.errors import BadInput, PreconditionFailed
from ouro.sandbox.core.files import append_jsonl, atomic_write_json, atomic_write_text, read_jsonl
from ouro.sandbox.core.schema import checked, from_table, load_toml
from ouro.sandbox.policy import BACKENDS

NO_RULE_HELD = "no rewrite held on the test split"


# ---------------------------------------------------------------------------------------------
# Configuration

@dataclass(frozen=True)
class _ScaffoldSection:
    name: str
    iterations: int = checked(3, check=lambda v: v >= 0, problem="must be 0 or more")
    budget: int = checked(80, check=lambda v: v >= 1, problem="must be at least 1")
    seeds: tuple[int, ...] = checked((0,), check=lambda v: bool(v) or "must name at least one repair seed")
    backend: str = checked("bwrap", check=lambda v: v in BACKENDS, problem=f"must be one of {', '.join(BACKENDS)}")
    time_limit: float = checked(900.0, check=lambda v: v > 0, problem="must be positive")
    utility_budget: int = checked(4, check=lambda v: v >= 1, problem="must be at least 1")
    improver: str | None = None
    resamples: int = checked(10_000, check=lambda v: v >= 100, problem="must be at least 100")
    seed: int = 0


@dataclass(frozen=True)
class ScaffoldRunConfig:
    name: str
    splits: tuple[SplitSource, ...]   # where the train/validation/test tasks come from
    iterations: int = 3
    budget: int = 80                  # candidates each repair may validate (the same for every version)
    seeds: tuple[int, ...] = (0,)     # repair seeds per task
    backend: str = "bwrap"            # where the repairs run
    time_limit: float = 900.0         # seconds per repair
    utility_budget: int = 4           # scaffold versions the improver may score per iteration
    improver: str | None = None       # another improver's source (default improvers/seed.py)
    resamples: int = 10_000           # bootstrap resamples
    seed: int = 0                     # seeds the improver's model
    model: ModelSpec = field(default_factory=lambda: ModelSpec(max_calls=3))
    sandbox: SandboxSpec = field(default_factory=SandboxSpec)   # where the improver runs
    unsafe_local: bool = False        # tests only: the local backend for repairs

    @classmethod
    def load(cls, path: str | Path) -> "ScaffoldRunConfig":
        path = Path(path)
        data = load_toml(path, "scaffold config")
        f = from_table(_ConfigFile, data, f"{path}: ")
        if f.model.kind == "litellm" and not f.model.model:
            raise BadInput(f"{path}: model.model: a litellm model needs a name")
        section = asdict(f.scaffold)
        if not f.split:
            raise BadInput(f"{path}: no [[split]] table: name at least one split file")
        unknown = [k for src in f.split for k in src.limit if k not in SPLITS]
        if unknown:
            raise BadInput(f"{path}: split.limit.{unknown[0]}: not a split (known: {', '.join(SPLITS)})")
        splits = tuple(SplitSource(str((path.parent / s.file).resolve()),
                                   str((path.parent / s.root).resolve()) if s.root else None, dict(s.limit))
                       for s in f.split)
        if section["improver"]:
            section["improver"] = str((path.parent / section["improver"]).resolve())
        model = f.model if "model" in data else ModelSpec(max_calls=3)
        return cls(**section, splits=splits, model=model, sandbox=f.sandbox)


@dataclass(frozen=True)
class _ConfigFile:
    scaffold: _ScaffoldSection
    split: tuple[SplitSource, ...] = ()
    model: ModelSpec = field(default_factory=ModelSpec)
    sandbox: SandboxSpec = field(default_factory=SandboxSpec)


@dataclass
class SplitScore:
    utility: float
    fix_rate: float
    candidates: float
    rows: list[dict]          # one per (task, seed), in the split's order
    violations: list[str]     # kinds of audit events the rewrite's process caused

    def to_dict(self) -> dict:
        return asdict(self)


class Scorer:
    """Scores scaffold versions on the splits by real repairs, through an executor, reading back
    every repair a run already did (repairs/<key>.json)."""

    def __init__(self, config: ScaffoldRunConfig, split: dict[str, list[TaskRef]], run_dir: Path, executor,
                 progress: Callable[[str], None] = lambda m: None):
        self.config, self.split, self.run_dir, self.executor = config, split, run_dir, executor
        self.progress = progress
        (run_dir / "repairs").mkdir(parents=True, exist_ok=True)

    def _file(self, source: str, task: TaskRef, seed: int) -> Path:
        return self.run_dir / "repairs" / f"{sha(source)}-{task.id}-s{seed}.json"

    def score(self, source: str, split: str) -> SplitScore:
        c = self.config
        todo, rows = [], {}
        for task in self.split[split]:
            for seed in c.seeds:
                f = self._file(source, task, seed)
                if f.exists():
                    rows[(task.id, seed)] = json.loads(f.read_text())
                else:
                    todo.append(RepairJob(source, task.dir, seed, c.backend, c.budget, c.time_limit,
                                          str(self.run_dir / "home"), str(f), c.unsafe_local))
        if todo:
            self.progress(f"{sha(source)}: {len(todo)} repairs on the {split} split")
            for job, r in zip(todo, self.executor.map(run_repair_job, todo)):
                rows[(Path(job.task_dir).name, job.seed)] = r
        ordered = [rows[(t.id, s)] for t in self.split[split] for s in c.seeds]
        violations = sorted({k for r in ordered for k in r.get("ranker_events", [])})
        n = len(ordered)
        return SplitScore(utility=0.0 if violations else round(sum(task_utility(r, c.budget) for r in ordered) / n, 6),
                          fix_rate=round(sum(r["fixed"] for r in ordered) / n, 6),
                          candidates=round(sum(candidates(r, c.budget) for r in ordered) / n, 3),
                          rows=ordered, violations=violations)


# ---------------------------------------------------------------------------------------------
# The run

UTILITY_TEXT = """# utility of a rewrite of ouro's repair scaffold (the source you are given)
# For each training task (a buggy Python repository with an issue and failing tests), ouro's
# repair agent runs with the rewrite: its SEARCH, LOCALIZATION and TEMPLATES tables and its
# rank(candidates, context) ordering (run in a sandbox). The patch it finds is judged on hidden
# tests. Per task: fixed x (1 - 0.5 x candidates-to-first-plausible-patch / budget); the utility
# is the mean over the tasks, in [0, 1]. A rewrite that fails its checks or breaks the agent scores
# 0 on the tasks it breaks; one whose code tries to leave its sandbox scores 0."""


@dataclass
class ScaffoldRun:
    config: ScaffoldRunConfig
    run_dir: Path
    executor: object
    home: object = None                       # OuroHome: the audit log of vetting failures
    target: Path = TARGET
    progress: Callable[[str], None] = lambda msg: None

    def _state(self) -> dict | None:
        p = self.run_dir / "state.json"
        return json.loads(p.read_text()) if p.exists() else None

    def _check_or_record(self, split: dict[str, list[TaskRef]], resume: bool) -> None:
        config = json.loads(json.dumps(asdict(self.config)))
        recorded = {s: [asdict(t) for t in split[s]] for s in SPLITS}
        for name, value in (("config.json", config), ("split.json", recorded)):
            p = self.run_dir / name
            if p.exists():
                if json.loads(p.read_text()) != value:
                    raise BadInput(f"{self.run_dir.name}: the {name[:-5]} differs from the one the run was started "
                                   "with; resume needs the same (or start a new run with another name)")
            elif resume and self._state() is not None:
                raise BadInput(f"{self.run_dir.name}: {name} is missing; cannot resume")
            else:
                atomic_write_json(p, value)

    def run(self, resume: bool = False) -> dict:
        c = self.config
        self.run_dir.mkdir(parents=True, exist_ok=True)
        split = load_split(c.splits)
        self._check_or_record(split, resume)
        archive = Archive(self.run_dir)
        scorer = Scorer(c, split, self.run_dir, self.executor, self.progress)
        state = self._state()
        if state is None:
            archive.truncate_after(-1)
            (self.run_dir / "iterations.jsonl").unlink(missing_ok=True)
            seed_source = self.target.read_text(encoding="utf-8")
            problems = vet(seed_source)
            if problems:
                raise PreconditionFailed(f"{self.target}: the scaffold in use does not pass its own checks: {problems[0]}")
            self.progress("iteration 0: scoring the scaffold in use on the train and validation splits")
            train, val = scorer.score(seed_source, "train"), scorer.score(seed_source, "validation")
            archive.add(_record("v0", 0, None, seed_source, None, "seed", train, val), seed_source)
            append_jsonl(self.run_dir / "iterations.jsonl", _iteration(0, "v0", train, val, ["v0"]))
            atomic_write_json(self.run_dir / "state.json", {"iteration_done": 0, "current": "v0",
                                                            "target_sha": sha(seed_source)})
            state = self._state()
        else:
            done = state["iteration_done"]
            archive.truncate_after(done)
            keep = [r for r in read_jsonl(self.run_dir / "iterations.jsonl") if r["iteration"] <= done]
            atomic_write_text(self.run_dir / "iterations.jsonl", "".join(json.dumps(r, sort_keys=True) + "\n" for r in keep))
            self.progress(f"resuming after iteration {done} (version in use: {state['current']})")

        improver = Path(c.improver or SEED_IMPROVER).read_text()
        for it in range(state["iteration_done"] + 1, c.iterations + 1):
            by_id = {r["id"]: r for r in archive.records()}
            current = by_id[state["current"]]
            self.progress(f"iteration {it}: the improver rewrites {current['id']} "
                          f"(train utility {current['train']['utility']:.4f})")
            accepted, evaluated, cheats = self._iterate(it, current, archive, scorer, improver)
            by_id = {r["id"]: r for r in archive.records()}
            acc = by_id[accepted]
            if acc.get("validation") is None:
                val = scorer.score(archive.source(accepted), "validation")
                _set_validation(archive, accepted, val)
                acc = {r["id"]: r for r in archive.records()}[accepted]
            append_jsonl(self.run_dir / "iterations.jsonl",
                         {"iteration": it, "current": accepted, "train": _brief(acc["train"]),
                          "validation": _brief(acc["validation"]), "evaluated": evaluated,
                          "improver_violations": cheats})
            atomic_write_json(self.run_dir / "state.json", {**state, "iteration_done": it, "current": accepted})
            state = self._state()
            self.progress(f"iteration {it}: in use {accepted} (train {acc['train']['utility']:.4f}, "
                          f"validation {acc['validation']['utility']:.4f}); {len(evaluated)} versions scored")
        final = self._finish(archive, scorer, state)
        from ouro.improvers.scaffold_report import write_report

        return write_report(self.run_dir, final)

    def _iterate(self, it: int, current: dict, archive: Archive, scorer: Scorer,
                 improver: str) -> tuple[str, list[str], list[dict]]:
        """One step: the improver, in a sandbox, rewrites the version in use with the train
        utility as its utility; every version it asks about joins the archive."""
        parent_source = archive.source(current["id"])
        evaluated: list[str] = []
        counter = [0]

        def evaluate(source: str):
            known = {r["sha"]: r for r in archive.records()}.get(sha(source))
            if known is not None:
                evaluated.append(known["id"])
                return known["train"]["utility"] if known["train"] else 0.0, []
            counter[0] += 1
            vid = f"v{it}.{counter[0]}"
            problems = vet(source)
            if problems:
                self._log_vetting(vid, source, problems)
                rec = _record(vid, it, current["id"], source, parent_source, "candidate", None, None, problems)
            else:
                rec = _record(vid, it, current["id"], source, parent_source, "candidate", scorer.score(source, "train"), None)
            archive.add(rec, source)
            evaluated.append(vid)
            self.progress(f"  {vid}: {rec['status']}" + (f", train utility {rec['train']['utility']:.4f}" if rec["train"] else ""))
            return (rec["train"]["utility"] if rec["train"] else 0.0), []

        c = self.config
        lm = c.model.build(stable_seed("scaffold", c.seed, it))
        backend = "local" if c.unsafe_local else c.sandbox.backend
        spec = replace(c.sandbox, backend=backend, unsafe_local=c.unsafe_local or c.sandbox.unsafe_local)
        run = run_improver(improver, parent_source, HostUtility(UTILITY_TEXT, c.utility_budget, evaluate), lm, spec,
                           timeout_s=c.time_limit * max(1, len(scorer.split["train"])) * (c.utility_budget + 1))
        if run.violations:
            # an improver that cheats (switches its sandbox off, exceeds a budget) leaves the version in use
            from ouro.improvers.detect import audit_event
            from ouro.improvers.sandboxed import _one_per_kind

            cheats = [dict(v, version=f"improver@{current['id']}") for v in _one_per_kind(run.violations)]
            if self.home is not None:
                from ouro.sandbox.audit.log import default_log

                default_log(self.home).append_many([audit_event(v, self.run_dir.name, it, spec.backend) for v in cheats])
            return current["id"], evaluated, cheats
        if run.solution is not None and sha(run.solution) not in {r["sha"] for r in archive.records()}:
            evaluate(run.solution)   # the improver's answer counts as far as the host's score of it says
        best = current
        records = {r["id"]: r for r in archive.records()}
        for vid in evaluated:   # the best train utility wins; the version in use on ties
            rec = records[vid]
            if rec["status"] == "ok" and rec["train"]["utility"] > best["train"]["utility"]:
                best = rec
        if run.error:
            self.progress(f"  the improver ended with an error: {run.error[:200]}")
        return best["id"], evaluated, []

    def _log_vetting(self, vid: str, source: str, problems: list[str]) -> None:
        """A rewrite refused at the first gate is logged like any generated program's findings."""
        if self.home is None:
            return
        from ouro.sandbox.audit.events import events_from_findings
        from ouro.sandbox.audit.log import default_log
        from ouro.sandbox.audit.static_scan import scan_source

        findings = scan_source(f"scaffold@{vid}.py", source)
        if findings:
            default_log(self.home).append_many(events_from_findings(findings, run_id=self.run_dir.name,
                                                                    policy="scaffold-improver"))

    def _finish(self, archive: Archive, scorer: Scorer, state: dict) -> dict:
        """Select on validation, measure seed and final once on test, gate, install (or not)."""
        path = self.run_dir / "final.json"
        if path.exists():
            return json.loads(path.read_text())
        c = self.config
        records = {r["id"]: r for r in archive.records()}
        chain = [r["current"] for r in read_jsonl(self.run_dir / "iterations.jsonl")]
        candidates_ = [records[v] for v in dict.fromkeys(chain) if records[v]["status"] == "ok"]
        # the best validation utility; the seed (first) wins ties: a rewrite must earn its place
        final = max(candidates_, key=lambda r: (r["validation"]["utility"], -chain.index(r["id"])))
        self.progress(f"selected {final['id']} on the validation split; measuring seed and final on the test split")
        seed_source, final_source = archive.source("v0"), archive.source(final["id"])
        scores = {}
        for split in SPLITS:
            scores[split] = {"seed": scorer.score(seed_source, split).to_dict(),
                             "final": scorer.score(final_source, split).to_dict()}
        table = {split: compare(scores[split]["seed"]["rows"], scores[split]["final"]["rows"], c.budget,
                                c.resamples, c.seed) for split in SPLITS}
        gain = table["test"]["utility"]["difference"]
        holds = final["id"] != "v0" and gain["ci"][0] > 0
        verdict = (f"{final['id']} held on the test split: utility gain {gain['mean']:+.4f} "
                   f"[{gain['ci'][0]:+.4f}, {gain['ci'][1]:+.4f}]") if holds else NO_RULE_HELD
        out = {"final": final["id"], "final_sha": final["sha"], "seed_sha": records["v0"]["sha"], "table": table,
               "holds": holds, "verdict": verdict, "installed": None, "scores": scores}
        if holds:
            out["installed"] = self._install(final_source, state)
        elif final["id"] != "v0":
            out["why_not"] = (f"utility gain {gain['mean']:+.4f} on the test split, 95% interval "
                              f"[{gain['ci'][0]:+.4f}, {gain['ci'][1]:+.4f}] includes zero or is below it")
        else:
            out["why_not"] = "no version did better than the seed on the validation split"
        atomic_write_json(path, out)
        return out

    def _install(self, source: str, state: dict) -> str | None:
        current = self.target.read_text(encoding="utf-8")
        if sha(current) != state["target_sha"]:
            self.progress(f"{self.target} changed during the run; nothing installed")
            return None
        atomic_write_text(self.run_dir / "previous_scaffold_target.py", current)
        atomic_write_text(self.target, source)
        self.progress(f"installed {sha(source)} into {self.target}")
        return str(self.target)


def _record(vid: str, it: int, parent: str | None, source: str, parent_source: str | None, role: str,
            train: SplitScore | None, validation: SplitScore | None, problems: list[str] | None = None) -> dict:
    broken_rows = [(r.get("error") or "").startswith("ScaffoldBroken") for r in train.rows] if train else []
    broke = any(broken_rows) and all(b or not r.get("rank_calls") for b, r in zip(broken_rows, train.rows))
    # rejected: refused by the vetting; violation: its code tried to leave the sandbox; broken: it
    # broke every repair that reached it (rank raised, answered wrongly, was too slow); a task whose
    # failure could not be reproduced never reaches a scaffold
    status = ("rejected" if problems else "violation" if train and train.violations else "broken" if broke else "ok")
    return {"id": vid, "iteration": it, "parent": parent, "sha": sha(source), "role": role, "status": status,
            "problems": problems or [], "violations": train.violations if train else [],
            "train": train.to_dict() if train else None, "validation": validation.to_dict() if validation else None,
            "diff": diff(parent_source, source)}


def _set_validation(archive: Archive, vid: str, score: SplitScore) -> None:
    rows = archive.records()
    for r in rows:
        if r["id"] == vid:
            r["validation"] = score.to_dict()
    atomic_write_text(archive.path, "".join(json.dumps(r, sort_keys=True, default=str) + "\n" for r in rows))


def _brief(score: dict | None) -> dict | None:
    return None if score is None else {k: score[k] for k in ("utility", "fix_rate", "candidates")}


def _iteration(it: int, current: str, train: SplitScore, val: SplitScore, evaluated: list[str]) -> dict:
    return {"iteration": it, "current": current, "train": _brief(train.to_dict()), "validation": _brief(val.to_dict()),
            "evaluated": evaluated}
