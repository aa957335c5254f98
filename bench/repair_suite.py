"""Repair every task of one or more suites with the built-in policy and judge each patch on
hidden tests the agent never saw.

    python bench/repair_suite.py [--suite DIR ...] [--backend docker|gvisor|bwrap] [--only a,b]
                                 [--seed 0] [--time-limit 900] [--out rows.jsonl]

Default suite: the 13 bundled repositories (repos/). Per task: fixed (the hidden tests pass in
a fresh sandbox with the patch), plausible but wrong (the visible tests pass, the hidden ones
do not), not found, or an error with its cause (the exit code ouro gave and its message:
could not reproduce, no tests, tests hang, does not import, bad input, a crash); candidates
validated until the first plausible patch, in all, and per second. Per suite, the counts of
each outcome and the errors grouped by cause. Each repair runs with the task's own budget
(`[task.budget] candidates`, else ouro's default). Last line, over all suites:
    RESULT fixed=N total=M plausible_wrong=W not_found=F errors=E median_candidates=X
           median_seconds=Y candidates_per_second=Z
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# ouro's documented exit codes of a repair that could not run (`ouro repair --help`)
CAUSES = {2: "bad input", 3: "could not reproduce", 4: "no tests found", 5: "tests hang", 6: "does not import"}


@dataclass
class Row:
    suite: str
    task: str
    status: str                  # fixed | plausible_wrong | not_found | error
    first: int | None            # candidates validated until the first plausible patch
    validated: int | None
    seconds: float
    cause: str = ""              # for errors: what kind (CAUSES, or "crash: <exception>")
    detail: str = ""

    @property
    def per_second(self) -> float | None:
        return self.validated / self.seconds if self.validated and self.seconds > 0 else None


def repair_one(task, suite_name: str, args, policy, home: Path, tmp: Path) -> Row:
    from ouro.agent.bench.judge import judge_patch
    from ouro.agent.repair import RepairConfig, run_repair
    from ouro.sandbox.core.errors import OuroError

    t0 = time.monotonic()
    repo = task.materialize(tmp / f"{suite_name}-{task.id}")
    cfg = RepairConfig(repo=repo, issue=task.issue, test_cmd=task.test_cmd, backend=args.backend,
                       seed=args.seed, home=home, time_limit=args.time_limit, unsafe_local=args.unsafe_local)
    if task.budget:
        cfg.budget = task.budget
    try:
        out = run_repair(cfg)
    except OuroError as e:
        cause = CAUSES.get(e.exit_code, f"exit {e.exit_code}")
        return Row(suite_name, task.id, "error", None, None, time.monotonic() - t0, cause, str(e))
    except Exception as e:  # noqa: BLE001 - one task's crash must not end the benchmark
        return Row(suite_name, task.id, "error", None, None, time.monotonic() - t0,
                   f"crash: {type(e).__name__}", str(e))
    first, validated = out.candidates_to_first_plausible, out.candidates_validated
    if not out.patch:
        return Row(suite_name, task.id, "not_found", first, validated, time.monotonic() - t0,
                   detail=f"no plausible patch ({out.status})")
    verdict = judge_patch(task, out.patch, policy=policy, unsafe_local=args.unsafe_local)
    status = "fixed" if verdict.fixed else "plausible_wrong"
    return Row(suite_name, task.id, status, first, validated, time.monotonic() - t0, detail=verdict.detail)


def summary(rows: list[Row]) -> str:
    counts = Counter(r.status for r in rows)
    causes = Counter(r.cause for r in rows if r.status == "error")
    text = (f"fixed {counts['fixed']}/{len(rows)}, plausible but wrong {counts['plausible_wrong']}, "
            f"not found {counts['not_found']}, errors {counts['error']}")
    if causes:
        text += " (" + ", ".join(f"{c}: {n}" for c, n in causes.most_common()) + ")"
    return text


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--suite", action="append", default=[], metavar="DIR",
                    help="a task suite (repeatable; default: repos/, the bundled repositories)")
    ap.add_argument("--backend", default="docker", choices=["docker", "gvisor", "bwrap", "local"])
    ap.add_argument("--unsafe-local", action="store_true")
    ap.add_argument("--only", help="comma-separated task ids")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--time-limit", type=float, default=900.0, help="seconds per repair (default 900)")
    ap.add_argument("--out", help="also write one JSON line per task here")
    args = ap.parse_args(argv)

    from ouro.agent.bench.suite import load_suite
    from ouro.sandbox.policy import load_policy

    policy = load_policy().with_backend(args.backend)
    only = set(args.only.split(",")) if args.only else None
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="ouro-repair-suite-") as tmp:
        home = Path(tmp) / "home"
        for path in args.suite or [str(ROOT / "repos")]:
            suite = load_suite(path)
            print(f"\nsuite {suite.name} ({path})", flush=True)
            print(f"{'task':24} {'status':16} {'first':>6} {'validated':>9} {'seconds':>8} {'cand/s':>6}  detail",
                  flush=True)
            mine = []
            for task in [t for t in suite.tasks if only is None or t.id in only]:
                row = repair_one(task, suite.name, args, policy, home, Path(tmp))
                mine.append(row)
                per_s = f"{row.per_second:.2f}" if row.per_second else "-"
                print(f"{task.id[:24]:24} {row.status:16} {row.first if row.first is not None else '-':>6} "
                      f"{row.validated if row.validated is not None else '-':>9} {row.seconds:8.1f} {per_s:>6}  "
                      f"{(row.cause + ': ' if row.cause else '') + row.detail[:80]}", flush=True)
                if args.out:
                    with open(args.out, "a", encoding="utf-8") as f:
                        f.write(json.dumps(asdict(row)) + "\n")
            for err in suite.errors:
                print(f"{err.id[:24]:24} {'error':16} task does not load: {err.problem[:100]}", flush=True)
            print(f"suite {suite.name}: {summary(mine)}", flush=True)
            rows += mine
    counts = Counter(r.status for r in rows)
    firsts = [r.first for r in rows if r.status == "fixed" and r.first is not None]
    rates = [r.per_second for r in rows if r.per_second]
    print(f"\nall suites: {summary(rows)}")
    print(f"RESULT fixed={counts['fixed']} total={len(rows)} plausible_wrong={counts['plausible_wrong']} "
          f"not_found={counts['not_found']} errors={counts['error']} "
          f"median_candidates={statistics.median(firsts) if firsts else 0:g} "
          f"median_seconds={statistics.median([r.seconds for r in rows]) if rows else 0:.1f} "
          f"candidates_per_second={statistics.median(rates) if rates else 0:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
