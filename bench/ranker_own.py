"""A ranker trained on ouro's own repair experience (CYCLE), against the heuristic order and the
ranker trained on injected bugs, on tasks none of them was trained or selected on.

    nice -n 15 python bench/ranker_own.py [--config improvers/experiments/scaffold-devsuite.toml]
        [--experience DIR ...] [--seeds 1] [--workers 2] [--home DIR]

1. Experience: repairs of the train and validation tasks of the config's split (the same split
   `ouro improve scaffold` uses), each run directory keeping what was tried and how it went:
   the heuristic's own repairs with --seeds (other seeds break ties otherwise, so other
   candidates get tried), plus every repair of those tasks in the --experience directories
   (an `ouro improve scaffold` run directory: its repairs/*.json name each repair's task and run).
2. Data: improvers/learn/experience.py turns them into ranker groups: train tasks -> train.jsonl,
   validation tasks -> val.jsonl (which picks the epoch); test tasks never.
3. Training: the learned ranker's own recipe (improvers/learn/ranker.py train: residual on the
   heuristic, shrink 0.5, no tokens), from scratch on this data.
4. Test: every test task repaired three times (heuristic, injected-bug ranker, own ranker) and
   judged on its hidden tests; fix rate and candidates to the first plausible patch (the budget
   when none was found), each with a bootstrap 95% interval, and own minus each other paired.

Resumable: every repair's result is a file under <home>/ranker-own/ (read back, not redone).
Last line: RESULT tasks=N groups=G heuristic_fixed=.. injected_fixed=.. own_fixed=..
heuristic_candidates=.. injected_candidates=.. own_candidates=.. own_minus_heuristic=.. lo=.. hi=..
(candidates: means; the difference and its interval are in candidates, own - heuristic)
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def repairs(jobs, workers: int) -> list[dict]:
    from ouro.improvers.judged import run_repair_job
    from ouro.sandbox.core.executor import make_executor

    done = {j.result_file: json.loads(Path(j.result_file).read_text()) for j in jobs if Path(j.result_file).exists()}
    todo = [j for j in jobs if j.result_file not in done]
    if todo:
        print(f"{len(todo)} repairs to run ({len(done)} read back)", file=sys.stderr, flush=True)
        ex = make_executor(workers=workers)
        try:
            for j, r in zip(todo, ex.map(run_repair_job, todo)):
                done[j.result_file] = r
                print(f"  {r['task']} seed {r['seed']} ranker {Path(j.ranker).name}: fixed={r['fixed']} "
                      f"to_first={r['to_first']}", file=sys.stderr, flush=True)
        finally:
            ex.close()
    return [done[j.result_file] for j in jobs]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", default=str(ROOT / "improvers" / "experiments" / "scaffold-devsuite.toml"),
                    help="a scaffold run config: its split, budget, backend and time limit are used")
    ap.add_argument("--experience", nargs="*", default=[], help="`ouro improve scaffold` run directories to learn from")
    ap.add_argument("--seeds", default="1", help="extra heuristic repairs of each train/validation task ('' for none)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--home", default=None)
    ap.add_argument("--epochs", type=int, default=12)
    args = ap.parse_args(argv)
    from ouro.improvers.judged import RepairJob, candidates, compare, load_split
    from ouro.improvers.learn.adapter import BUNDLED
    from ouro.improvers.learn.experience import build
    from ouro.improvers.learn.ranker import train
    from ouro.improvers.scaffold_improve import ScaffoldRunConfig
    from ouro.sandbox.core.home import OuroHome

    c = ScaffoldRunConfig.load(args.config)
    split = load_split(c.splits)
    split_of = {t.id: s for s, ts in split.items() for t in ts}
    home = OuroHome.resolve(Path(args.home) if args.home else None).ensure()
    work = home.root / "ranker-own"
    (work / "results").mkdir(parents=True, exist_ok=True)

    def job(task, seed: int, ranker: str, tag: str) -> RepairJob:
        return RepairJob(None, task.dir, seed, c.backend, c.budget, c.time_limit, str(home.root),
                         str(work / "results" / f"{tag}-{task.id}-s{seed}.json"), c.unsafe_local, ranker=ranker)

    # 1. experience
    seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    learn_tasks = split["train"] + split["validation"]
    runs_by_task: dict[str, list[Path]] = {}
    for r in repairs([job(t, s, "none", "experience") for t in learn_tasks for s in seeds], args.workers):
        if r.get("run_id"):
            runs_by_task.setdefault(r["task"], []).append(home.runs / r["run_id"])
    for d in map(Path, args.experience):
        for f in sorted((d / "repairs").glob("*.json")):
            r = json.loads(f.read_text())
            if r.get("run_id") and split_of.get(r["task"]) in ("train", "validation"):
                runs_by_task.setdefault(r["task"], []).append(d / "home" / "runs" / r["run_id"])
    # 2. data, 3. training
    counts = build(runs_by_task, split_of, work / "data")
    print(f"experience: {sum(map(len, runs_by_task.values()))} repair runs of {len(runs_by_task)} tasks -> "
          f"{counts['train']} train groups, {counts['val']} validation groups", flush=True)
    own = work / "own.pt"
    if counts["train"] == 0:
        sys.exit("ranker_own: no train group (no plausible patch at the root of any train task's run)")
    if not own.exists():
        res = train(work / "data", own, epochs=args.epochs, log=lambda m: print(m, file=sys.stderr))
        print(f"trained on own experience: validation mean rank {res.val_mean_rank:.2f} "
              f"(heuristic {res.heuristic_val_mean_rank:.2f}), {res.seconds:.0f}s", flush=True)
    # 4. test
    arms = {"heuristic": "none", "injected": str(BUNDLED), "own": str(own)}
    rows = {name: repairs([job(t, 0, ranker, f"test-{name}") for t in split["test"]], args.workers)
            for name, ranker in arms.items()}
    vs_h = compare(rows["heuristic"], rows["own"], c.budget, 10_000, 0)
    vs_i = compare(rows["injected"], rows["own"], c.budget, 10_000, 0)
    n = len(split["test"])
    print(f"\ntest split: {n} tasks ({', '.join(t.id for t in split['test'])}), budget {c.budget}")
    print(f"{'task':14} " + " ".join(f"{a:>18}" for a in arms))
    for i, t in enumerate(split["test"]):
        print(f"{t.id:14} " + " ".join(
            f"{('fixed' if rows[a][i]['fixed'] else 'plausible' if rows[a][i]['plausible'] else '-'):>10} "
            f"{candidates(rows[a][i], c.budget):>7}" for a in arms))

    def fmt(m, f="{:.3f}"):
        return f"{f.format(m['mean'])} [{f.format(m['ci'][0])}, {f.format(m['ci'][1])}]"

    print("\n| measure | heuristic | injected-bug ranker | own-experience ranker | own - heuristic | own - injected |")
    print("|---|---|---|---|---|---|")
    for key, label, f in (("fix_rate", "fix rate", "{:.3f}"), ("candidates", "candidates to first plausible", "{:.1f}")):
        print(f"| {label} | {fmt(vs_h[key]['seed'], f)} | {fmt(vs_i[key]['seed'], f)} | {fmt(vs_h[key]['final'], f)} | "
              f"{fmt(vs_h[key]['difference'], f.replace('{:', '{:+'))} | {fmt(vs_i[key]['difference'], f.replace('{:', '{:+'))} |")
    d = vs_h["candidates"]["difference"]
    print(f"RESULT tasks={n} groups={counts['train']} heuristic_fixed={vs_h['fix_rate']['seed']['mean']:.3f} "
          f"injected_fixed={vs_i['fix_rate']['seed']['mean']:.3f} own_fixed={vs_h['fix_rate']['final']['mean']:.3f} "
          f"heuristic_candidates={vs_h['candidates']['seed']['mean']:.1f} "
          f"injected_candidates={vs_i['candidates']['seed']['mean']:.1f} own_candidates={vs_h['candidates']['final']['mean']:.1f} "
          f"own_minus_heuristic={d['mean']:.2f} lo={d['ci'][0]:.2f} hi={d['ci'][1]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
