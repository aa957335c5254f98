"""`ouro bench` and `ouro report` (stdlib-only at import: the CLI must start fast)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ouro.agent.cli.common import add_backend, add_policy_file, finish_command, home_of, print_json
from ouro.sandbox.core.errors import EXIT_FAILED, EXIT_OK, BadInput

BENCH_EPILOG = """The suite is a directory of tasks (each with task.toml, ISSUE.md, repo/, hidden/) or a
SWE-bench style .jsonl file; see docs/task-suite.md and docs/bench.md.
Results go to --out (default .ouro/bench/<suite name>): results.json, predictions.jsonl,
tasks/<id>.json. Exit codes: 0 every task ran, 1 some task ended in error, 2 bad input,
3 a precondition not met (e.g. Ray not installed), 130 interrupted (rerun with --resume).

SWE-bench instances run in one of two settings: strict (the default: only the problem
statement; the instance's test_patch is applied only to judge) or --visible-tests (the
test_patch is applied before the repair too). Judging runs the instance's own test_cmd
with its FAIL_TO_PASS and PASS_TO_PASS tests, with a src/ layout's folder on the path."""


def register(sub) -> None:
    p = sub.add_parser("bench", help="repair every task of a suite and judge the patches on hidden tests",
                       description="Repair every task of a suite, judge each patch on hidden tests in a fresh "
                                   "sandbox, and print a table.",
                       epilog=BENCH_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("suite", help="suite directory or .jsonl file of SWE-bench style instances")
    p.add_argument("--policy", default="builtin", help="proposal policy: builtin | litellm:<model> | local:<path>")
    p.add_argument("--workers", type=int, default=1, help="tasks run in parallel (process pool; 0 = inline)")
    p.add_argument("--ray", metavar="ADDRESS", help="run tasks on Ray: 'auto', 'local' or a cluster address")
    p.add_argument("--budget", type=int, help="candidate patches validated per task (default: the task's)")
    p.add_argument("--resume", action="store_true", help="skip tasks already finished in --out")
    p.add_argument("--out", help="bench directory (default: <home>/bench/<suite name>)")
    add_backend(p)
    p.add_argument("--seed", type=int, default=0, help="seed passed to every repair (results repeat given it)")
    p.add_argument("--task", action="append", default=[], metavar="ID", help="run only this task (repeatable)")
    p.add_argument("--visible-tests", action="store_true",
                   help="SWE-bench instances: apply each instance's test_patch before the repair, so its failing "
                        "tests exist and reproduce (the usual setting for repair tools that need a failing test). "
                        "Without it, the strict setting: the agent gets only the problem statement; the built-in "
                        "policy then has no failing test and says so, a language-model policy writes a "
                        "reproduction test first")
    add_policy_file(p)
    finish_command(p, cmd_bench)

    r = sub.add_parser("report", help="write a self-contained HTML report of a repair run or a bench run",
                       description="Write one static HTML page (no external URLs) for a repair run "
                                   "(run id or run directory) or a bench directory.")
    r.add_argument("target", metavar="RUN_ID_OR_BENCH_DIR")
    r.add_argument("--html", required=True, metavar="OUT.html", help="where to write the page")
    finish_command(r, cmd_report)


def cmd_bench(args) -> int:
    from ouro.agent.bench.run import BenchConfig, STATUS_LABELS, format_table, run_bench
    from ouro.agent.cli.factories import build_policy

    if args.budget is not None and args.budget <= 0:
        raise BadInput(f"--budget must be positive, got {args.budget}")
    if args.workers < 0:
        raise BadInput(f"--workers must be 0 or more, got {args.workers}")
    from ouro.sandbox.local_backend import require_unsafe_local

    require_unsafe_local(args.backend, args.unsafe_local)
    cfg = BenchConfig(
        suite=Path(args.suite), policy=args.policy, workers=args.workers, ray=args.ray, budget=args.budget,
        resume=args.resume, out=Path(args.out) if args.out else None, backend=args.backend,
        policy_file=Path(args.policy_file).resolve() if args.policy_file else None, seed=args.seed,
        home=home_of(args).root, unsafe_local=args.unsafe_local, only=tuple(args.task),
        policy_factory=build_policy, visible_tests=args.visible_tests,
    )

    def progress(r: dict) -> None:
        if not args.json:
            print(f"  {r['task_id']}: {STATUS_LABELS.get(r['status'], r['status'])} "
                  f"({r.get('candidates_validated') or 0} candidates, {r.get('wall_s') or 0:.1f}s)",
                  file=sys.stderr, flush=True)

    outcome = run_bench(cfg, progress)
    doc = outcome.doc
    if args.json:
        print_json({**doc, "out": str(outcome.out), "ran": outcome.ran, "skipped": outcome.skipped,
                    "wall_s": round(outcome.wall_s, 3)})
    else:
        if outcome.skipped:
            print(f"resumed: skipped {len(outcome.skipped)} finished task(s): {', '.join(outcome.skipped)}")
        print(format_table(doc))
        print(f"ran {len(outcome.ran)} task(s) in {outcome.wall_s:.1f}s on {outcome.executor} executor; "
              f"results in {outcome.out}")
    return EXIT_FAILED if doc["summary"]["error"] else EXIT_OK


def cmd_report(args) -> int:
    from ouro.agent.report import write_report

    path, kind = write_report(args.target, Path(args.html), home=home_of(args))
    if args.json:
        print_json({"html": str(path), "kind": kind})
    else:
        print(f"wrote {kind} report {path}")
    return EXIT_OK
