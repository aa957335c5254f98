"""The trajectory of a run: one JSON event per line in trajectory.jsonl, appended as it happens.

Kinds: start, reproduce, localize, proposal, validation, value, explanation, search_end,
selection, result (and resume, when a run continues). Each line is flushed to disk before
the next step, so a killed run leaves a readable prefix; the learned policy (improvers/)
and `ouro runs show` read it back.
"""
from __future__ import annotations

import time
from pathlib import Path

from ouro.sandbox.core.files import append_jsonl, read_jsonl


class Trajectory:
    def __init__(self, path: Path):
        self.path = Path(path)
        self.count = len(read_jsonl(self.path)) if self.path.exists() else 0

    def log(self, kind: str, data: dict | None = None) -> None:
        self.count += 1
        append_jsonl(self.path, {"seq": self.count, "t": round(time.time(), 3), "kind": kind, **(data or {})})

    def events(self, kind: str | None = None) -> list[dict]:
        return [e for e in read_jsonl(self.path) if kind is None or e.get("kind") == kind]
