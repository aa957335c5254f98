"""Self-contained static HTML reports: one page per repair run, one per bench run.

Pages inline their CSS, JavaScript and data (no external URLs), so a report can be mailed,
archived or opened offline. Data goes in a `<script type="application/json">` block and the
script renders it with textContent only: a patch or test output can never inject markup.
"""
from __future__ import annotations

from pathlib import Path

from ouro.sandbox.core.errors import BadInput
from ouro.sandbox.core.files import atomic_write_text


def write_report(target: str, out: Path, *, home) -> tuple[Path, str]:
    """Render `target` (a run id, a run directory or a bench directory) to `out`; return (path, kind)."""
    from ouro.agent.report.bench_page import render_bench
    from ouro.agent.report.run_page import render_run

    path = Path(target).expanduser()
    if path.is_dir() and (path / "results.json").exists():
        html, kind = render_bench(path), "bench"
    elif path.is_dir():
        html, kind = render_run(path), "run"
    elif (home.runs / target).is_dir():
        html, kind = render_run(home.runs / target, home.root), "run"
    else:
        raise BadInput(f"{target} is neither a bench directory, a run directory nor a run id under {home.runs}")
    out = Path(out)
    if out.is_dir():
        raise BadInput(f"--html {out} is a directory; give a file name")
    atomic_write_text(out, html)
    return out.resolve(), kind
