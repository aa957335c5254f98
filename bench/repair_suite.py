"""Repair every bundled repository with the built-in policy and judge each patch on hidden tests.

    python bench/repair_suite.py [--backend docker|gvisor|bwrap] [--suite repos] [--only a,b] [--seed 0]

Per repository: fixed or not (the hidden tests, which the agent never saw, pass in a fresh
sandbox with the patch applied), candidates validated until the first plausible patch,
candidates validated in all, candidates validated per second of the repair (judging not
counted), and wall time. Each repair runs with the default budget (the task's
`[task.budget] candidates`, else ouro's default). Last line:
    RESULT fixed=N total=M median_candidates=X median_seconds=Y candidates_per_s=Z
(Z: all candidates validated over all repair seconds).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--suite", default=str(ROOT / "repos"))
    ap.add_argument("--backend", default="docker", choices=["docker", "gvisor", "bwrap", "local"])
    ap.add_argument("--unsafe-local", action="store_true")
    ap.add_argument("--only", help="comma-separated task ids")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--time-limit", type=float, default=900.0, help="seconds per repair (default 900)")
    args = ap.parse_args(argv)

    from ouro.sandbox.core.errors import OuroError
    from ouro.agent.bench.judge import judge_patch
    from ouro.agent.repair import RepairConfig, run_repair
    from ouro.agent.bench.suite import load_suite
    from ouro.sandbox.policy import load_policy

    suite = load_suite(args.suite)
    tasks = [t for t in suite.tasks if not args.only or t.id in args.only.split(",")]
    policy = load_policy().with_backend(args.backend)
    rows = []
    print(f"{'repository':12} {'fixed':6} {'first':>6} {'validated':>9} {'cand/s':>7} {'seconds':>8}  detail", flush=True)
    with tempfile.TemporaryDirectory(prefix="ouro-repair-suite-") as tmp:
        home = Path(tmp) / "home"
        for task in tasks:
            t0 = time.monotonic()
            repo = task.materialize(Path(tmp) / task.id)
            cfg = RepairConfig(repo=repo, issue=task.issue, test_cmd=task.test_cmd, backend=args.backend,
                               seed=args.seed, home=home, time_limit=args.time_limit, unsafe_local=args.unsafe_local)
            if task.budget:
                cfg.budget = task.budget
            first = validated = None
            repair_s = 0.0
            try:
                out = run_repair(cfg)
                first, validated, repair_s = out.candidates_to_first_plausible, out.candidates_validated, out.seconds
                if out.patch:
                    verdict = judge_patch(task, out.patch, policy=policy, unsafe_local=args.unsafe_local)
                    fixed, detail = verdict.fixed, verdict.detail
                else:
                    fixed, detail = False, f"no plausible patch ({out.status})"
            except OuroError as e:
                fixed, detail = False, f"error: {e}"
            except Exception as e:  # noqa: BLE001 - one task's crash must not end the benchmark
                fixed, detail = False, f"crash: {type(e).__name__}: {e}"
            secs = time.monotonic() - t0
            rows.append((task.id, fixed, first, validated, secs, repair_s))
            rate = f"{validated / repair_s:.2f}" if validated and repair_s else "-"
            print(f"{task.id:12} {'yes' if fixed else 'no':6} {first if first is not None else '-':>6} "
                  f"{validated if validated is not None else '-':>9} {rate:>7} {secs:8.1f}  {detail[:80]}", flush=True)
    fixed_n = sum(1 for r in rows if r[1])
    firsts = [r[2] for r in rows if r[1] and r[2] is not None]
    med_c = statistics.median(firsts) if firsts else 0
    med_s = statistics.median([r[4] for r in rows]) if rows else 0
    total_s = sum(r[5] for r in rows)
    rate = sum(r[3] or 0 for r in rows) / total_s if total_s else 0.0
    print(f"RESULT fixed={fixed_n} total={len(rows)} median_candidates={med_c:g} median_seconds={med_s:.1f} "
          f"candidates_per_s={rate:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
