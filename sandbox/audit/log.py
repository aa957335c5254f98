"""The tamper-evident audit log: append-only JSON lines, hash-chained with an HMAC.

Each record is one line of canonical JSON carrying `seq` (1, 2, ...), `prev` (the previous
record's `mac`; 64 zeros for the first) and `mac` = HMAC-SHA256(key, canonical JSON of the
record without `mac`). Changing a record breaks its own mac; deleting or reordering records
breaks the seq/prev chain at the first moved record; deleting records from the end is caught
by the signed head file (`<log>.head`) holding the last seq and mac. Nobody without the key
can write a record that verifies, so the key lives on the host only (`.ouro/audit/key`,
mode 0600) and is never mounted into a sandbox.

The head lives next to the log, so whoever can rewrite the log can also put back an older
prefix of it together with the head signed for that prefix. So every append also writes an
ANCHOR (the record count, the last mac and a signature) to a second place, outside `.ouro/`
and never mounted into a sandbox: `~/.local/state/ouro/audit-anchors/` (XDG_STATE_HOME, or
OURO_AUDIT_ANCHOR_DIR), one file per log path. `verify` fails when the log is shorter than
its anchor or differs from it at the anchored record, and when the log (or its head) is gone
while an anchor or head says records existed. What is NOT anchored: a log whose anchor was
deleted or rewritten too (an attacker with the user's own rights on the host: the anchor is
a second place, not a second machine), and a log moved to another path (it verifies, with
"not anchored" in its result).

The SQLite index (`<log dir>/index.db`) is a cache for `ouro audit list/show/summary`: it is
caught up from the log on every query, each query first checks every indexed row against its
record's mac and the log's length (and rebuilds the index from the log when one disagrees),
and `verify` reads the log itself and fails, naming the first row, when the index disagrees.

Records are claims about who saw what (`source`): a record of a kind only the host assigns
(exec, the container's limits, the static scan's kinds) must come from a host source; one
that came from the sandbox's channel is a forgery stored by an older ouro, and `verify`
names it.

Appends from several processes (bench workers) are serialised with flock on `<log>.lock`.
"""
from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import os
import secrets
import sqlite3
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

GENESIS = "0" * 64
LOG_NAME = "log.jsonl"


def canonical(obj: dict) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True, default=str).encode()


@dataclass
class VerifyResult:
    ok: bool
    records: int
    first_bad: int | None = None   # 1-based line number of the first bad record
    reason: str = ""

    def to_dict(self) -> dict:
        return {"ok": self.ok, "records": self.records, "first_bad": self.first_bad, "reason": self.reason}


class AuditLogError(Exception):
    pass


class AuditLog:
    def __init__(self, path: str | os.PathLike, key_path: str | os.PathLike | None = None):
        self.path = Path(path)
        self.key_path = Path(key_path) if key_path else self.path.parent / "key"
        self.head_path = self.path.with_name(self.path.name + ".head")
        self.lock_path = self.path.with_name(self.path.name + ".lock")
        self.index_path = self.path.parent / "index.db"
        self._key: bytes | None = None

    # -- key ---------------------------------------------------------------------------
    def key(self, create: bool = True) -> bytes:
        if self._key is None:
            self._key = _load_or_create_key(self.key_path, create)
        return self._key

    def _mac(self, body: dict) -> str:
        return hmac.new(self.key(), canonical(body), hashlib.sha256).hexdigest()

    def _head_mac(self, seq: int, mac: str) -> str:
        return hmac.new(self.key(), f"head:{seq}:{mac}".encode(), hashlib.sha256).hexdigest()

    # -- writing -----------------------------------------------------------------------
    def append(self, event: dict) -> dict:
        """Append one event; returns the stored record (with seq, ts, prev and mac)."""
        return self.append_many([event])[0]

    def append_many(self, events: list[dict]) -> list[dict]:
        """Append several events under one lock and one fsync (cheap per execution)."""
        if not events:
            return []
        self.key()  # create the key before taking the lock
        out = []
        with self._locked():
            seq, prev = self._tail()
            lines = []
            now = time.time()
            ts = datetime.fromtimestamp(now, timezone.utc).isoformat(timespec="milliseconds")
            for event in events:
                seq += 1
                body = {k: v for k, v in event.items() if k not in ("seq", "prev", "mac", "ts")}
                body.update(seq=seq, prev=prev, ts=ts)
                body["mac"] = self._mac(body)
                prev = body["mac"]
                lines.append(canonical(body) + b"\n")
                out.append(body)
            with open(self.path, "ab") as f:
                f.write(b"".join(lines))
                f.flush()
                os.fsync(f.fileno())
            self._write_head(seq, prev)
        return out

    @contextmanager
    def _locked(self):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.lock_path, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _tail(self) -> tuple[int, str]:
        """(seq, mac) of the last complete record; drops a torn last line left by a crash."""
        if not self.path.exists():
            return 0, GENESIS
        with open(self.path, "rb+") as f:
            size = f.seek(0, os.SEEK_END)
            if size == 0:
                return 0, GENESIS
            chunk = min(size, 1 << 16)
            f.seek(size - chunk)
            data = f.read(chunk)
            if not data.endswith(b"\n"):
                cut = data.rfind(b"\n")
                f.truncate(size - chunk + cut + 1 if cut >= 0 else (0 if chunk == size else size))
                data = data[: cut + 1] if cut >= 0 else b""
            lines = [ln for ln in data.split(b"\n") if ln.strip()]
            if not lines:
                return 0, GENESIS
            try:
                last = json.loads(lines[-1])
                return int(last["seq"]), str(last["mac"])
            except (ValueError, KeyError, TypeError):
                raise AuditLogError(f"{self.path}: last record is not valid; run `ouro audit verify`") from None

    def _write_head(self, seq: int, mac: str) -> None:
        tmp = self.head_path.with_name(self.head_path.name + f".{os.getpid()}")
        tmp.write_text(json.dumps({"seq": seq, "mac": mac, "sig": self._head_mac(seq, mac)}) + "\n")
        os.replace(tmp, self.head_path)
        self._write_anchor(seq, mac)

    # -- anchor: the count and last mac, in a second place ---------------------------------
    @property
    def anchor_path(self) -> Path:
        base = os.environ.get("OURO_AUDIT_ANCHOR_DIR") or (
            Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state") / "ouro" / "audit-anchors")
        where = os.path.realpath(self.path)
        return Path(base) / (hashlib.sha256(where.encode()).hexdigest()[:24] + ".json")

    def _anchor_mac(self, seq: int, mac: str) -> str:
        return hmac.new(self.key(), f"anchor:{os.path.realpath(self.path)}:{seq}:{mac}".encode(), hashlib.sha256).hexdigest()

    def _write_anchor(self, seq: int, mac: str) -> None:
        path = self.anchor_path
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            tmp = path.with_name(path.name + f".{os.getpid()}")
            tmp.write_text(json.dumps({"log": os.path.realpath(self.path), "seq": seq, "mac": mac,
                                       "sig": self._anchor_mac(seq, mac)}) + "\n")
            os.replace(tmp, path)
        except OSError:
            pass  # an unwritable anchor dir weakens rollback detection; verify says "not anchored"

    def _anchor(self) -> dict | None:
        try:
            a = json.loads(self.anchor_path.read_text())
            return {"seq": int(a["seq"]), "mac": str(a["mac"]), "sig": str(a["sig"])}
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError):
            return {"seq": -1, "mac": "", "sig": ""}

    # -- reading -----------------------------------------------------------------------
    def records(self) -> Iterator[dict]:
        """Every parseable record, in file order (no verification: see verify())."""
        if not self.path.exists():
            return
        with open(self.path, "rb") as f:
            for line in f:
                if line.strip():
                    try:
                        yield json.loads(line)
                    except ValueError:
                        continue

    def verify(self) -> VerifyResult:
        """Check every record's mac and the seq/prev chain, the records' provenance, the signed
        head, the anchor kept outside the log's directory, and the SQLite index."""
        anchor = self._anchor()
        if not self.path.exists():
            if self.head_path.exists():
                return VerifyResult(False, 0, 1, f"the log file {self.path.name} is missing but its signed head "
                                                 f"{self.head_path.name} exists (the log was deleted)")
            if anchor is not None and anchor["seq"] != 0:
                return VerifyResult(False, 0, 1, f"the log file {self.path.name} is missing, but its anchor says it "
                                                 f"held {max(anchor['seq'], 0)} records (log and head were deleted)")
            return VerifyResult(True, 0, reason="empty log")
        if not self.key_path.exists():
            return VerifyResult(False, 0, 1, f"key {self.key_path} is missing: the log cannot be verified")
        prev, n, macs = GENESIS, 0, {}
        with open(self.path, "rb") as f:
            for lineno, line in enumerate(f, 1):
                n = lineno
                bad = self._check_line(line, lineno, prev)
                if bad:
                    return VerifyResult(False, lineno - 1, lineno, bad)
                rec = json.loads(line)
                prev = rec["mac"]
                bad = _provenance(rec, lineno)
                if bad:
                    return VerifyResult(False, lineno - 1, lineno, bad)
                if anchor is not None and lineno == anchor["seq"]:
                    macs[lineno] = prev
        result = self._check_head(n, prev)
        if not result.ok:
            return result
        result = self._check_anchor(anchor, n, macs)
        if not result.ok:
            return result
        bad = self._check_index(n)
        if bad:
            return VerifyResult(False, n, None, bad)
        return result

    def _check_anchor(self, anchor: dict | None, n: int, macs: dict) -> VerifyResult:
        if anchor is None:
            return VerifyResult(True, n, reason="ok (not anchored: no anchor outside the log's directory)" if n else "ok")
        if anchor["seq"] < 0 or not hmac.compare_digest(self._anchor_mac(anchor["seq"], anchor["mac"]), anchor["sig"]):
            return VerifyResult(False, n, n + 1, f"the anchor {self.anchor_path} is unreadable or its signature "
                                                 f"does not match")
        if anchor["seq"] > n:
            return VerifyResult(False, n, n + 1, f"record {n + 1}: missing (the log ends at {n} with a matching head, "
                                                 f"but the anchor outside .ouro says {anchor['seq']} records: the log "
                                                 f"and its head were rolled back together)")
        if anchor["seq"] and not hmac.compare_digest(macs.get(anchor["seq"], ""), anchor["mac"]):
            return VerifyResult(False, n, anchor["seq"], f"record {anchor['seq']}: differs from the anchor outside "
                                                         f".ouro (the log was replaced)")
        return VerifyResult(True, n, reason="ok")

    def _check_index(self, n: int) -> str:
        """'' when every row of the SQLite index is the log's record of its seq, else why not."""
        if not self.index_path.exists():
            return ""
        try:
            db = sqlite3.connect(f"file:{self.index_path}?mode=ro", uri=True, timeout=30)
            rows = db.execute("SELECT seq, kind, severity, source, run_id, record FROM events ORDER BY seq").fetchall()
            db.close()
        except sqlite3.Error as e:
            return f"the index {self.index_path.name} cannot be read: {e}"
        bad = self._bad_index_rows(rows, n, stop_at_first=True)
        return bad[0] if bad else ""

    def _bad_index_rows(self, rows, n: int, stop_at_first: bool = False) -> list[str]:
        out = []
        for seq, kind, severity, source, run_id, text in rows:
            why = ""
            try:
                rec = json.loads(text)
                body = {k: v for k, v in rec.items() if k != "mac"}
                if seq > n:
                    why = f"index row {seq}: the log has only {n} records"
                elif rec.get("seq") != seq or not hmac.compare_digest(self._mac(body), str(rec.get("mac", ""))):
                    why = f"index row {seq}: its record does not match its mac (the index was edited)"
                elif (kind, severity, source, run_id) != (rec.get("kind", ""), rec.get("severity", ""),
                                                         rec.get("source", ""), rec.get("run_id", "")):
                    why = f"index row {seq}: its columns disagree with its record (the index was edited)"
            except (ValueError, TypeError, AttributeError):
                why = f"index row {seq}: its record is not valid JSON (the index was edited)"
            if why:
                out.append(f"{why}; the index disagrees with the log")
                if stop_at_first:
                    break
        return out

    def _check_line(self, line: bytes, lineno: int, prev: str) -> str:
        try:
            rec = json.loads(line)
        except ValueError:
            return f"record {lineno}: not valid JSON"
        if not isinstance(rec, dict) or not isinstance(rec.get("mac"), str):
            return f"record {lineno}: has no mac"
        body = {k: v for k, v in rec.items() if k != "mac"}
        if not hmac.compare_digest(self._mac(body), rec["mac"]):
            return f"record {lineno}: mac mismatch (its content was changed)"
        if rec.get("seq") != lineno:
            return f"record {lineno}: has seq {rec.get('seq')!r}, expected {lineno} (records deleted, inserted or reordered)"
        if rec.get("prev") != prev:
            return f"record {lineno}: does not chain to record {lineno - 1} (records deleted or reordered)"
        return ""

    def _check_head(self, n: int, last_mac: str) -> VerifyResult:
        if not self.head_path.exists():
            if n == 0:
                return VerifyResult(True, 0, reason="empty log")
            return VerifyResult(False, n, n, f"head file {self.head_path.name} is missing: cannot rule out deleted records at the end")
        try:
            head = json.loads(self.head_path.read_text())
            seq, mac, sig = int(head["seq"]), str(head["mac"]), str(head["sig"])
        except (ValueError, KeyError, TypeError, OSError):
            return VerifyResult(False, n, n + 1, f"head file {self.head_path.name} is unreadable")
        if not hmac.compare_digest(self._head_mac(seq, mac), sig):
            return VerifyResult(False, n, n + 1, "head file signature mismatch (it was edited)")
        if seq > n:
            return VerifyResult(False, n, n + 1, f"record {n + 1}: missing (the log ends at {n}, the signed head says {seq} records; records were deleted from the end)")
        # records past the head are authentic (they carry valid macs): a crash between append and head write
        if seq >= 1 and seq == n and not hmac.compare_digest(mac, last_mac):
            return VerifyResult(False, n, n, f"record {n}: differs from the signed head")
        return VerifyResult(True, n, reason="ok")

    # -- index -------------------------------------------------------------------------
    def index(self) -> sqlite3.Connection:
        """The SQLite index, caught up with the log first."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.index_path, timeout=30)
        db.row_factory = sqlite3.Row
        try:
            db.executescript(_SCHEMA)
            db.execute("SELECT seq FROM events LIMIT 1").fetchall()
        except sqlite3.DatabaseError:  # not a database any more (overwritten): it is only a cache
            db.close()
            self.index_path.unlink(missing_ok=True)
            db = sqlite3.connect(self.index_path, timeout=30)
            db.row_factory = sqlite3.Row
            db.executescript(_SCHEMA)
        row = db.execute("SELECT value FROM meta WHERE key='offset'").fetchone()
        offset = int(row[0]) if row else 0
        size = self.path.stat().st_size if self.path.exists() else 0
        rows = db.execute("SELECT seq, kind, severity, source, run_id, record FROM events ORDER BY seq").fetchall() \
            if offset and self.key_path.exists() else []
        if size < offset or (rows and self._bad_index_rows(rows, 1 << 62, stop_at_first=True)):
            # the log was replaced or truncated, or the index edited: rebuild it from the log
            with db:
                db.execute("DELETE FROM events")
                db.execute("DELETE FROM meta WHERE key='offset'")
            offset = 0
        if size > offset:
            with open(self.path, "rb") as f:
                f.seek(offset)
                data = f.read(size - offset)
            end = data.rfind(b"\n") + 1
            rows = []
            for line in data[:end].split(b"\n"):
                if not line.strip():
                    continue
                try:
                    r = json.loads(line)
                    rows.append(_row(r))
                except (ValueError, KeyError, TypeError):
                    continue
            with db:
                db.executemany("INSERT OR REPLACE INTO events VALUES (?,?,?,?,?,?,?,?,?,?,?)", rows)
                db.execute("INSERT OR REPLACE INTO meta VALUES ('offset', ?)", (str(offset + end),))
        return db


_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY, ts TEXT, epoch REAL, kind TEXT, severity TEXT, action TEXT,
    source TEXT, run_id TEXT, policy TEXT, backend TEXT, record TEXT);
CREATE INDEX IF NOT EXISTS events_kind ON events(kind);
CREATE INDEX IF NOT EXISTS events_run ON events(run_id);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
"""


def _row(r: dict) -> tuple:
    try:
        epoch = datetime.fromisoformat(r["ts"]).timestamp()
    except (KeyError, ValueError, TypeError):
        epoch = 0.0
    return (int(r["seq"]), r.get("ts", ""), epoch, r.get("kind", ""), r.get("severity", ""), r.get("action", ""),
            r.get("source", ""), r.get("run_id", ""), r.get("policy", ""), r.get("backend", ""),
            json.dumps(r, sort_keys=True))


_SANDBOX_SOURCES = frozenset({"hook", "channel"})  # what the sandbox's channel writes


def _provenance(rec: dict, lineno: int) -> str:
    """'' unless a record of a host-only kind came from the sandbox's channel (stored by an ouro
    that trusted channel lines: a forged host record)."""
    from ouro.sandbox.audit.events import HOST_ONLY_KINDS

    if rec.get("kind") in HOST_ONLY_KINDS and rec.get("source") in _SANDBOX_SOURCES:
        return (f"record {lineno}: kind {rec.get('kind')!r} came from the sandbox's channel (source "
                f"{rec.get('source')!r}): a forged host record")
    return ""


def _load_or_create_key(path: Path, create: bool) -> bytes:
    try:
        st = path.stat()
    except FileNotFoundError:
        if not create:
            raise AuditLogError(f"audit key {path} is missing") from None
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written whole under a temporary name, then linked into place: a concurrent process
        # (parallel workers share a home) sees no key or the whole key, never an empty file.
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32) + "\n")
            f.flush()
            os.fsync(f.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:  # another process created it first: use theirs
            pass
        finally:
            os.unlink(tmp)
        st = path.stat()
    if st.st_mode & 0o077:
        os.chmod(path, 0o600)  # a key readable by others is not a secret
    key = path.read_text().strip()
    if len(key) < 32:
        raise AuditLogError(f"audit key {path} is too short or empty")
    return key.encode()


def default_log(home) -> AuditLog:
    """The project's audit log: <home>/audit/log.jsonl (key next to it, never mounted)."""
    return AuditLog(Path(home.audit_dir) / LOG_NAME)
