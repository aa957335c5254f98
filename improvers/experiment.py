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
import tomllib
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Callable

from ouro.sandbox.core.errors import BadInput
from ouro.sandbox.core.files import append_jsonl, atomic_write_json, atomic_write_text, read_jsonl
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
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise BadInput(f"{path}: file not found") from None
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
            raise BadInput(f"{path}: cannot read config: {e}") from None
        return cls.from_dict(data, str(path), base=path.parent)

    @classmethod
    def from_dict(cls, data: dict, source: str = "<config>", base: Path | None = None) -> "ExperimentConfig":
        def err(key, problem):
            return BadInput(f"{source}: {key}: {problem}")

        known = {"experiment", "model", "meta", "sandbox"}
        for k in data:
            if k not in known:
                raise err(k, f"unknown section (known: {', '.join(sorted(known))})")
        exp = dict(data.get("experiment", {}))
        kinds = {"name": str, "seed": int, "iterations": int, "train_tasks": list, "heldout_tasks": list,
                 "meta_seeds": int, "transfer_seeds": int, "job_timeout_s": (int, float), "seed_improver": str}
        for k, v in exp.items():
            if k not in kinds:
                raise err(f"experiment.{k}", f"unknown key (known: {', '.join(kinds)})")
            if not isinstance(v, kinds[k]) or isinstance(v, bool):
                raise err(f"experiment.{k}", f"wrong type {type(v).__name__}")
        if "name" not in exp:
            raise err("experiment.name", "missing")
        for k in ("train_tasks", "heldout_tasks"):
            for t in exp.get(k, []):
                if t not in TASKS:
                    raise err(f"experiment.{k}", f"unknown task {t!r} (known: {', '.join(TASKS)})")
            if k in exp:
                exp[k] = tuple(exp[k])
        if not exp.get("train_tasks", ("lpn",)):
            raise err("experiment.train_tasks", "must name at least one task")
        for k in ("iterations", "meta_seeds", "transfer_seeds"):
            if k in exp and exp[k] < (0 if k == "iterations" else 1):
                raise err(f"experiment.{k}", f"must be positive, got {exp[k]}")
        if "seed_improver" in exp and base is not None:
            exp["seed_improver"] = str((base / exp["seed_improver"]).resolve())

        def model(section: str, default: ModelSpec) -> ModelSpec:
            body = dict(data.get(section, {}))
            allowed = {"kind", "model", "api_base", "max_calls", "max_tokens"} | ({"utility_budget"} if section == "meta" else set())
            for k in body:
                if k not in allowed:
                    raise err(f"{section}.{k}", f"unknown key (known: {', '.join(sorted(allowed))})")
            types = {"kind": str, "model": str, "api_base": str, "max_calls": int, "max_tokens": int, "utility_budget": int}
            for k, v in body.items():
                if not isinstance(v, types[k]) or isinstance(v, bool):
                    raise err(f"{section}.{k}", f"expected {types[k].__name__}, got {type(v).__name__} {v!r}")
                if types[k] is int and v < 1:
                    raise err(f"{section}.{k}", f"must be at least 1, got {v}")
            body.pop("utility_budget", None)
            if body.get("kind", default.kind) not in ("mutation", "litellm"):
                raise err(f"{section}.kind", "must be mutation or litellm")
            if body.get("kind") == "litellm" and not body.get("model"):
                raise err(f"{section}.model", "a litellm model needs a name")
            return replace(default, **body)

        base_model = model("model", ModelSpec())
        meta_default = replace(base_model, max_calls=6)
        sb = dict(data.get("sandbox", {}))
        for k in sb:
            if k not in ("backend", "policy_file", "memory_mb", "unsafe_local"):
                raise err(f"sandbox.{k}", "unknown key (known: backend, policy_file, memory_mb, unsafe_local)")
        sb_types = {"backend": str, "policy_file": str, "memory_mb": int, "unsafe_local": bool}
        for k, v in sb.items():
            if not isinstance(v, sb_types[k]) or (sb_types[k] is int and isinstance(v, bool)):
                raise err(f"sandbox.{k}", f"expected {sb_types[k].__name__}, got {type(v).__name__} {v!r}")
        if sb.get("memory_mb", 512) < 64:
            raise err("sandbox.memory_mb", "must be at least 64")
        if sb.get("backend", "bwrap") not in ("docker", "gvisor", "bwrap", "local"):
            raise err("sandbox.backend", "must be docker, gvisor, bwrap or local")
        meta_budget = data.get("meta", {}).get("utility_budget", 6)
        return cls(**exp, model=base_model, meta_model=model("meta", meta_default),
                   meta_utility_budget=meta_budget, sandbox=SandboxSpec(**sb))


def _audit_log(home):
    """The tamper-evident audit log, or None while sandbox.audit.log is not available."""
    try:
        from ouro.sandbox.audit.log import default_log
    except ImportError:
        return None
    return default_log(home)


# the audit log's name for a kind, where it already has one
_AUDIT_KIND = {"sandbox_disabled": "sandbox_disable"}


def _audit_event(v: dict, run_id: str, iteration: int, backend: str) -> dict:
    extra = {k: v[k] for k in ("version", "task", "seed", "how") if k in v}
    try:
        from ouro.sandbox.audit.events import make_event
    except ImportError:
        return {"kind": _AUDIT_KIND.get(v["kind"], v["kind"]), "severity": "high", "source": "improve",
                "detail": v["detail"], "run_id": run_id, "violation": v["kind"], "iteration": iteration, **extra}
    event = make_event(_AUDIT_KIND.get(v["kind"], v["kind"]), v["detail"], source="improve", run_id=run_id,
                       policy="improver", backend=backend, violation=v["kind"], iteration=iteration, **extra)
    event["severity"] = "critical" if v["kind"] == "sandbox_disabled" else "high"
    return event


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
            log.append_many([_audit_event(v, self.run_id, iteration, self.config.sandbox.backend) for v in violations])
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
