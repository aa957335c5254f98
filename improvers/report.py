"""`ouro improve report RUN`: the plot and tables of a recursive-improvement run.

report/meta_utility.png  meta-utility of the improver in use per iteration (95% CI over seeds),
                         every scored candidate as a dot
report/transfer.md       seed improver vs final improver per held-out task, over the transfer seeds
report/violations.md     each kind of violation: count and rate per 1,000 programs run
report/summary.json      all of the above as data
"""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from ouro.sandbox.core.errors import BadInput
from ouro.sandbox.core.files import atomic_write_json, atomic_write_text, read_jsonl
from ouro.improvers.detect import violation_table
from ouro.improvers.stats import mean_ci


def _fmt(m, lo, hi) -> str:
    return f"{m:.4f} [{lo:.4f}, {hi:.4f}]"


def transfer_table(transfer: dict) -> list[dict]:
    """Rows per task plus an 'all held-out' row; each value is a mean and 95% CI over seeds."""
    seeds = transfer["seeds"]
    versions = transfer["versions"]
    seed_v, final_v = "v0", transfer["final"]

    def per_seed(vid: str, tasks: list[str]) -> list[float]:
        jobs = versions[vid]["jobs"]
        return [sum(j["utility"] for j in jobs if j["seed"] == s and j["task"] in tasks) / len(tasks) for s in seeds]

    rows = []
    groups = [(t, [t], "held-out") for t in transfer["heldout_tasks"]]
    if transfer["heldout_tasks"]:
        groups.append(("all held-out", list(transfer["heldout_tasks"]), "held-out"))
    groups += [(t, [t], "train") for t in transfer.get("train_tasks", [])]
    for name, tasks, split in groups:
        a, b = mean_ci(per_seed(seed_v, tasks), 0.0, 1.0), mean_ci(per_seed(final_v, tasks), 0.0, 1.0)
        diffs = [y - x for x, y in zip(per_seed(seed_v, tasks), per_seed(final_v, tasks))]
        d = mean_ci(diffs, -1.0, 1.0)
        rows.append({"task": name, "split": split, "n_seeds": len(seeds),
                     "seed_improver": {"mean": a[0], "ci": [a[1], a[2]]},
                     "final_improver": {"mean": b[0], "ci": [b[1], b[2]], "version": final_v},
                     "difference": {"mean": d[0], "ci": [d[1], d[2]]}})
    return rows


def _plot(iterations: list[dict], archive: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")  # no display: write the file only
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.2), dpi=120)
    xs = [r["iteration"] for r in iterations]
    ys = [r["meta_utility"] for r in iterations]
    lo = [y - r["ci"][0] for y, r in zip(ys, iterations)]
    hi = [r["ci"][1] - y for y, r in zip(ys, iterations)]
    cand = [r for r in archive if r["role"] == "candidate"]
    ax.scatter([r["iteration"] for r in cand], [r["meta_utility"] for r in cand], s=14, color="0.65",
               label="candidate improvers", zorder=1)
    ax.errorbar(xs, ys, yerr=[lo, hi], marker="o", capsize=4, color="C0", label="improver in use (95% CI)", zorder=2)
    save_iteration_plot(fig, ax, xs, "meta-utility (training tasks)",
                        "Recursive self-improvement: meta-utility per iteration", path)


def save_iteration_plot(fig, ax, xs: list[int], ylabel: str, title: str, path: Path) -> None:
    """Label, lay out and write a per-iteration plot (this report's and the scaffold run's)."""
    import matplotlib.pyplot as plt

    ax.set_xlabel("iteration")
    ax.set_ylabel(ylabel)
    ax.set_xticks(xs)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def write_report(run_dir: Path) -> dict:
    run_dir = Path(run_dir)
    iterations = read_jsonl(run_dir / "iterations.jsonl")
    if not iterations:
        raise BadInput(f"{run_dir}: not an improvement run (no iterations.jsonl), or it has not scored its seed yet")
    archive = read_jsonl(run_dir / "archive.jsonl")
    out_dir = run_dir / "report"
    out_dir.mkdir(exist_ok=True)
    _plot(iterations, archive, out_dir / "meta_utility.png")

    transfer = json.loads((run_dir / "transfer.json").read_text()) if (run_dir / "transfer.json").exists() else None
    rows = transfer_table(transfer) if transfer else []

    programs = sum(j["programs_run"] for r in archive for j in r["jobs"]) + max(0, len(iterations) - 1)
    if transfer:
        programs += sum(j["programs_run"] for v in transfer["versions"].values() for j in v["jobs"])
    counts = Counter(v["kind"] for v in read_jsonl(run_dir / "violations.jsonl"))
    if transfer:
        counts.update(v["kind"] for vv in transfer["versions"].values() for v in vv["violations"])
    vtable = violation_table(dict(counts), programs)

    lines = ["| task | split | seeds | seed improver | final improver | difference |", "|---|---|---|---|---|---|"]
    for r in rows:
        s, f, d = r["seed_improver"], r["final_improver"], r["difference"]
        lines.append(f"| {r['task']} | {r['split']} | {r['n_seeds']} | {_fmt(s['mean'], *s['ci'])} | "
                     f"{_fmt(f['mean'], *f['ci'])} ({f['version']}) | {_fmt(d['mean'], *d['ci'])} |")
    atomic_write_text(out_dir / "transfer.md", "Mean utility and 95% CI over seeds.\n\n" + "\n".join(lines) + "\n")
    vlines = ["| kind | count | per 1,000 programs |", "|---|---|---|"]
    vlines += [f"| {r['kind']} | {r['count']} | {r['per_1000_programs']} |" for r in vtable]
    atomic_write_text(out_dir / "violations.md", f"{programs} programs run.\n\n" + "\n".join(vlines) + "\n")
    summary = {"run_dir": str(run_dir), "iterations": [{k: r[k] for k in ("iteration", "accepted", "meta_utility", "ci")}
                                                       for r in iterations],
               "versions": len(archive), "programs_run": programs, "transfer": rows, "violations": vtable,
               "plot": str(out_dir / "meta_utility.png"), "transfer_table": str(out_dir / "transfer.md"),
               "violation_table": str(out_dir / "violations.md")}
    atomic_write_json(out_dir / "summary.json", summary)
    return summary
