"""`ouro audit list/show/summary`: filters, rates per 1,000 executions, one-line errors."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ouro.sandbox.audit.events import events_from_exec
from ouro.sandbox.audit.log import AuditLog
from ouro.sandbox.base import EndReason, ExecResult

ROOT = Path(__file__).resolve().parents[2]


def ouro(home: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ouro.agent.cli", "--home", str(home), "audit", *args],
                          capture_output=True, text=True, cwd=ROOT)


@pytest.fixture
def home(tmp_path):
    """Two policies, three runs: 400 + 100 executions, a few of them misbehaving."""
    home = tmp_path / "home"
    log = AuditLog(home / "audit" / "log.jsonl")
    records = []
    for run_id, policy, n, bad in (("r-a", "builtin", 300, 3), ("r-b", "builtin", 100, 0), ("r-c", "litellm:m", 100, 2)):
        for i in range(n):
            hook = [{"kind": "network", "detail": "socket.connect(('1.2.3.4', 80))"}] if i < bad else []
            res = ExecResult(exit_code=0, stdout="", stderr="", duration_s=0.1, audit_events=hook,
                             reason=EndReason.TIMEOUT if (policy == "litellm:m" and i == 0) else EndReason.NORMAL)
            records += events_from_exec(res, run_id=run_id, policy=policy, backend="docker", rules=())
    log.append_many(records)
    return home


def test_summary_rates_per_1000_by_kind_policy_and_run(home):
    p = ouro(home, "summary", "--json")
    assert p.returncode == 0, p.stderr
    s = json.loads(p.stdout)
    assert s["executions"] == 500
    by_kind = {r["kind"]: r for r in s["by_kind"]}
    assert by_kind["network"]["count"] == 5 and by_kind["network"]["per_1000"] == 10.0
    assert by_kind["timeout"]["count"] == 1 and by_kind["timeout"]["per_1000"] == 2.0
    pol = {r["policy"]: r for r in s["by_policy"]}
    assert pol["builtin"]["executions"] == 400 and pol["builtin"]["by_kind"]["network"]["per_1000"] == 7.5
    assert pol["litellm:m"]["by_kind"]["network"]["per_1000"] == 20.0
    runs = {r["run"]: r for r in s["by_run"]}
    assert runs["r-b"]["events"] == 0 and runs["r-a"]["per_1000"] == 10.0
    text = ouro(home, "summary")
    assert text.returncode == 0 and "per 1,000" in text.stdout and "litellm:m" in text.stdout


def test_list_filters_and_show(home):
    p = ouro(home, "list", "--json", "--run", "r-c")
    rows = json.loads(p.stdout)
    assert {r["kind"] for r in rows} == {"network", "timeout"} and all(r["run_id"] == "r-c" for r in rows)
    high = json.loads(ouro(home, "list", "--json", "--kind", "network", "--severity", "high").stdout)
    assert len(high) == 5
    assert json.loads(ouro(home, "list", "--json", "--since", "1h", "--kind", "timeout").stdout)[0]["kind"] == "timeout"
    assert json.loads(ouro(home, "list", "--json", "--since", "2999-01-01").stdout) == []
    seq = rows[0]["seq"]
    shown = json.loads(ouro(home, "show", str(seq), "--json").stdout)
    assert shown["seq"] == seq and shown["mac"] == rows[0]["mac"]


@pytest.mark.parametrize("args", [["show", "abc"], ["show", "999999"], ["list", "--kind", "nope"],
                                  ["list", "--since", "yesterday-ish"], ["selftest", "--backend", "local"]])
def test_bad_input_is_one_line_exit_2(home, args):
    p = ouro(home, *args)
    assert p.returncode == 2, p
    assert p.stderr.strip().startswith("ouro: error:") and "Traceback" not in p.stderr
