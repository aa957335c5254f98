"""Turn ouro's repair trajectories into supervised fine-tuning data in the CYCLE shape.

Each example is (problem, faulty code, execution feedback) → (explanation, refined code),
written in TRL's conversational format so that `ouro learn finetune` (or TRL's SFTTrainer)
reads it directly. A trajectory yields one example per refinement step: a failed candidate
whose explanation was followed by a better candidate at the same location. The final
plausible patch, explained, is an example too.

The trajectory events this reads are the ones `agent/trajectory.py` writes. Field names are
looked up tolerantly (an LLM run and a built-in run record slightly different details).
"""
from __future__ import annotations

import json
from pathlib import Path

SYSTEM = ("You repair Python code. Given the issue, the faulty code and the test feedback, first explain "
          "why the code fails, then give the refined code.")


def _first(d: dict, *keys, default=""):
    for k in keys:
        v = d.get(k)
        if v not in (None, ""):
            return v
    return default


def example(problem: str, faulty: str, feedback: str, explanation: str, refined: str) -> dict:
    user = (f"## Issue\n{problem.strip()}\n\n## Faulty code\n```python\n{faulty.rstrip()}\n```\n\n"
            f"## Execution feedback\n```\n{feedback.strip()[:4000]}\n```")
    assistant = f"## Explanation\n{explanation.strip()}\n\n## Refined code\n```python\n{refined.rstrip()}\n```"
    return {"messages": [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user},
                         {"role": "assistant", "content": assistant}]}


def examples_from_run(run_dir: str | Path) -> list[dict]:
    """Examples from one run directory (trajectory.jsonl plus the issue it was given)."""
    from agent.fsutil import read_jsonl

    run_dir = Path(run_dir)
    events = read_jsonl(run_dir / "trajectory.jsonl")
    issue_file = run_dir / "issue.md"
    problem = issue_file.read_text(encoding="utf-8") if issue_file.exists() else ""
    for e in events:
        if e.get("type") in ("start", "run_start") and not problem:
            problem = _first(e, "issue", "issue_text")
    out: list[dict] = []
    # the latest failing observation per location, waiting for the refinement that follows it
    pending: dict[str, dict] = {}
    for e in events:
        kind = e.get("type") or e.get("event")
        if kind == "explanation":
            loc = str(_first(e, "location", "file", default="?"))
            pending[loc] = e
        elif kind in ("validation", "validated") and _first(e, "plausible", "fixed", default=False):
            loc = str(_first(e, "location", "file", default="?"))
            before = pending.pop(loc, None) or (next(iter(pending.values())) if pending else None)
            faulty = _first(before or {}, "faulty_code", "code_before", "before")
            refined = _first(e, "refined_code", "code_after", "after")
            if before and faulty and refined:
                out.append(example(problem, faulty, _first(before, "feedback", "test_output", "failure"),
                                   _first(before, "explanation", "text", "summary"), refined))
    return out


def convert(run_dirs: list[str | Path], out_file: str | Path) -> int:
    from agent.fsutil import atomic_write_text

    rows = []
    for d in run_dirs:
        rows.extend(examples_from_run(d))
    atomic_write_text(out_file, "".join(json.dumps(r) + "\n" for r in rows))
    return len(rows)
