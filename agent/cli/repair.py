"""`ouro repair` and `ouro runs list|show`."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ouro.agent.cli.common import (add_backend, add_env_options, add_policy_file, env_request_of, finish_command,
                                   home_of, print_json)
from ouro.agent.repair.config import RepairConfig
from ouro.sandbox.core.errors import BadInput
from ouro.sandbox.core.files import checked_directory

REPAIR_EPILOG = """exit codes:
  0    a plausible patch was found (printed; with --apply, committed on branch ouro/<run-id>)
  1    the search ran and found no plausible patch, or the run failed
  2    bad input: PATH does not exist or is not a directory, the issue file is missing,
       --test-cmd is not pytest, a dirty tree without --allow-dirty, --backend local
       without --unsafe-local, a bad --policy-file, an unknown run id for --resume, a
       requirement outside the package index without --allow-external-deps, no Python
       that fits the project (pass --python or --image)
  3    could not reproduce: every test passes, or every failure is an environment problem
       (a module not installed, a name this Python removed, a missing executable or fixture,
       pytest could not start); the message names the error and how many tests it hit;
       or the sandbox's environment could not be built (pip's own message says why)
  4    no tests found (pass --test-cmd to say how to run them)
  5    the tests hang: the suite did not finish within --test-timeout (or --time-limit),
       although each test had its own limit (--per-test-timeout); a single test that
       hangs is a failing test, and the repair goes on
  6    the code does not import: no test could be collected (the message keeps the exception)
  130  interrupted (Ctrl-C); resume later with --resume RUN_ID

With --json, every exit prints one JSON object on stdout: the outcome for 0 and 1,
{"status": "error", "exit_code": N, "error": MESSAGE} for the others.

A test module that does not import is left out with a warning and the rest of the suite runs.
Nothing is written to PATH unless --apply is given; everything else goes to the run
directory (.ouro/runs/<run-id>/: patch.diff, explanation.md, trajectory.jsonl, tree.json)."""


def register(sub) -> None:
    from ouro.agent.testing import DEFAULT_TEST_TIMEOUT

    p = sub.add_parser("repair", help="repair a repository issue (reproduce, localize, search, patch)",
                       description="Repair a Python repository: reproduce the failure in a sandbox, localize it, "
                                   "search candidate patches (MCTS), and print the chosen diff with its explanation.",
                       epilog=REPAIR_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("path", nargs="?", help="the repository (a git repository or a plain directory), "
                                           "or a bundled task directory such as repos/cfgparse")
    issue = p.add_mutually_exclusive_group()
    issue.add_argument("--issue-file", help="file holding the issue text")
    issue.add_argument("--issue", help="the issue text itself")
    p.add_argument("--test-cmd", help="how to run the tests (default: the task's, else `python -m pytest`); "
                                      "pytest, or a unittest/nose command that pytest runs")
    p.add_argument("--pythonpath", action="append", metavar="DIR",
                   help="a directory of the repository to put on the tests' import path (repeatable; "
                        "default: src/ when the project has a src/ layout)")
    p.add_argument("--policy", default=RepairConfig.policy, help="who proposes edits: builtin | litellm:<model> | local:<path>")
    p.add_argument("--budget", type=int, default=None,
                   help=f"most candidate patches to validate (default {RepairConfig.budget}, or the task's)")
    p.add_argument("--time-limit", type=float, default=RepairConfig.time_limit,
                   help=f"seconds for the whole run, reproducing the failure and re-running the chosen patch "
                        f"included (default {RepairConfig.time_limit:g})")
    p.add_argument("--test-timeout", type=float, default=None,
                   help="seconds one full test run may take (default: the policy's wall_time_s)")
    p.add_argument("--per-test-timeout", type=float, default=None,
                   help=f"seconds one test may take when the failure is reproduced (default {DEFAULT_TEST_TIMEOUT:g}); a test past it "
                        "fails with reason timeout and the repair goes on. Later runs give each test ten times "
                        "what the slowest finished test took (at least 1s, at most this)")
    add_backend(p)
    add_env_options(p)
    p.add_argument("--seed", type=int, default=0, help="search seed (the same seed gives the same search)")
    p.add_argument("--ranker", default=RepairConfig.ranker,
                   help="built-in policy's candidate order: none (default: the heuristic, template prior x "
                        "suspiciousness x evidence), auto (the learned ranker checkpoint shipped with ouro; "
                        "experimental, it does not beat the heuristic on the bundled repositories yet), scaffold "
                        "(the scaffold `ouro improve scaffold` maintains: its ordering, run in a sandbox, and its "
                        "search, localization and template settings), or a checkpoint path")
    p.add_argument("--no-oracles", action="store_true",
                   help="call a patch plausible on the visible tests alone: do not also check it against the doctests "
                        "of the code it edits and the examples in the issue (`f(x)` should return 3, a >>> session)")
    p.add_argument("--apply", action="store_true", help="commit the patch on a new branch ouro/<run-id> in PATH")
    p.add_argument("--allow-dirty", action="store_true", help="repair a repository with uncommitted changes")
    p.add_argument("--run-dir", help="where to put this run's files (default .ouro/runs/<run-id>)")
    p.add_argument("--resume", metavar="RUN_ID", help="continue an interrupted run without re-validating candidates")
    p.add_argument("--max-plausible", type=int, default=RepairConfig.max_plausible,
                   help=f"stop after this many plausible patches (default {RepairConfig.max_plausible})")
    p.add_argument("--search-config", metavar="TOML",
                   help="search settings: a [search] table of agent.search.SearchConfig fields (exploration, "
                        "depth_penalty, max_children, max_depth, ... and a [search.value] table of value weights), "
                        "and a [localization] table of agent.localize.LocalizationWeights fields (spectrum, "
                        "traceback, traceback_decay, frame_function, test_mention, issue_mention)")
    llm = p.add_argument_group("language-model policies (litellm:MODEL, local:DIR)")
    llm.add_argument("--api-base", help="OpenAI-compatible base URL (a local vLLM/llama.cpp/Ollama, `ouro llm replay`)")
    llm.add_argument("--max-cost", type=float, help="stop the run once the model calls cost this many US dollars")
    llm.add_argument("--max-tokens", type=int, help="stop the run once the model calls used this many tokens")
    llm.add_argument("--max-calls", type=int, help="stop the run after this many model calls")
    llm.add_argument("--tool-calling", choices=["auto", "on", "off"], default="auto",
                     help="act through the API's tool calls (on) or ```tool text blocks (off); auto asks litellm")
    llm.add_argument("--debate", metavar="AGENTS,ROUNDS",
                     help="the discriminator as a debate of AGENTS models over ROUNDS rounds (default 1,1)")
    add_policy_file(p)
    finish_command(p, cmd_repair)

    runs = sub.add_parser("runs", help="list and show repair runs")
    rsub = runs.add_subparsers(dest="runs_command", metavar="SUBCOMMAND")
    lp = rsub.add_parser("list", help="list runs, newest first")
    lp.add_argument("--limit", type=int, default=30)
    finish_command(lp, cmd_runs_list)
    sp = rsub.add_parser("show", help="show one run: status, patch, explanation")
    sp.add_argument("run_id")
    finish_command(sp, cmd_runs_show)
    runs.set_defaults(func=lambda a: (runs.print_help(), 2)[1])


def _task_defaults(path: Path) -> dict:
    """A task directory (repos/<name>, or its repo/ with task.toml one level up) supplies
    test_cmd and budget; a broken task.toml is an error naming the problem."""
    from ouro.agent.bench.suite import TaskProblem, load_task_dir

    for task_dir in (path, path.parent):
        if (task_dir / "task.toml").is_file():
            try:
                task = load_task_dir(task_dir)
            except TaskProblem as e:
                raise BadInput(str(e)) from None
            return {"test_cmd": task.test_cmd, "budget": task.budget}
    return {}


def _search_tables(path: str | None) -> tuple[dict, dict]:
    """The [search] and [localization] tables of --search-config, checked now (one line, before any work)."""
    if not path:
        return {}, {}
    from ouro.agent.localize import LocalizationWeights
    from ouro.agent.search import SearchConfig
    from ouro.sandbox.core.schema import from_table, load_toml

    data = load_toml(path, "search config")
    unknown = set(data) - {"search", "localization"}
    if unknown:
        raise BadInput(f"{path}: unknown section {sorted(unknown)[0]!r} (known: search, localization)")
    search, localization = data.get("search", {}), data.get("localization", {})
    from_table(SearchConfig, search, f"{path}: search")
    from_table(LocalizationWeights, localization, f"{path}: localization")
    return search, localization


def cmd_repair(args) -> int:
    from ouro.agent.cli.factories import build_policy, checked_ranker
    from ouro.agent.repair import run_repair

    if args.resume:
        config = RepairConfig(repo=Path("."), run_id=args.resume, resume=True,
                              home=Path(args.home) if getattr(args, "home", None) else None)
    else:
        if not args.path:
            raise BadInput("give the repository PATH (or --resume RUN_ID)")
        path = checked_directory(args.path)
        if (path / "task.toml").is_file() and (path / "repo").is_dir():
            path = path / "repo"  # a bundled task (repos/<name>): its repo/, never its hidden tests
        if args.issue_file:
            f = Path(args.issue_file)
            if not f.is_file():
                raise BadInput(f"issue file {f} does not exist")
            issue = f.read_text(encoding="utf-8", errors="replace")
        elif args.issue is not None:
            issue = args.issue
        else:
            issue = ""
            for cand in (path / "ISSUE.md", path.parent / "ISSUE.md"):
                if cand.is_file():
                    issue = cand.read_text(encoding="utf-8", errors="replace")
                    break
        task = _task_defaults(path)
        budget = args.budget if args.budget is not None else (task.get("budget") or RepairConfig.budget)
        if budget < 1:
            raise BadInput("--budget must be at least 1")
        ranker = checked_ranker(args.ranker)   # before any sandbox work, not after reproducing
        for flag in ("time_limit", "test_timeout", "per_test_timeout"):
            value = getattr(args, flag)
            if value is not None and not value > 0:
                raise BadInput(f"--{flag.replace('_', '-')} must be a positive number of seconds")
        request = env_request_of(args)
        config = RepairConfig(
            repo=path, issue=issue, test_cmd=args.test_cmd or task.get("test_cmd"), policy=args.policy,
            budget=int(budget), time_limit=args.time_limit, backend=args.backend, seed=args.seed,
            home=Path(args.home) if getattr(args, "home", None) else None,
            run_dir=Path(args.run_dir) if args.run_dir else None, allow_dirty=args.allow_dirty, apply=args.apply,
            unsafe_local=args.unsafe_local, policy_file=Path(args.policy_file) if args.policy_file else None,
            test_timeout=args.test_timeout, per_test_timeout=args.per_test_timeout,
            max_plausible=args.max_plausible, llm_options=_llm_options(args),
            pythonpath=_pythonpath(path, args.pythonpath),
            ranker=ranker, python=request.python, deps=list(request.deps),
            image=request.image, allow_external_deps=request.allow_external, oracles=not args.no_oracles)
        config.search, config.localization = _search_tables(args.search_config)
    import signal

    def _terminate(signum, frame):
        # SIGTERM unwinds like Ctrl-C, so the sandbox and its warm worker are closed
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _terminate)
    if config.resume:   # the run's saved names, before building what they name
        from ouro.agent.repair.pipeline import restore_resumed

        restore_resumed(config)
        config.apply = args.apply
    policy = build_policy(config)
    display = None if args.json else _Display()
    try:
        outcome = run_repair(config, progress=display.update if display else None, policy=policy)
    finally:
        if display:
            display.stop()
    if args.json:
        print_json(outcome.to_dict())
    else:
        _print_outcome(outcome)
    return 0 if outcome.status == "plausible" else 1


def _pythonpath(repo: Path, dirs: list[str] | None) -> list[str] | None:
    """--pythonpath values as repository-relative folders (None: let the repair detect them)."""
    if not dirs:
        return None
    out = []
    for d in (part for value in dirs for part in value.split(":") if part):
        p = Path(d)
        rel = p.resolve().relative_to(repo.resolve()) if p.is_absolute() and p.resolve().is_relative_to(repo.resolve()) else p
        if rel.is_absolute() or ".." in rel.parts:
            raise BadInput(f"--pythonpath {d}: must be a folder inside the repository")
        if not (repo / rel).is_dir():
            raise BadInput(f"--pythonpath {d}: no such folder in {repo}")
        out.append(rel.as_posix())
    return out


def _llm_options(args) -> dict:
    opts = {"api_base": args.api_base, "max_cost": args.max_cost, "max_tokens": args.max_tokens,
            "max_calls": args.max_calls}
    for name in ("max_cost", "max_tokens", "max_calls"):
        if opts[name] is not None and opts[name] <= 0:
            raise BadInput(f"--{name.replace('_', '-')} must be positive")
    if args.debate:
        try:
            agents, rounds = (int(x) for x in args.debate.split(","))
        except ValueError:
            raise BadInput(f"--debate {args.debate!r}: expected AGENTS,ROUNDS, e.g. 3,2") from None
        if agents < 1 or rounds < 1:
            raise BadInput("--debate needs at least one agent and one round")
        opts.update(debate_agents=agents, debate_rounds=rounds)
    if args.tool_calling != "auto":
        opts["use_tools"] = args.tool_calling == "on"
    opts = {k: v for k, v in opts.items() if v is not None}
    if opts and args.policy == "builtin":
        raise BadInput("--api-base/--max-cost/--max-tokens/--max-calls/--debate need --policy litellm:MODEL or local:DIR")
    return opts


class _Display:
    """A one-line live status on stderr (rich), so stdout keeps only the result."""

    def __init__(self):
        from rich.console import Console
        from rich.live import Live

        self.console = Console(stderr=True)
        self.live = Live(console=self.console, refresh_per_second=4, transient=True) if self.console.is_terminal else None
        if self.live:
            self.live.start()
        self.last_print = 0.0

    def update(self, p: dict) -> None:
        from rich.text import Text

        line = (f"candidates {p['validated']} ({p['fresh']} run)  plausible {p['plausible']}  "
                f"best value {p['best_value']:.2f}  elapsed {p['elapsed']:.0f}s  last: {p['last'][:70]}")
        if self.live:
            self.live.update(Text(line))
        elif p["validated"] % 10 == 0 or p["plausible"]:
            # not a terminal (CI, pipes): a plain line every tenth candidate
            if p["validated"] != self.last_print:
                self.last_print = p["validated"]
                print(line, file=sys.stderr, flush=True)

    def stop(self) -> None:
        if self.live:
            self.live.stop()


def _print_outcome(o) -> None:
    from rich.console import Console
    from ouro.sandbox.core.text import one_line
    from rich.markdown import Markdown
    from rich.syntax import Syntax

    con = Console()
    if o.patch:
        con.print(Syntax(o.patch, "diff", theme="ansi_dark", background_color="default"))
    con.print(Markdown(o.explanation))
    first = f", first plausible after {o.candidates_to_first_plausible}" if o.candidates_to_first_plausible else ""
    con.print(f"[bold]{o.status}[/bold]: {o.candidates_validated} candidates validated{first}, {o.seconds:.1f}s; "
              f"run {o.run_id} in {o.run_dir}" + (f"; committed on branch {o.branch}" if o.branch else ""))
    if o.environment:
        # the project's files and pip's messages (which a setup.py writes) are not ours: escaped
        env = o.environment
        con.print(one_line(f"sandbox: {env['python_from']} ({env['python_why']}); {len(env['installed'])} "
                           "packages installed"), markup=False, highlight=False)
        for note in env["notes"]:
            con.print(one_line(f"note: {note}"), markup=False, highlight=False)
    if o.error:  # e.g. a budget cap of a model policy: the run stopped early and kept what it had
        print(f"ouro: {one_line(o.error)}", file=sys.stderr)


def cmd_runs_list(args) -> int:
    from ouro.agent.runstore import RunStore

    rows = RunStore(home_of(args).db).list(args.limit)
    if args.json:
        print_json(rows)
        return 0
    if not rows:
        print("no runs yet")
        return 0
    print(f"{'RUN ID':24} {'STATUS':10} {'CANDS':>5} {'SECS':>7}  REPO")
    for r in rows:
        secs = f"{r['seconds']:.1f}" if r["seconds"] is not None else "-"
        print(f"{r['run_id']:24} {r['status']:10} {r['candidates_validated'] or 0:>5} {secs:>7}  {r['repo']}")
    return 0


def _budget(run_dir: Path) -> dict | None:
    """How the run's candidate budget was spent (agent.search.budget_report over tree.json)."""
    import json

    from ouro.agent.search import budget_report

    try:
        tree = json.loads((run_dir / "tree.json").read_text())
    except (OSError, ValueError):
        return None
    return budget_report(tree.get("nodes", []))


def cmd_runs_show(args) -> int:
    from ouro.agent.runstore import RunStore

    row = RunStore(home_of(args).db).get(args.run_id)
    if row is None:
        raise BadInput(f"no run {args.run_id!r}")
    run_dir = Path(row["run_dir"])
    patch = (run_dir / "patch.diff").read_text() if (run_dir / "patch.diff").exists() else None
    expl = (run_dir / "explanation.md").read_text() if (run_dir / "explanation.md").exists() else ""
    budget = _budget(run_dir)
    if args.json:
        print_json({**row, "patch": patch, "explanation": expl, "budget": budget})
        return 0
    for k in ("run_id", "status", "repo", "run_dir", "policy", "backend", "candidates_validated", "first_plausible",
              "seconds", "error"):
        if row.get(k) is not None:
            print(f"{k:22} {row[k]}")
    if budget and budget["candidates"]:
        print("\nbudget: where the candidates went")
        for label, key in (("by stage", "by_stage"), ("by depth", "by_depth"), ("by template", "by_template"),
                           ("top locations", "by_location")):
            print(f"  {label:14} " + ", ".join(f"{k} {v}" for k, v in budget[key].items()))
        print(f"  {'locations':14} {budget['locations']} distinct")
    if patch:
        print("\n" + patch)
    if expl:
        print(expl)
    return 0
