"""`ouro improve`: recursive-improver experiments (STOP) and scaffold self-improvement."""
from __future__ import annotations

import sys
from pathlib import Path

from ouro.agent.cli.common import add_backend, add_home, add_json, home_of, print_json
from ouro.sandbox.core.errors import BadInput, PreconditionFailed


def register(sub) -> None:
    p = sub.add_parser("improve", help="recursive-improver experiments (an improver that improves itself)",
                       description="Run STOP-style recursive self-improvement experiments with every generated "
                                   "program in a sandbox, and report them.")
    isub = p.add_subparsers(dest="improve_command", metavar="ACTION")

    r = isub.add_parser("run", help="run (or --resume) an experiment from a TOML config",
                        description="Run an experiment. Exit 0 when it finished, 2 for a bad config, "
                                    "3 when the sandbox cannot start, 130 when interrupted (resume with --resume).")
    r.add_argument("config", help="experiment TOML (see improvers/experiments/lpn-offline.toml)")
    r.add_argument("--workers", type=int, default=None, help="parallel jobs in a local process pool (default: CPU count; 0 runs inline)")
    r.add_argument("--ray", metavar="ADDRESS", help="run jobs on a Ray cluster ('auto', 'local' or ray://host:port)")
    r.add_argument("--resume", action="store_true", help="continue an interrupted run at the iteration where it stopped")
    r.add_argument("--run-id", help="run directory name under .ouro/runs (default: the experiment's name)")
    add_backend(r, help="override the config's sandbox backend")
    add_home(r)
    add_json(r)
    r.set_defaults(func=_run)

    rep = isub.add_parser("report", help="write the plot and tables of a run",
                          description="Write report/meta_utility.png, report/transfer.md and report/violations.md.")
    rep.add_argument("run", help="run id (under .ouro/runs) or a run directory")
    add_home(rep)
    add_json(rep)
    rep.set_defaults(func=_report)

    s = isub.add_parser("scaffold", help="let a meta-improver rewrite the repair agent's candidate ordering",
                        description="Propose rewrites of improvers/scaffold_target.py, score each on a training split "
                                    "of repos/, and install one only if it also holds on the held-out split. "
                                    "Exit 0 when a rewrite was installed, 1 when none was.")
    s.add_argument("--candidate", action="append", default=[], metavar="FILE",
                   help="a rewrite to consider (repeatable); default: mutants from the built-in mutation model")
    s.add_argument("--n", type=int, default=4, help="mutants to propose when no --candidate is given")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--train", default="", help="comma-separated training repos (default: the first half of repos/)")
    s.add_argument("--heldout", default="", help="comma-separated held-out repos (default: the second half)")
    s.add_argument("--target", help="the ordering file in use (default: improvers/scaffold_target.py)")
    add_backend(s, default="docker")
    s.add_argument("--budget", type=int, default=40, help="candidates the repair agent may validate per repo")
    add_home(s)
    add_json(s)
    s.set_defaults(func=_scaffold)

    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])


def _progress(msg: str) -> None:
    print(f"ouro improve: {msg}", file=sys.stderr, flush=True)


def _run(args) -> int:
    from dataclasses import asdict, replace
    import json

    from ouro.sandbox.core.executor import default_workers, make_executor
    from ouro.improvers.experiment import Experiment, ExperimentConfig

    config = ExperimentConfig.load(args.config)
    if args.backend:
        config = replace(config, sandbox=replace(config.sandbox, backend=args.backend))
    if args.unsafe_local:
        config = replace(config, sandbox=replace(config.sandbox, unsafe_local=True))
    from ouro.sandbox.local_backend import require_unsafe_local

    require_unsafe_local(config.sandbox.backend, config.sandbox.unsafe_local)
    home = home_of(args).ensure()
    run_dir = home.runs / (args.run_id or config.name)
    state = run_dir / "state.json"
    if args.resume:
        if not state.exists():
            raise PreconditionFailed(f"nothing to resume at {run_dir} (no finished iteration)")
        saved = json.loads((run_dir / "config.json").read_text())
        if saved != json.loads(json.dumps(asdict(config))):
            raise BadInput(f"{args.config} differs from the config {run_dir.name} was started with; resume needs the same")
    elif run_dir.exists() and any(run_dir.iterdir()):
        raise BadInput(f"{run_dir} already exists: pass --resume to continue it or --run-id for a new run")
    _preflight(config)
    run_dir.mkdir(parents=True, exist_ok=True)
    workers = default_workers() if args.workers is None else args.workers
    executor = make_executor(workers=workers, ray=args.ray)
    try:
        summary = Experiment(config, run_dir, executor, home=home, progress=_progress).run(resume=args.resume)
    finally:
        executor.close()
    if args.json:
        print_json(summary)
    else:
        _print_summary(summary)
    return 0


def _preflight(config) -> None:
    """Open one sandbox before starting, so a missing backend is one clear line, not 100 failed jobs."""
    from ouro.sandbox.base import SandboxError

    try:
        sb = config.sandbox.open()
    except (SandboxError, ModuleNotFoundError, OSError) as e:
        raise PreconditionFailed(f"cannot start a {config.sandbox.backend} sandbox: {e}") from None
    except ValueError as e:
        raise BadInput(str(e)) from None
    sb.close()


def _print_summary(summary: dict) -> None:
    for it in summary["iterations"]:
        print(f"iteration {it['iteration']}: {it['accepted']}  meta-utility {it['meta_utility']:.4f} "
              f"[{it['ci'][0]:.4f}, {it['ci'][1]:.4f}]")
    for r in summary["transfer"]:
        s, f = r["seed_improver"], r["final_improver"]
        print(f"transfer {r['task']:<14} seed {s['mean']:.4f} [{s['ci'][0]:.4f}, {s['ci'][1]:.4f}]  "
              f"final {f['mean']:.4f} [{f['ci'][0]:.4f}, {f['ci'][1]:.4f}]  (n={r['n_seeds']})")
    bad = ", ".join(f"{v['kind']}={v['count']}" for v in summary["violations"] if v["count"]) or "none"
    print(f"programs run: {summary['programs_run']}; violations: {bad}")
    print(f"plot: {summary['plot']}\ntables: {summary['transfer_table']} {summary['violation_table']}")


def _report(args) -> int:
    from pathlib import Path

    from ouro.improvers.report import write_report

    run_dir = Path(args.run)
    if not run_dir.is_dir():
        run_dir = home_of(args).runs / args.run
    if not run_dir.is_dir():
        raise BadInput(f"no run {args.run!r} (neither a directory nor a run id under {home_of(args).runs})")
    summary = write_report(run_dir)
    if args.json:
        print_json(summary)
    else:
        _print_summary(summary)
    return 0


def _scaffold(args) -> int:
    import json

    from ouro.improvers.scaffold import REPOS, TARGET, ScaffoldConfig, short_sha, improve_scaffold
    from ouro.sandbox.core.executor import make_executor

    progress = _progress

    repos = sorted(p.name for p in REPOS.iterdir() if (p / "task.toml").exists()) if REPOS.is_dir() else []
    train = [r for r in args.train.split(",") if r] or repos[: len(repos) // 2]
    heldout = [r for r in args.heldout.split(",") if r] or repos[len(repos) // 2:]
    for r in train + heldout:
        if not (REPOS / r / "task.toml").exists() and not (Path(r) / "task.toml").exists():
            raise BadInput(f"no bundled repo {r!r} (known: {', '.join(repos)})")
    if set(train) & set(heldout):
        raise BadInput(f"a repo cannot be in both splits: {', '.join(sorted(set(train) & set(heldout)))}")
    from ouro.sandbox.local_backend import require_unsafe_local

    require_unsafe_local(args.backend, args.unsafe_local)
    candidates = None
    if args.candidate:
        candidates = []
        for path in args.candidate:
            try:
                candidates.append(Path(path).read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError) as e:
                raise BadInput(f"--candidate {path}: {e}") from None
    cfg = ScaffoldConfig(train=train, heldout=heldout, target=Path(args.target) if args.target else TARGET,
                         backend=args.backend, budget=args.budget, seed=args.seed, n_mutants=args.n,
                         unsafe_local=args.unsafe_local)
    home = home_of(args).ensure()
    run_dir = home.runs / f"scaffold-{args.seed}-{short_sha(json.dumps([train, heldout, [short_sha(c) for c in candidates or []]]))}"
    ex = make_executor(workers=1)
    try:
        outcome = improve_scaffold(cfg, run_dir, ex, candidates, progress)
    finally:
        ex.close()
    if args.json:
        print_json(dict(outcome.to_dict(), run_dir=str(run_dir)))
    else:
        for r in outcome.candidates:
            tr = r["train"]
            print(f"{r['candidate']} {r['sha']}: {r['verdict']}" + (f" (train fixed {tr['fixed']}, utility {tr['utility']})" if tr else ""))
        print(f"in use: {'replaced by ' + outcome.installed if outcome.installed else 'unchanged'} ({cfg.target})")
    return 0 if outcome.installed else 1
