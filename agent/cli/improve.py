"""`ouro improve`: recursive-improver experiments (STOP) and scaffold self-improvement."""
from __future__ import annotations

import sys
from pathlib import Path

from ouro.agent.cli.common import add_backend, finish_command, home_of, print_json
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
    finish_command(r, _run)

    rep = isub.add_parser("report", help="write the plot and tables of a run",
                          description="Write the report of a run: for an experiment report/meta_utility.png, "
                                      "report/transfer.md and report/violations.md; for a scaffold run report/table.md, "
                                      "report/utility.png and report/versions.md (every version's diff).")
    rep.add_argument("run", help="run id (under .ouro/runs) or a run directory")
    rep.add_argument("--diffs", action="store_true", help="scaffold runs: also print every version's diff")
    finish_command(rep, _report)

    s = isub.add_parser("scaffold", help="let the seed improver rewrite ouro's own repair scaffold, behind an honest gate",
                        description="Run the STOP seed improver on the repair agent's scaffold (improvers/scaffold_target.py: "
                                    "its candidate ordering, search, localization and template settings), with real repairs "
                                    "judged on hidden tests as the utility. Tasks are split into train (the improver sees "
                                    "these), validation (selects the final version) and test (measured once at the end); "
                                    "the final version is installed only when its gain on the test split has a paired "
                                    "bootstrap 95%% interval above zero. Exit 0 when a rewrite was installed, 1 when none "
                                    "held, 2 for a bad config, 3 when a sandbox cannot start, 130 when interrupted "
                                    "(resume with --resume).")
    s.add_argument("config", help="scaffold run TOML (see improvers/experiments/scaffold-bundled.toml)")
    s.add_argument("--resume", action="store_true", help="continue an interrupted run where it stopped")
    s.add_argument("--run-id", help="run directory name under .ouro/runs (default: the config's name)")
    s.add_argument("--workers", type=int, default=1, help="repairs in parallel (default 1: repairs are CPU-bound)")
    s.add_argument("--target", help="the scaffold file in use, which a rewrite that holds replaces "
                                    "(default: improvers/scaffold_target.py)")
    add_backend(s, help="override the config's repair backend")
    finish_command(s, _scaffold)

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
    _show_summary(args, summary)
    return 0


def _preflight(config) -> None:
    """Open one sandbox before starting, so a missing backend is one clear line, not 100 failed jobs."""
    from ouro.sandbox.base import SandboxError

    try:
        sb = config.sandbox.open()   # where the improver runs (repairs open their own: a missing one fails each)
    except (SandboxError, ModuleNotFoundError, OSError) as e:
        raise PreconditionFailed(f"cannot start a {config.sandbox.backend} sandbox: {e}") from None
    except ValueError as e:
        raise BadInput(str(e)) from None
    sb.close()


def _show_summary(args, summary: dict) -> None:
    """An experiment's summary as `improve run` and `improve report` both end: JSON with --json, else text."""
    if args.json:
        print_json(summary)
    else:
        _print_summary(summary)


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
    if (run_dir / "split.json").exists():   # a scaffold run (improvers.scaffold_improve)
        from ouro.improvers.scaffold_report import write_report as write_scaffold_report

        summary = write_scaffold_report(run_dir)
        _show_scaffold(args, summary, run_dir, diffs=args.diffs)
        return 0
    summary = write_report(run_dir)
    _show_summary(args, summary)
    return 0


def _scaffold(args) -> int:
    from dataclasses import replace

    from ouro.improvers.scaffold import TARGET
    from ouro.improvers.scaffold_improve import ScaffoldRun, ScaffoldRunConfig
    from ouro.sandbox.core.executor import make_executor
    from ouro.sandbox.local_backend import require_unsafe_local

    config = ScaffoldRunConfig.load(args.config)
    if args.backend:
        config = replace(config, backend=args.backend)
    if args.unsafe_local:
        config = replace(config, unsafe_local=True)
    require_unsafe_local(config.backend, config.unsafe_local)
    home = home_of(args).ensure()
    run_dir = home.runs / (args.run_id or config.name)
    if args.resume and not (run_dir / "state.json").exists():
        raise PreconditionFailed(f"nothing to resume at {run_dir} (the seed was never scored)")
    if not args.resume and run_dir.exists() and any(run_dir.iterdir()):
        raise BadInput(f"{run_dir} already exists: pass --resume to continue it or --run-id for a new run")
    _preflight(config)
    executor = make_executor(workers=args.workers)
    try:
        target = Path(args.target) if args.target else TARGET
        if not target.is_file():
            raise BadInput(f"--target {target}: no such file")
        summary = ScaffoldRun(config, run_dir, executor, home=home, target=target,
                              progress=_progress).run(resume=args.resume)
    finally:
        executor.close()
    _show_scaffold(args, summary, run_dir, diffs=False)
    return 0 if summary.get("installed") else 1


def _show_scaffold(args, summary: dict, run_dir, diffs: bool) -> None:
    """A scaffold run's summary as `improve scaffold` and `improve report` both end: JSON with --json, else text."""
    if args.json:
        print_json(summary)
    else:
        _print_scaffold(summary, run_dir, diffs=diffs)


def _print_scaffold(summary: dict, run_dir, diffs: bool) -> None:
    from ouro.improvers.scaffold_report import table_lines, verdict_line

    for it in summary["iterations"]:
        print(f"iteration {it['iteration']}: {it['current']}  train utility {it['train']['utility']:.4f}  "
              f"validation utility {it['validation']['utility']:.4f}")
    if summary.get("finished"):
        import json

        final = json.loads((run_dir / "final.json").read_text())
        print("\n".join(table_lines(final)))
        print(verdict_line(final))
        print(f"table: {summary['table_file']}")
    print(f"plot: {summary['plot']}\nversions and their diffs: {summary['versions_file']}")
    if diffs:
        print((run_dir / "report" / "versions.md").read_text())
