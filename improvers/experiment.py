"""A recursive-improvement experiment: TOML config in, a resumable run directory out.

Run directory (`.ouro/runs/<run-id>/`):
  config.toml        the config the run was started with
  state.json         the last finished iteration and the improver in use (the resume point)
  archive.jsonl      every improver version: scores per task and seed, parent, diff, violations
  versions/<id>.py   each version's source
  iterations.jsonl   per iteration: the accepted improver and its meta-utility with a 95% CI
  violations.jsonl   every violation, with the version, task and seed that did it
  transfer.json      seed improver vs final improver on the held-out tasks
  report/            the plot and tables (improvers.report)

An iteration is the unit of resumption: `--resume` drops anything an unfinished iteration
wrote and runs it again, which gives the same result because nothing depends on the clock.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Callable

from ouro.sandbox.core.schema import SchemaError, checked, from_table, load_toml
from ouro.sandbox.core.files import append_jsonl, atomic_write_json, atomic_write_text, read_jsonl
from ouro.improvers.detect import audit_event
from ouro.improvers.language_model import ModelSpec
from ouro.improvers.meta import SEED_IMPROVER, Archive, MetaUtility, improve_improver, version_record
from ouro.improvers.sandboxed import SandboxSpec
from ouro.improvers.tasks import TASKS


@dataclass(frozen=True)
class ExperimentConfig:
    name: str
    seed: int = 0
    iterations: int = 3
    train_tasks: tuple[str, ...] = ("lpn",)
    heldout_tasks: tuple[str, ...] = ("maxcut", "knapsack", "tsp")
    meta_seeds: int = 3            # seeds per training task in the meta-utility
    transfer_seeds: int = 5        # seeds for seed-vs-final on the held-out tasks
    job_timeout_s: float = 300.0
    meta_utility_budget: int = 6   # candidate improvers the meta-improver may score per iteration
    model: ModelSpec = field(default_factory=ModelSpec)
    meta_model: ModelSpec = field(default_factory=lambda: ModelSpec(max_calls=6))
    sandbox: SandboxSpec = field(default_factory=SandboxSpec)
    seed_improver: str | None = None   # path of another seed improver (default improvers/seed.py)

    def meta_seed_list(self) -> list[int]:
        return [self.seed * 10_007 + i for i in range(self.meta_seeds)]

    def transfer_seed_list(self) -> list[int]:
        return [self.seed * 10_007 + 5_000 + i for i in range(self.transfer_seeds)]

    @classmethod
    def load(cls, path: str | Path) -> "ExperimentConfig":
        path = Path(path)
        return cls.from_dict(load_toml(path, "experiment config"), str(path), base=path.parent)

    @classmethod
    def from_dict(cls, data: dict, source: str = "<config>", base: Path | None = None) -> "ExperimentConfig":
        f = from_table(_ConfigFile, data, f"{source}: ")
        for section, spec in (("model", f.model), ("meta", f.meta)):
            if spec.kind == "litellm" and not spec.model:
                raise SchemaError(f"{source}: {section}.model: a litellm model needs a name")
        exp = {k: getattr(f.experiment, k) for k in _ExperimentSection.__dataclass_fields__}
        if exp["seed_improver"] is not None and base is not None:
            exp["seed_improver"] = str((base / exp["seed_improver"]).resolve())
        model = f.model
        meta_table = dict(data.get("meta", {}))
        # the meta-improver's model is the [model] one with [meta]'s keys on top (6 calls by default)
        meta = replace(model, **{"max_calls": 6, **{k: getattr(f.meta, k) for k in meta_table if k != "utility_budget"}})
        return cls(**exp, model=model, meta_model=meta, meta_utility_budget=f.meta.utility_budget,
                   sandbox=f.sandbox)


# -- the config file's shape (read by sandbox.core.schema) -------------------------------------------
def _tasks_known(tasks) -> bool | str:
    unknown = [t for t in tasks if t not in TASKS]
    return f"unknown task {unknown[0]!r} (known: {', '.join(TASKS)})" if unknown else True


@dataclass(frozen=True)
class _ExperimentSection:
    name: str
    seed: int = 0
    iterations: int = checked(ExperimentConfig.iterations, check=lambda v: v >= 0, problem="must be 0 or more")
    train_tasks: tuple[str, ...] = checked(ExperimentConfig.train_tasks,
                                           check=lambda v: _tasks_known(v) if v else "must name at least one task")
    heldout_tasks: tuple[str, ...] = checked(ExperimentConfig.heldout_tasks, check=_tasks_known)
    meta_seeds: int = checked(ExperimentConfig.meta_seeds, check=lambda v: v >= 1, problem="must be positive")
    transfer_seeds: int = checked(ExperimentConfig.transfer_seeds, check=lambda v: v >= 1, problem="must be positive")
    job_timeout_s: float = checked(ExperimentConfig.job_timeout_s, check=lambda v: v > 0, problem="must be positive")
    seed_improver: str | None = None


@dataclass(frozen=True)
class _MetaSection(ModelSpec):
    utility_budget: int = checked(ExperimentConfig.meta_utility_budget, check=lambda v: v >= 1,
                                  problem="must be at least 1")


@dataclass(frozen=True)
class _ConfigFile:
    experiment: _ExperimentSection
    model: ModelSpec = field(default_factory=ModelSpec)
    meta: _MetaSection = field(default_factory=_MetaSection)
    sandbox: SandboxSpec = field(default_factory=SandboxSpec)


def _audit_log(home):
    """The project's tamper-evident audit log."""
    from ouro.sandbox.audit.log import default_log

    return default_log(home)


@dataclass
class Experiment:
    config: ExperimentConfig
    run_dir: Path
    executor: object
    home: object = None                      # OuroHome, for the audit log
    progress: Callable[[str], None] = lambda msg: None

    @property
    def run_id(self) -> str:
        return self.run_dir.name

    def _state(self) -> dict | None:
        p = self.run_dir / "state.json"
        return json.loads(p.read_text()) if p.exists() else None

    def _commit(self, iteration: int, current: str, violations: list[dict]) -> None:
        """An iteration is done: log its violations, then move the resume point past it."""
        for v in violations:
            append_jsonl(self.run_dir / "violations.jsonl", dict(v, iteration=iteration, run_id=self.run_id))
        log = _audit_log(self.home) if self.home is not None else None
        if log is not None and violations:
            log.append_many([audit_event(v, self.run_id, iteration, self.config.sandbox.backend) for v in violations])
        atomic_write_json(self.run_dir / "state.json", {"iteration_done": iteration, "current": current})

    def _meta(self, tasks, seeds) -> MetaUtility:
        c = self.config
        return MetaUtility(list(tasks), seeds, c.model, c.sandbox, self.executor, c.job_timeout_s,
                           audit_home=str(self.home.root) if self.home is not None else None, run_id=self.run_id)

    def run(self, resume: bool = False) -> dict:
        c = self.config
        archive = Archive(self.run_dir)
        state = self._state()
        if state is None:
            if resume and (self.run_dir / "archive.jsonl").exists():
                archive.truncate_after(-1)
            atomic_write_text(self.run_dir / "config.json", json.dumps(asdict(c), indent=2, sort_keys=True) + "\n")
            for name in ("iterations.jsonl", "violations.jsonl"):
                (self.run_dir / name).unlink(missing_ok=True)
            seed_source = Path(c.seed_improver or SEED_IMPROVER).read_text()
            self.progress("iteration 0: scoring the seed improver")
            score = self._meta(c.train_tasks, c.meta_seed_list()).score(seed_source)
            rec = version_record("v0", 0, None, seed_source, None, score, "seed")
            archive.add(rec, seed_source)
            append_jsonl(self.run_dir / "iterations.jsonl", {"iteration": 0, "accepted": "v0", "meta_utility": rec["meta_utility"],
                                                              "ci": rec["ci"], "evaluated": ["v0"], "meta_violations": []})
            self._commit(0, "v0", [dict(v, version="v0") for v in rec["violations"]])
            state = self._state()
        else:
            # redo whatever an interrupted iteration left half-written
            done = state["iteration_done"]
            archive.truncate_after(done)
            for name in ("iterations.jsonl", "violations.jsonl"):
                keep = [r for r in read_jsonl(self.run_dir / name) if r["iteration"] <= done]
                atomic_write_text(self.run_dir / name, "".join(json.dumps(r, sort_keys=True) + "\n" for r in keep))
            self.progress(f"resuming after iteration {done} (improver in use: {state['current']})")

        meta = self._meta(c.train_tasks, c.meta_seed_list())
        for it in range(state["iteration_done"] + 1, c.iterations + 1):
            current = next(r for r in archive.records() if r["id"] == state["current"])
            self.progress(f"iteration {it}: improver {current['id']} (meta-utility {current['meta_utility']:.4f}) improves itself")
            res = improve_improver(it, current, archive, meta, c.meta_model, c.meta_utility_budget, c.seed)
            by_id = {r["id"]: r for r in archive.records()}
            acc = by_id[res.accepted]
            append_jsonl(self.run_dir / "iterations.jsonl", {
                "iteration": it, "accepted": acc["id"], "meta_utility": acc["meta_utility"], "ci": acc["ci"],
                "evaluated": res.evaluated, "meta_violations": res.meta_violations, "error": res.error})
            violations = [dict(v, version=vid) for vid in res.evaluated if by_id[vid]["iteration"] == it
                          for v in by_id[vid]["violations"]]
            violations += [dict(v, version=f"meta@{current['id']}") for v in res.meta_violations]
            self._commit(it, acc["id"], violations)
            state = self._state()
            self.progress(f"iteration {it}: accepted {acc['id']} meta-utility {acc['meta_utility']:.4f} "
                          f"[{acc['ci'][0]:.4f}, {acc['ci'][1]:.4f}], {len(res.evaluated)} candidates scored")

        transfer_path = self.run_dir / "transfer.json"
        if not transfer_path.exists():
            self.progress("transfer: seed vs final improver on held-out tasks")
            seeds = self.config.transfer_seed_list()
            out = {"seeds": seeds, "heldout_tasks": list(c.heldout_tasks), "train_tasks": list(c.train_tasks),
                   "final": state["current"], "versions": {}}
            for vid in dict.fromkeys(["v0", state["current"]]):
                tasks = list(c.heldout_tasks) + list(c.train_tasks)
                score = self._meta(tasks, seeds).score(archive.source(vid))
                out["versions"][vid] = {"jobs": score.jobs, "violations": score.violations}
            atomic_write_json(transfer_path, out)
        from ouro.improvers.report import write_report

        return write_report(self.run_dir)
