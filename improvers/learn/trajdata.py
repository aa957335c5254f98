"""Turn ouro's repair trajectories into supervised fine-tuning data in the CYCLE shape.

Each example is (problem, faulty code, execution feedback) → (explanation, refined code),
written in TRL's conversational format so that `ouro learn finetune` (or TRL's SFTTrainer)
reads it directly. A trajectory yields one example per refinement step: a failed candidate
whose explanation was followed by a better candidate at the same location. The final
plausible patch, explained, is an example too.

The trajectory events this reads are the ones `agent/trajectory.py` writes (`kind`:
reproduce, proposal, validation, explanation, result).
"""
from __future__ import annotations

import json
from pathlib import Path

SYSTEM = ("You repair Python code. Given the issue, the faulty code and the test feedback, first explain "
          "why the code fails, then give the refined code.")


def example(problem: str, faulty: str, feedback: str, explanation: str, refined: str) -> dict:
    user = (f"## Issue\n{problem.strip()}\n\n## Faulty code\n```python\n{faulty.rstrip()}\n```\n\n"
            f"## Execution feedback\n```\n{feedback.strip()[:4000]}\n```")
    assistant = f"## Explanation\n{explanation.strip()}\n\n## Refined code\n```python\n{refined.rstrip()}\n```"
    return {"messages": [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user},
                         {"role": "assistant", "content": assistant}]}


def hunks(patch: str) -> list[tuple[str, str, str]]:
    """(file, code before, code after) for each hunk of a unified diff, context included."""
    out, file, before, after = [], "", [], []

    def flush():
        if before or after:
            out.append((file, "\n".join(before), "\n".join(after)))

    for line in patch.splitlines():
        if line.startswith("+++ "):
            file = line[4:].removeprefix("b/")
        elif line.startswith("--- ") or line.startswith("diff --git") or line.startswith("index "):
            continue
        elif line.startswith("@@"):
            flush()
            before, after = [], []
        elif line.startswith("-"):
            before.append(line[1:])
        elif line.startswith("+"):
            after.append(line[1:])
        elif line.startswith(" ") or line == "":
            before.append(line[1:])
            after.append(line[1:])
    flush()
    return out


def examples_from_run(run_dir: str | Path) -> list[dict]:
    """Examples from one finished run directory.

    Per refinement the search recorded (a failed candidate's explanation followed, in the end,
    by the plausible patch): the faulty code is the code the patch changes, the feedback is
    the failing test output that candidate produced, the explanation is the chain entry, and
    the refined code is the patched code. Refinements a language-model policy recorded with
    their code (agent.llm.trajectory) are taken as they are.
    """
    from ouro.sandbox.core.files import read_jsonl

    run_dir = Path(run_dir)
    events = read_jsonl(run_dir / "trajectory.jsonl")
    result = next((e for e in reversed(events) if e.get("kind") == "result"), None)
    problem = ""
    state = run_dir / "state.json"
    if state.exists():
        problem = json.loads(state.read_text()).get("issue", "")
    from ouro.agent.llm.trajectory import refinement_examples  # language-model runs record the code itself

    out = [example(r.problem or problem, r.faulty_code, r.feedback, r.explanation, r.refined_code)
           for r in refinement_examples(events)]
    if not result or result.get("status") != "plausible" or not result.get("patch"):
        return out
    patch_hunks = hunks(result["patch"])
    if not patch_hunks:
        return out
    faulty = "\n\n".join(f"# {f}\n{b}" for f, b, _ in patch_hunks)
    refined = "\n\n".join(f"# {f}\n{a}" for f, _, a in patch_hunks)
    patched_files = {f for f, _, _ in patch_hunks}
    chain = [e for e in events if e.get("kind") == "explanation"]
    for e in chain:
        if e.get("file") not in patched_files:
            continue
        feedback = f"{e.get('test', '')}\n{e.get('message', '')}".strip()
        text = (f"The attempt `{e.get('edit', '')}` left {e.get('test', 'a test')} failing: expected "
                f"{e.get('expected', '?')}, got {e.get('actual', '?')}. {e.get('lesson', '')}").strip()
        out.append(example(problem, faulty, feedback, text, refined))
    reproduce = next((e for e in events if e.get("kind") == "reproduce"), {})
    first_failure = next((e for e in events if e.get("kind") == "validation" and e.get("failing")), {})
    feedback = "\n".join(f"{t}: {m}" for t, m in (first_failure.get("failing") or {}).items()) or \
        "\n".join(reproduce.get("failing", []))
    final = next((e for e in reversed(events) if e.get("kind") == "proposal" and e.get("file") in patched_files), {})
    out.append(example(problem, faulty, feedback,
                       f"The failing tests point at {', '.join(sorted(patched_files))}. "
                       f"{final.get('description', 'The edit below')} makes them pass without regressions.",
                       refined))
    return out


def convert(run_dirs: list[str | Path], out_file: str | Path) -> int:
    from ouro.sandbox.core.files import atomic_write_text

    rows = []
    for d in run_dirs:
        rows.extend(examples_from_run(d))
    atomic_write_text(out_file, "".join(json.dumps(r) + "\n" for r in rows))
    return len(rows)
