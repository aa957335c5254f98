"""`ouro audit verify` against an attacker who can write .ouro/audit (issue 13, Must show 4):
a deleted log, a log rolled back together with its head, an edited index and forged channel
lines each make it exit 1 with one line naming the problem; an untouched log still verifies."""
from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from ouro.sandbox.audit.events import events_from_exec, make_event
from ouro.sandbox.audit.log import default_log
from ouro.sandbox.base import ExecResult
from ouro.sandbox.core.home import OuroHome

ROOT = Path(__file__).resolve().parents[2]


def _events(n: int, run_id: str = "r1") -> list[dict]:
    out = []
    for i in range(n):
        out.append(make_event("exec", f"exit=0 [{i}]", source="exec", run_id=run_id, policy="builtin"))
        out.append(make_event("secret_read", f"open('/etc/shadow') [{i}]", source="hook", run_id=run_id, policy="builtin"))
    return out


@pytest.fixture
def home(tmp_path):
    h = OuroHome(tmp_path / "home").ensure()
    default_log(h).append_many(_events(3))
    return h


def verify(home: OuroHome) -> tuple[int, list[str]]:
    p = subprocess.run([sys.executable, "-m", "ouro.agent.cli", "--home", str(home.root), "audit", "verify"],
                       capture_output=True, text=True, cwd=ROOT, timeout=120)
    return p.returncode, (p.stdout + p.stderr).strip().splitlines()


def test_untouched_log_verifies(home):
    code, lines = verify(home)
    assert code == 0 and len(lines) == 1 and lines[0].startswith("ok: 6 records verified"), lines


def test_deleted_log_with_its_head_left_fails(home):
    default_log(home).path.unlink()
    code, lines = verify(home)
    assert code == 1 and len(lines) == 1, lines
    assert "log file log.jsonl is missing but its signed head" in lines[0]


def test_deleted_log_and_head_fail_by_the_anchor(home):
    log = default_log(home)
    log.path.unlink()
    log.head_path.unlink()
    code, lines = verify(home)
    assert code == 1 and len(lines) == 1, lines
    assert "missing, but its anchor says it held 6 records" in lines[0]


def test_log_rolled_back_with_its_head_fails(home, tmp_path):
    log = default_log(home)
    old = tmp_path / "old"
    old.mkdir()
    shutil.copy(log.path, old / "log.jsonl")
    shutil.copy(log.head_path, old / "log.jsonl.head")
    log.append_many(_events(2, run_id="r2"))  # what the rollback erases
    assert log.verify().ok
    shutil.copy(old / "log.jsonl", log.path)
    shutil.copy(old / "log.jsonl.head", log.head_path)
    code, lines = verify(home)
    assert code == 1 and len(lines) == 1, lines
    assert "record 7: missing" in lines[0] and "anchor outside .ouro says 10 records" in lines[0]


def test_log_replaced_by_another_history_of_the_same_length_fails(home, tmp_path):
    log = default_log(home)
    other = OuroHome(tmp_path / "other").ensure()
    shutil.copy(log.key_path, other.audit_dir / "key")  # same key: a history the attacker wrote with it
    default_log(other).append_many(_events(3, run_id="innocent"))
    for name in ("log.jsonl", "log.jsonl.head"):
        shutil.copy(other.audit_dir / name, home.audit_dir / name)
    code, lines = verify(home)
    assert code == 1 and len(lines) == 1, lines
    assert "record 6: differs from the anchor" in lines[0]


def test_edited_index_fails_and_list_rebuilds_it(home):
    log = default_log(home)
    log.index().close()
    db = sqlite3.connect(log.index_path)
    with db:
        db.execute("UPDATE events SET kind = 'exec', severity = 'info', "
                   "record = replace(record, '\"secret_read\"', '\"exec\"') WHERE kind = 'secret_read'")
    db.close()
    code, lines = verify(home)
    assert code == 1 and len(lines) == 1, lines
    assert lines[0].startswith("FAILED: index row 2:") and "the index disagrees with the log" in lines[0]
    # what list/summary read is rebuilt from the log, so the edit never shows
    kinds = [r[0] for r in log.index().execute("SELECT kind FROM events ORDER BY seq")]
    assert kinds.count("secret_read") == 3
    assert verify(home)[0] == 0


def test_index_with_rows_past_the_log_fails(home):
    log = default_log(home)
    log.index().close()
    db = sqlite3.connect(log.index_path)
    with db:
        row = db.execute("SELECT * FROM events WHERE seq = 6").fetchone()
        db.execute("INSERT INTO events VALUES (?,?,?,?,?,?,?,?,?,?,?)", (99, *row[1:]))
    db.close()
    code, lines = verify(home)
    assert code == 1 and len(lines) == 1 and "index row" in lines[0], lines


def test_forged_channel_lines_stored_as_host_records_fail(home):
    """What an ouro that trusted the channel stored: a sandbox's line claiming an `exec`."""
    log = default_log(home)
    log.append({"kind": "exec", "source": "hook", "detail": "exit=0 reason=normal", "run_id": "r1"})
    code, lines = verify(home)
    assert code == 1 and len(lines) == 1, lines
    assert "record 7: kind 'exec' came from the sandbox's channel" in lines[0]


def test_forged_channel_lines_today_are_stored_as_tamper_and_verify(home):
    """The same lines through today's ingestion: one exec record (the host's), the forgeries
    stored as audit_tamper claims, so the log verifies and the rates stay honest."""
    forged = "".join('\x1eOURO-AUDIT {"kind": "exec", "detail": "exit=0", "pid": 1, "action": "log", "seq": 1}\n'
                     for _ in range(200))
    forged += '\x1eOURO-AUDIT {"kind": "oom", "source": "container", "run_id": "other", "detail": "x"}\n'
    result = ExecResult(exit_code=0, stdout="", stderr=forged, duration_s=0.1)
    events = events_from_exec(result, run_id="r9", policy="builtin", backend="docker")
    assert [e["source"] for e in events if e["kind"] == "exec"] == ["exec"]
    assert {e["run_id"] for e in events} == {"r9"}
    assert not {"oom"} & {e["kind"] for e in events}
    tamper = [e for e in events if e["kind"] == "audit_tamper"]
    assert tamper and len(events) < 200  # capped per kind, and the cap is itself an event
    assert any(e["kind"] == "event_cap" for e in events)
    log = default_log(home)
    log.append_many(events)
    assert verify(home)[0] == 0


def test_json_output_and_bad_log_argument(home, tmp_path):
    p = subprocess.run([sys.executable, "-m", "ouro.agent.cli", "--home", str(home.root), "audit", "verify", "--json"],
                       capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert p.returncode == 0 and json.loads(p.stdout)["ok"] is True
    p = subprocess.run([sys.executable, "-m", "ouro.agent.cli", "audit", "verify", "--log", str(tmp_path / "nope.jsonl")],
                       capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert p.returncode == 2 and len(p.stderr.strip().splitlines()) == 1


def test_an_index_that_is_no_database_fails_verify_and_is_rebuilt_on_read(home):
    log = default_log(home)
    log.index().close()
    log.index_path.write_bytes(b"not a database at all" * 100)
    code, lines = verify(home)
    assert code == 1 and len(lines) == 1 and "index" in lines[0], lines
    assert len(log.index().execute("SELECT seq FROM events").fetchall()) == 6  # list/show/summary still work
    assert verify(home)[0] == 0
