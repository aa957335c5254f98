"""Training data from a model policy's trajectory: one example per explained refinement.

An `llm_proposal` event holds (problem, faulty code, execution feedback, explanation, refined
code); the `llm_value` event of the node it became holds how validation went. Together they
are the CYCLE / self-debugging example the learned policy (improvers/learn) trains on:
(problem, faulty code, feedback) -> (explanation, refined code).

Reads either a repair's trajectory.jsonl (kinds `llm_proposal`, `llm_value`) or the policy's
own llm_trajectory.jsonl (events `proposal`, `value`).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from ouro.sandbox.core.files import read_jsonl


@dataclass
class RefinementExample:
    problem: str
    faulty_code: str       # the edited files before the refinement, each headed "# file: PATH"
    feedback: str          # the test output that was explained
    explanation: str
    refined_code: str      # the same files after the refinement
    status: str            # what validating the refined state showed (plausible, partial, ...)

    def to_dict(self) -> dict:
        return asdict(self)


def _kind(e: dict) -> str:
    k = e.get("kind") or e.get("event") or ""
    return k[4:] if k.startswith("llm_") else k


def _files_text(files: dict[str, str | None], paths: list[str]) -> str:
    return "\n".join(f"# file: {p}\n{files.get(p) or ''}" for p in paths)


def refinement_examples(events: list[dict], statuses: tuple[str, ...] = ("plausible", "partial")) -> list[RefinementExample]:
    """Examples from explained refinements whose result validated with one of `statuses`."""
    outcome = {(e.get("parent"), e.get("attempt")): e.get("status") for e in events if _kind(e) == "value"}
    out = []
    for e in events:
        if _kind(e) != "proposal" or "refined_code" not in e or not e.get("explanation") or not e.get("refined_code"):
            continue
        status = outcome.get((e.get("parent"), e.get("attempt")))
        if status not in statuses:
            continue
        paths = sorted(e["refined_code"])
        out.append(RefinementExample(problem=e.get("problem", ""), faulty_code=_files_text(e["faulty_code"], paths),
                                     feedback=e.get("feedback", ""), explanation=e["explanation"],
                                     refined_code=_files_text(e["refined_code"], paths), status=status))
    return out


def examples_from_run(run_dir: str | Path) -> list[RefinementExample]:
    run_dir = Path(run_dir)
    events = read_jsonl(run_dir / "trajectory.jsonl") + read_jsonl(run_dir / "llm_trajectory.jsonl")
    return refinement_examples(events)
