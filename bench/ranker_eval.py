"""The learned ranker against the heuristic order, side by side.

    python bench/ranker_eval.py [--data DIR] [--checkpoint PATH] [--backend docker] [--only a,b]

1. Held-out injected bugs (the `test` split of `ouro learn data`): mean rank of the edit that
   repairs the bug among the candidates near it, ranker vs heuristic (template prior x
   suspiciousness), each times the variant's weight and the line's suspiciousness as the policy does.
2. The bundled repositories: each repaired twice with the built-in policy, once ordered by the
   ranker and once by the heuristic; candidates validated until the first plausible patch,
   and whether the hidden tests pass.

Last line: RESULT heuristic_candidates=<median> ranker_candidates=<median> ratio=<heuristic/ranker>
(medians over the bundled repositories where both found a plausible patch).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def held_out(data: Path, checkpoint: Path) -> tuple[float, float, int]:
    from ouro.improvers.learn.features import heuristic_score
    from ouro.improvers.learn.ranker import Ranker, load_groups, mean_rank, policy_order

    groups = load_groups(data / "test.jsonl")
    ranker = Ranker.load(checkpoint)
    # both orders as the policy forms them: times the variant's weight and the line's suspiciousness
    return (mean_rank(groups, lambda fs: [heuristic_score(f) for f in fs]),
            mean_rank(groups, lambda fs: policy_order(ranker.score(fs), fs)), len(groups))


def repair_once(task, ranker: str, backend: str, home: Path, tmp: Path, unsafe_local: bool):
    from ouro.agent.bench.judge import judge_patch
    from ouro.agent.repair import RepairConfig, run_repair
    from ouro.sandbox.policy import load_policy

    repo = task.materialize(tmp / f"{task.id}-{Path(ranker).name}")
    cfg = RepairConfig(repo=repo, issue=task.issue, test_cmd=task.test_cmd, backend=backend, home=home,
                       ranker=ranker, unsafe_local=unsafe_local)
    if task.budget:
        cfg.budget = task.budget
    out = run_repair(cfg)
    fixed = False
    if out.patch:
        fixed = judge_patch(task, out.patch, policy=load_policy().with_backend(backend), unsafe_local=unsafe_local).fixed
    return out.candidates_to_first_plausible, fixed


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=None, help="directory from `ouro learn data` (skip part 1 when absent)")
    ap.add_argument("--checkpoint", default=None)
    ap.add_argument("--suite", default=str(ROOT / "repos"))
    ap.add_argument("--backend", default="docker")
    ap.add_argument("--unsafe-local", action="store_true")
    ap.add_argument("--only", help="comma-separated task ids")
    args = ap.parse_args(argv)
    from ouro.agent.bench.suite import load_suite
    from ouro.improvers.learn.adapter import BUNDLED

    checkpoint = Path(args.checkpoint) if args.checkpoint else BUNDLED
    if args.data and (Path(args.data) / "test.jsonl").exists():
        h, r, n = held_out(Path(args.data), checkpoint)
        print(f"held-out injected bugs ({n}): mean rank of the repairing edit: heuristic {h:.2f}, ranker {r:.2f}")

    tasks = [t for t in load_suite(args.suite).tasks if not args.only or t.id in args.only.split(",")]
    print(f"{'repository':12} {'heuristic':>10} {'ranker':>8}  fixed(h/r)", flush=True)
    pairs, lost = [], []
    with tempfile.TemporaryDirectory(prefix="ouro-ranker-eval-") as tmp:
        home = Path(tmp) / "home"
        for task in tasks:
            h_first, h_fixed = repair_once(task, "none", args.backend, home, Path(tmp), args.unsafe_local)
            r_first, r_fixed = repair_once(task, str(checkpoint), args.backend, home, Path(tmp), args.unsafe_local)
            print(f"{task.id:12} {str(h_first):>10} {str(r_first):>8}  {h_fixed!s:5}/{r_fixed!s:5}", flush=True)
            if h_first and r_first:
                pairs.append((h_first, r_first))
            if h_fixed and not r_fixed:
                lost.append(task.id)
    h_med = statistics.median(p[0] for p in pairs) if pairs else float("nan")
    r_med = statistics.median(p[1] for p in pairs) if pairs else float("nan")
    print(f"lost with the ranker (fixed by the heuristic only): {', '.join(lost) or 'none'}")
    print(f"RESULT heuristic_candidates={h_med} ranker_candidates={r_med} ratio={h_med / r_med if pairs else float('nan'):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
