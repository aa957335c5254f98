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

    @property
    def runs(self) -> Path:
        return self.root / "runs"

    @property
    def db(self) -> Path:
        return self.root / "ouro.db"

    @property
    def audit_dir(self) -> Path:
        return self.root / "audit"

    @property
    def cache(self) -> Path:
        return self.root / "cache"

    def ensure(self) -> "OuroHome":
        for d in (self.root, self.runs, self.audit_dir, self.cache):
            d.mkdir(parents=True, exist_ok=True)
        return self
