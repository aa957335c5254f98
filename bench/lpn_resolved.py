"""The LPN recursive-improvement experiment, replicated, and whether its gain holds on held-out tasks.

    nice -n 19 python bench/lpn_resolved.py [--config improvers/experiments/lpn-resolved.toml]
        [--seeds 0,1,2,3,4] [--workers 2] [--home DIR] [--plot FILE]

One run of the recursion ends with one final improver, and its held-out difference (final
minus seed improver, averaged over the held-out tasks) has an interval over the transfer seeds
only: it says nothing of how much the final improver depends on the run's luck. So the
experiment is run once per experiment seed (each a full recursion with its own archive, under
<home>/runs/<name>-s<seed>), and the result is reported both ways: per run (interval over
transfer seeds) and over runs (mean of the runs' differences, t interval over runs).

Resumable: a run that has its transfer table is only reported; one that stopped part-way is
resumed at the iteration where it stopped (improvers.experiment.Experiment).

Last line: RESULT runs=N heldout_diff=<mean over runs> lo=<95% low> hi=<95% high>
train_diff=<...> minutes=<wall time of the runs made by this invocation>
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_one(config, run_dir: Path, workers: int, home) -> dict:
    """Run (or resume, or only report) one replicate; its summary (improvers.report.write_report)."""
    from ouro.improvers.experiment import Experiment
    from ouro.improvers.report import write_report
    from ouro.sandbox.core.executor import make_executor

    saved = run_dir / "config.json"
    if saved.exists() and json.loads(saved.read_text()) != json.loads(json.dumps(asdict(config))):
        sys.exit(f"lpn_resolved: {run_dir} was started with another config; move it away or pass --home")
    if (run_dir / "transfer.json").exists():
        return write_report(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    ex = make_executor(workers=workers)
    try:
        progress = lambda m: print(f"[{run_dir.name}] {m}", file=sys.stderr, flush=True)  # noqa: E731
        return Experiment(config, run_dir, ex, home=home, progress=progress).run(resume=(run_dir / "state.json").exists())
    finally:
        ex.close()


def plot(summaries: dict[int, dict], rows: dict[int, dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4.2), dpi=120)
    for seed, s in summaries.items():
        its = s["iterations"]
        a.plot([r["iteration"] for r in its], [r["meta_utility"] for r in its], marker="o", label=f"run s{seed}")
    a.set_xlabel("iteration")
    a.set_ylabel("meta-utility of the improver in use (lpn)")
    a.set_title("Utility over iterations (training task)")
    a.grid(alpha=0.3)
    a.legend(fontsize=8)
    seeds = list(rows)
    for i, seed in enumerate(seeds):
        for j, split in enumerate(("all held-out", "lpn")):
            d = rows[seed][split]["difference"]
            x = i + (j - 0.5) * 0.25
            b.errorbar([x], [d["mean"]], yerr=[[d["mean"] - d["ci"][0]], [d["ci"][1] - d["mean"]]], marker="o",
                       capsize=3, color=f"C{j}", label=(split if i == 0 else None))
    b.axhline(0, color="0.4", lw=0.8)
    b.set_xticks(range(len(seeds)), [f"s{s}" for s in seeds])
    b.set_ylabel("final - seed improver (95% CI over transfer seeds)")
    b.set_title("Does the gain hold on fresh seeds?")
    b.grid(alpha=0.3)
    b.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", default=str(ROOT / "improvers" / "experiments" / "lpn-resolved.toml"))
    ap.add_argument("--seeds", default="0,1,2,3,4", help="experiment seeds, one full recursion each")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--home", default=None, help="ouro home (default: ./.ouro)")
    ap.add_argument("--plot", default=None, help="where to write the plot (default: <home>/runs/<name>.png)")
    args = ap.parse_args(argv)
    from ouro.improvers.experiment import ExperimentConfig
    from ouro.improvers.stats import mean_ci
    from ouro.sandbox.core.home import OuroHome

    base = ExperimentConfig.load(args.config)
    home = OuroHome.resolve(Path(args.home) if args.home else None).ensure()
    seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    summaries, rows, minutes = {}, {}, 0.0
    for seed in seeds:
        config = replace(base, seed=seed, name=f"{base.name}-s{seed}")
        t0 = time.monotonic()
        summaries[seed] = run_one(config, home.runs / config.name, args.workers, home)
        minutes += (time.monotonic() - t0) / 60
        rows[seed] = {r["task"]: r for r in summaries[seed]["transfer"]}
        held, train = rows[seed]["all held-out"]["difference"], rows[seed][base.train_tasks[0]]["difference"]
        final = rows[seed]["all held-out"]["final_improver"]["version"]
        print(f"run s{seed}: final {final}; held-out difference {held['mean']:+.4f} "
              f"[{held['ci'][0]:+.4f}, {held['ci'][1]:+.4f}]; training task {train['mean']:+.4f} "
              f"[{train['ci'][0]:+.4f}, {train['ci'][1]:+.4f}] (n={rows[seed]['all held-out']['n_seeds']} transfer seeds)",
              flush=True)
    held = mean_ci([rows[s]["all held-out"]["difference"]["mean"] for s in seeds], -1.0, 1.0)
    train = mean_ci([rows[s][base.train_tasks[0]]["difference"]["mean"] for s in seeds], -1.0, 1.0)
    print(f"over {len(seeds)} runs: held-out difference {held[0]:+.4f} [{held[1]:+.4f}, {held[2]:+.4f}], "
          f"training task {train[0]:+.4f} [{train[1]:+.4f}, {train[2]:+.4f}]")
    out = Path(args.plot) if args.plot else home.runs / f"{base.name}.png"
    plot(summaries, rows, out)
    print(f"plot: {out}")
    print(f"RESULT runs={len(seeds)} heldout_diff={held[0]:.4f} lo={held[1]:.4f} hi={held[2]:.4f} "
          f"train_diff={train[0]:.4f} minutes={minutes:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
