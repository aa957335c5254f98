"""The repair pipeline (DESIGN.md section 3): Workspace (a copy under the run dir) ->
Environment (sandbox image) -> Reproduce (failing tests) -> Localize (ranked lines) -> Search
(MCTS over policy proposals, each validated in the sandbox) -> Discriminator -> Result files.

`RepairRun(config, policy).execute()` runs it once and never leaves a sandbox behind; every
step writes what it found to the run directory first, so `--resume` continues where it stopped.
"""
from __future__ import annotations

import dataclasses
import json
import random
import re
import time
from dataclasses import asdict
from pathlib import Path
from typing import Callable

from ouro.agent.policies.base import Policy
from ouro.agent.repair import render
from ouro.agent.repair.config import RepairConfig, RepairOutcome, new_run_id
from ouro.sandbox.core.errors import BadInput, OuroError
from ouro.sandbox.core.files import append_jsonl, atomic_write_json, atomic_write_text, read_jsonl

Progress = Callable[[dict], None]
RERUN_FLOOR_S = 5.0


class RepairRun:
    """One execution of the pipeline; `execute` never leaves a sandbox behind.

    policy: who proposes edits; None means the built-in policy with its heuristic order.
    Other policies are built from their names by the caller (agent.cli.factories)."""

    def __init__(self, config: RepairConfig, progress: Progress | None = None, policy: Policy | None = None):
        self.config = config
        self.progress = progress
        self.policy = policy
        self.t0 = time.monotonic()
        self.environment: dict | None = None   # what the sandbox runs (images.Environment.summary)

    def remaining(self) -> float:
        """Seconds left of --time-limit, which bounds the whole run (reproduce and re-runs too)."""
        return self.t0 + self.config.time_limit - time.monotonic()

    # -- set-up ----------------------------------------------------------------------------
    def _prepare(self):
        from ouro.sandbox.core.home import OuroHome
        from ouro.agent.runstore import RunStore

        cfg = self.config
        self.home = OuroHome.resolve(cfg.home).ensure()
        self.store = RunStore(self.home.db)
        if cfg.resume:
            restore_resumed(cfg, self.home, self.store)
        else:
            from ouro.sandbox.core.files import checked_directory

            cfg.repo = checked_directory(cfg.repo)
            cfg.run_id = cfg.run_id or new_run_id()
            cfg.run_dir = Path(cfg.run_dir) if cfg.run_dir else self.home.runs / cfg.run_id
        self.run_id, self.run_dir = cfg.run_id, Path(cfg.run_dir)

        from ouro.sandbox.policy import load_policy

        self.sandbox_policy = load_policy(cfg.policy_file)
        if cfg.backend:
            self.sandbox_policy = self.sandbox_policy.with_backend(cfg.backend)
        self.search_config = cfg.search_config()   # a bad `search` table fails here, before any work
        self.localization_weights = cfg.localization_weights()
        from ouro.sandbox.local_backend import require_unsafe_local

        require_unsafe_local(self.sandbox_policy.backend, cfg.unsafe_local)
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
            cfg.save(self.run_dir)

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
        from ouro.agent.repair.audit import RepairAudit
        from ouro.agent.repair.session import SandboxSession

        self.audit = RepairAudit(self.home, self.run_id, cfg.policy, self.sandbox_policy)
        tests = None
        try:
            tests = SandboxSession.open(self.sandbox_policy, self.workspace.path, self.run_id, self.audit.on_exec,
                                        unsafe_local=cfg.unsafe_local, audit=cfg.audit, home=self.home.root,
                                        request=cfg.env_request())
            env = tests.sandbox.environment
            self.environment = env.summary() if env is not None else None
            if self.environment:
                self.traj.log("environment", self.environment)
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
            try:
                if self.policy is not None:
                    self.policy.close()   # a sandbox the policy opened itself (a scaffold's ordering)
            finally:
                if tests is not None:
                    tests.close()
        return outcome

    def _fail(self, message: str) -> None:
        self.traj.log("result", {"status": "error", "error": message})
        self.store.finish(self.run_id, status="error", error=message, seconds=time.monotonic() - self.t0)

    def _oracles(self, tests, baseline, rmap, py_files):
        """The doctests and issue examples a plausible patch must agree with (agent.oracles),
        decided once on the original code; kept in oracles.json for --resume."""
        from ouro.agent.oracles import Oracles, prepare

        path = self.run_dir / "oracles.json"
        if self.config.resume and path.exists():
            oracles = Oracles.from_dict(json.loads(path.read_text()))
        elif not self.config.oracles:
            return None
        else:
            def run_checks(extra: dict[str, str], args: list[str]):
                limit = min(60.0, max(1.0, self.remaining()))
                from ouro.sandbox.testrun import without_selection

                return tests.candidate({p: t.encode() for p, t in extra.items()},
                                       [*without_selection(self.test_cmd.options()), *args],
                                       limit, test_timeout=min(baseline.per_test_timeout(), limit))

            oracles = prepare(self.config.issue, self.workspace.path, py_files, run_checks, _covered(baseline),
                              rmap.definitions)
            atomic_write_json(path, oracles.to_dict())
        self.traj.log("oracles", oracles.summary())
        return oracles

    def _repair(self, tests) -> RepairOutcome:
        from ouro.agent.localize import localize
        from ouro.sandbox.core.testfiles import is_test_file
        from ouro.agent.repomap import build_repomap
        from ouro.agent.search import TreeSearch
        from ouro.agent.state import Observation, SearchContext
        from ouro.agent.selfdebug import failure_message
        from ouro.agent.testing import Baseline, NothingFails, Validator, first_test_timeout, reproduce

        from ouro.agent.testsetup import detect

        cfg = self.config
        timeout = float(cfg.test_timeout or self.sandbox_policy.limits.wall_time_s)
        py_files = self.workspace.python_files()
        # the project's test set-up: its import path (--pythonpath, a src/ layout) and the test
        # files of a unittest or nose suite; the user's own options come after and win
        self.test_cmd, cmd_path = self.test_cmd.take_pythonpath()
        setup = detect(self.workspace.path, cfg.pythonpath, py_files, also=cmd_path)
        if setup.generated:   # what an install would have written (a version file): never part of a patch
            tests.add_files({rel: text.encode() for rel, text in setup.generated.items()})
        tests.env = setup.env(tests.sandbox.workspace)
        self.test_cmd = self.test_cmd.with_options(setup.pytest_options())

        policy = self.policy or _default_policy(cfg)
        policy.on_event = self.traj.log   # a model policy's own steps (explanations, value scores) join the trajectory

        # 1. reproduce (cached on resume: the search replays against the same baseline)
        baseline_file = self.run_dir / "baseline.json"
        # --time-limit bounds the reproduce run too; each test has its own limit within it
        t_repro = min(timeout, max(1.0, self.remaining()))
        per_test = first_test_timeout(t_repro, cfg.per_test_timeout)
        run_tests = lambda args, t, cov: tests.cold(args, t, coverage=cov, test_timeout=per_test)  # noqa: E731
        if cfg.resume and baseline_file.exists():
            baseline = Baseline(**json.loads(baseline_file.read_text()))
            if baseline.reproduction:
                self.test_cmd = self.test_cmd.including(baseline.reproduction, setup.testpaths)
        else:
            try:
                baseline = reproduce(run_tests, self.test_cmd, t_repro, cfg.issue, project_modules=setup.modules,
                                     root=tests.sandbox.workspace, test_timeout=per_test)
            except NothingFails as e:
                baseline = self._write_reproduction(e, policy, tests, run_tests, setup, t_repro, py_files)
            atomic_write_json(baseline_file, asdict(baseline))
        self.traj.log("reproduce", {"failing": sorted(baseline.failing), "target": baseline.target,
                                    "passing": len(baseline.passing), "seconds": round(baseline.seconds, 3),
                                    "coverage": baseline.coverage is not None,
                                    "environment": baseline.environment, "skipped_modules": baseline.skipped_modules,
                                    "pythonpath": setup.pythonpath, "python_files": setup.python_files,
                                    "timed_out": baseline.timed_out,
                                    "per_test_timeout": round(baseline.per_test_timeout(), 3)})

        # 2. localize
        rmap = build_repomap(self.workspace.path, py_files)
        loc = localize(self.workspace.path, py_files, {t: baseline.failing[t] for t in baseline.target},
                       baseline.passing, baseline.coverage, rmap, cfg.issue, weights=self.localization_weights)
        atomic_write_json(self.run_dir / "localization.json", loc.to_dict())
        self.traj.log("localize", {"lines": [s.to_dict() for s in loc.lines[:10]],
                                   "functions": [list(f) for f in loc.functions[:5]]})

        # 3. search, each plausible patch checked against the doctests and the issue's examples too
        oracles = self._oracles(tests, baseline, rmap, py_files)
        # a file that holds a collected test is a test, whatever its name: never part of a patch
        holding_tests = {n.split("::")[0] for n in [*baseline.passing, *baseline.failing]}
        base_files = {f: self.workspace.read(f) for f in py_files if not is_test_file(f) and f not in holding_tests}
        def relocalize(still_failing: list[str]):
            # the tests a partial fix repaired now count as passing: what is left points at the rest
            now_passing = baseline.passing + [t for t in baseline.target if t not in still_failing]
            return localize(self.workspace.path, py_files, {t: baseline.failing[t] for t in still_failing},
                            now_passing, baseline.coverage, rmap, cfg.issue, weights=self.localization_weights)

        self.ctx = SearchContext(base_files=base_files, target_tests=baseline.target, localization=loc, repomap=rmap,
                                 issue=cfg.issue, rng=random.Random(cfg.seed), relocalize=relocalize)
        # per-candidate timeouts come from the baseline's per-test durations (Baseline.budget_for)
        validator = Validator(run_candidate=tests.candidate, cmd=self.test_cmd, baseline=baseline,
                              timeout=timeout, scan=self.audit.scanner(base_files), remaining=self.remaining,
                              oracles=oracles)
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
        policy.tests_fn = validator       # a model's run_tests tool validates its edits the same way
        # the search ends early enough to re-run a plausible patch cold before the time limit
        left = self.remaining()
        reserve = min(0.2 * left, 5.0 + 2 * baseline.seconds_for(None))
        search_config = dataclasses.replace(self.search_config,
                                            time_limit=min(self.search_config.time_limit, max(0.0, left - reserve)))
        policy.on_exec = self.audit.on_exec   # executions in the policy's own sandbox join the run's audit
        search = TreeSearch(policy, evaluate, self.ctx, search_config, root_obs, on_event=self.traj.log)

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
            # past the time limit a re-run still gets a few seconds: a patch is not chosen unchecked
            limit = min(baseline.budget_for(None, timeout), max(self.remaining(), RERUN_FLOOR_S))
            run = tests.cold_with({p: t.encode() for p, t in node.files.items()}, self.test_cmd.pytest_args, limit,
                                  test_timeout=min(baseline.per_test_timeout(), limit))
            ok = run.complete and all(run.outcome(t) == "passed" for t in baseline.target) and \
                not (set(baseline.passing) & run.failed)
            self.traj.log("rerun", {"node": node.id, "stable": ok, "problem": run.problem})
            return ok

        plaus_nodes = [result.nodes[i] for i in result.plausible]
        changed = lambda files: self.workspace.changed_lines(self.workspace.diff(files))  # noqa: E731
        chosen, ranking = None, []
        first = policy.choose(plaus_nodes, self.ctx) if len(plaus_nodes) > 1 else None
        if first is not None:
            # a model policy's discriminator (SWE-Search) picks first; its pick must still re-run clean
            chosen, ranking = choose([n for n in plaus_nodes if n.id == first], changed, rerun)
        if chosen is None:
            chosen, ranking = choose(plaus_nodes, changed, rerun)
        self.traj.log("selection", {"chosen": chosen.id if chosen else None, "ranking": [r.to_dict() for r in ranking]})

        # 5. result
        usage = policy.usage()
        patch = self.workspace.diff(chosen.files) if chosen else None
        from ouro.sandbox.core.text import escape_control

        # test output is escaped where it is read; this covers a model's own text too (file, commit, terminal)
        explanation = escape_control(render.explanation(self.run_id, cfg.issue, baseline, loc, chosen, result,
                                                        self.ctx.chain, oracles))
        status = "plausible" if chosen else "not_found"
        if patch:
            atomic_write_text(self.run_dir / "patch.diff", patch)
        atomic_write_text(self.run_dir / "explanation.md", explanation)
        outcome = RepairOutcome(run_id=self.run_id, run_dir=self.run_dir, status=status, patch=patch,
                                explanation=explanation, candidates_validated=result.validated,
                                candidates_to_first_plausible=result.first_plausible_at,
                                seconds=time.monotonic() - self.t0, tokens=int(usage.get("tokens", 0)),
                                cost=float(usage.get("cost", 0.0)), error=usage.get("stopped_by"),
                                environment=self.environment)
        if cfg.apply and patch:
            outcome.branch = self.workspace.apply_patch(patch, self.run_id, render.commit_message(explanation, chosen))
        self.traj.log("result", {k: v for k, v in outcome.to_dict().items() if k != "explanation"})
        atomic_write_json(self.run_dir / "outcome.json", outcome.to_dict())
        self.store.finish(self.run_id, status=status, seconds=outcome.seconds, candidates_validated=result.validated,
                          first_plausible=result.first_plausible_at,
                          patch_lines=self.workspace.changed_lines(patch) if patch else None)
        return outcome


    REPRODUCTION_TRIES = 3
    SOURCES_ROOM = 60_000   # characters of the project's code in a reproduction prompt

    def _write_reproduction(self, nothing, policy, tests, run_tests, setup, timeout: float, py_files: list[str]):
        """Every test passes (SWE-bench's strict setting: only the problem statement). A policy
        that can (a language model) writes a test that reproduces the issue first, as
        Agentless does; it counts only if it fails for a behavioural reason, and the model is
        told what happened to each rejected try. The built-in policy cannot: it says so."""
        from ouro.agent.policies.base import ReproductionRequest
        from ouro.agent.testing import NothingFails, ReproduceError, first_test_timeout, reproduce

        cfg = self.config
        folder = next((d for d in ("tests", "test") if (self.workspace.path / d).is_dir()), "")
        path = f"{folder}/test_ouro_reproduction.py" if folder else "test_ouro_reproduction.py"
        sources, example = reproduction_context(self.workspace.path, py_files, cfg.issue, self.SOURCES_ROOM)
        request = ReproductionRequest(issue=cfg.issue, path=path, test_cmd=self.test_cmd.text, sources=sources,
                                      example_test=example)
        for attempt in range(1, self.REPRODUCTION_TRIES + 1):
            code = policy.write_reproduction(request)
            if code is None:
                break
            tests.add_files({path: code.encode()})
            cmd = self.test_cmd.including(path, setup.testpaths)
            try:
                baseline = reproduce(run_tests, cmd, timeout, cfg.issue, project_modules=setup.modules,
                                     root=tests.sandbox.workspace,
                                     test_timeout=first_test_timeout(timeout, cfg.per_test_timeout))
            except NothingFails as e:
                outcome = (f"it does not import here, for an environment reason: {e.skipped[path]}" if path in e.skipped
                           else "it passes on the current code, so it does not show the bug")
            except ReproduceError as e:
                outcome = str(e)
            else:
                # a test of the file, or the file itself when the bug breaks its import
                if all(t == path or t.startswith(path + "::") for t in baseline.target):
                    self.traj.log("reproduction_test", {"attempt": attempt, "path": path, "code": code,
                                                        "target": baseline.target})
                    self.test_cmd = cmd
                    baseline.reproduction = path
                    return baseline
                outcome = "other tests failed with it: " + ", ".join(baseline.target[:3])
            self.traj.log("reproduction_test", {"attempt": attempt, "path": path, "code": code, "rejected": outcome})
            request.tries.append((code, outcome))
        if (self.workspace.path / path).exists():
            (self.workspace.path / path).unlink()
            tests.sandbox.delete_files([path])
        if not request.tries:
            raise ReproduceError(f"{nothing}; the {'built-in' if policy.name == 'builtin' else policy.name} policy repairs from a failing test and the issue "
                                 "gives none (name a failing test, or use a language-model policy, which writes "
                                 "a reproduction test first)", nothing.exit_code)
        raise ReproduceError(f"{nothing}, and none of the {len(request.tries)} reproduction tests the model wrote "
                             f"showed the bug (last: {request.tries[-1][1]})", nothing.exit_code)


def reproduction_context(root: Path, py_files: list[str], issue: str, room: int):
    """What a reproduction prompt shows of the project: (its modules, path -> text, at most
    `room` characters in all; one existing test module (path, text) or None). The modules the
    issue points at come first (the files it names, then those defining what it names:
    agent.localize.issue_file_scores), then the rest, smaller first; a file too big for the
    room left is shown as the definitions the issue names, if any. The example test is the
    test module of the first of those modules, else the one the issue points at most."""
    from ouro.agent.localize import issue_file_scores
    from ouro.agent.repomap import build_repomap
    from ouro.sandbox.core.testfiles import is_test_file

    texts = {}
    for f in py_files:
        try:
            texts[f] = (Path(root) / f).read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
    rmap = build_repomap(Path(root), list(texts))
    scores = issue_file_scores(issue, list(texts), rmap)
    order = sorted(texts, key=lambda f: (-scores[f], len(texts[f]), f))
    sources = {}
    for f in (f for f in order if not is_test_file(f)):
        text = texts[f]
        if len(text) > room and scores[f] > 0:
            text = _excerpt(text, [d for d in rmap.definitions if d.file == f], issue)
        if text and len(text) <= room:
            sources[f] = text
            room -= len(text)
    # the example: the test module of the module the issue points at most (test_utils.py,
    # parameter_test.py), else the test module the issue points at most, else the first
    top = next(iter(sources), "")
    parts = top[:-3].split("/") if top.endswith(".py") else []
    stem = parts[-2] if parts[-1:] == ["__init__"] and len(parts) > 1 else (parts[-1] if parts else "")
    tests = [f for f in py_files if f in texts and is_test_file(f)
             and f.rsplit("/", 1)[-1] not in ("conftest.py", "__init__.py")]
    example = max(tests, key=lambda f: (bool(stem) and stem in f.rsplit("/", 1)[-1], scores[f]), default=None)
    return sources, ((example, texts[example]) if example else None)


def _excerpt(text: str, definitions: list, issue: str) -> str:
    """The top-level definitions of a file whose names the issue mentions, in file order."""
    lines = text.splitlines()
    words = set(re.findall(r"[A-Za-z_]\w+", issue or ""))
    spans = sorted({(d.start_line, d.end_line) for d in definitions if d.name in words and "." not in d.qualname})
    parts = ["\n".join(lines[a - 1:b]) for a, b in spans]
    return ("# ... (only what the issue names)\n" + "\n\n# ...\n\n".join(parts) + "\n") if parts else ""


def _covered(baseline) -> dict[str, set[int]]:
    """file -> the lines the failing tests ran (their coverage in the reproduce run)."""
    out: dict[str, set[int]] = {}
    for t in baseline.target:
        for f, lines in ((baseline.coverage or {}).get(t) or {}).items():
            out.setdefault(f, set()).update(lines)
    return out


def restore_resumed(config: RepairConfig, home=None, store=None) -> None:
    """For --resume: fill config with the saved fields of run config.run_id (its run directory
    is found through the run index, else under the home's runs/)."""
    from ouro.agent.runstore import RunStore
    from ouro.sandbox.core.home import OuroHome

    if not config.run_id:
        raise BadInput("--resume needs a run id")
    home = home or OuroHome.resolve(config.home)
    if not config.run_dir:
        row = (store or RunStore(home.db)).get(config.run_id) if home.db.exists() else None
        config.run_dir = Path(row["run_dir"]) if row else home.runs / config.run_id
    if not (Path(config.run_dir) / "state.json").exists():
        raise BadInput(f"no run {config.run_id!r} to resume in {home.root}")
    config.restore(config.run_dir)


def _default_policy(config: RepairConfig) -> Policy:
    """The built-in policy with its heuristic order: the one policy the agent builds itself."""
    if config.policy != "builtin" or config.ranker != "none":
        raise BadInput(f"policy {config.policy!r} with ranker {config.ranker!r} must be built by the caller "
                       "(ouro.agent.cli.factories.build_policy) and passed to run_repair(policy=...)")
    from ouro.agent.policies.builtin import BuiltinPolicy

    return BuiltinPolicy()


def run_repair(config: RepairConfig, progress: Progress | None = None, policy: Policy | None = None) -> RepairOutcome:
    """Repair config.repo; progress (if given) receives a dict after every validated candidate."""
    return RepairRun(config, progress, policy).execute()
