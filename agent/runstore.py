"""The SQLite index of runs (.ouro/ouro.db): what `ouro runs list/show` and resume read.

The run directory is the record of truth; this table is an index over it, one row per run,
updated at start and at the end (and on resume). Several ouro processes may share a home,
so every write is a short transaction with a busy timeout.
"""
from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY,
    repo TEXT NOT NULL,
    run_dir TEXT NOT NULL,
    policy TEXT NOT NULL,
    backend TEXT NOT NULL,
    status TEXT NOT NULL,             -- running | plausible | not_found | error
    started REAL NOT NULL,
    finished REAL,
    seconds REAL,
    candidates_validated INTEGER DEFAULT 0,
    first_plausible INTEGER,
    patch_lines INTEGER,
    error TEXT
)"""
COLUMNS = ("run_id", "repo", "run_dir", "policy", "backend", "status", "started", "finished", "seconds",
           "candidates_validated", "first_plausible", "patch_lines", "error")


@dataclass
class RunStore:
    path: Path

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        con = sqlite3.connect(self.path, timeout=30)
        con.execute(_SCHEMA)
        return con

    def start(self, run_id: str, repo: str, run_dir: str, policy: str, backend: str) -> None:
        with self._connect() as con:
            con.execute("INSERT INTO runs (run_id, repo, run_dir, policy, backend, status, started) VALUES (?,?,?,?,?,?,?) "
                        "ON CONFLICT(run_id) DO UPDATE SET status='running', finished=NULL, error=NULL",
                        (run_id, repo, run_dir, policy, backend, "running", time.time()))

    def finish(self, run_id: str, **fields) -> None:
        fields.setdefault("finished", time.time())
        cols = [c for c in fields if c in COLUMNS]
        with self._connect() as con:
            con.execute(f"UPDATE runs SET {', '.join(c + '=?' for c in cols)} WHERE run_id=?",
                        [fields[c] for c in cols] + [run_id])

    def get(self, run_id: str) -> dict | None:
        with self._connect() as con:
            con.row_factory = sqlite3.Row
            row = con.execute("SELECT * FROM runs WHERE run_id=?", (run_id,)).fetchone()
            if row is None:  # a unique prefix is enough
                rows = con.execute("SELECT * FROM runs WHERE run_id LIKE ?", (run_id + "%",)).fetchall()
                row = rows[0] if len(rows) == 1 else None
        return dict(row) if row else None

    def list(self, limit: int = 50) -> list[dict]:
        with self._connect() as con:
            con.row_factory = sqlite3.Row
            return [dict(r) for r in con.execute("SELECT * FROM runs ORDER BY started DESC LIMIT ?", (limit,))]
