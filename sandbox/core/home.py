"""Where ouro keeps what it writes for a project: `.ouro/` (runs, SQLite index, audit log, caches)."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class OuroHome:
    root: Path

    @classmethod
    def resolve(cls, explicit: str | os.PathLike | None = None) -> "OuroHome":
        """--home beats OURO_HOME beats ./.ouro."""
        chosen = explicit or os.environ.get("OURO_HOME") or Path.cwd() / ".ouro"
        return cls(Path(chosen).expanduser().resolve())

    # what is inside it
    runs = property(lambda self: self.root / "runs")          # a directory per repair, bench or improve run
    db = property(lambda self: self.root / "ouro.db")         # the SQLite index of the runs
    audit_dir = property(lambda self: self.root / "audit")    # the audit log and its key
    cache = property(lambda self: self.root / "cache")        # model servers' state, the self-test's scratch

    def ensure(self) -> "OuroHome":
        for d in (self.root, self.runs, self.audit_dir, self.cache):
            d.mkdir(parents=True, exist_ok=True)
        return self
