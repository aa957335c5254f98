"""The tamper-evident audit log: every single-record mutation is caught and named (Must show 2)."""
from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from ouro.sandbox.audit.log import AuditLog

N = 6


def _log(tmp_path: Path) -> AuditLog:
    log = AuditLog(tmp_path / "audit" / "log.jsonl")
    log.append_many([{"kind": "exec", "detail": f"run {i}", "run_id": "r1", "policy": "builtin"} for i in range(N)])
    return log


def _lines(log: AuditLog) -> list[bytes]:
    return log.path.read_bytes().splitlines(keepends=True)


def _write(log: AuditLog, lines: list[bytes]) -> None:
    log.path.write_bytes(b"".join(lines))


def _ouro_verify(home: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ouro.agent.cli", "--home", str(home), "audit", "verify", *extra],
                          capture_output=True, text=True, cwd=Path(__file__).resolve().parents[2])


def test_untouched_log_verifies_and_key_is_private(tmp_path):
    log = _log(tmp_path)
    r = log.verify()
    assert r.ok and r.records == N
    assert stat.S_IMODE(os.stat(log.key_path).st_mode) == 0o600
    recs = list(log.records())
    assert [x["seq"] for x in recs] == list(range(1, N + 1))
    assert all(recs[i]["prev"] == recs[i - 1]["mac"] for i in range(1, N))


@pytest.mark.parametrize("index", range(N))
def test_changing_any_record_is_named(tmp_path, index):
    log = _log(tmp_path)
    lines = _lines(log)
    rec = json.loads(lines[index])
    rec["detail"] = "nothing happened"
    lines[index] = (json.dumps(rec, sort_keys=True, separators=(",", ":")) + "\n").encode()
    _write(log, lines)
    r = log.verify()
    assert not r.ok and r.first_bad == index + 1, r


@pytest.mark.parametrize("index", range(N))
def test_deleting_any_record_is_named(tmp_path, index):
    log = _log(tmp_path)
    lines = _lines(log)
    del lines[index]
    _write(log, lines)
    r = log.verify()
    assert not r.ok and r.first_bad == index + 1, r


@pytest.mark.parametrize("index", range(N - 1))
def test_reordering_records_is_named(tmp_path, index):
    log = _log(tmp_path)
    lines = _lines(log)
    lines[index], lines[index + 1] = lines[index + 1], lines[index]
    _write(log, lines)
    r = log.verify()
    assert not r.ok and r.first_bad == index + 1, r


def test_forged_record_with_recomputed_chain_fails_without_the_key(tmp_path):
    """An attacker who edits a record and recomputes a plain hash chain still lacks the key."""
    import hashlib

    log = _log(tmp_path)
    lines = _lines(log)
    rec = json.loads(lines[2])
    rec["detail"] = "forged"
    body = {k: v for k, v in rec.items() if k != "mac"}
    rec["mac"] = hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    lines[2] = (json.dumps(rec, sort_keys=True, separators=(",", ":")) + "\n").encode()
    _write(log, lines)
    assert log.verify().first_bad == 3


def test_appends_continue_the_chain_across_instances(tmp_path):
    log = _log(tmp_path)
    again = AuditLog(log.path)
    rec = again.append({"kind": "network", "detail": "x"})
    assert rec["seq"] == N + 1
    assert again.verify().ok and again.verify().records == N + 1


def test_cli_verify_exit_codes_and_names_first_bad_record(tmp_path):
    home = tmp_path / "home"
    log = AuditLog(home / "audit" / "log.jsonl")
    log.append_many([{"kind": "exec", "detail": str(i)} for i in range(4)])
    ok = _ouro_verify(home)
    assert ok.returncode == 0 and "4 records verified" in ok.stdout
    lines = _lines(log)
    _write(log, lines[:1] + lines[2:])
    bad = _ouro_verify(home, "--json")
    assert bad.returncode == 1
    out = json.loads(bad.stdout)
    assert out["ok"] is False and out["first_bad"] == 2 and "record 2" in out["reason"]
    missing = _ouro_verify(home, "--log", str(tmp_path / "nope.jsonl"))
    assert missing.returncode == 2 and missing.stderr.startswith("ouro: error:") and "Traceback" not in missing.stderr


def test_index_follows_the_log(tmp_path):
    log = _log(tmp_path)
    db = log.index()
    assert db.execute("SELECT COUNT(*) FROM events").fetchone()[0] == N
    log.append({"kind": "dns", "detail": "lookup", "run_id": "r2"})
    db = log.index()
    assert db.execute("SELECT kind FROM events WHERE seq = ?", (N + 1,)).fetchone()[0] == "dns"


def _create_key(path):
    from ouro.sandbox.audit.log import _load_or_create_key

    return _load_or_create_key(path, True)


def test_concurrent_processes_agree_on_one_whole_key(tmp_path):
    """Parallel workers sharing a home create the key at once: none may read a half-written one."""
    import multiprocessing as mp

    for round_ in range(5):
        key = tmp_path / f"r{round_}" / "key"
        key.parent.mkdir()
        with mp.get_context("fork").Pool(4) as pool:
            keys = pool.map(_create_key, [key] * 16)
        assert len(set(keys)) == 1 and len(keys[0]) >= 32
        assert [p.name for p in key.parent.iterdir()] == ["key"]
