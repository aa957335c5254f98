"""The repair API: one call from a repository and an issue to a validated patch.

    outcome = run_repair(RepairConfig(repo=Path("myproj"), issue="..."))

The pipeline (DESIGN.md section 3): Workspace (a copy under the run dir) -> Environment
(sandbox image) -> Reproduce (failing tests) -> Localize (ranked lines) -> Search (MCTS over
policy proposals, each validated in the sandbox) -> Discriminator -> Result files.
"""
from __future__ import annotations

import json
import random
import secrets
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

from ouro.sandbox.core.errors import BadInput, OuroError, PreconditionFailed
from ouro.sandbox.core.files import append_jsonl, atomic_write_json, atomic_write_text, read_jsonl


@dataclass
class RepairConfig:
    repo: Path                          # the user's repository (a git repo or a plain directory)
    issue: str = ""                     # the issue text (from --issue or --issue-file)
    test_cmd: str | None = None         # default: the task's, else "python -m pytest"
    policy: str = "builtin"             # builtin | litellm:<model> | local:<path>
    budget: int = 300                   # most candidate patches validated in the sandbox
    time_limit: float = 900.0           # seconds for the whole search
    backend: str | None = None          # None: the policy file's backend (docker by default)
    seed: int = 0
    home: Path | None = None            # .ouro directory (default ./.ouro or $OURO_HOME)
    run_id: str | None = None           # default: a fresh id
    run_dir: Path | None = None         # default: <home>/runs/<run_id>
    resume: bool = False                # continue run_id, reusing every validation it cached
    allow_dirty: bool = False
    apply: bool = False                 # make branch ouro/<run-id> with one commit in the user's repo
    unsafe_local: bool = False          # required for backend "local"
    policy_file: Path | None = None     # sandbox policy TOML (default: bundled policies.toml)
    test_timeout: float | None = None   # one full test run (default: the policy's wall_time_s)
    max_plausible: int = 3              # keep searching until this many plausible patches
    audit: bool = True
    llm_options: dict = field(default_factory=dict)  # passed to non-builtin policies
    ranker: str = "none"                # builtin policy's order: none (heuristic), auto (bundled checkpoint), scaffold, or a path


@dataclass
class RepairOutcome:
    run_id: str
    run_dir: Path
    status: str                          # plausible | not_found | error
    patch: str | None
    explanation: str
    candidates_validated: int
    candidates_to_first_plausible: int | None
    seconds: float
    tokens: int = 0
    cost: float = 0.0
    branch: str | None = None            # set by apply
    error: str | None = None

    def to_dict(self) -> dict:
        return {
            "run_id": self.run_id, "run_dir": str(self.run_dir), "status": self.status,
            "patch": self.patch, "explanation": self.explanation,
            "candidates_validated": self.candidates_validated,
            "candidates_to_first_plausible": self.candidates_to_first_plausible,
            "seconds": round(self.seconds, 3), "tokens": self.tokens, "cost": self.cost,
            "branch": self.branch, "error": self.error,
        }


Progress = Callable[[dict], None]


def run_repair(config: RepairConfig, progress: Progress | None = None) -> RepairOutcome:
    """Repair config.repo; progress (if given) receives a dict after every validated candidate."""
    return RepairRun(config, progress).execute()


def new_run_id() -> str:
    return time.strftime("%Y%m%d-%H%M%S", time.gmtime()) + "-" + secrets.token_hex(3)


# what state.json keeps of a config, so `--resume ID` needs nothing else
_SAVED = ("repo", "issue", "test_cmd", "policy", "budget", "time_limit", "backend", "seed", "allow_dirty",
          "unsafe_local", "policy_file", "test_timeout", "max_plausible", "audit", "llm_options", "ranker")


def make_policy(name: str, config: RepairConfig):
    """The proposal policy named by --policy."""
    if name == "builtin":
        from ouro.agent.policies.builtin import BuiltinPolicy

        # a ranker handed in by code (improvers.scaffold scores rewrites of the ordering this way)
        given = config.llm_options.get("ranker")
        return BuiltinPolicy(ranker=given if callable(given) else load_ranker(config.ranker))
    try:
        from ouro.agent.policies import registry  # other policies (litellm:, local:) register there
    except ImportError:
        raise BadInput(f"unknown policy {name!r} (available: builtin)") from None
    return registry.make(name, config)


def load_ranker(choice: str):
    """The learned edit ranker for the built-in policy, or None for the heuristic order."""
    if choice == "none":
        return None
    if choice == "scaffold":  # the ordering `ouro improve scaffold` maintains (improvers/scaffold_target.py)
        from ouro.improvers.scaffold import load_ranker as load_scaffold_ranker

        return load_scaffold_ranker()
    from ouro.improvers.learn.adapter import load_default_ranker

    def warn(msg: str) -> None:
        print(f"ouro: note: {msg}", file=sys.stderr)

    choice = checked_ranker(choice)
    return load_default_ranker(None if choice == "auto" else choice, warn=warn)


def checked_ranker(choice: str) -> str:
    """none, auto, scaffold, or the path (with ~ expanded) of a checkpoint that exists."""
    if choice in ("none", "auto", "scaffold"):
        return choice
    path = Path(choice).expanduser()
    if not path.is_file():
        raise BadInput(f"{choice}: ranker checkpoint not found (--ranker takes none, auto, scaffold or a .pt file)")
    return str(path)


class _SandboxTests:
    """The repair's sandbox: cold runs (reproduce, final checks) and warm runs (candidates)."""

    def __init__(self, config: RepairConfig, sandbox_policy, workspace_dir: Path, run_id: str, on_exec):
        from ouro.sandbox.backends import open_sandbox

        self.on_exec = on_exec
        self.policy = sandbox_policy
        backend = sandbox_policy.backend
        labels = {"ouro.run": run_id, "ouro.purpose": "repair"}
        image = site_dir = None
        if backend in ("docker", "gvisor", "bwrap"):
            from ouro.sandbox.images import ImageError, ensure_env

            try:
                env = ensure_env(workspace_dir)
            except ImageError as e:
                raise PreconditionFailed(f"cannot prepare the sandbox environment: {e}") from None
            image, site_dir = env.image, env.site_dir
        try:
            if backend == "bwrap":
                from ouro.sandbox.bwrap_backend import BwrapSandbox

                self.sandbox = BwrapSandbox.start(sandbox_policy, workspace=workspace_dir, labels=labels,
                                                  audit=config.audit, site_dir=site_dir)
            else:
                self.sandbox = open_sandbox(sandbox_policy, workspace=workspace_dir, image=image, labels=labels,
                                            unsafe_local=config.unsafe_local, audit=config.audit)
        except Exception as e:
            if type(e).__name__ in ("SandboxError", "UnsafeLocalRefused", "DockerException", "ImageError"):
                raise PreconditionFailed(f"cannot start the {backend} sandbox: {e}") from None
            raise
        self.worker = None
        self._worker_failed = False
        self.touched: set[str] = set()
        self.base: dict[str, bytes | None] = {}
        self.workspace_dir = workspace_dir

    def cold(self, pytest_args: list[str], timeout: float, coverage: bool = False):
        from ouro.sandbox.testrun import run_tests_cold

        run = run_tests_cold(self.sandbox, pytest_args, timeout, coverage=coverage)
        self.on_exec(run.exec)
        return run

    def _original(self, rel: str) -> bytes | None:
        if rel not in self.base:
            p = self.workspace_dir / rel
            self.base[rel] = p.read_bytes() if p.exists() else None
        return self.base[rel]

    def cold_with(self, files: dict[str, bytes | None], pytest_args: list[str], timeout: float):
        """A cold run of one state: every file any candidate touched is reset first."""
        self.close_worker()
        paths = self.touched | set(files)
        state = {p: self._original(p) for p in paths}
        state.update(files)
        self._write(state)
        try:
            return self.cold(pytest_args, timeout)
        finally:
            self._write({p: self._original(p) for p in paths})

    def _write(self, state: dict[str, bytes | None]) -> None:
        writes = {p: c for p, c in state.items() if c is not None}
        deletes = [p for p, c in state.items() if c is None]
        if writes:
            self.sandbox.write_files(writes)
        if deletes:
            self.sandbox.delete_files(deletes)

    def candidate(self, files: dict[str, bytes | None], pytest_args: list[str], timeout: float):
        """A candidate run: in the warm worker when it works, else cold."""
        self.touched |= set(files)
        if self.worker is None and not self._worker_failed:
            try:
                from ouro.sandbox.testrun import WarmWorker

                self.worker = WarmWorker(self.sandbox)
            except Exception as e:  # no warm worker on this backend/guest: cold runs still work
                self._worker_failed = True
                print(f"ouro: note: warm worker unavailable ({str(e)[:120]}); validating with cold runs", file=sys.stderr)
        if self.worker is not None:
            run = self.worker.run(files, pytest_args, timeout)
            self.on_exec(run.exec)
            return run
        return self.cold_with(files, pytest_args, timeout)

    def close_worker(self) -> None:
        if self.worker is not None:
            try:
                self.worker.close()
            finally:
                self.worker = None

    def close(self) -> None:
        try:
            self.close_worker()
        finally:
            self.sandbox.close()


class RepairRun:
    """One execution of the pipeline; `execute` never leaves a sandbox behind."""

    def __init__(self, config: RepairConfig, progress: Progress | None = None):
        self.config = config
        self.progress = progress
        self.t0 = time.monotonic()

    # -- set-up ----------------------------------------------------------------------------
    def _prepare(self):
        from ouro.sandbox.core.home import OuroHome
        from ouro.agent.runstore import RunStore

        cfg = self.config
        self.home = OuroHome.resolve(cfg.home).ensure()
        self.store = RunStore(self.home.db)
        if cfg.resume:
            if not cfg.run_id:
                raise BadInput("--resume needs a run id")
            row = self.store.get(cfg.run_id)
            run_dir = Path(row["run_dir"]) if row else (cfg.run_dir or self.home.runs / cfg.run_id)
            state_file = run_dir / "state.json"
            if not state_file.exists():
                raise BadInput(f"no run {cfg.run_id!r} to resume in {self.home.root}")
            state = json.loads(state_file.read_text())
            for k in _SAVED:
                if k in state:
                    v = state[k]
                    setattr(cfg, k, Path(v) if k in ("repo", "policy_file") and v else v)
            cfg.run_id = state["run_id"]
            cfg.run_dir = run_dir
        else:
            cfg.repo = Path(cfg.repo).expanduser()
            if not cfg.repo.exists():
                raise BadInput(f"{cfg.repo}: no such directory")
            if not cfg.repo.is_dir():
                raise BadInput(f"{cfg.repo}: not a directory")
            cfg.run_id = cfg.run_id or new_run_id()
            cfg.run_dir = Path(cfg.run_dir) if cfg.run_dir else self.home.runs / cfg.run_id
        self.run_id, self.run_dir = cfg.run_id, Path(cfg.run_dir)

        from ouro.sandbox.policy import PolicyError, load_policy

        try:
            self.sandbox_policy = load_policy(cfg.policy_file)
            if cfg.backend:
                self.sandbox_policy = self.sandbox_policy.with_backend(cfg.backend)
        except PolicyError as e:
            raise BadInput(str(e)) from None
        if self.sandbox_policy.backend == "local" and not cfg.unsafe_local:
            raise BadInput("the local backend isolates nothing; pass --unsafe-local to use it")
        from ouro.agent.testing import parse_test_cmd

        self.test_cmd = parse_test_cmd(cfg.test_cmd)

    def _open_workspace(self):
        from ouro.agent.workspace import Workspace

        cfg = self.config
        if cfg.resume:
            self.workspace = Workspace.reopen(cfg.repo, self.run_dir)
        else:
            if self.run_dir.exists() and any(self.run_dir.iterdir()):
                raise BadInput(f"run directory {self.run_dir} is not empty")
            self.workspace = Workspace.create(cfg.repo, self.run_dir, cfg.allow_dirty)
            state = {k: (str(getattr(cfg, k)) if isinstance(getattr(cfg, k), Path) else getattr(cfg, k)) for k in _SAVED}
            state["llm_options"] = {k: v for k, v in cfg.llm_options.items() if isinstance(v, (str, int, float, bool))}
            state["run_id"] = self.run_id
            atomic_write_json(self.run_dir / "state.json", state)

    # -- audit -----------------------------------------------------------------------------
    def _audit_log(self):
        if not hasattr(self, "_alog"):
            try:
                from ouro.sandbox.audit.log import default_log

                self._alog = default_log(self.home)
            except ImportError:
                self._alog = None
        return self._alog

    def _on_exec(self, result) -> None:
        log = self._audit_log()
        if log is None:
            return
        try:
            from ouro.sandbox.audit.events import events_from_exec

            events = events_from_exec(result, run_id=self.run_id, policy=self.config.policy,
                                      backend=self.sandbox_policy.backend, rules=self.sandbox_policy.audit_rules or None)
            log.append_many(events)
        except ImportError:
            pass

    def _scanner(self):
        try:
            from ouro.sandbox.audit.static_scan import scan_source
        except ImportError:
            return None
        base_findings: dict[str, set] = {}

        def scan(files: dict[str, str]) -> str | None:
            for path, text in files.items():
                if path not in base_findings:
                    orig = self.ctx.base_files.get(path) or ""
                    base_findings[path] = {(f.kind, f.message) for f in scan_source(path, orig)}
                new = [f for f in scan_source(path, text) if (f.kind, f.message) not in base_findings[path]]
                if new:
                    try:
                        from ouro.sandbox.audit.events import events_from_findings

                        log = self._audit_log()
                        if log is not None:
                            log.append_many(events_from_findings(new, run_id=self.run_id, policy=self.config.policy,
                                                                 backend=self.sandbox_policy.backend))
                    except ImportError:
                        pass
                    f = new[0]
                    return f"static scan rejected the candidate: {f.kind} at {f.path}:{f.line}: {f.message}"
            return None
        return scan

    # -- the pipeline -----------------------------------------------------------------------
    def execute(self) -> RepairOutcome:
        from ouro.agent.trajectory import Trajectory

        self._prepare()
        cfg = self.config
        self._open_workspace()
        self.traj = Trajectory(self.run_dir / "trajectory.jsonl")
        self.store.start(self.run_id, str(Path(cfg.repo).resolve()), str(self.run_dir), cfg.policy, self.sandbox_policy.backend)
        self.traj.log("resume" if cfg.resume else "start", {"run_id": self.run_id, "repo": str(cfg.repo),
                                                            "policy": cfg.policy, "backend": self.sandbox_policy.backend,
                                                            "seed": cfg.seed, "budget": cfg.budget})
        tests = None
        try:
            tests = _SandboxTests(cfg, self.sandbox_policy, self.workspace.path, self.run_id, self._on_exec)
            outcome = self._repair(tests)
        except OuroError as e:
            self._fail(str(e))
            raise
        except KeyboardInterrupt:
            self._fail("interrupted")
            raise
        except Exception as e:
            self._fail(f"{type(e).__name__}: {e}")
            raise
        finally:
            if tests is not None:
                tests.close()
        return outcome

    def _fail(self, message: str) -> None:
        self.traj.log("result", {"status": "error", "error": message})
        self.store.finish(self.run_id, status="error", error=message, seconds=time.monotonic() - self.t0)

    def _repair(self, tests: _SandboxTests) -> RepairOutcome:
        from ouro.agent.localize import is_test_file, localize
        from ouro.agent.repomap import build_repomap
        from ouro.agent.search import Observation, SearchConfig, SearchContext, TreeSearch
        from ouro.agent.selfdebug import failure_message
        from ouro.agent.testing import Baseline, Validator, reproduce

        cfg = self.config
        timeout = float(cfg.test_timeout or self.sandbox_policy.limits.wall_time_s)

        # 1. reproduce (cached on resume: the search replays against the same baseline)
        baseline_file = self.run_dir / "baseline.json"
        if cfg.resume and baseline_file.exists():
            baseline = Baseline(**json.loads(baseline_file.read_text()))
        else:
            baseline = reproduce(lambda args, t, cov: tests.cold(args, t, coverage=cov), self.test_cmd, timeout, cfg.issue)
            atomic_write_json(baseline_file, asdict(baseline))
        self.traj.log("reproduce", {"failing": sorted(baseline.failing), "target": baseline.target,
                                    "passing": len(baseline.passing), "seconds": round(baseline.seconds, 3),
                                    "coverage": baseline.coverage is not None})

        # 2. localize
        py_files = self.workspace.python_files()
        rmap = build_repomap(self.workspace.path, py_files)
        loc = localize(self.workspace.path, py_files, {t: baseline.failing[t] for t in baseline.target},
                       baseline.passing, baseline.coverage, rmap, cfg.issue)
        atomic_write_json(self.run_dir / "localization.json", loc.to_dict())
        self.traj.log("localize", {"lines": [s.to_dict() for s in loc.lines[:10]],
                                   "functions": [list(f) for f in loc.functions[:5]]})

        # 3. search
        base_files = {f: self.workspace.read(f) for f in py_files if not is_test_file(f)}
        def relocalize(still_failing: list[str]):
            # the tests a partial fix repaired now count as passing: what is left points at the rest
            now_passing = baseline.passing + [t for t in baseline.target if t not in still_failing]
            return localize(self.workspace.path, py_files, {t: baseline.failing[t] for t in still_failing},
                            now_passing, baseline.coverage, rmap, cfg.issue)

        self.ctx = SearchContext(base_files=base_files, target_tests=baseline.target, localization=loc, repomap=rmap,
                                 issue=cfg.issue, rng=random.Random(cfg.seed), relocalize=relocalize)
        # per-candidate timeouts come from the baseline's per-test durations (Baseline.budget_for)
        validator = Validator(run_candidate=tests.candidate, cmd=self.test_cmd, baseline=baseline,
                              timeout=timeout, scan=self._scanner())
        cache_file = self.run_dir / "validations.jsonl"
        cache = {r["key"]: r["observation"] for r in read_jsonl(cache_file) if "key" in r}
        self.fresh = 0

        def evaluate(node):
            if node.key in cache:
                obs = Observation.from_dict(cache[node.key])
                obs.cached = True
                return obs
            obs = validator(node.files)
            self.fresh += 1
            cache[node.key] = obs.to_dict()
            append_jsonl(cache_file, {"key": node.key, "observation": obs.to_dict()})  # persisted before going on
            return obs

        root_obs = Observation(status="failed", target=len(baseline.target),
                               failing={t: failure_message(baseline.failing[t]) for t in baseline.target}, tests_passed=len(baseline.passing))
        policy = make_policy(cfg.policy, cfg)
        if hasattr(policy, "on_event"):  # a model policy's own steps (explanations, value scores) join the trajectory
            policy.on_event = self.traj.log
        if hasattr(policy, "tests_fn"):  # a model's run_tests tool validates its edits the same way
            policy.tests_fn = validator
        scfg = SearchConfig(budget=cfg.budget, time_limit=cfg.time_limit, max_plausible=cfg.max_plausible, seed=cfg.seed)
        search = TreeSearch(policy, evaluate, self.ctx, scfg, root_obs, on_event=self.traj.log)

        def tick(s: TreeSearch):
            atomic_write_json(self.run_dir / "tree.json", s_tree(s))
            if self.progress:
                self.progress({"validated": s.validated, "fresh": self.fresh, "plausible": len(s.plausible),
                               "best_value": round(s.best_value(), 3), "elapsed": time.monotonic() - self.t0,
                               "last": s.nodes[len(s.nodes) - 1].edits[-1]["description"] if len(s.nodes) > 1 else ""})

        def s_tree(s: TreeSearch) -> dict:
            return {"nodes": [n.to_dict() for n in s.nodes.values()], "plausible": s.plausible, "validated": s.validated}

        result = search.run(progress=tick)
        tree = result.tree()
        for nd in tree["nodes"]:  # each candidate's own diff, for the report's tree (only once, at the end)
            node = result.nodes.get(nd.get("id"))
            if node is not None and node.files:
                nd["diff"] = self.workspace.diff(node.files)
        atomic_write_json(self.run_dir / "tree.json", tree)

        # 4. discriminate: re-run each plausible patch cold, from a clean state
        from ouro.agent.discriminator import choose

        def rerun(node) -> bool:
            run = tests.cold_with({p: t.encode() for p, t in node.files.items()}, self.test_cmd.pytest_args, timeout)
            ok = run.complete and all(run.outcome(t) == "passed" for t in baseline.target) and \
                not (set(baseline.passing) & run.failed)
            self.traj.log("rerun", {"node": node.id, "stable": ok, "problem": run.problem})
            return ok

        plaus_nodes = [result.nodes[i] for i in result.plausible]
        changed = lambda files: self.workspace.changed_lines(self.workspace.diff(files))  # noqa: E731
        chosen, ranking = None, []
        if len(plaus_nodes) > 1 and hasattr(policy, "choose"):
            # a model policy's discriminator (SWE-Search) picks first; its pick must still re-run clean
            first, _ = policy.choose(plaus_nodes, self.ctx)
            chosen, ranking = choose([n for n in plaus_nodes if n.id == first], changed, rerun)
        if chosen is None:
            chosen, ranking = choose(plaus_nodes, changed, rerun)
        self.traj.log("selection", {"chosen": chosen.id if chosen else None, "ranking": [r.to_dict() for r in ranking]})

        # 5. result
        usage = policy.usage() if hasattr(policy, "usage") else {}
        patch = self.workspace.diff(chosen.files) if chosen else None
        from ouro.sandbox.testrun import escape_control

        # test output is escaped where it is read; this covers a model's own text too (file, commit, terminal)
        explanation = escape_control(self._explain(baseline, loc, chosen, result))
        status = "plausible" if chosen else "not_found"
        if patch:
            atomic_write_text(self.run_dir / "patch.diff", patch)
        atomic_write_text(self.run_dir / "explanation.md", explanation)
        outcome = RepairOutcome(run_id=self.run_id, run_dir=self.run_dir, status=status, patch=patch,
                                explanation=explanation, candidates_validated=result.validated,
                                candidates_to_first_plausible=result.first_plausible_at,
                                seconds=time.monotonic() - self.t0, tokens=int(usage.get("tokens", 0)),
                                cost=float(usage.get("cost", 0.0)), error=usage.get("stopped_by"))
        if cfg.apply and patch:
            outcome.branch = self.workspace.apply_patch(patch, self.run_id, self._commit_message(explanation, chosen))
        self.traj.log("result", {k: v for k, v in outcome.to_dict().items() if k != "explanation"})
        atomic_write_json(self.run_dir / "outcome.json", outcome.to_dict())
        self.store.finish(self.run_id, status=status, seconds=outcome.seconds, candidates_validated=result.validated,
                          first_plausible=result.first_plausible_at,
                          patch_lines=self.workspace.changed_lines(patch) if patch else None)
        return outcome

    def _explain(self, baseline, loc, chosen, result) -> str:
        from ouro.agent.selfdebug import expected_actual, failure_message

        cfg = self.config
        out = [f"# ouro repair {self.run_id}", ""]
        first = (cfg.issue or "").strip().splitlines()
        if first:
            out += [f"Issue: {first[0].lstrip('# ').strip()}", ""]
        out.append(f"## Reproduced\n{len(baseline.target)} failing test(s), {len(baseline.passing)} passing:")
        for t in baseline.target[:8]:
            msg = failure_message(baseline.failing[t])
            ea = expected_actual(msg)
            out.append(f"- `{t}`: " + (f"expected {ea[0]}, got {ea[1]}" if ea else msg))
        out.append("\n## Suspicious locations")
        for s in loc.lines[:5]:
            out.append(f"- {s.file}:{s.line} in {s.function or '<module>'} (score {s.score:.2f}: {', '.join(s.reasons)})")
        if chosen is not None:
            out.append("\n## Fix")
            for e in chosen.edits:
                out.append(f"- {e['description']}")
            obs = chosen.observation
            out.append(f"\nWith this patch the {len(baseline.target)} failing test(s) pass and {obs.tests_passed} visible "
                       f"tests pass in total, with no regression; a fresh re-run of the suite gives the same result. "
                       f"Found after {result.first_plausible_at} validated candidate(s), among {len(result.plausible)} plausible.")
        else:
            out.append(f"\n## No plausible patch\nValidated {result.validated} candidate(s); search stopped: {result.stopped}.")
        out.append(f"\n## Explanation chain ({len(self.ctx.chain.entries)} failed candidates)")
        steps: set[int] = set()
        cur = chosen
        while cur is not None and cur.parent is not None:   # the partial fixes this patch extends
            steps.add(cur.id)
            cur = result.nodes.get(cur.parent)
        out.append(self.ctx.chain.render(before_node=chosen.id if chosen else None, always=steps)
                   or "- (none: the first candidates already passed)")
        return "\n".join(out) + "\n"

    def _commit_message(self, explanation: str, chosen) -> str:
        title = "ouro: " + "; ".join(e["description"].split(" at ")[0] for e in chosen.edits)[:60]
        return f"{title}\n\n{explanation}"
