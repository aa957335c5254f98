"""The report of an `ouro improve scaffold` run (improvers.scaffold_improve).

report/table.md      seed agent vs final agent on train, validation and test: fix rate, candidates
                     to the first plausible patch and utility, each with a bootstrap 95% interval,
                     the paired difference with its interval, and the verdict: the installed
                     rewrite, or "no rewrite held on the test split"
report/versions.md   every version in the archive: iteration, parent, status, scores, and its diff
report/utility.png   utility over iterations: the version in use on train and validation, and
                     every version the improver scored
report/summary.json  all of it as data
"""
from __future__ import annotations

import json
from pathlib import Path

from ouro.improvers.report import save_iteration_plot
from ouro.sandbox.core.errors import BadInput
from ouro.sandbox.core.files import atomic_write_json, atomic_write_text, read_jsonl

MEASURES = (("fix_rate", "fix rate", "{:.3f}"), ("candidates", "candidates to first plausible", "{:.1f}"),
            ("utility", "utility", "{:.4f}"))


def _cell(m: dict, fmt: str, signed: bool = False) -> str:
    f = fmt.replace("{:", "{:+") if signed else fmt
    return f"{f.format(m['mean'])} [{f.format(m['ci'][0])}, {f.format(m['ci'][1])}]"


def table_lines(final: dict) -> list[str]:
    lines = [f"| split | tasks x seeds | measure | seed agent (v0) | final agent ({final['final']}) | final - seed (paired) |",
             "|---|---|---|---|---|---|"]
    for split in ("train", "validation", "test"):
        t = final["table"][split]
        for key, label, fmt in MEASURES:
            m = t[key]
            lines.append(f"| {split} | {t['n']} | {label} | {_cell(m['seed'], fmt)} | {_cell(m['final'], fmt)} | "
                         f"{_cell(m['difference'], fmt, signed=True)} |")
    return lines


def verdict_line(final: dict) -> str:
    if final.get("installed"):
        return f"installed: {final['final']} ({final['final_sha']}) into {final['installed']}: {final['verdict']}"
    if final.get("holds"):
        return f"{final['verdict']}; not installed (the scaffold in use changed during the run)"
    return final["verdict"] + (f" ({final['why_not']})" if final.get("why_not") else "")


def _plot(iterations: list[dict], archive: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.2), dpi=120)
    cand = [r for r in archive if r["role"] == "candidate"]
    ax.scatter([r["iteration"] for r in cand], [r["train"]["utility"] if r["train"] else 0.0 for r in cand], s=14,
               color="0.65", label="every version scored (train)", zorder=1)
    xs = [r["iteration"] for r in iterations]
    ax.plot(xs, [r["train"]["utility"] for r in iterations], marker="o", color="C0", label="version in use: train", zorder=2)
    ax.plot(xs, [r["validation"]["utility"] for r in iterations], marker="s", color="C1",
            label="version in use: validation", zorder=2)
    save_iteration_plot(fig, ax, xs, "repair utility (fixed x how soon)",
                        "Scaffold self-improvement: utility over iterations", path)


def version_lines(archive: list[dict]) -> list[str]:
    out = ["# Every scaffold version", ""]
    for r in archive:
        head = f"## {r['id']} (iteration {r['iteration']}, parent {r['parent'] or '-'}, {r['status']}, sha {r['sha']})"
        out += [head, ""]
        for split in ("train", "validation"):
            s = r.get(split)
            if s:
                out.append(f"- {split}: utility {s['utility']:.4f}, fix rate {s['fix_rate']:.3f}, "
                           f"candidates {s['candidates']:.1f}" + (f", violations {', '.join(s['violations'])}"
                                                                  if s.get("violations") else ""))
        if r.get("problems"):
            out.append(f"- refused by the vetting: {'; '.join(r['problems'][:3])}")
        out += ["", "```diff", r["diff"].rstrip() or "(the seed: no parent)", "```", ""]
    return out


def write_report(run_dir: Path, final: dict | None = None) -> dict:
    run_dir = Path(run_dir)
    iterations = read_jsonl(run_dir / "iterations.jsonl")
    if not iterations:
        raise BadInput(f"{run_dir}: not a scaffold run, or it has not scored its seed yet")
    archive = read_jsonl(run_dir / "archive.jsonl")
    if final is None and (run_dir / "final.json").exists():
        final = json.loads((run_dir / "final.json").read_text())
    out = run_dir / "report"
    out.mkdir(exist_ok=True)
    _plot(iterations, archive, out / "utility.png")
    atomic_write_text(out / "versions.md", "\n".join(version_lines(archive)) + "\n")
    summary = {"run_dir": str(run_dir), "kind": "scaffold",
               "iterations": [{k: r[k] for k in ("iteration", "current", "train", "validation")} for r in iterations],
               "versions": len(archive), "plot": str(out / "utility.png"), "versions_file": str(out / "versions.md"),
               "finished": final is not None}
    if final is not None:
        lines = ["Bootstrap 95% intervals over tasks x seeds (paired for the difference). Candidates to the first "
                 "plausible patch count the budget when none was found.", "", *table_lines(final), "",
                 verdict_line(final)]
        atomic_write_text(out / "table.md", "\n".join(lines) + "\n")
        summary.update(table=final["table"], final=final["final"], verdict=verdict_line(final),
                       installed=final.get("installed"), table_file=str(out / "table.md"))
    atomic_write_json(out / "summary.json", summary)
    return summary
