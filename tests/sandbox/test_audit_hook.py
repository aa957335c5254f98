"""The in-sandbox audit hook, run in a real child interpreter on the host, and its channel."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from ouro.sandbox.audit.channel import MARKER, split_audit_lines
from ouro.sandbox.audit.events import events_from_exec
from ouro.sandbox.audit.rules import apply_rules
from ouro.sandbox.base import EndReason, ExecResult
from ouro.sandbox.policy import AuditRule

BOOT = Path(__file__).resolve().parents[2] / "sandbox" / "guest" / "boot"


def run_hooked(code: str, ws: Path, *, rules=None, audit: bool = True) -> tuple[subprocess.CompletedProcess, list[dict]]:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "OURO_WORKSPACE": str(ws), "HOME": str(ws)}
    if audit:
        env.update(PYTHONPATH=str(BOOT), OURO_AUDIT="1")
    if rules:
        env["OURO_AUDIT_RULES"] = json.dumps(rules)
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ws, timeout=60)
    clean, events = split_audit_lines(p.stderr)
    p.stderr = clean
    return p, events


def kinds(events):
    return {e["kind"] for e in events}


def test_hook_reports_each_family(tmp_path):
    outside = "/var/tmp/ouro-hook-test-%d" % os.getpid()
    code = f"""
import os, socket, subprocess, sys, importlib
try: socket.create_connection(("127.0.0.1", 9), timeout=0.2)
except OSError: pass
try: socket.getaddrinfo("exfil.example.invalid", 80)
except OSError: pass
os.system("true")
subprocess.run(["true"])
try: open("/etc/shadow").read()
except OSError: pass
open({outside!r}, "w").close(); os.remove({outside!r})
os.symlink("/etc/passwd", "link")
os.listdir("/proc")
import ctypes; ctypes.CDLL(None).getpid
importlib.reload(os)
sys.addaudithook(lambda *a: None)
import resource; resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
print("done")
"""
    p, events = run_hooked(code, tmp_path)
    assert p.returncode == 0 and p.stdout.strip() == "done", p.stderr
    assert {"network", "dns", "os_system", "subprocess", "secret_read", "write_outside", "link_escape",
            "proc_access", "ctypes", "dangerous_import", "module_reload", "audit_tamper", "limit_change"} <= kinds(events)
    assert MARKER not in p.stderr  # the channel lines were split out


def test_quiet_for_ordinary_work_in_the_workspace(tmp_path):
    code = "import json, os\nopen('data.txt', 'w').write('x')\nos.listdir('.')\nprint(json.dumps({}))\n"
    p, events = run_hooked(code, tmp_path)
    assert p.returncode == 0
    assert events == []


def test_no_events_without_audit(tmp_path):
    p, events = run_hooked("import os; os.system('true')", tmp_path, audit=False)
    assert p.returncode == 0 and events == []


def test_channel_survives_stderr_redirection_and_pytest_capture(tmp_path):
    """sys.stderr reassigned and fd 2 redirected: the hook still writes to the original stream."""
    code = ("import os, sys, io\nsys.stderr = io.StringIO()\n"
            "fd = os.open(os.devnull, os.O_WRONLY); os.dup2(fd, 2)\nos.system('true')\n")
    p, events = run_hooked(code, tmp_path)
    assert "os_system" in kinds(events)


def test_deny_rule_blocks_the_operation(tmp_path):
    code = "import os\ntry:\n    os.system('echo RAN_$((1+1))')\nexcept PermissionError as e:\n    print('denied', e)\n"
    p, events = run_hooked(code, tmp_path, rules=[["os_system", "", "deny"]])
    assert "denied" in p.stdout and "RAN_2" not in p.stdout
    assert any(e["kind"] == "os_system" and e["action"] == "deny" for e in events)


def test_kill_rule_ends_the_process(tmp_path):
    p, events = run_hooked("import socket\nsocket.gethostbyname('x.invalid')\nprint('survived')\n", tmp_path,
                           rules=[["dns", "", "kill"]])
    assert p.returncode == 137 and "survived" not in p.stdout
    assert "dns" in kinds(events)


def test_moving_the_channel_in_the_hooked_process_is_reported(tmp_path):
    code = ("import os, sys\nh = sys.modules['_ouro_audit_hook']\n"
            "h.rebind_channel(os.open(os.devnull, os.O_WRONLY))\nos.system('true')\n")
    p, events = run_hooked(code, tmp_path)
    assert "audit_tamper" in kinds(events)


def test_forked_child_may_move_channel_once(tmp_path):
    """The warm worker's child moves its channel to its capture pipe; a second move is refused."""
    code = """
import os, sys
h = sys.modules['_ouro_audit_hook']
r, w = os.pipe()
pid = os.fork()
if pid == 0:
    os.dup2(w, 2)
    first = h.rebind_channel(2)
    second = h.rebind_channel(os.open(os.devnull, os.O_WRONLY))
    os.system('true')
    os._exit(0 if (first and not second) else 1)
os.close(w)
_, status = os.waitpid(pid, 0)
data = os.read(r, 100000).decode()
print(os.waitstatus_to_exitcode(status), 'os_system' in data, 'audit_tamper' in data)
"""
    p, _ = run_hooked(code, tmp_path)
    assert p.stdout.split() == ["0", "True", "True"], p.stdout + p.stderr


def test_split_audit_lines_keeps_text_and_flags_broken_frames():
    text = f"hello{MARKER}{{\"kind\": \"dns\", \"detail\": \"x\"}}\nmore\n{MARKER}{{not json\n"
    clean, events = split_audit_lines(text)
    assert clean == "hellomore\n"
    assert [e["kind"] for e in events] == ["dns", "audit_tamper"]


def test_events_from_exec_counts_exec_and_container_signals():
    r = ExecResult(exit_code=None, stdout="", stderr="", duration_s=8.0, reason=EndReason.TIMEOUT,
                   audit_events=[{"kind": "network", "detail": "socket.connect(('1.2.3.4', 80))"},
                                 {"kind": "made_up", "detail": "?"}])
    rules = (AuditRule("net", "no network", "critical", "log", "network", "1.2.3.4"),)
    events = events_from_exec(r, run_id="r", policy="builtin", backend="docker", rules=rules)
    assert [e["kind"] for e in events] == ["exec", "timeout", "network", "audit_tamper"]
    net = events[2]
    assert net["severity"] == "critical" and net["rule"] == "net" and net["run_id"] == "r" and net["policy"] == "builtin"


def test_rules_first_match_wins_and_pattern_is_substring():
    rules = (AuditRule("a", "", "low", "log", "dns", "example"), AuditRule("b", "", "high", "deny", "dns", ""))
    assert apply_rules({"kind": "dns", "detail": "lookup example.com"}, rules)["rule"] == "a"
    assert apply_rules({"kind": "dns", "detail": "lookup other"}, rules)["rule"] == "b"
