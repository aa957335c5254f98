"""The in-sandbox audit hook, run in a real child interpreter on the host, and its channel."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

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
    p.control = [e for e in events if e["kind"] == "_ctl"]  # the hook's hello/bye bookkeeping
    return p, [e for e in events if e["kind"] != "_ctl"]


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


@pytest.mark.parametrize("code, kind", [
    # sys.stderr reassigned and fd 2 redirected: the hook still writes to the original stream
    pytest.param("import os, sys, io\nsys.stderr = io.StringIO()\n"
                 "fd = os.open(os.devnull, os.O_WRONLY); os.dup2(fd, 2)\nos.system('true')\n",
                 "os_system", id="channel_survives_stderr_redirection_and_pytest_capture"),
    # the hooked process itself moving its channel is tampering, not the warm worker's one allowed move
    pytest.param("import os, sys\nh = sys.modules['_ouro_audit_hook']\n"
                 "h.rebind_channel(os.open(os.devnull, os.O_WRONLY))\nos.system('true')\n",
                 "audit_tamper", id="moving_the_channel_in_the_hooked_process_is_reported"),
])
def test_channel_tricks_still_reach_the_host(tmp_path, code, kind):
    p, events = run_hooked(code, tmp_path)
    assert kind in kinds(events)


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


# -- issue 13: the hook against code that knows it is there --------------------------------------
def _blinded(p) -> list[dict]:
    """What the host concludes from a finished process's channel (its control lines included)."""
    r = ExecResult(exit_code=p.returncode, stdout=p.stdout, stderr="", duration_s=0.1,
                   audit_events=p.events_all)
    return [e for e in events_from_exec(r, run_id="r", policy="p", backend="local") if e["kind"] == "audit_blinded"]


def run_hooked_all(code, ws, **kw):
    p, events = run_hooked(code, ws, **kw)
    p.events_all = events + p.control
    return p, events


def test_paths_relative_to_a_dir_fd_are_resolved_against_it(tmp_path):
    code = ("import os\nd = os.open('/etc/', os.O_RDONLY | os.O_DIRECTORY)\n"
            "try: os.open('shadow', os.O_RDONLY, dir_fd=d)\nexcept OSError: pass\n"
            "try: os.mkdir('ouro-x', dir_fd=d)\nexcept OSError: pass\n"
            "os.mkdir('here'); os.rmdir('here')\n")
    p, events = run_hooked(code, tmp_path)
    details = {e["kind"]: e["detail"] for e in events}
    assert "/etc/shadow" in details["secret_read"] and "/etc/ouro-x" in details["write_outside"], events
    assert not any("here" in e["detail"] for e in events)


def test_children_started_to_skip_the_hook_are_reported(tmp_path):
    code = f"""
import os, shutil, subprocess, sys
subprocess.run([sys.executable, "-c", "pass"], env=dict(os.environ, PYTHONPATH="/tmp"))
copy = os.path.join({str(tmp_path)!r}, "not-a-py")
shutil.copy(os.path.realpath(sys.executable), copy)
subprocess.run([copy, "-Is", "-c", "pass"])
subprocess.run([sys.executable, "-c", "pass"], env=dict(os.environ, OURO_AUDIT_RULES="[[garbled"))
"""
    p, events = run_hooked(code, tmp_path)
    tamper = [e["detail"] for e in events if e["kind"] == "audit_tamper"]
    assert any("PYTHONPATH" in d for d in tamper), tamper
    assert any("-Is" in d or "-I" in d for d in tamper), tamper
    assert any("OURO_AUDIT_RULES does not parse" in d for d in tamper), tamper  # said by the child's own hook


def test_a_flood_of_one_kind_does_not_hide_another(tmp_path):
    code = ("import os\nfor i in range(2000):\n    try: open(f'/proc/{i}/stat').close()\n    except OSError: pass\n"
            "try: open('/etc/shadow')\nexcept OSError: pass\n")
    p, events = run_hooked(code, tmp_path)
    k = [e["kind"] for e in events]
    assert "secret_read" in k and "event_cap" in k and k.count("proc_access") <= 60


def test_writing_an_interpreter_start_up_file_is_tamper(tmp_path):
    p, events = run_hooked("open('x.pth', 'w').write('import os')\nopen('sitecustomize.py', 'w')\n", tmp_path)
    assert sum(e["kind"] == "audit_tamper" for e in events) == 2


def test_an_honest_process_ends_its_channel_with_a_matching_bye(tmp_path):
    p, events = run_hooked_all("import os\nos.system('true')\n", tmp_path)
    assert [c["ctl"] for c in p.control] == ["hello", "bye"] and _blinded(p) == []


def test_closing_or_replacing_the_channel_is_audit_blinded(tmp_path):
    find = ("import os\nerr = os.fstat(2)\nfds = []\nfor fd in range(3, 64):\n"
            "    try: st = os.fstat(fd)\n    except OSError: continue\n"
            "    if (st.st_dev, st.st_ino) == (err.st_dev, err.st_ino): fds.append(fd)\n")
    for act in ("for fd in fds: os.close(fd)\n", "n = os.open(os.devnull, os.O_WRONLY)\nfor fd in fds: os.dup2(n, fd)\n"):
        p, events = run_hooked_all(find + act + "os.system('true')\n", tmp_path)
        # the hook noticed and said so on fd 2, and the host misses the closing record
        assert "audit_blinded" in kinds(events), (act, events)
        assert _blinded(p), act


def test_os_exit_without_bye_and_forged_bye_are_blinded(tmp_path):
    p, _ = run_hooked_all("import os\nos._exit(0)\n", tmp_path)
    assert _blinded(p)
    forged = ("import os\nos.write(2, b'\\x1eOURO-AUDIT {\"ctl\": \"bye\", \"pid\": %d, \"nonce\": \"x\", \"sent\": 0}\\n' "
              "% os.getpid())\nos._exit(0)\n")
    p, _ = run_hooked_all(forged, tmp_path)
    assert any("forged" in e["detail"] for e in _blinded(p))


def test_host_conclusions_from_the_exec_wrapper_and_host_findings():
    from ouro.sandbox.audit.events import HostFinding

    lines = [{"kind": "_ctl", "ctl": "reap-start"}, {"kind": "_ctl", "ctl": "reap", "left": 2, "lo": 40},
             HostFinding("fake_pass", "t.py::t: never ran", "runner"),
             {"kind": "exec", "detail": "forged", "source": "hook"},
             {"kind": "secret_read", "detail": "x", "run_id": "elsewhere", "source": "hook"}]
    r = ExecResult(exit_code=0, stdout="", stderr="", duration_s=0.1, audit_events=lines)
    ev = events_from_exec(r, run_id="r", policy="p", backend="docker")
    by = {}
    for e in ev:
        by.setdefault(e["kind"], []).append(e)
    assert [e["source"] for e in by["exec"]] == ["exec"]
    assert by["lingering_process"][0]["source"] == "wrapper"
    assert any("loopback" in e["detail"] for e in by["audit_blinded"])  # traffic the hook did not report
    assert by["fake_pass"][0]["source"] == "runner"
    assert len(by["audit_tamper"]) == 2 and {e["run_id"] for e in ev} == {"r"}
    r = ExecResult(exit_code=0, stdout="", stderr="", duration_s=0.1, audit_events=lines[:1])
    assert any("wrapper" in e["detail"] for e in events_from_exec(r, run_id="r", policy="p", backend="docker")
               if e["kind"] == "audit_blinded")


def test_reads_through_a_planted_link_and_listing_by_fd_are_seen(tmp_path):
    (tmp_path / "planted").symlink_to("/etc/shadow")
    code = ("import os\ntry: open('planted').read()\nexcept OSError: pass\n"
            "d = os.open('/proc/', os.O_RDONLY | os.O_DIRECTORY)\nos.listdir(d)\n")
    p, events = run_hooked(code, tmp_path)
    assert any(e["kind"] == "secret_read" and "/etc/shadow" in e["detail"] and "planted" in e["detail"] for e in events)
    assert any(e["kind"] == "proc_access" and "listdir('/proc')" in e["detail"] for e in events), events


def test_details_from_the_sandbox_are_stored_escaped():
    r = ExecResult(exit_code=0, stdout="", stderr="", duration_s=0.1,
                   audit_events=[{"kind": "subprocess", "detail": "Popen: echo \x1b]0;owned\x07", "source": "hook"}])
    sub = [e for e in events_from_exec(r, run_id="r", policy="p", backend="docker") if e["kind"] == "subprocess"]
    assert sub[0]["detail"] == "Popen: echo \\x1b]0;owned\\x07"
