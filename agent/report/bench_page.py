"""The report of a bench run: the summary, one row per task, a plot of candidates-to-fix.

Rendered entirely on the server side (escaped HTML and an inline SVG): no script needed.
"""
from __future__ import annotations

import json
from html import escape
from pathlib import Path

from ouro.agent.report.html import page

_LABELS = {"fixed": "fixed", "plausible_wrong": "plausible but wrong", "not_found": "not found", "error": "error"}


def _plot(tasks: list[dict]) -> str:
    """Bars: candidates validated until the first plausible patch, per task; a red mark when none."""
    if not tasks:
        return "<p class='hint'>no tasks</p>"
    vals = [t.get("candidates_to_first_plausible") for t in tasks]
    top = max([v for v in vals if isinstance(v, (int, float))] + [1])
    bw, gap, h, left, bottom = 28, 10, 180, 40, 90
    width = left + len(tasks) * (bw + gap) + 20
    out = [f'<svg id="cands-plot" width="{width}" height="{h + bottom + 20}">']
    out.append(f'<line class="axis" x1="{left}" y1="10" x2="{left}" y2="{h + 10}"/>')
    out.append(f'<line class="axis" x1="{left}" y1="{h + 10}" x2="{width - 10}" y2="{h + 10}"/>')
    out.append(f'<text x="4" y="16" font-size="10">{top}</text><text x="4" y="{h + 10}" font-size="10">0</text>')
    for i, (t, v) in enumerate(zip(tasks, vals)):
        x = left + 6 + i * (bw + gap)
        tip = escape(f"{t['task_id']}: {_LABELS.get(t['status'], t['status'])}, "
                     f"{'no plausible patch' if v is None else f'{v} candidates to first plausible'}")
        if isinstance(v, (int, float)):
            bh = max(2, h * v / top)
            cls = "bar" if t["status"] == "fixed" else "bar miss"
            out.append(f'<rect class="{cls}" x="{x}" y="{h + 10 - bh:.1f}" width="{bw}" height="{bh:.1f}"><title>{tip}</title></rect>')
        else:
            out.append(f'<text class="miss" x="{x + 8}" y="{h + 4}" font-size="14"><title>{tip}</title>&#215;</text>')
        out.append(f'<text x="{x + bw / 2}" y="{h + 22}" font-size="10" transform="rotate(45 {x + bw / 2} {h + 22})">'
                   f'{escape(t["task_id"])}</text>')
    out.append("</svg>")
    return "".join(out)


def render_bench(bench_dir: Path) -> str:
    doc = json.loads((Path(bench_dir) / "results.json").read_text(encoding="utf-8"))
    s = doc.get("summary", {})
    tasks = doc.get("tasks", [])
    rows = []
    for t in tasks:
        c2f = t.get("candidates_to_first_plausible")
        rows.append(
            f"<tr data-task='{escape(t['task_id'])}'><td>{escape(t['task_id'])}</td>"
            f"<td class='status-{escape(t['status'])}'>{escape(_LABELS.get(t['status'], t['status']))}</td>"
            f"<td>{t.get('candidates_validated') or 0}</td><td>{'-' if c2f is None else c2f}</td>"
            f"<td>{(t.get('wall_s') or 0):.1f}</td><td>{t.get('tokens') or 0}</td><td>{(t.get('cost') or 0):.4f}</td>"
            f"<td>{t.get('audit_events') or 0}</td><td>{escape(t.get('run_id') or '')}</td>"
            f"<td>{escape((t.get('judge') or {}).get('detail') or t.get('problem') or '')}</td></tr>")
    summary = "".join(f"<span>{escape(label)}: <b>{s.get(key, 0)}</b></span>" for key, label in
                      [("tasks", "tasks"), ("fixed", "fixed"), ("plausible_wrong", "plausible but wrong"),
                       ("not_found", "not found"), ("error", "error"), ("candidates_validated", "candidates validated"),
                       ("tokens", "tokens"), ("cost", "cost $"), ("audit_events", "audit events")])
    body = f"""
<header><h1>ouro bench: {escape(str(doc.get('suite_name', '')))}</h1>
<div class="summary" id="bench-summary">{summary}
<span>policy: {escape(str(doc.get('policy')))}</span><span>wall: {doc.get('last_wall_s', '?')} s</span>
<span>executor: {escape(str(doc.get('executor', '?')))}</span></div></header>
<section><h2>Tasks</h2><table id="bench-table"><tr><th>task</th><th>result</th><th>candidates</th>
<th>to first plausible</th><th>wall s</th><th>tokens</th><th>cost $</th><th>audit</th><th>run</th><th>why</th></tr>
{''.join(rows)}</table></section>
<section><h2>Candidates to the first plausible patch</h2>
<p class="hint">Green: fixed (passes the hidden tests); red: plausible but wrong; &#215;: no plausible patch.</p>
{_plot(tasks)}</section>
"""
    return page(f"ouro bench {doc.get('suite_name', '')}", body=body)
